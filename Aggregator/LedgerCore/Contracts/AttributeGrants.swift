import AgriTraceCore

/// The status of a principal's attribute grant (stored as the raw value).
public enum GrantStatus: String, Sendable, Hashable, CaseIterable {
    case active
    case revoked
}

/// What the attribute contracts read of the world state.
public protocol AttributeGrantStateView {
    /// The status of `principal`'s attribute grant, or nil if it never had one.
    func grantStatus(_ principal: String) throws -> GrantStatus?
}

/// The attribute contracts: the regulator certifies a principal's attributes
/// (`grantAttributes`, replacing any earlier grant) or withdraws them (`revokeAttributes`).
public enum AttributeGrants {
    /// The state change.
    public enum Change: Sendable, Hashable {
        /// The principal's grant becomes `grant`, active.
        case grant(AttributeGrant)
        /// The principal's active grant becomes revoked.
        case revoke(principal: String)
    }

    /// The typed outcome: the change (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Change>

    /// `grantAttributes`: always applied (admission has checked the regulator and the grant).
    public static func grant(_ grant: AttributeGrant) -> Outcome {
        let detail =
            "\(grant.enterprise), \(grant.role.rawValue), \(grant.stage.rawValue), \(grant.productCategory), region \(grant.region)"
        return .applied(.grant(grant), grant.principal, detail)
    }

    /// `revokeAttributes`: applied to an active grant, refused otherwise.
    public static func revoke(principal: String, reason: String, view: some AttributeGrantStateView) throws
        -> Outcome
    {
        guard try view.grantStatus(principal) == .active else {
            return .refused(principal, "no active attribute grant")
        }
        return .applied(.revoke(principal: principal), principal, reason)
    }
}
