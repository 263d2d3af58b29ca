import AgriTraceCore

/// What the match contract reads of the world state, besides the punishment contract's part.
public protocol MatchStateView: DecisionStateView {
    /// The facts of an access request, or nil if there is none.
    func requestFacts(_ requestID: String) throws -> RequestFacts?
    /// Whether `dataID` is an active entry of `lot` at `level`.
    func isActiveEntry(_ dataID: String, lot: String, level: String) throws -> Bool
    /// The effective period of the entry `dataID` (nil: always).
    func entryPeriod(_ dataID: String) throws -> EffectivePeriod?
}

extension MatchStateView {
    /// A view that keeps no periods: every entry is in effect always.
    public func entryPeriod(_ dataID: String) throws -> EffectivePeriod? { nil }
}

/// The request's new state after the regulator's result.
public struct MatchResult: Sendable, Hashable {
    public var status: AccessRequestStatus
    /// What the request row records (the strike text is only in the audit event).
    public var reason: String
    /// The matched entry and the released token D, when granted.
    public var dataID: String?
    public var token: [UInt8]?
    /// The grant's effective period, when granted with one: the entry's period and the
    /// requester's attribute grant's, intersected (a grant never outlives what it relies on).
    public var period: EffectivePeriod?
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
            return try grant(requestID, dataID: dataID, token: token, requester: facts.requester, at: time, view: view)
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

extension Match {
    /// A match naming an active entry: granted, with the entry's and the requester's
    /// attribute periods intersected, unless that period does not contain the block time
    /// (denied `not-in-effect`, without a strike: the requester did nothing wrong).
    static func grant(
        _ requestID: String, dataID: String, token: [UInt8], requester: String, at time: Timestamp,
        view: some MatchStateView
    ) throws -> MatchOutcome {
        let periods = [try view.entryPeriod(dataID), try view.attributePeriod(requester)].compactMap { $0 }
        let period = periods.reduce(EffectivePeriod()) { $0.intersection($1) }
        guard period.contains(time) else {
            let reason = "not-in-effect: the grant would be in effect \(period.description), not at \(time.iso8601)"
            return MatchOutcome(
                event: ContractEvent(subject: requestID, outcome: .denied, detail: reason),
                result: MatchResult(status: .denied, reason: reason), strikes: [])
        }
        let result = MatchResult(
            status: .granted,
            reason: "matched entry \(dataID)" + (periods.isEmpty ? "" : ", in effect \(period.description)"),
            dataID: dataID, token: token, period: periods.isEmpty ? nil : period)
        return MatchOutcome(
            event: ContractEvent(subject: requestID, outcome: .granted, detail: result.reason), result: result,
            strikes: [])
    }
}

extension MatchOutcome {
    init(event: ContractEvent) { self.init(event: event, result: nil, strikes: []) }
}

extension MatchResult {
    init(status: AccessRequestStatus, reason: String) {
        self.init(status: status, reason: reason, dataID: nil, token: nil, period: nil)
    }
}
