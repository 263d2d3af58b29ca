import AgriTraceCore

/// What the credit contract reads of the world state.
public protocol CreditStateView: PolicyUploadStateView {
    /// Every registered enterprise's behaviour on the ledger, by enterprise id (every
    /// enterprise of the registry, those with no behaviour yet too).
    func behaviour() throws -> [String: Credit.Behaviour]
}

/// Credit evaluation of institutions (issue #19, docs/governance.md "Credit"): a deterministic
/// score per enterprise computed from its behaviour on the ledger, min-max normalised across
/// enterprises and recomputed at the end of every block that carries an access or transfer
/// transaction. Integer arithmetic only, so every node and every replay gets the same scores.
public enum Credit {
    /// The full scale of a score: basis points, 0 (the worst behaviour on the ledger) to
    /// 10,000 (the best).
    public static let scale: Int64 = 10_000

    /// What an enterprise's principals did, as counts read from the state.
    public struct Behaviour: Sendable, Hashable, Codable {
        /// Requests granted (the regulator's match found a policy the requester satisfies).
        public var grants: Int64 = 0
        /// Requests denied on their merits: every denial except `no-data` (an honest question),
        /// `not-in-effect` (a period that has not begun or has ended), `rate-limited`,
        /// `blacklisted` and `insufficient-credit` (consequences, not offences).
        public var denials: Int64 = 0
        /// Strikes against its principals (the punishment contract).
        public var strikes: Int64 = 0
        /// Confirmed violations against its principals.
        public var violations: Int64 = 0
        /// Transfers it completed on time: sent by its transfer service and countersigned by
        /// the receiver within ``TransferCompletion/defaultDeadlineMilliseconds`` (72 hours).
        public var transfers: Int64 = 0

        /// No behaviour yet (every count 0); the store adds its counts field by field.
        public init() {}

        /// The raw score: +1 per grant, +2 per completed transfer, −2 per denial, −5 per
        /// strike, −20 per confirmed violation.
        public var raw: Int64 { grants + 2 * transfers - 2 * denials - 5 * strikes - 20 * violations }
    }

    /// One enterprise's score.
    public struct Score: Sendable, Hashable, Codable {
        public var enterprise: String
        public var behaviour: Behaviour
        public var raw: Int64
        /// Min-max normalised: `(raw − min) × 10,000 / (max − min)` over every enterprise,
        /// rounded down; 10,000 for all when every raw score is the same.
        public var basisPoints: Int64
    }

    /// The scores of `behaviour`'s enterprises, sorted by enterprise id.
    public static func scores(_ behaviour: [String: Behaviour]) -> [Score] {
        let raws = behaviour.mapValues(\.raw)
        let low = raws.values.min() ?? 0
        let high = raws.values.max() ?? 0
        return behaviour.keys.sorted().map { enterprise in
            let raw = raws[enterprise]!
            let points = high == low ? scale : (raw - low) * scale / (high - low)
            return Score(enterprise: enterprise, behaviour: behaviour[enterprise]!, raw: raw, basisPoints: points)
        }
    }

    /// The state change of `setMinimumCredit`.
    public struct Condition: Sendable, Hashable {
        public var dataID: String
        /// Nil lifts the condition.
        public var basisPoints: Int64?
    }

    /// `setMinimumCredit`: applied to an active entry of the submitter, refused otherwise.
    public static func setMinimum(
        dataID: String, basisPoints: UInt16, submitter: String, view: some PolicyUploadStateView
    ) throws -> ContractOutcome<Condition> {
        guard let facts = try view.entryFacts(dataID), facts.owner == submitter, facts.status == .active else {
            return .refused(dataID, "no active entry \(dataID) of \(submitter)")
        }
        let condition = Condition(dataID: dataID, basisPoints: basisPoints == 0 ? nil : Int64(basisPoints))
        let detail =
            basisPoints == 0
            ? "no minimum credit" : "minimum credit \(basisPoints) of \(scale) basis points"
        return .applied(condition, dataID, detail)
    }

    /// Why a `setMinimumCredit` is malformed, naming the field and the fix, or nil.
    public static func conditionMalformation(_ dataID: String, _ basisPoints: UInt16) -> String? {
        guard AccessAdmission.isValidID(dataID) else { return "data id must be 32 lower-case hex characters" }
        guard Int64(basisPoints) <= scale else {
            return "minimum credit \(basisPoints) is out of range: 0 to \(scale) basis points (--minimum 0 to 1)"
        }
        return nil
    }
}
