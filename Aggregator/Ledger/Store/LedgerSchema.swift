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
        ("principals", "name"),
        ("access_parameters", "leaf_index"),
        ("attribute_grants", "principal"),
        ("encrypted_data", "data_id"),
        ("access_requests", "request_id"),
        ("blacklist", "source"),
        ("credit", "enterprise"),
        ("access_events", "leaf_index"),
        ("blobs", "leaf_index"),
        ("redemptions", "leaf_index"),
        ("grant_revocations", "request_id"),
        ("transfers", "leaf_index"),
        ("transfer_reads", "leaf_index"),
        ("whitelist", "lot, level, principal"),
        ("violations", "report_id"),
        ("record_corrections", "superseded"),
        ("transfer_countersignatures", "transfer_leaf"),
        ("directory_entries", "resource"),
    ]

    /// The DDL of the whole world state (used to build a scratch state for `replay`).
    static var stateDDL: String {
        registryDDL + accessDDL + transferDDL + observedAddressStateDDL + creditDDL + effectivePeriodDDL
            + whitelistDDL + violationsDDL + recordCorrectionsDDL + transferCountersignaturesDDL + directoryDDL
    }

    /// The access-control contracts' state (migration 2): principals, the regulator's
    /// parameters, attribute grants, encrypted-data entries, requests and their outcomes,
    /// the blacklist, and one audit row per access transaction.
    static let accessDDL = """
        CREATE TABLE principals(
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            role TEXT NOT NULL,
            stage TEXT,
            public_key BLOB NOT NULL,
            status TEXT NOT NULL,
            registered_height INTEGER NOT NULL,
            revoked_height INTEGER,
            revoked_reason TEXT
        ) WITHOUT ROWID;
        CREATE TABLE access_parameters(
            leaf_index INTEGER PRIMARY KEY,
            regulator TEXT NOT NULL,
            searchable BLOB NOT NULL,
            token_encryption BLOB NOT NULL,
            trapdoor_key BLOB NOT NULL,
            maximum_strikes INTEGER NOT NULL,
            block_ms INTEGER NOT NULL,
            trapdoors_per_minute INTEGER NOT NULL
        );
        CREATE TABLE attribute_grants(
            principal TEXT PRIMARY KEY,
            enterprise TEXT NOT NULL,
            role TEXT NOT NULL,
            stage TEXT NOT NULL,
            category TEXT NOT NULL,
            region TEXT NOT NULL,
            status TEXT NOT NULL,
            leaf_index INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE encrypted_data(
            data_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            lot TEXT NOT NULL,
            level TEXT NOT NULL,
            time_window TEXT,
            actions TEXT NOT NULL,
            ciphertext BLOB NOT NULL,
            token_digest BLOB NOT NULL,
            status TEXT NOT NULL,
            leaf_index INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX encrypted_data_by_lot ON encrypted_data(lot, level);
        CREATE TABLE access_requests(
            request_id TEXT PRIMARY KEY,
            requester TEXT NOT NULL,
            lot TEXT NOT NULL,
            level TEXT NOT NULL,
            action TEXT NOT NULL,
            source TEXT NOT NULL,
            trapdoor BLOB NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            data_id TEXT,
            token BLOB,
            request_leaf INTEGER NOT NULL,
            request_time INTEGER NOT NULL,
            result_leaf INTEGER,
            result_time INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX access_requests_by_status ON access_requests(status, request_leaf);
        CREATE INDEX access_requests_by_requester ON access_requests(requester, request_time);
        CREATE TABLE blacklist(
            source TEXT PRIMARY KEY,
            strikes INTEGER NOT NULL,
            blocked_until INTEGER,
            last_strike INTEGER NOT NULL,
            last_leaf INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE access_events(
            leaf_index INTEGER PRIMARY KEY,
            height INTEGER NOT NULL,
            time INTEGER NOT NULL,
            submitter TEXT NOT NULL,
            method TEXT NOT NULL,
            subject TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """

    /// The DDL of the registry and record state (part of migration 1).
    static let registryDDL = """
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
        """ + registryDDL,
        accessDDL,
        transferDDL + transferKeysDDL,
        recordsByTimeDDL,
        submissionKindDDL,
        observedAddressDDL,
        creditDDL,
        effectivePeriodDDL,
        whitelistDDL,
        violationsDDL,
        recordCorrectionsDDL,
        transferCountersignaturesDDL,
        directoryDDL,
        consortiumCheckpointsDDL,
    ]

    /// Migration 4: records by time, so a time window (an export, the FSMA spreadsheet, the
    /// EPCIS query interface, `records --since`) reads its rows instead of scanning and sorting
    /// every record. The index is (time, leaf_index): it also gives the windows their order.
    static let recordsByTimeDDL = "CREATE INDEX records_by_time ON records(time);"

    /// Migration 5: each queued submission records its ``SubmissionKind``, so `serve` decodes a
    /// body once as what it is. Rows queued before have none (NULL) and are told apart by
    /// ``SubmissionKind/ofLegacyBody(_:)``.
    static let submissionKindDDL = "ALTER TABLE submissions ADD COLUMN kind INTEGER;"

    /// Migration 6: the network address the access gateway (the HTTPS API) observed for an
    /// access transaction it queued, and for each access request decided from one
    /// (docs/governance.md). Rows from before have none (NULL): their strikes counted against
    /// the requester's own `source` label, which the contracts no longer trust.
    static let observedAddressDDL =
        "ALTER TABLE submissions ADD COLUMN observed_address TEXT;" + observedAddressStateDDL

    /// Migration 6's part of the world state (also in ``stateDDL``, for `replay`'s scratch state).
    static let observedAddressStateDDL = "ALTER TABLE access_requests ADD COLUMN observed_address TEXT;"

    /// Migration 7: the credit contract's state (``Credit``, docs/governance.md "Credit"): each
    /// enterprise's behaviour counts and score, and the owners' public minimum-credit conditions.
    static let creditDDL = """
        CREATE TABLE credit(
            enterprise TEXT PRIMARY KEY,
            grants INTEGER NOT NULL,
            denials INTEGER NOT NULL,
            strikes INTEGER NOT NULL,
            violations INTEGER NOT NULL,
            transfers INTEGER NOT NULL,
            raw INTEGER NOT NULL,
            score INTEGER NOT NULL
        ) WITHOUT ROWID;
        ALTER TABLE encrypted_data ADD COLUMN minimum_credit INTEGER;
        """

    /// Migration 8 (issue #19, item 2): authority tuples with an effective period
    /// (docs/governance.md): a policy's and an attribute grant's not-before / not-after, and
    /// a grant's (the entry's and the requester's attribute periods intersected at the match),
    /// in milliseconds; NULL for an open end. Rows from before have none.
    static let effectivePeriodDDL = """
        ALTER TABLE encrypted_data ADD COLUMN not_before INTEGER;
        ALTER TABLE encrypted_data ADD COLUMN not_after INTEGER;
        ALTER TABLE attribute_grants ADD COLUMN not_before INTEGER;
        ALTER TABLE attribute_grants ADD COLUMN not_after INTEGER;
        ALTER TABLE access_requests ADD COLUMN grant_not_before INTEGER;
        ALTER TABLE access_requests ADD COLUMN grant_not_after INTEGER;
        """

    /// Migration 9 (issue #19, item 5): the owners' whitelists (docs/governance.md): one row per
    /// (lot, level, principal), with the owner principal and enterprise that added it.
    static let whitelistDDL = """
        CREATE TABLE whitelist(
            lot TEXT NOT NULL,
            level TEXT NOT NULL,
            principal TEXT NOT NULL,
            owner TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            leaf_index INTEGER NOT NULL,
            PRIMARY KEY(lot, level, principal)
        ) WITHOUT ROWID;
        """

    /// Migration 10 (issue #19, item 7): violation reports, each a side record of the block of
    /// its leaf, and the regulator's decision (docs/governance.md).
    static let violationsDDL = """
        CREATE TABLE violations(
            report_id TEXT PRIMARY KEY,
            reporter TEXT NOT NULL,
            offender TEXT NOT NULL,
            owner TEXT NOT NULL,
            lot TEXT NOT NULL,
            level TEXT NOT NULL,
            evidence BLOB NOT NULL,
            severity TEXT NOT NULL,
            summary TEXT NOT NULL,
            status TEXT NOT NULL,
            leaf_index INTEGER NOT NULL,
            time INTEGER NOT NULL,
            decided_leaf INTEGER,
            decided_by TEXT,
            note TEXT,
            revoked_grants INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX violations_by_offender ON violations(offender);
        """

    /// Migration 14 (consortium, issue #16): one row per block proposal a consortium node
    /// applied: the ledger block it wrote (0 when every body was refused or a duplicate), the
    /// checkpoint body (C2SP `tlog-checkpoint` with the `state` line), the state root, this
    /// node's cosignature line, and the signed note once k members cosigned it (final). Written
    /// in the same SQLite transaction as the block. Not a state table: a single node never
    /// writes it.
    static let consortiumCheckpointsDDL = """
        CREATE TABLE consortium_checkpoints(
            height INTEGER PRIMARY KEY,
            block_height INTEGER NOT NULL,
            time INTEGER NOT NULL,
            checkpoint TEXT NOT NULL,
            state_root BLOB NOT NULL,
            cosignature TEXT NOT NULL,
            final_note TEXT
        );
        """
}
