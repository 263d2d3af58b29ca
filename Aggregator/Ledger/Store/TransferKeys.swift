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
                try insert.bind(Int64(redeemLeaf), at: 1)
                try insert.bind(Canonical.encode(key.recordID), at: 2)
                try insert.bind(key.level.rawValue, at: 3)
                try insert.bind(Canonical.encode(key), at: 4)
                try insert.run()
            }
        }
    }
}
