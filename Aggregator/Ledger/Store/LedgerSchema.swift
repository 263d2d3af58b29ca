/// The SQLite schema of a ledger store, as migrations (append new steps; never edit one).
///
/// The log (`blocks`, `log_entries`, `log_nodes`) is the source of truth; the world state
/// (`enterprises`, `devices`, `records`, `lot_links`) is what the contracts derive from it
/// and `agritrace replay` rebuilds.
enum LedgerSchema {
    /// The world-state tables, in the order `replay` compares them, with their ordering key.
    static let stateTables: [(name: String, orderBy: String)] = [
        ("enterprises", "id"),
        ("devices", "enterprise, device"),
        ("records", "leaf_index"),
        ("lot_links", "lot, input_lot, leaf_index"),
    ]

    /// The DDL of the world state (also used to build a scratch state for `replay`).
    static let stateDDL = """
        CREATE TABLE enterprises(
            id TEXT PRIMARY KEY,
            registered_height INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE devices(
            enterprise TEXT NOT NULL,
            device TEXT NOT NULL,
            public_key BLOB NOT NULL,
            stage TEXT,
            status TEXT NOT NULL,
            registered_height INTEGER NOT NULL,
            revoked_height INTEGER,
            revoked_reason TEXT,
            last_sequence INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(enterprise, device)
        ) WITHOUT ROWID;
        CREATE TABLE records(
            leaf_index INTEGER PRIMARY KEY,
            record_id BLOB NOT NULL UNIQUE,
            height INTEGER NOT NULL,
            lot TEXT NOT NULL,
            product TEXT NOT NULL,
            stage TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            device TEXT NOT NULL,
            time INTEGER NOT NULL
        );
        CREATE INDEX records_by_lot ON records(lot, time);
        CREATE INDEX records_by_enterprise ON records(enterprise, stage, time);
        CREATE TABLE lot_links(
            lot TEXT NOT NULL,
            input_lot TEXT NOT NULL,
            leaf_index INTEGER NOT NULL,
            PRIMARY KEY(lot, input_lot, leaf_index)
        ) WITHOUT ROWID;
        CREATE INDEX lot_links_by_input ON lot_links(input_lot);
        """

    static let migrations: [String] = [
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE blocks(
            height INTEGER PRIMARY KEY,
            header BLOB NOT NULL,
            hash BLOB NOT NULL,
            first_leaf INTEGER NOT NULL,
            time INTEGER NOT NULL
        );
        CREATE TABLE log_entries(
            leaf_index INTEGER PRIMARY KEY,
            height INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            entry BLOB NOT NULL,
            leaf_hash BLOB NOT NULL
        );
        CREATE TABLE log_nodes(key INTEGER PRIMARY KEY, hash BLOB NOT NULL);
        CREATE TABLE submissions(
            id INTEGER PRIMARY KEY,
            body BLOB NOT NULL,
            submitted_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            reason TEXT,
            leaf_index INTEGER
        );
        CREATE TABLE ingest_counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE batch_signatures(
            id INTEGER PRIMARY KEY,
            height INTEGER NOT NULL,
            enterprise TEXT NOT NULL,
            device TEXT NOT NULL,
            sent_at INTEGER NOT NULL,
            signature BLOB NOT NULL,
            record_ids BLOB NOT NULL
        );
        """ + stateDDL
    ]
}
