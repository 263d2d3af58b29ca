import AgriTraceCore

/// The status of a violation report (stored and printed as the raw value).
public enum ViolationStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Reported, waiting for the regulator.
    case open
    case confirmed
    case dismissed
}

/// What the violation contract reads of the world state.
public protocol ViolationStateView {
    /// Whether `name` is a registered principal (active or not).
    func isRegisteredPrincipal(_ name: String) throws -> Bool
    /// The status and the report of `reportID`, or nil.
    func violation(_ reportID: String) throws -> (status: ViolationStatus, report: ViolationReport)?
    /// The offender's granted, unrevoked requests on entries of `owner` (an enterprise).
    func revocableGrants(of offender: String, owner: String) throws -> [String]
}

/// The violation contract (docs/governance.md): anyone registered reports a violation (a side
/// record of its block); the regulator confirms or dismisses it. A confirmation revokes, in
/// the same block, every grant the offender holds on the owner's data; the owner may grant
/// again later (a new request, or the whitelist).
public enum Violations {
    /// The state change.
    public enum Change: Sendable, Hashable {
        case report(ViolationReport, reporter: String)
        /// The report is confirmed; `revoked` lists the request ids whose grants it revokes.
        case confirm(reportID: String, by: String, note: String, revoked: [String])
        case dismiss(reportID: String, by: String, note: String)
    }

    /// The typed outcome: the change (nil when refused) and the audit event.
    public typealias Outcome = ContractOutcome<Change>

    /// `reportViolation`: refused when the id is used or the offender is not a registered principal.
    public static func report(_ report: ViolationReport, reporter: String, view: some ViolationStateView) throws
        -> Outcome
    {
        guard try view.violation(report.reportID) == nil else {
            return .refused(report.reportID, "report id \(report.reportID) is already used")
        }
        guard try view.isRegisteredPrincipal(report.offender) else {
            return .refused(
                report.reportID,
                "offender: \(report.offender) is not a registered principal: name the principal as the ledger registers it"
            )
        }
        return .applied(
            .report(report, reporter: reporter), report.reportID,
            "\(report.severity.rawValue): \(report.offender) on \(report.owner)'s \(report.lot) \(report.level.rawValue) (evidence \(report.evidence.hex.prefix(16))…)"
        )
    }

    /// `confirmViolation` / `dismissViolation` by the regulator: applied to an open report.
    public static func decide(
        reportID: String, confirm: Bool, note: String, regulator: String, view: some ViolationStateView
    ) throws -> Outcome {
        guard let found = try view.violation(reportID) else {
            return .refused(reportID, "no violation report \(reportID)")
        }
        let (status, report) = (found.status, found.report)
        guard status == .open else { return .refused(reportID, "report \(reportID) is already \(status.rawValue)") }
        guard confirm else {
            return .applied(.dismiss(reportID: reportID, by: regulator, note: note), reportID, "dismissed: \(note)")
        }
        let revoked = try view.revocableGrants(of: report.offender, owner: report.owner)
        return .applied(
            .confirm(reportID: reportID, by: regulator, note: note, revoked: revoked), reportID,
            "confirmed: \(note); \(revoked.count) grant(s) of \(report.offender) on \(report.owner)'s data revoked")
    }
}
