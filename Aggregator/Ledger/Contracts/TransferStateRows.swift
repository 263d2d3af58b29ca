import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// The transfer contracts' view of the stored world state (redemptions, transfers, records and
/// blobs) and the persistence of their outcomes (`transfers`, `transfer_reads`).
extension AccessStateRows: TransferReportStateView, ReadReportStateView, BlobReferenceStateView {
    func redemption(atLeaf leaf: UInt64) throws -> RedemptionFacts? {
        try db.cachedStatement("SELECT request_id, requester, owner, status FROM redemptions WHERE leaf_index = ?")
            .first([.int(leaf)]) { row in
                guard let outcome = EventOutcome(rawValue: row.string(at: 3) ?? "") else {
                    throw LedgerStoreError.corrupt("the redemption at leaf \(leaf) has an unknown status")
                }
                return RedemptionFacts(
                    requestID: row.string(at: 0) ?? "", requester: row.string(at: 1) ?? "", owner: row.string(at: 2),
                    outcome: outcome)
            }
    }

    func hasAppliedTransfer(redeemLeaf: UInt64) throws -> Bool {
        try exists(
            "SELECT 1 FROM transfers WHERE redeem_leaf = ? AND outcome = ?",
            [.int(redeemLeaf), .text(EventOutcome.applied.rawValue)])
    }

    func appliedTransfer(atLeaf leaf: UInt64, requestID: String) throws -> (
        receiver: String, lot: String, level: String
    )? {
        try db.cachedStatement(
            "SELECT receiver, lot, level FROM transfers WHERE leaf_index = ? AND request_id = ? AND outcome = ?"
        ).first([.int(leaf), .text(requestID), .text(EventOutcome.applied.rawValue)]) {
            ($0.string(at: 0) ?? "", $0.string(at: 1) ?? "", $0.string(at: 2) ?? "")
        }
    }

    func recordDevice(_ recordID: RecordID) throws -> RegistryState.DeviceKey? {
        try db.cachedStatement("SELECT enterprise, device FROM records WHERE record_id = ?").first([
            .blob(Canonical.encode(recordID))
        ]) { RegistryState.DeviceKey(enterprise: $0.string(at: 0) ?? "", device: $0.string(at: 1) ?? "") }
    }

    func storedBlob(_ recordID: RecordID, level: PrivacyLevel) throws -> Digest32? {
        try db.cachedStatement("SELECT blob_id FROM blobs WHERE record_id = ? AND level = ? AND status = ?").first([
            .blob(Canonical.encode(recordID)), .text(level.rawValue), .text(BlobStatus.stored.rawValue),
        ]) { row in
            guard let id = Digest32(bytes: row.bytes(at: 0) ?? []) else {
                throw LedgerStoreError.corrupt("a blob of record \(recordID) has a malformed id")
            }
            return id
        }
    }

    /// `addTransfer`: the `transfers` row, applied or refused.
    func store(_ outcome: TransferReport.Outcome, leaf: Int64, time: Timestamp) throws -> ContractEvent {
        let entry = outcome.entry
        let report = entry.report
        try run(
            "INSERT INTO transfers(leaf_index, request_id, redeem_leaf, sender, receiver, lot, level, record_count, blob_digest, source, status, purpose, reason, outcome, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(leaf), .text(report.requestID), .int(report.redeemLeaf), .text(entry.sender),
                .text(report.receiver), .text(report.lot), .text(report.level.rawValue), .int(report.recordCount),
                .blob(report.blobDigest.bytes), .text(entry.source), .text(report.status.rawValue),
                .text(report.purpose),
                .text(entry.reason), .text(entry.outcome.rawValue), .integer(time.milliseconds),
            ])
        return outcome.event
    }

    /// `recordRead`: the `transfer_reads` row when applied.
    func store(_ outcome: ReadReport.Outcome, leaf: Int64, time: Timestamp) throws -> ContractEvent {
        guard let entry = outcome.change else { return outcome.event }
        let report = entry.report
        try run(
            "INSERT INTO transfer_reads(leaf_index, request_id, reader, lot, level, transfer_leaf, record_count, fields, outcome, detail, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(leaf), .text(report.requestID), .text(entry.reader), .text(entry.lot), .text(entry.level),
                .int(report.transferLeaf), .int(report.recordCount), .text(report.fields.joined(separator: ",")),
                .text(report.outcome), .text(report.detail), .integer(time.milliseconds),
            ])
        return outcome.event
    }
}
