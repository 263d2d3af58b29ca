import AgriTraceCore
import Crypto
import SQLiteStorage

/// What `replay` found.
public struct ReplayReport: Sendable, Codable {
    public var transactions: UInt64
    /// Rows per state table in the rebuilt state.
    public var rows: [String: Int]
    /// The first differences between the stored state and the rebuilt state (empty if equal).
    public var differences: [String]
    public var ok: Bool { differences.isEmpty }
}

/// Rebuilds the world state from the log alone, in a scratch database, by running the
/// contracts over every transaction in order, then compares it row by row with the stored state.
public enum StateReplay {
    public static func replay(store: LedgerStore, authority: Curve25519.Signing.PublicKey) throws -> ReplayReport {
        let scratch = try SQLiteConnection(path: ":memory:", options: .init(synchronous: .off))
        try scratch.execute(LedgerSchema.stateDDL)
        var registry = RegistryState()
        var transactions: UInt64 = 0
        var differences: [String] = []
        let entries = try store.db.prepare(
            "SELECT e.leaf_index, e.height, e.entry, b.time FROM log_entries e JOIN blocks b ON b.height = e.height ORDER BY e.leaf_index"
        )
        try scratch.transaction {
            while try entries.step() {
                let leafIndex = UInt64(entries.int64(at: 0))
                let height = UInt64(entries.int64(at: 1))
                let entry = try Canonical.decode(LogEntry.self, from: entries.bytes(at: 2) ?? [])
                if let violation = Contracts.check(entry, registry: registry, authority: authority) {
                    differences.append(
                        "leaf \(leafIndex): the contract refuses the transaction on replay (\(violation))")
                    if differences.count >= 10 { break }
                    continue
                }
                Contracts.apply(entry, to: &registry)
                let time = Timestamp(milliseconds: entries.int64(at: 3))
                try Contracts.write(entry, leafIndex: leafIndex, height: height, time: time, to: scratch)
                if case .record(let record) = entry { try Contracts.raiseSequences([record], in: scratch) }
                transactions += 1
            }
        }
        var rows: [String: Int] = [:]
        for (table, orderBy) in LedgerSchema.stateTables {
            let stored = try store.db.prepare("SELECT * FROM \(table) ORDER BY \(orderBy)")
            let rebuilt = try scratch.prepare("SELECT * FROM \(table) ORDER BY \(orderBy)")
            var count = 0
            var tableDifferences = 0
            while true {
                let hasStored = try stored.step()
                let hasRebuilt = try rebuilt.step()
                if !hasStored && !hasRebuilt { break }
                if hasRebuilt { count += 1 }
                let storedRow = hasStored ? row(stored) : nil
                let rebuiltRow = hasRebuilt ? row(rebuilt) : nil
                if storedRow != rebuiltRow {
                    tableDifferences += 1
                    if tableDifferences <= 3 {
                        differences.append(
                            "\(table): stored \(describe(storedRow)) but the log gives \(describe(rebuiltRow))")
                    }
                    // Rows are out of step after a missing or extra row; one report per table is enough.
                    break
                }
            }
            rows[table] = count
        }
        return ReplayReport(transactions: transactions, rows: rows, differences: differences)
    }

    static func row(_ statement: Statement) -> [SQLiteValue] {
        (0..<statement.columnCount).map { statement.value(at: $0) }
    }

    static func describe(_ row: [SQLiteValue]?) -> String {
        guard let row else { return "no row" }
        return "("
            + row.map { value -> String in
                switch value {
                case .integer(let v): String(v)
                case .real(let v): String(v)
                case .text(let v): "'\(v)'"
                case .blob(let v): "x'\(v.hexString)'"
                case .null: "NULL"
                }
            }.joined(separator: ", ") + ")"
    }
}
