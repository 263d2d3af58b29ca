import AgriTraceCore
import Crypto
import LedgerCore
import SQLiteStorage

/// The access contracts' view of the stored world state, answered from the state tables, and
/// the persistence of their typed outcomes. Statements bind an array of values; each row
/// maps to its LedgerCore struct in one place.
struct AccessStateRows: MatchStateView, TrapdoorStateView, AttributeGrantStateView, PolicyUploadStateView,
    WhitelistStateView, ViolationStateView
{
    let db: SQLiteConnection

    /// Runs a write statement with `values`.
    func run(_ sql: String, _ values: [SQLiteValue]) throws {
        try db.cachedStatement(sql).run(values)
    }

    /// Whether the query returns a row.
    func exists(_ sql: String, _ values: [SQLiteValue]) throws -> Bool {
        try db.cachedStatement(sql).first(values) { _ in true } ?? false
    }

    // MARK: Decision, match and punishment

    func rules() throws -> AccessRules {
        try db.cachedStatement(
            "SELECT maximum_strikes, block_ms, trapdoors_per_minute FROM access_parameters ORDER BY leaf_index DESC LIMIT 1"
        ).first([]) {
            AccessRules(
                maximumStrikes: $0.int64(at: 0), blockMilliseconds: $0.int64(at: 1), trapdoorsPerMinute: $0.int64(at: 2)
            )
        } ?? AccessRules()
    }

    func blacklistEntry(_ source: String) throws -> Blacklist.Entry? {
        try db.cachedStatement("SELECT strikes, blocked_until, last_strike FROM blacklist WHERE source = ?").first([
            .text(source)
        ]) {
            Blacklist.Entry(
                strikes: Int($0.int64(at: 0)),
                blockedUntil: $0.isNull(at: 1) ? nil : Timestamp(milliseconds: $0.int64(at: 1)),
                lastStrike: Timestamp(milliseconds: $0.int64(at: 2)))
        }
    }

    /// A principal's transaction-signing key and whether it is active, as the principals table
    /// holds it at this point of the block (the relayed transactions' signer check).
    func principalKey(_ name: String) throws -> (publicKey: Curve25519.Signing.PublicKey, isActive: Bool)? {
        try db.cachedStatement("SELECT public_key, status FROM principals WHERE name = ?").first([.text(name)]) {
            row -> (publicKey: Curve25519.Signing.PublicKey, isActive: Bool)? in
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: row.bytes(at: 0) ?? []) else {
                return nil
            }
            return (key, row.string(at: 1) == RegistrationStatus.active.rawValue)
        } ?? nil
    }

    func hasActiveAttributes(_ principal: String) throws -> Bool {
        try exists(
            "SELECT 1 FROM principals p JOIN attribute_grants g ON g.principal = p.name WHERE p.name = ? AND p.status = 'active' AND g.status = ?",
            [.text(principal), .text(GrantStatus.active.rawValue)])
    }

    func requestCount(by requester: String, after time: Timestamp) throws -> Int64 {
        try db.cachedStatement("SELECT count(*) FROM access_requests WHERE requester = ? AND request_time > ?").first([
            .text(requester), .integer(time.milliseconds),
        ]) { $0.int64(at: 0) } ?? 0
    }

    func activeEntries(lot: String, level: ABAC.Sensitivity) throws -> [EntryTerms] {
        let entries = try db.cachedStatement(
            "SELECT time_window, actions, not_before, not_after, minimum_credit FROM encrypted_data WHERE lot = ? AND level = ? AND status = ?"
        )
        return try entries.all([.text(lot), .text(level.rawValue), .text(EntryStatus.active.rawValue)]) { row in
            let actions = (row.string(at: 1) ?? "").split(separator: ",").compactMap {
                ABAC.Action(rawValue: String($0))
            }
            return EntryTerms(
                window: row.string(at: 0).flatMap(AccessContracts.decodeWindow), actions: Set(actions),
                period: row.period(at: 2), minimumCredit: row.isNull(at: 4) ? nil : row.int64(at: 4))
        }
    }

    func requestFacts(_ requestID: String) throws -> RequestFacts? {
        try db.cachedStatement(
            "SELECT r.requester, r.lot, r.level, r.source, r.status, e.owner, (SELECT 1 FROM grant_revocations g WHERE g.request_id = r.request_id), r.observed_address, r.grant_not_before, r.grant_not_after FROM access_requests r LEFT JOIN encrypted_data e ON e.data_id = r.data_id WHERE r.request_id = ?"
        ).first([.text(requestID)]) { row in
            guard let status = AccessRequestStatus(rawValue: row.string(at: 4) ?? "") else {
                throw LedgerStoreError.corrupt("access request \(requestID) has an unknown status")
            }
            return RequestFacts(
                requester: row.string(at: 0) ?? "", lot: row.string(at: 1) ?? "", level: row.string(at: 2) ?? "",
                source: row.string(at: 3) ?? "", status: status, owner: row.string(at: 5), revoked: !row.isNull(at: 6),
                observedAddress: row.string(at: 7), period: row.period(at: 8))
        }
    }

    func requestExists(_ requestID: String) throws -> Bool {
        try exists("SELECT 1 FROM access_requests WHERE request_id = ?", [.text(requestID)])
    }

    func isActiveEntry(_ dataID: String, lot: String, level: String) throws -> Bool {
        try exists(
            "SELECT 1 FROM encrypted_data WHERE data_id = ? AND lot = ? AND level = ? AND status = ?",
            [.text(dataID), .text(lot), .text(level), .text(EntryStatus.active.rawValue)])
    }

    func entryPeriod(_ dataID: String) throws -> EffectivePeriod? {
        try db.cachedStatement("SELECT not_before, not_after FROM encrypted_data WHERE data_id = ?").first([
            .text(dataID)
        ]) { $0.period(at: 0) } ?? nil
    }

    func attributePeriod(_ principal: String) throws -> EffectivePeriod? {
        try db.cachedStatement("SELECT not_before, not_after FROM attribute_grants WHERE principal = ?").first([
            .text(principal)
        ]) { $0.period(at: 0) } ?? nil
    }

    // MARK: Whitelist

    func whitelistingEnterprise(_ entry: WhitelistEntry) throws -> String? {
        try db.cachedStatement("SELECT enterprise FROM whitelist WHERE lot = ? AND level = ? AND principal = ?").first([
            .text(entry.lot), .text(entry.level.rawValue), .text(entry.principal),
        ]) { $0.string(at: 0) ?? "" }
    }

    func whitelistedEntries(principal: String, lot: String, level: ABAC.Sensitivity) throws -> [WhitelistedEntry] {
        try db.cachedStatement(
            "SELECT e.data_id, w.enterprise, e.not_before, e.not_after FROM whitelist w JOIN encrypted_data e ON e.lot = w.lot AND e.level = w.level AND e.enterprise = w.enterprise WHERE w.principal = ? AND w.lot = ? AND w.level = ? AND e.status = ? ORDER BY e.leaf_index DESC"
        ).all([.text(principal), .text(lot), .text(level.rawValue), .text(EntryStatus.active.rawValue)]) {
            WhitelistedEntry(
                dataID: $0.string(at: 0) ?? "", enterprise: $0.string(at: 1) ?? "", period: $0.period(at: 2))
        }
    }

    // MARK: Violations

    func isRegisteredPrincipal(_ name: String) throws -> Bool {
        try exists("SELECT 1 FROM principals WHERE name = ?", [.text(name)])
    }

    func violation(_ reportID: String) throws -> (status: ViolationStatus, report: ViolationReport)? {
        try db.cachedStatement(
            "SELECT status, offender, owner, lot, level, evidence, severity, summary FROM violations WHERE report_id = ?"
        ).first([.text(reportID)]) { row in
            let what = "violation \(reportID)"
            guard let evidence = Digest32(bytes: row.bytes(at: 5) ?? []) else {
                throw LedgerStoreError.corrupt("\(what) has a malformed evidence hash")
            }
            let report = ViolationReport(
                reportID: reportID, offender: row.string(at: 1) ?? "", owner: row.string(at: 2) ?? "",
                lot: row.string(at: 3) ?? "",
                level: try stored(ABAC.Sensitivity.self, row.string(at: 4), what, column: "level"),
                evidence: evidence,
                severity: try stored(ViolationReport.Severity.self, row.string(at: 6), what, column: "severity"),
                summary: row.string(at: 7) ?? "")
            return (status: try stored(ViolationStatus.self, row.string(at: 0), what), report: report)
        }
    }

    func revocableGrants(of offender: String, owner: String) throws -> [String] {
        try db.cachedStatement(
            "SELECT r.request_id FROM access_requests r JOIN encrypted_data e ON e.data_id = r.data_id WHERE r.requester = ? AND e.enterprise = ? AND r.status = ? AND NOT EXISTS (SELECT 1 FROM grant_revocations g WHERE g.request_id = r.request_id) ORDER BY r.request_leaf"
        ).all([.text(offender), .text(owner), .text(AccessRequestStatus.granted.rawValue)]) { $0.string(at: 0) ?? "" }
    }

    // MARK: Attribute grants and policy upload

    func grantStatus(_ principal: String) throws -> GrantStatus? {
        try db.cachedStatement("SELECT status FROM attribute_grants WHERE principal = ?").first([.text(principal)]) {
            guard let status = GrantStatus(rawValue: $0.string(at: 0) ?? "") else {
                throw LedgerStoreError.corrupt("the attribute grant of \(principal) has an unknown status")
            }
            return status
        }
    }

    func enterprise(of principal: String) throws -> String? {
        try db.cachedStatement("SELECT enterprise FROM principals WHERE name = ?").first([.text(principal)]) {
            $0.string(at: 0) ?? ""
        }
    }

    func entryFacts(_ dataID: String) throws -> (owner: String, status: EntryStatus)? {
        try db.cachedStatement("SELECT owner, status FROM encrypted_data WHERE data_id = ?").first([.text(dataID)]) {
            guard let status = EntryStatus(rawValue: $0.string(at: 1) ?? "") else {
                throw LedgerStoreError.corrupt("entry \(dataID) has an unknown status")
            }
            return ($0.string(at: 0) ?? "", status)
        }
    }

    func lotHasRecord(_ lot: String, enterprise: String) throws -> Bool {
        try exists("SELECT 1 FROM records WHERE lot = ? AND enterprise = ? LIMIT 1", [.text(lot), .text(enterprise)])
    }
}
