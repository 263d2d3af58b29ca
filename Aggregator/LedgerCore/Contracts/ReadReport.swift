import AgriTraceCore

/// What the read-report contract reads of the world state.
public protocol ReadReportStateView {
    /// The receiver, lot and level of the applied transfer at `leaf` for `requestID`, or nil.
    func appliedTransfer(atLeaf leaf: UInt64, requestID: String) throws -> (
        receiver: String, lot: String, level: String
    )?
}

/// The read-report contract (`recordRead`): the receiver of an applied transfer records what
/// it read of it (the 4Wh "who read what, when").
public enum ReadReport {
    /// The `transfer_reads` row: the report, its reader, and the transfer's lot and level.
    public struct Entry: Sendable, Hashable {
        public var report: ReadRecord
        public var reader: String
        public var lot: String
        public var level: String
    }

    /// The typed outcome: the row (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Entry>

    /// `recordRead` from `submitter`: applied when it is the receiver of the named transfer
    /// and, given the request's `grant` facts and the block `time`, the grant is in effect.
    public static func apply(
        _ report: ReadRecord, submitter: String, grant: RequestFacts? = nil, at time: Timestamp? = nil,
        view: some ReadReportStateView
    ) throws -> Outcome {
        if let problem = grant?.periodProblem(report.requestID, at: time) {
            return .refused(report.requestID, problem)
        }
        guard let transfer = try view.appliedTransfer(atLeaf: report.transferLeaf, requestID: report.requestID),
            transfer.receiver == submitter
        else {
            return .refused(report.requestID, "no transfer at leaf \(report.transferLeaf) to \(submitter)")
        }
        let entry = Entry(report: report, reader: submitter, lot: transfer.lot, level: transfer.level)
        let detail = "\(report.outcome): \(report.recordCount) records of \(transfer.lot) \(transfer.level)"
        return .applied(entry, report.requestID, detail)
    }
}
