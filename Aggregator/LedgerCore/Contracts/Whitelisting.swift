import AgriTraceCore

/// What the whitelist contract reads of the world state.
public protocol WhitelistStateView: PolicyUploadStateView {
    /// The enterprise that whitelisted `entry`'s principal for its lot and level, or nil.
    func whitelistingEnterprise(_ entry: WhitelistEntry) throws -> String?
}

/// The whitelist contract (`addToWhitelist`, `removeFromWhitelist`; docs/governance.md): the
/// owner of a lot names principals whose requests for one level of it are granted without
/// the regulator's match (still refused while they, or the address the gateway observed, are
/// blacklisted, and logged like any other request).
public enum Whitelisting {
    /// The state change.
    public enum Change: Sendable, Hashable {
        /// `entry` joins the whitelist, by `owner` of `enterprise`.
        case add(WhitelistEntry, owner: String, enterprise: String)
        case remove(WhitelistEntry)
    }

    /// The typed outcome: the change (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Change>

    static func subject(_ entry: WhitelistEntry) -> String {
        "\(entry.principal) for \(entry.lot) \(entry.level.rawValue)"
    }

    /// `addToWhitelist`: applied when the submitter's enterprise owns the lot (has a record of
    /// it on the ledger), the principal is registered and not yet whitelisted for it.
    public static func add(_ entry: WhitelistEntry, submitter: String, view: some WhitelistStateView) throws
        -> Outcome
    {
        let enterprise = try view.enterprise(of: submitter) ?? ""
        guard try view.lotHasRecord(entry.lot, enterprise: enterprise) else {
            return .refused(
                subject(entry),
                "lot \(entry.lot) has no record of enterprise \(enterprise) on the ledger: only its owner may whitelist for it"
            )
        }
        guard try view.enterprise(of: entry.principal) != nil else {
            return .refused(
                subject(entry),
                "principal: \(entry.principal) is not a registered principal: whitelist a principal the ledger knows")
        }
        if let holder = try view.whitelistingEnterprise(entry) {
            return .refused(subject(entry), "\(subject(entry)) is already whitelisted by \(holder)")
        }
        return .applied(
            .add(entry, owner: submitter, enterprise: enterprise), subject(entry), "whitelisted by \(submitter)")
    }

    /// `removeFromWhitelist`: applied when the submitter's enterprise whitelisted the principal.
    public static func remove(_ entry: WhitelistEntry, submitter: String, view: some WhitelistStateView) throws
        -> Outcome
    {
        let enterprise = try view.enterprise(of: submitter) ?? ""
        guard try view.whitelistingEnterprise(entry) == enterprise else {
            return .refused(subject(entry), "\(subject(entry)) is not on \(enterprise)'s whitelist")
        }
        return .applied(.remove(entry), subject(entry), "removed from the whitelist by \(submitter)")
    }
}
