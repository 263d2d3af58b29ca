import AgriTraceCore

/// The access rules in force: the regulator's latest published parameters, or the published defaults.
public struct AccessRules: Sendable, Hashable {
    public var maximumStrikes: Int64
    public var blockMilliseconds: Int64
    public var trapdoorsPerMinute: Int64

    public init(maximumStrikes: Int64 = 5, blockMilliseconds: Int64 = 10 * 60 * 1000, trapdoorsPerMinute: Int64 = 10) {
        self.maximumStrikes = maximumStrikes
        self.blockMilliseconds = blockMilliseconds
        self.trapdoorsPerMinute = trapdoorsPerMinute
    }

    /// The strikes before a permanent block: 1 to 100.
    public static let maximumStrikesRange: ClosedRange<Int64> = 1...100
    /// How long one strike blocks: 1 minute to 366 days (a block of 0 would make every
    /// strike but the last one free).
    public static let blockMillisecondsRange: ClosedRange<Int64> = 60_000...(366 * 24 * 60 * 60_000)
    /// Trapdoors one principal may submit per minute: 1 to 10,000.
    public static let trapdoorsPerMinuteRange: ClosedRange<Int64> = 1...10_000

    /// Why these rules cannot be published, naming the field, its value and the fix (the
    /// `regulator setup` option), or nil when every value is in its range. The regulator's
    /// CLI checks it before signing; the parameters contract's admission refuses the same.
    public var problem: String? {
        if !Self.maximumStrikesRange.contains(maximumStrikes) {
            return
                "maximumStrikes \(maximumStrikes) is out of range: strikes before a permanent block are 1 to 100 (--maximum-strikes)"
        }
        if !Self.blockMillisecondsRange.contains(blockMilliseconds) {
            return
                "blockMilliseconds \(blockMilliseconds) is out of range: a strike blocks for 1 minute to 366 days (--block-minutes 1 to 527040)"
        }
        if !Self.trapdoorsPerMinuteRange.contains(trapdoorsPerMinute) {
            return
                "trapdoorsPerMinute \(trapdoorsPerMinute) is out of range: 1 to 10000 trapdoors per principal per minute (--trapdoors-per-minute)"
        }
        return nil
    }

    /// The punishment contract's part of the rules.
    public var blacklist: Blacklist.Rules {
        Blacklist.Rules(maximumStrikes: Int(maximumStrikes), blockDurationMilliseconds: blockMilliseconds)
    }
}

/// The terms of one active protected entry (`addEncryptedData`) that the decision reads.
public struct EntryTerms: Sendable, Hashable {
    /// The entry's time window; nil for any time.
    public var window: TimeWindow?
    public var actions: Set<ABAC.Action>
    /// The entry's effective period (nil: always).
    public var period: EffectivePeriod?
    /// The owner's public credit condition (`setMinimumCredit`), in basis points; nil for none.
    public var minimumCredit: Int64?

    public init(
        window: TimeWindow?, actions: Set<ABAC.Action>, period: EffectivePeriod? = nil, minimumCredit: Int64? = nil
    ) {
        self.window = window
        self.actions = actions
        self.period = period
        self.minimumCredit = minimumCredit
    }
}

/// What the decision contract reads of the world state: the memory model in tests, the
/// SQLite state store in the ledger.
public protocol DecisionStateView: PunishmentStateView {
    /// Whether the principal is active and holds at least one active attribute grant.
    func hasActiveAttributes(_ principal: String) throws -> Bool
    /// How many trapdoors the requester submitted at block times after `time`.
    func requestCount(by requester: String, after time: Timestamp) throws -> Int64
    /// The active entries protecting `lot` at `level`.
    func activeEntries(lot: String, level: ABAC.Sensitivity) throws -> [EntryTerms]
    /// The credit of the principal's enterprise in basis points (``Credit``), nil when it has none.
    func credit(ofEnterpriseOf principal: String) throws -> Int64?
    /// The effective period of the principal's active attribute grant (nil: always).
    func attributePeriod(_ principal: String) throws -> EffectivePeriod?
    /// The active entries of `lot` at `level` whose owner's enterprise whitelisted
    /// `principal` for them, newest first (empty when it is not whitelisted).
    func whitelistedEntries(principal: String, lot: String, level: ABAC.Sensitivity) throws -> [WhitelistedEntry]
}

/// An active entry a whitelisted principal's request may be granted on.
public struct WhitelistedEntry: Sendable, Hashable {
    public var dataID: String
    /// The enterprise that whitelisted the principal (the entry's owner's).
    public var enterprise: String
    public var period: EffectivePeriod?

    public init(dataID: String, enterprise: String, period: EffectivePeriod?) {
        self.dataID = dataID
        self.enterprise = enterprise
        self.period = period
    }
}

extension DecisionStateView {
    /// A view that keeps no periods: every attribute grant is in effect always.
    public func attributePeriod(_ principal: String) throws -> EffectivePeriod? { nil }
    /// A view that keeps no whitelist.
    public func whitelistedEntries(principal: String, lot: String, level: ABAC.Sensitivity) throws
        -> [WhitelistedEntry]
    { [] }
}

/// The policy-decision contract (`addTrapdoor`), at the block time. The order is the published
/// one: a blocked subject (the address the access gateway observed, or the requesting
/// principal) is denied first (no new strike: strikes count only between blocks, whoever adds
/// them); then the principal's registration and
/// attributes, the rate limit, and the environment (an active entry for the lot and level whose
/// time window contains the block time and whose actions include the request's). The hidden
/// attribute conditions are the regulator's TEST, later (the match contract).
public enum Decision {
    /// Why a request is denied; the description is what the request row and the audit record.
    public enum Denial: Sendable, Hashable, CustomStringConvertible {
        case blacklisted(subject: Punishment.Subject, until: Timestamp?)
        case unregistered(requester: String)
        case rateLimited(requester: String, count: Int64, limit: Int64)
        case noData(lot: String, level: ABAC.Sensitivity)
        case outsideWindow(time: Timestamp, lot: String, level: ABAC.Sensitivity)
        case actionNotPermitted(ABAC.Action)
        case insufficientCredit(requester: String, credit: Int64?, minimum: Int64)
        /// The requester's attribute grant is outside its effective period at the block time.
        case attributesNotInEffect(requester: String, period: EffectivePeriod, time: Timestamp)
        /// Every active entry of the lot and level is outside its effective period.
        case notInEffect(time: Timestamp, lot: String, level: ABAC.Sensitivity)

        /// Whether the denial adds a strike to the request's observed address and requester
        /// (the punishment contract). A request for a lot whose owner has published no policy
        /// yet is an honest question with a distinct answer, not an offence.
        public var earnsStrike: Bool {
            switch self {
            case .blacklisted, .rateLimited, .noData, .insufficientCredit, .attributesNotInEffect, .notInEffect: false
            case .unregistered, .outsideWindow, .actionNotPermitted: true
            }
        }

        public var description: String {
            switch self {
            case .blacklisted(let subject, let until):
                "blacklisted: \(subject) is blocked " + (until.map { "until \($0.iso8601)" } ?? "permanently")
            case .unregistered(let requester):
                "unregistered: \(requester) has no active registration with attributes granted by the regulator"
            case .rateLimited(let requester, let count, let limit):
                "rate-limited: \(requester) submitted \(count) trapdoors in the last minute (limit \(limit))"
            case .noData(let lot, let level):
                "no-data: lot \(lot) has no active \(level.rawValue) entry; the owner has published no policy for it yet, so nothing is counted against the requester: ask again later"
            case .outsideWindow(let time, let lot, let level):
                "outside-window: \(time.iso8601) is outside every time window of lot \(lot) \(level.rawValue)"
            case .actionNotPermitted(let action): "action-not-permitted: \(action.rawValue) is not permitted"
            case .insufficientCredit(let requester, let credit, let minimum):
                "insufficient-credit: the credit of \(requester)'s enterprise is "
                    + (credit.map { "\($0)" } ?? "not evaluated yet")
                    + ", below the minimum of \(minimum) basis points "
                    + "the owner set as a public condition: nothing is counted against the requester"
            case .attributesNotInEffect(let requester, let period, let time):
                "not-in-effect: the attribute grant of \(requester) is in effect \(period.description), not at \(time.iso8601); ask the regulator to renew it"
            case .notInEffect(let time, let lot, let level):
                "not-in-effect: \(time.iso8601) is outside the effective period of every \(level.rawValue) policy of lot \(lot); nothing is counted against the requester"
            }
        }
    }

    /// The decision: the request waits for the regulator's match, is granted at once (its
    /// requester is whitelisted for the lot and level), or is denied.
    public enum Verdict: Sendable, Hashable {
        case pending
        case denied(Denial)
        case whitelisted(WhitelistedEntry)
    }

    /// Who a request's strikes count against: the address the access gateway observed (when
    /// the request came through it), then the requesting principal. Never the request's
    /// `source`, which the requester chooses.
    public static func subjects(requester: String, address: String?) -> [Punishment.Subject] {
        (address.map { [Punishment.Subject.address($0)] } ?? []) + [.principal(requester)]
    }

    /// Decides `request` from `requester`, relayed from the observed `address` (nil when not
    /// relayed by the gateway), at the block `time` against the state `view`.
    public static func decide(
        _ request: TrapdoorRequest, requester: String, address: String? = nil, at time: Timestamp,
        view: some DecisionStateView
    ) throws -> Verdict {
        let punishable = subjects(requester: requester, address: address)
        if let block = try Punishment.block(among: punishable, at: time, view: view) {
            return .denied(.blacklisted(subject: block.subject, until: block.until))
        }
        let whitelisted = try view.whitelistedEntries(principal: requester, lot: request.lot, level: request.level)
        if let entry = whitelisted.first(where: { $0.period?.contains(time) ?? true }) {
            return .whitelisted(entry)
        }
        guard try view.hasActiveAttributes(requester) else { return .denied(.unregistered(requester: requester)) }
        if let period = try view.attributePeriod(requester), !period.contains(time) {
            return .denied(.attributesNotInEffect(requester: requester, period: period, time: time))
        }
        let rules = try view.rules()
        let count = try view.requestCount(by: requester, after: Timestamp(milliseconds: time.milliseconds - 60_000))
        if count >= rules.trapdoorsPerMinute {
            return .denied(.rateLimited(requester: requester, count: count, limit: rules.trapdoorsPerMinute))
        }
        let entries = try view.activeEntries(lot: request.lot, level: request.level)
        guard !entries.isEmpty else { return .denied(.noData(lot: request.lot, level: request.level)) }
        let inEffect = entries.filter { $0.period?.contains(time) ?? true }
        guard !inEffect.isEmpty else {
            return .denied(.notInEffect(time: time, lot: request.lot, level: request.level))
        }
        let inWindow = inEffect.filter { $0.window?.contains(time) ?? true }
        guard !inWindow.isEmpty else {
            return .denied(.outsideWindow(time: time, lot: request.lot, level: request.level))
        }
        let permitted = inWindow.filter { $0.actions.contains(request.action) }
        guard !permitted.isEmpty else { return .denied(.actionNotPermitted(request.action)) }
        let minimum = permitted.map { $0.minimumCredit ?? 0 }.min()!
        guard minimum > 0 else { return .pending }
        let credit = try view.credit(ofEnterpriseOf: requester)
        guard (credit ?? 0) >= minimum else {
            return .denied(.insufficientCredit(requester: requester, credit: credit, minimum: minimum))
        }
        return .pending
    }
}

/// The status of an access request (stored and printed as the raw value).
public enum AccessRequestStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting for the regulator's match.
    case pending
    case granted
    case denied
}

/// The typed change the decision contract makes: the request's status and reason, and the
/// strikes it earns, if any.
public struct DecisionOutcome: Sendable, Hashable {
    public var verdict: Decision.Verdict
    /// The punishment contract's strikes (denials that earn them): the observed address's,
    /// then the requester's.
    public var strikes: [Punishment.Strike]

    /// The first strike (the observed address's, or the requester's when none was observed).
    public var strike: Punishment.Strike? { strikes.first }

    /// The request's status.
    public var status: AccessRequestStatus {
        switch verdict {
        case .pending: .pending
        case .whitelisted: .granted
        case .denied: .denied
        }
    }

    /// The reason recorded with the request (nil while pending).
    public var reason: String? {
        switch verdict {
        case .pending: nil
        case .whitelisted(let entry):
            "granted (whitelist): whitelisted by \(entry.enterprise) for entry \(entry.dataID)"
                + (entry.period.map { ", in effect \($0.description)" } ?? "")
        case .denied(let denial): ([denial.description] + strikes.map(\.detail)).joined(separator: "; ")
        }
    }

    /// The entry a whitelisted request is granted on, or nil.
    public var whitelistedEntry: WhitelistedEntry? {
        guard case .whitelisted(let entry) = verdict else { return nil }
        return entry
    }
}

extension Decision {
    /// The decision contract as one pure step: the verdict, and the punishment contract's
    /// strike for a denial that earns one. The caller persists the outcome.
    public static func apply(
        _ request: TrapdoorRequest, requester: String, address: String? = nil, at time: Timestamp,
        view: some DecisionStateView
    ) throws -> DecisionOutcome {
        let verdict = try decide(request, requester: requester, address: address, at: time, view: view)
        guard case .denied(let denial) = verdict, denial.earnsStrike else {
            return DecisionOutcome(verdict: verdict, strikes: [])
        }
        let strikes = try Punishment.strikes(subjects(requester: requester, address: address), at: time, view: view)
        return DecisionOutcome(verdict: verdict, strikes: strikes)
    }
}
