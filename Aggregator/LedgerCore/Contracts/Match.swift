import AgriTraceCore

/// What the match contract reads of the world state, besides the punishment contract's part.
public protocol MatchStateView: DecisionStateView {
    /// The facts of an access request, or nil if there is none.
    func requestFacts(_ requestID: String) throws -> RequestFacts?
    /// Whether `dataID` is an active entry of `lot` at `level`.
    func isActiveEntry(_ dataID: String, lot: String, level: String) throws -> Bool
}

/// The request's new state after the regulator's result.
public struct MatchResult: Sendable, Hashable {
    public var status: AccessRequestStatus
    /// What the request row records (the strike text is only in the audit event).
    public var reason: String
    /// The matched entry and the released token D, when granted.
    public var dataID: String?
    public var token: [UInt8]?
}

/// The typed change of the match contract: the audit event, the request's result (nil when the
/// transaction is refused) and the strike a non-match earns.
public struct MatchOutcome: Sendable, Hashable {
    public var event: ContractEvent
    public var result: MatchResult?
    /// The strikes a non-match earns: the request's observed address, then its requester.
    public var strikes: [Punishment.Strike]

    /// The first strike (the observed address's, or the requester's when none was observed).
    public var strike: Punishment.Strike? { strikes.first }
}

/// The match contract (`addResult`): the regulator's TEST result for a pending request.
/// A match naming an active entry of the request's lot and level grants it with the token;
/// anything else denies it and strikes the request's observed address and its requester.
public enum Match {
    public static func apply(
        requestID: String, dataID: String?, token: [UInt8]?, at time: Timestamp, view: some MatchStateView
    ) throws -> MatchOutcome {
        guard let facts = try view.requestFacts(requestID) else {
            return MatchOutcome(event: .refused(requestID, "no request \(requestID)"))
        }
        guard facts.status == .pending else {
            let detail = "request \(requestID) is \(facts.status.rawValue), not pending"
            return MatchOutcome(event: .refused(requestID, detail))
        }
        let (lot, level) = (facts.lot, facts.level)
        if let dataID, let token, try view.isActiveEntry(dataID, lot: lot, level: level) {
            let result = MatchResult(status: .granted, reason: "matched entry \(dataID)", dataID: dataID, token: token)
            return MatchOutcome(
                event: ContractEvent(subject: requestID, outcome: .granted, detail: result.reason), result: result,
                strikes: [])
        }
        let reason =
            dataID.map { "the regulator named entry \($0), which is not an active entry of lot \(lot) \(level)" }
            ?? "no-match: the requester's attributes do not satisfy any hidden policy of lot \(lot) \(level)"
        let strikes = try Punishment.strikes(
            Decision.subjects(requester: facts.requester, address: facts.observedAddress), at: time, view: view)
        return MatchOutcome(
            event: ContractEvent(
                subject: requestID, outcome: .denied,
                detail: ([reason] + strikes.map(\.detail)).joined(separator: "; ")),
            result: MatchResult(status: .denied, reason: reason),
            strikes: strikes)
    }
}

extension MatchOutcome {
    init(event: ContractEvent) { self.init(event: event, result: nil, strikes: []) }
}

extension MatchResult {
    init(status: AccessRequestStatus, reason: String) {
        self.init(status: status, reason: reason, dataID: nil, token: nil)
    }
}
