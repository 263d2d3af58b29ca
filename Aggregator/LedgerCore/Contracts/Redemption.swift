import AgriTraceCore

/// The outcome an access transaction's audit event records (stored and printed as the raw value).
public enum EventOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    case applied
    case refused
    /// A redemption waiting for the owner's transfer service.
    case accepted
    case pending
    case granted
    case denied
}

/// The audit event of one access transaction: what it is about, its outcome and why.
public struct ContractEvent: Sendable, Hashable {
    public var subject: String
    public var outcome: EventOutcome
    public var detail: String

    public init(subject: String, outcome: EventOutcome, detail: String) {
        self.subject = subject
        self.outcome = outcome
        self.detail = detail
    }

    /// The refusal of the transaction about `subject`, with its reason.
    public static func refused(_ subject: String, _ detail: String) -> ContractEvent {
        ContractEvent(subject: subject, outcome: .refused, detail: detail)
    }
}

/// What the transfer contracts read of an access request and its grant.
public struct RequestFacts: Sendable, Hashable {
    public var requester: String
    public var lot: String
    public var level: String
    public var source: String
    /// The request's status.
    public var status: AccessRequestStatus
    /// The owner of the matched entry, once granted.
    public var owner: String?
    /// Whether the owner revoked the grant.
    public var revoked: Bool
    /// The network address the access gateway observed for the request; nil when it was not
    /// relayed by the gateway (a local submission, or a store older than migration 6).
    public var observedAddress: String?
    /// The grant's effective period (nil: always, or not granted).
    public var period: EffectivePeriod?

    public init(
        requester: String, lot: String, level: String, source: String, status: AccessRequestStatus, owner: String?,
        revoked: Bool, observedAddress: String? = nil, period: EffectivePeriod? = nil
    ) {
        self.period = period
        self.observedAddress = observedAddress
        self.requester = requester
        self.lot = lot
        self.level = level
        self.source = source
        self.status = status
        self.owner = owner
        self.revoked = revoked
    }
}

extension RequestFacts {
    /// Why the grant of `requestID` is not in effect at the block `time` (expired, or not yet
    /// in effect), or nil. Every step that relies on the grant (redeem, the transfer report,
    /// the read report) refuses with these words.
    public func periodProblem(_ requestID: String, at time: Timestamp?) -> String? {
        guard let period, let time, !period.contains(time) else { return nil }
        if period.hasEnded(at: time) {
            return
                "expired: the grant of request \(requestID) ended at \(period.notAfter?.iso8601 ?? ""), before the block at \(time.iso8601); ask again"
        }
        return
            "not-in-effect: the grant of request \(requestID) is in effect \(period.description), not at \(time.iso8601)"
    }
}

/// The redemption contract (`redeem`): the requester of a granted, unrevoked request asks the
/// owner's transfer service for the data, unless it (or the address the gateway observed for
/// the redemption) is blacklisted. Pure: the request's facts and the block in force in, the
/// event out.
public enum Redemption {
    /// - Parameter block: the block in force at the block time among the redemption's
    ///   observed address and its submitter (``Punishment/block(among:at:view:)``), if any.
    /// - Parameter time: the block time, against which the grant's effective period is checked.
    public static func apply(
        requestID: String, submitter: String, facts: RequestFacts?,
        block: (subject: Punishment.Subject, until: Timestamp?)? = nil, at time: Timestamp? = nil
    ) -> ContractEvent {
        func refused(_ detail: String) -> ContractEvent { .refused(requestID, detail) }
        if let block {
            return refused(Decision.Denial.blacklisted(subject: block.subject, until: block.until).description)
        }
        guard let facts else { return refused("no request \(requestID)") }
        guard facts.requester == submitter else {
            return refused("request \(requestID) is \(facts.requester)'s, not \(submitter)'s")
        }
        guard !facts.revoked else { return refused("revoked: the owner revoked the grant of request \(requestID)") }
        guard facts.status == .granted else {
            return refused("request \(requestID) is \(facts.status.rawValue), not granted")
        }
        if let problem = facts.periodProblem(requestID, at: time) { return refused(problem) }
        return ContractEvent(subject: requestID, outcome: .accepted, detail: "awaiting the owner's transfer service")
    }
}

/// The grant-revocation contract (`revokeGrant`): the owner of the matched entry withdraws a grant.
public enum GrantRevocation {
    public static func apply(requestID: String, reason: String, submitter: String, facts: RequestFacts?)
        -> ContractEvent
    {
        func refused(_ detail: String) -> ContractEvent { .refused(requestID, detail) }
        guard let facts else { return refused("no request \(requestID)") }
        guard facts.owner == submitter else {
            return refused("only the entry's owner may revoke the grant of request \(requestID)")
        }
        guard facts.status == .granted, !facts.revoked else {
            return refused("request \(requestID) is \(facts.revoked ? "already revoked" : facts.status.rawValue)")
        }
        return ContractEvent(
            subject: requestID, outcome: .applied,
            detail: "grant to \(facts.requester) for \(facts.lot) \(facts.level) revoked: \(reason)")
    }
}
