import AgriTraceCore
import Crypto
import LedgerCore
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

/// The log's transactions are not what the ledger's contracts make of them: the state root
/// cannot be recomputed.
public struct StateRootError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "cannot recompute the state roots: \(reason)" }
}

/// Rebuilds the world state from the log alone, in a scratch database, by running the
/// contracts over every transaction in order, then compares it row by row with the stored state.
public enum StateReplay {
    public static func replay(store: LedgerStore, authority: Curve25519.Signing.PublicKey) throws -> ReplayReport {
        let scratch = try SQLiteConnection(path: ":memory:", options: .init(synchronous: .off))
        let rebuilt = try rebuild(from: store, authority: authority, into: scratch)
        var differences = rebuilt.refusals
        var rows: [String: Int] = [:]
        for (table, orderBy) in LedgerSchema.stateTables {
            let compared = try compare(table, orderBy: orderBy, stored: store.db, rebuilt: scratch)
            rows[table] = compared.count
            differences += compared.differences
        }
        return ReplayReport(transactions: rebuilt.transactions, rows: rows, differences: differences)
    }

    /// Applies every transaction of `store`'s log, in order and at its block's time, to a new
    /// world state in the empty database `target`: the fold of the contracts over the log.
    /// - Returns: how many transactions were applied, and the first transactions the
    ///   contracts refused (none for a log the ledger wrote).
    public static func rebuild(
        from store: LedgerStore, authority: Curve25519.Signing.PublicKey, into target: SQLiteConnection
    ) throws -> (transactions: UInt64, refusals: [String]) {
        try target.execute(LedgerSchema.stateDDL)
        return try fold(store, authority: authority, into: target)
    }

    /// The state root after every block of `store`'s log (``StateRoot``), recomputed from the
    /// log alone: the contracts folded over it in a scratch state whose changes are noted
    /// (``StateChanges``). What a consortium node's roots must equal, block by block.
    /// - Throws: ``StateRootError`` when the contracts refuse a transaction of the log.
    public static func stateRoots(from store: LedgerStore, authority: Curve25519.Signing.PublicKey) throws
        -> [(height: UInt64, root: Digest32)]
    {
        let scratch = try SQLiteConnection(path: ":memory:", options: .init(synchronous: .off))
        try scratch.execute(LedgerSchema.stateDDL)
        let changes = try StateChanges(recordingOn: scratch)
        var roots: [(height: UInt64, root: Digest32)] = []
        let folded = try fold(store, authority: authority, into: scratch) { height in
            let root = try changes.root(after: roots.last?.root ?? StateRoot.initial, height: height)
            roots.append((height, root))
        }
        if let refusal = folded.refusals.first { throw StateRootError(reason: refusal) }
        return roots
    }

    /// Applies every transaction of `store`'s log, in order, to the state tables of `target`;
    /// `afterBlock` runs (inside the one transaction) after the last transaction of each block.
    static func fold(
        _ store: LedgerStore, authority: Curve25519.Signing.PublicKey, into target: SQLiteConnection,
        afterBlock: (UInt64) throws -> Void = { _ in }
    ) throws -> (transactions: UInt64, refusals: [String]) {
        var registry = RegistryState()
        var transactions: UInt64 = 0
        var refusals: [String] = []
        let entries = try store.db.prepare(
            "SELECT e.leaf_index, e.height, e.entry, b.time FROM log_entries e JOIN blocks b ON b.height = e.height ORDER BY e.leaf_index"
        )
        try target.transaction {
            var block: UInt64?
            var carriedTransactions = false
            func finish(_ block: UInt64) throws {
                try Contracts.finishBlock(carriedTransactions: carriedTransactions, in: target)
                try afterBlock(block)
                carriedTransactions = false
            }
            while try entries.step() {
                let leafIndex = UInt64(entries.int64(at: 0))
                let height = UInt64(entries.int64(at: 1))
                if let block, block != height { try finish(block) }
                block = height
                let entry = try Canonical.decode(LogEntry.self, from: entries.bytes(at: 2) ?? [])
                if let violation = Admission.check(entry, registry: registry, authority: authority) {
                    refusals.append("leaf \(leafIndex): the contract refuses the transaction on replay (\(violation))")
                    if refusals.count >= 10 { break }
                    continue
                }
                registry.apply(entry)
                let time = Timestamp(milliseconds: entries.int64(at: 3))
                try Contracts.write(entry, leafIndex: leafIndex, height: height, time: time, to: target)
                if case .record(let record) = entry {
                    try Contracts.raiseSequences([record], in: target)
                } else {
                    carriedTransactions = true
                }
                transactions += 1
            }
            if let block, refusals.isEmpty { try finish(block) }
        }
        return (transactions, refusals)
    }

    /// The world state's rows, table by table in key order, as bytes: what two stores that
    /// applied the same log must agree on byte for byte.
    public static func stateBytes(_ db: SQLiteConnection) throws -> [UInt8] {
        var writer = CanonicalWriter()
        for (table, orderBy) in LedgerSchema.stateTables {
            writer.write(table)
            let select = try db.prepare("SELECT * FROM \(table) ORDER BY \(orderBy)")
            while try select.step() {
                writer.write(UInt8(1))
                for value in row(select) { write(value, to: &writer) }
            }
            writer.write(UInt8(0))
        }
        return writer.bytes
    }

    static func write(_ value: SQLiteValue, to writer: inout CanonicalWriter) {
        switch value {
        case .integer(let v):
            writer.write(UInt8(1))
            writer.write(v)
        case .real(let v):
            writer.write(UInt8(2))
            writer.write(v.bitPattern)
        case .text(let v):
            writer.write(UInt8(3))
            writer.write(v)
        case .blob(let v):
            writer.write(UInt8(4))
            writer.writeBytes(v)
        case .null:
            writer.write(UInt8(0))
        }
    }

    /// One table of the stored and the rebuilt state, row by row: the rebuilt row count and
    /// the first difference.
    static func compare(_ table: String, orderBy: String, stored: SQLiteConnection, rebuilt: SQLiteConnection) throws
        -> (count: Int, differences: [String])
    {
        let storedRows = try stored.prepare("SELECT * FROM \(table) ORDER BY \(orderBy)")
        let rebuiltRows = try rebuilt.prepare("SELECT * FROM \(table) ORDER BY \(orderBy)")
        var count = 0
        while true {
            let hasStored = try storedRows.step()
            let hasRebuilt = try rebuiltRows.step()
            if !hasStored && !hasRebuilt { break }
            if hasRebuilt { count += 1 }
            let storedRow = hasStored ? row(storedRows) : nil
            let rebuiltRow = hasRebuilt ? row(rebuiltRows) : nil
            if storedRow != rebuiltRow {
                // Rows are out of step after a missing or extra row; one report per table is enough.
                return (count, ["\(table): stored \(describe(storedRow)) but the log gives \(describe(rebuiltRow))"])
            }
        }
        return (count, [])
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
