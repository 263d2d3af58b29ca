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
