import AgriTraceCore
import LedgerCore
import SQLiteStorage

extension LedgerSchema {
    /// The countersigning contract's state (docs/governance.md, "Trades signed by both sides"):
    /// one row per countersigned transfer.
    static let transferCountersignaturesDDL = """
        CREATE TABLE transfer_countersignatures(
            transfer_leaf INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            receiver TEXT NOT NULL,
            received_digest BLOB NOT NULL,
            record_count INTEGER NOT NULL,
            leaf_index INTEGER NOT NULL,
            time INTEGER NOT NULL
        );

        """
}

/// The countersigning contract's view of the stored world state (`transfers`,
/// `transfer_countersignatures`) and the persistence of its outcome.
extension AccessStateRows: TransferCountersigningStateView {
    func transferFacts(atLeaf leaf: UInt64) throws -> TransferFacts? {
        try db.cachedStatement(
            "SELECT request_id, receiver, record_count, blob_digest, status, outcome FROM transfers WHERE leaf_index = ?"
        ).first([.int(leaf)]) { row in
            guard let digest = Digest32(bytes: row.bytes(at: 3) ?? []),
                let status = TransferStatus(rawValue: row.string(at: 4) ?? ""),
                let outcome = EventOutcome(rawValue: row.string(at: 5) ?? "")
            else { throw LedgerStoreError.corrupt("the transfer at leaf \(leaf) has a malformed digest or status") }
            return TransferFacts(
                requestID: row.string(at: 0) ?? "", receiver: row.string(at: 1) ?? "",
                recordCount: UInt32(clamping: row.int64(at: 2)), blobDigest: digest, status: status, outcome: outcome)
        }
    }

    func countersignatureLeaf(transferLeaf: UInt64) throws -> UInt64? {
        try db.cachedStatement("SELECT leaf_index FROM transfer_countersignatures WHERE transfer_leaf = ?").first([
            .int(transferLeaf)
        ]) { UInt64($0.int64(at: 0)) }
    }

    /// `countersignTransfer`: the `transfer_countersignatures` row when applied.
    func store(_ outcome: TransferCountersigning.Outcome, leaf: Int64, time: Timestamp) throws -> ContractEvent {
        guard let entry = outcome.change else { return outcome.event }
        let signed = entry.countersignature
        try run(
            "INSERT INTO transfer_countersignatures(transfer_leaf, request_id, receiver, received_digest, record_count, leaf_index, time) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .int(signed.transferLeaf), .text(signed.requestID), .text(entry.receiver),
                .blob(signed.receivedDigest.bytes), .int(UInt64(signed.recordCount)), .integer(leaf),
                .integer(time.milliseconds),
            ])
        return outcome.event
    }
}
