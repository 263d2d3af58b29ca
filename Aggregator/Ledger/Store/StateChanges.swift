import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// The state rows written since the last look, for the consortium's per-block state root
/// (``StateRoot``): temporary triggers on this connection note the key of every row of a
/// state table (``LedgerSchema/stateTables``) inserted, deleted, or updated to another value.
/// Temporary triggers live in the connection, not in the store: a store's file and a
/// single-node ledger are unchanged, and only a connection that records pays for it.
///
/// After a block is written, ``digest()`` reads each noted row as it is now (or its absence),
/// in table order then key order, and hashes their canonical bytes; ``root(after:height:)``
/// chains that digest into the state root.
public struct StateChanges {
    let db: SQLiteConnection
    /// Per state table, in ``LedgerSchema/stateTables`` order: its name and key columns.
    let tables: [(name: String, keys: [String])]

    /// Starts noting changes on `db`, whose state tables must exist.
    public init(recordingOn db: SQLiteConnection) throws {
        self.db = db
        tables = LedgerSchema.stateTables.map { table in
            (table.name, table.orderBy.split(separator: ",").map { String($0.filter { $0 != " " }) })
        }
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS state_changes(tbl INTEGER NOT NULL, k1, k2, k3)")
        for (index, table) in tables.enumerated() {
            try db.execute(try Self.triggers(on: table.name, keys: table.keys, index: index, in: db))
        }
    }

    /// The three triggers of one state table: a changed row's key goes to `state_changes`.
    static func triggers(on table: String, keys: [String], index: Int, in db: SQLiteConnection) throws -> String {
        precondition(keys.count <= 3, "state_changes holds keys of three columns at most")
        let columns = try db.prepare("SELECT name FROM pragma_table_info('\(table)', 'main')").all([]) {
            $0.string(at: 0) ?? ""
        }
        func key(_ row: String) -> String {
            "(\(index), " + (0..<3).map { $0 < keys.count ? "\(row).\"\(keys[$0])\"" : "NULL" }.joined(separator: ", ")
                + ")"
        }
        let changed = columns.map { "OLD.\"\($0)\" IS NOT NEW.\"\($0)\"" }.joined(separator: " OR ")
        let name = "state_changes_\(table)"
        return """
            CREATE TEMP TRIGGER IF NOT EXISTS \(name)_insert AFTER INSERT ON main.\(table)
            BEGIN INSERT INTO state_changes VALUES \(key("NEW")); END;
            CREATE TEMP TRIGGER IF NOT EXISTS \(name)_update AFTER UPDATE ON main.\(table) WHEN \(changed)
            BEGIN INSERT INTO state_changes VALUES \(key("OLD")), \(key("NEW")); END;
            CREATE TEMP TRIGGER IF NOT EXISTS \(name)_delete AFTER DELETE ON main.\(table)
            BEGIN INSERT INTO state_changes VALUES \(key("OLD")); END;
            """
    }

    /// The digest of the rows changed since the last call, as they are now; forgets them.
    public func digest() throws -> Digest32 {
        var writer = CanonicalWriter()
        let changed = try db.prepare("SELECT DISTINCT tbl, k1, k2, k3 FROM temp.state_changes ORDER BY tbl, k1, k2, k3")
        let lookups = try tables.map { table in
            try db.cachedStatement(
                "SELECT * FROM main.\(table.name) WHERE "
                    + table.keys.enumerated().map { "\"\($1)\" IS ?\($0 + 1)" }.joined(separator: " AND "))
        }
        while try changed.step() {
            let index = Int(changed.int64(at: 0))
            writer.write(tables[index].name)
            let key = (0..<tables[index].keys.count).map { changed.value(at: Int32($0) + 1) }
            for value in key { StateReplay.write(value, to: &writer) }
            let row = try lookups[index].first(key) { StateReplay.row($0) }
            writer.write(UInt8(row == nil ? 0 : 1))
            for value in row ?? [] { StateReplay.write(value, to: &writer) }
        }
        try db.execute("DELETE FROM temp.state_changes")
        return Digest32.sha256(writer.bytes)
    }

    /// The state root after block `height`: ``StateRoot/next(after:height:changes:)`` of the
    /// rows changed since the last call.
    public func root(after previous: Digest32, height: UInt64) throws -> Digest32 {
        StateRoot.next(after: previous, height: height, changes: try digest())
    }
}
