import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// One delivered transfer and where it stands (docs/governance.md, "Trades signed by both
/// sides"), as `agritrace audit transfers --json` and `GET /v1/audit/transfers` print it.
public struct TransferCompletionRow: Codable, Sendable, Hashable {
    /// The leaf of the `addTransfer`.
    public var transferLeaf: UInt64
    public var requestID: String
    public var sender: String
    public var receiver: String
    public var lot: String
    public var level: String
    public var recordCount: Int
    public var time: String
    /// When the countersignature is due (the transfer's block time plus the deadline).
    public var due: String
    public var status: TransferCompletion
    /// The leaf of the receiver's countersignature, if any.
    public var countersignatureLeaf: UInt64?
    public var countersignedAt: String?
}

extension LedgerQueries {
    /// Every applied, delivered transfer with its completion status at the latest block's time,
    /// with `deadline` milliseconds for the receiver's countersignature.
    public func transferCompletions(
        deadline: Int64 = TransferCompletion.defaultDeadlineMilliseconds
    ) throws -> [TransferCompletionRow] {
        let now = try store.db.cachedStatement("SELECT MAX(time) FROM blocks").first([]) { $0.int64(at: 0) } ?? 0
        return try store.db.cachedStatement(
            """
            SELECT t.leaf_index, t.request_id, t.sender, t.receiver, t.lot, t.level, t.record_count, t.time,
                   c.leaf_index, c.time
              FROM transfers t LEFT JOIN transfer_countersignatures c ON c.transfer_leaf = t.leaf_index
             WHERE t.outcome = ? AND t.status = ? ORDER BY t.leaf_index
            """
        ).all([.text(EventOutcome.applied.rawValue), .text(TransferStatus.delivered.rawValue)]) { row in
            let time = row.int64(at: 7)
            let signedAt = row.isNull(at: 9) ? nil : row.int64(at: 9)
            return TransferCompletionRow(
                transferLeaf: UInt64(row.int64(at: 0)), requestID: row.string(at: 1) ?? "",
                sender: row.string(at: 2) ?? "", receiver: row.string(at: 3) ?? "", lot: row.string(at: 4) ?? "",
                level: row.string(at: 5) ?? "", recordCount: Int(row.int64(at: 6)),
                time: Timestamp(milliseconds: time).iso8601, due: Timestamp(milliseconds: time + deadline).iso8601,
                status: TransferCompletion.of(
                    transferTime: time, countersignedAt: signedAt, now: now, deadline: deadline),
                countersignatureLeaf: row.isNull(at: 8) ? nil : UInt64(row.int64(at: 8)),
                countersignedAt: signedAt.map { Timestamp(milliseconds: $0).iso8601 })
        }
    }
}
