import AgriTraceCore

/// What the punishment contract reads of the world state.
public protocol PunishmentStateView {
    /// The rules in force.
    func rules() throws -> AccessRules
    /// The blacklist entry of a subject, by its ``Punishment/Subject/key``.
    func blacklistEntry(_ key: String) throws -> Blacklist.Entry?
}

/// The punishment contract (`addToBlacklist`, and every denial that earns a strike): the
/// pure ``Blacklist/strike(_:at:rules:)`` on one subject's entry, at the block time, with the
/// text the audit records. A subject is a network address the access gateway observed, or a
/// registered principal; never the requester's own `source` label (docs/governance.md).
public enum Punishment {
    /// Who a strike counts against.
    public enum Subject: Sendable, Hashable, CustomStringConvertible {
        /// A network address the gateway observed (or the regulator named).
        case address(String)
        /// A registered principal (its name).
        case principal(String)

        /// The prefix of a principal's key in the blacklist; an address is its own key.
        public static let principalPrefix = "principal:"

        /// The blacklist's key: the address itself, or `principal:` and the name.
        public var key: String {
            switch self {
            case .address(let address): address
            case .principal(let name): Self.principalPrefix + name
            }
        }

        /// The subject a blacklist key (or the regulator's `addToBlacklist` source) names.
        public init(key: String) {
            if key.hasPrefix(Self.principalPrefix) {
                self = .principal(String(key.dropFirst(Self.principalPrefix.count)))
            } else {
                self = .address(key)
            }
        }

        /// `address` or `principal`, as the audit and the API print it.
        public var kind: String {
            switch self {
            case .address: "address"
            case .principal: "principal"
            }
        }

        /// `source 10.0.0.7` or `principal Firm/bob@ZS`, as the audit text names it.
        public var description: String {
            switch self {
            case .address(let address): "source \(address)"
            case .principal(let name): "principal \(name)"
            }
        }
    }

    /// The outcome of one strike.
    public struct Strike: Sendable, Hashable {
        /// The blacklist key struck (``Subject/key``).
        public var source: String
        /// The subject's entry after the strike; nil when nothing changes (already blocked).
        public var entry: Blacklist.Entry?
        /// What happened, for the audit event.
        public var detail: String

        /// The subject struck.
        public var subject: Subject { Subject(key: source) }
    }

    /// One strike against `subject`.
    /// - Parameters:
    ///   - current: the subject's entry in the state, if any.
    ///   - rules: the rules in force (the regulator's published parameters).
    ///   - time: the block time.
    public static func strike(
        _ subject: Subject, current: Blacklist.Entry?, rules: Blacklist.Rules, at time: Timestamp
    ) -> Strike {
        guard let entry = Blacklist.strike(current, at: time, rules: rules) else {
            let until = current?.blockedUntil.map { "until \($0.iso8601)" } ?? "permanently"
            return Strike(
                source: subject.key, entry: nil, detail: "\(subject) is already blocked \(until): no new strike")
        }
        let block = entry.blockedUntil.map { "blocked until \($0.iso8601)" } ?? "blocked permanently"
        return Strike(
            source: subject.key, entry: entry,
            detail: "strike \(entry.strikes) of \(rules.maximumStrikes): \(subject) \(block)")
    }

    /// The regulator's manual `addToBlacklist`: one strike against the subject `source` names
    /// (an address, or `principal:NAME`) at the block time, and the audit event (the
    /// regulator's reason, then what the strike did).
    public static func addToBlacklist(
        source: String, reason: String, at time: Timestamp, view: some PunishmentStateView
    ) throws -> (strike: Strike, event: ContractEvent) {
        let strike = try strike(Subject(key: source), at: time, view: view)
        return (strike, ContractEvent(subject: source, outcome: .applied, detail: reason + "; " + strike.detail))
    }

    /// The access gateway relayed a transaction whose signer check failed at block time (an
    /// unregistered principal, a signature that is not the principal's, or a principal revoked
    /// earlier in the same block): it is refused and
    /// one strike counts against the observed address. The principal it names is not struck:
    /// anyone can write any name.
    public static func refuseRelayed(
        _ violation: ContractViolation, address: String, subject: String, at time: Timestamp,
        view: some PunishmentStateView
    ) throws -> (strike: Strike, event: ContractEvent) {
        let strike = try strike(.address(address), at: time, view: view)
        return (strike, .refused(subject, violation.reason + "; " + strike.detail))
    }

    /// One strike against `subject` at the block time, read from the state `view`.
    public static func strike(_ subject: Subject, at time: Timestamp, view: some PunishmentStateView) throws -> Strike {
        strike(subject, current: try view.blacklistEntry(subject.key), rules: try view.rules().blacklist, at: time)
    }

    /// One strike against each of `subjects` (the observed address, then the principal).
    public static func strikes(_ subjects: [Subject], at time: Timestamp, view: some PunishmentStateView) throws
        -> [Strike]
    {
        try subjects.map { try strike($0, at: time, view: view) }
    }

    /// The first block in force at `time` among `subjects`, if any: the subject and the end
    /// of its block (nil when permanent).
    public static func block(
        among subjects: [Subject], at time: Timestamp, view: some PunishmentStateView
    ) throws -> (subject: Subject, until: Timestamp?)? {
        for subject in subjects {
            if let block = try view.blacklistEntry(subject.key)?.block(at: time) { return (subject, block) }
        }
        return nil
    }
}
