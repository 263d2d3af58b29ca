import AgriTraceCore
import SQLiteStorage

/// One whitelist line (docs/governance.md).
public struct WhitelistRow: Codable, Sendable, Equatable {
    public var lot: String
    public var level: String
    public var principal: String
    /// The owner principal who added it, and its enterprise.
    public var owner: String
    public var enterprise: String
    /// The leaf of the `addToWhitelist` transaction.
    public var leafIndex: UInt64
}

extension LedgerQueries {
    /// The whitelist, by lot, level and principal; with `lot`, only that lot's.
    public func whitelist(lot: String? = nil) throws -> [WhitelistRow] {
        try store.db.prepare(
            "SELECT lot, level, principal, owner, enterprise, leaf_index FROM whitelist WHERE (?1 IS NULL OR lot = ?1) ORDER BY lot, level, principal"
        ).all([.text(orNull: lot)]) { row in
            WhitelistRow(
                lot: row.string(at: 0) ?? "", level: row.string(at: 1) ?? "", principal: row.string(at: 2) ?? "",
                owner: row.string(at: 3) ?? "", enterprise: row.string(at: 4) ?? "",
                leafIndex: UInt64(row.int64(at: 5)))
        }
    }
}
