import AgriTraceCore

/// What the trapdoor contract (`addTrapdoor`) reads: the decision's state, and the request ids
/// already used.
public protocol TrapdoorStateView: DecisionStateView {
    /// Whether an access request with `requestID` is on the ledger.
    func requestExists(_ requestID: String) throws -> Bool
}

extension DecisionOutcome {
    /// The audit event's outcome: pending, granted (whitelist) or denied.
    var eventOutcome: EventOutcome {
        switch status {
        case .pending: .pending
        case .granted: .granted
        case .denied: .denied
        }
    }
}

extension Decision {
    /// `addTrapdoor` as one pure step: refused when the request id is already used; otherwise
    /// the decision contract's outcome (the request's status and reason, the strike) and the
    /// audit event. The caller persists the request row and the strike.
    public static func submit(
        _ request: TrapdoorRequest, requester: String, address: String? = nil, at time: Timestamp,
        view: some TrapdoorStateView
    ) throws -> ContractOutcome<DecisionOutcome> {
        if try view.requestExists(request.requestID) {
            return .refused(request.requestID, "request id \(request.requestID) is already used")
        }
        let decision = try apply(request, requester: requester, address: address, at: time, view: view)
        let detail =
            decision.reason
            ?? "lot \(request.lot) \(request.level.rawValue) from \(request.source)"
            + (address.map { " (observed address \($0))" } ?? "") + ": awaiting the regulator's match"
        return ContractOutcome(
            change: decision,
            event: ContractEvent(
                subject: request.requestID, outcome: decision.eventOutcome, detail: detail))
    }
}
