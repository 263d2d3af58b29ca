import AgriTraceCore

/// The typed outcome of a contract whose state change may be refused: the change to persist
/// (nil when the contract refused the transaction) and the audit event, which says why.
public struct ContractOutcome<Change: Sendable & Hashable>: Sendable, Hashable {
    public var change: Change?
    public var event: ContractEvent

    /// A refusal of the transaction about `subject`, with its reason.
    public static func refused(_ subject: String, _ detail: String) -> ContractOutcome {
        ContractOutcome(change: nil, event: .refused(subject, detail))
    }

    /// `change` applied to the state, with the audit `detail`.
    public static func applied(_ change: Change, _ subject: String, _ detail: String) -> ContractOutcome {
        ContractOutcome(change: change, event: ContractEvent(subject: subject, outcome: .applied, detail: detail))
    }
}

/// A contract's typed refusal: the code the audit prints and a message naming the field and
/// the fix; the audit event's detail is `code: message`.
public protocol ContractRefusal: Error, Sendable, Hashable {
    var code: String { get }
    var message: String { get }
}

extension ContractRefusal {
    /// The audit event's detail: `code: message`.
    public var detail: String { "\(code): \(message)" }
}

extension ContractOutcome {
    /// The outcome of a contract's check about `subject`: the refusal, or the change applied
    /// with the audit detail `detail` makes of it.
    public static func decided<Refusal: ContractRefusal>(
        _ result: Result<Change, Refusal>, _ subject: String, applied detail: (Change) -> String
    ) -> ContractOutcome {
        switch result {
        case .failure(let refusal): .refused(subject, refusal.detail)
        case .success(let change): .applied(change, subject, detail(change))
        }
    }
}
