import AgriTraceCore
import SQLiteStorage

extension LedgerStore {
    /// Stores the keys an owner re-wrapped for one redemption in `transfer_keys` (not on the
    /// ledger; the requester reads them and checks them against the `addTransfer` that follows).
    public func insertTransferKeys(_ keys: [WrappedDataKey], redeemLeaf: UInt64) throws {
        try db.transaction {
            let insert = try db.prepare(
                "INSERT OR REPLACE INTO transfer_keys(redeem_leaf, record_id, level, wrapped) VALUES (?, ?, ?, ?)")
            for key in keys {
                try insert.run([
                    .int(redeemLeaf), .blob(Canonical.encode(key.recordID)), .text(key.level.rawValue),
                    .blob(Canonical.encode(key)),
                ])
            }
        }
    }
}
