import AgriTraceCore

/// What the transfer-report contract reads of a `redeem` on the ledger.
public struct RedemptionFacts: Sendable, Hashable {
    public var requestID: String
    public var requester: String
    /// The owner of the matched entry, when the request had one.
    public var owner: String?
    /// The redemption contract's outcome (accepted or refused).
    public var outcome: EventOutcome

    public init(requestID: String, requester: String, owner: String?, outcome: EventOutcome) {
        self.requestID = requestID
        self.requester = requester
        self.owner = owner
        self.outcome = outcome
    }
}

/// What the transfer-report contract reads of the world state.
public protocol TransferReportStateView {
    /// The redemption at `leaf`, or nil.
    func redemption(atLeaf leaf: UInt64) throws -> RedemptionFacts?
    /// The facts of an access request, or nil if there is none.
    func requestFacts(_ requestID: String) throws -> RequestFacts?
    /// Whether the redemption at `redeemLeaf` already has an applied transfer.
    func hasAppliedTransfer(redeemLeaf: UInt64) throws -> Bool
}

/// The transfer-report contract (`addTransfer`): the owner's transfer service reports what it
/// delivered (or refused) for an accepted redemption. Every report is recorded, applied or
/// refused by the contract, so the data-sharing graph sees the attempt.
public enum TransferReport {
    /// The `transfers` row: the report as submitted, and what the contract made of it.
    public struct Entry: Sendable, Hashable {
        public var report: TransferRecord
        public var sender: String
        /// The request's source address (the report's own when there is no request).
        public var source: String
        /// The report's reason when applied; the refusal otherwise.
        public var reason: String
        public var outcome: EventOutcome
    }

    /// The typed outcome: the row to record and the audit event.
    public struct Outcome: Sendable, Hashable {
        public var entry: Entry
        public var event: ContractEvent
    }

    /// `addTransfer` from `submitter`, at the block `time` (a delivery after the grant's
    /// effective period is refused).
    public static func apply(
        _ report: TransferRecord, submitter: String, at time: Timestamp? = nil, view: some TransferReportStateView
    ) throws -> Outcome {
        let facts = try view.requestFacts(report.requestID)
        var refusal = try refusal(report, submitter: submitter, facts: facts, view: view)
        if refusal == nil, report.status == .delivered {
            refusal = facts?.periodProblem(report.requestID, at: time)
        }
        let detail =
            refusal
            ?? "\(report.status): \(report.recordCount) records of \(report.lot) \(report.level.rawValue) to \(report.receiver) for \(report.purpose)"
        let outcome: EventOutcome = refusal == nil ? .applied : .refused
        let entry = Entry(
            report: report, sender: submitter, source: facts?.source ?? report.source,
            reason: refusal ?? report.reason, outcome: outcome)
        return Outcome(entry: entry, event: ContractEvent(subject: report.requestID, outcome: outcome, detail: detail))
    }

    /// Why the report is refused, or nil: it must answer an accepted redemption of its
    /// request, come from the entry's owner, match the request, be the redemption's first
    /// applied transfer, and not deliver a revoked grant.
    static func refusal(
        _ report: TransferRecord, submitter: String, facts: RequestFacts?, view: some TransferReportStateView
    ) throws -> String? {
        guard let redemption = try view.redemption(atLeaf: report.redeemLeaf), let facts else {
            return "no redemption at leaf \(report.redeemLeaf) for request \(report.requestID)"
        }
        if redemption.requestID != report.requestID || redemption.outcome != .accepted {
            return "leaf \(report.redeemLeaf) is not an accepted redemption of request \(report.requestID)"
        }
        if redemption.owner != submitter {
            return "only the entry's owner \(redemption.owner ?? "?") may transfer, not \(submitter)"
        }
        if redemption.requester != report.receiver || facts.lot != report.lot
            || facts.level != report.level.rawValue
        {
            return "the receiver, lot or level differ from the request"
        }
        if try view.hasAppliedTransfer(redeemLeaf: report.redeemLeaf) {
            return "redemption \(report.redeemLeaf) already has a transfer"
        }
        if facts.revoked && report.status == .delivered {
            return "revoked: the grant of request \(report.requestID) was revoked"
        }
        return nil
    }
}
