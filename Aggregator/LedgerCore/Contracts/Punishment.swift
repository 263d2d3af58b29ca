import AgriTraceCore

/// What the punishment contract reads of the world state.
public protocol PunishmentStateView {
    /// The rules in force.
    func rules() throws -> AccessRules
    /// The blacklist entry of a source address.
    func blacklistEntry(_ source: String) throws -> Blacklist.Entry?
}

/// The punishment contract (`addToBlacklist`, and every denial that earns a strike): the
/// pure ``Blacklist/strike(_:at:rules:)`` on one source's entry, at the block time, with the
/// text the audit records.
public enum Punishment {
    /// The outcome of one strike.
    public struct Strike: Sendable, Hashable {
        /// The source address struck.
        public var source: String
        /// The source's entry after the strike; nil when nothing changes (already blocked for ever).
        public var entry: Blacklist.Entry?
        /// What happened, for the audit event.
        public var detail: String
    }

    /// One strike against `source`.
    /// - Parameters:
    ///   - current: the source's entry in the state, if any.
    ///   - rules: the rules in force (the regulator's published parameters).
    ///   - time: the block time.
    public static func strike(_ source: String, current: Blacklist.Entry?, rules: Blacklist.Rules, at time: Timestamp)
        -> Strike
    {
        guard let entry = Blacklist.strike(current, at: time, rules: rules) else {
            return Strike(source: source, entry: nil, detail: "source \(source) is already blocked permanently")
        }
        let block = entry.blockedUntil.map { "blocked until \($0.iso8601)" } ?? "blocked permanently"
        return Strike(
            source: source, entry: entry,
            detail: "strike \(entry.strikes) of \(rules.maximumStrikes): source \(source) \(block)")
    }

    /// The regulator's manual `addToBlacklist`: one strike against `source` at the block
    /// time, and the audit event (the regulator's reason, then what the strike did).
    public static func addToBlacklist(
        source: String, reason: String, at time: Timestamp, view: some PunishmentStateView
    ) throws -> (strike: Strike, event: ContractEvent) {
        let strike = try strike(source, at: time, view: view)
        return (strike, ContractEvent(subject: source, outcome: .applied, detail: reason + "; " + strike.detail))
    }

    /// One strike against `source` at the block time, read from the state `view`.
    public static func strike(_ source: String, at time: Timestamp, view: some PunishmentStateView) throws -> Strike {
        strike(source, current: try view.blacklistEntry(source), rules: try view.rules().blacklist, at: time)
    }
}
