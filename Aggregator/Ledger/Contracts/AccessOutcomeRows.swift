import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// The persistence of the access contracts' typed outcomes in the state tables. Each
/// function writes what its outcome says and returns the outcome's audit event.
extension AccessStateRows {
    /// `publishParameters`: the `access_parameters` row.
    func store(_ outcome: ParameterPublication.Outcome, leaf: Int64) throws -> ContractEvent {
        let parameters = outcome.parameters
        try run(
            "INSERT INTO access_parameters(leaf_index, regulator, searchable, token_encryption, trapdoor_key, maximum_strikes, block_ms, trapdoors_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(leaf), .text(outcome.regulator), .blob(parameters.searchable),
                .blob(parameters.tokenEncryption), .blob(parameters.trapdoorKey), .int(parameters.maximumStrikes),
                .integer(parameters.blockMilliseconds), .int(parameters.trapdoorsPerMinute),
            ])
        return outcome.event
    }

    /// `grantAttributes` / `revokeAttributes`: the principal's `attribute_grants` row.
    func store(_ outcome: AttributeGrants.Outcome, leaf: Int64) throws -> ContractEvent {
        switch outcome.change {
        case .grant(let grant):
            var values: [SQLiteValue] = [
                .text(grant.principal), .text(grant.enterprise), .text(grant.role.rawValue),
                .text(grant.stage.rawValue), .text(grant.productCategory), .text(grant.region),
                .text(GrantStatus.active.rawValue), .integer(leaf),
            ]
            values += PeriodColumns.values(grant.period)
            try run(
                "INSERT OR REPLACE INTO attribute_grants(principal, enterprise, role, stage, category, region, status, leaf_index, not_before, not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values)
        case .revoke(let principal):
            try run(
                "UPDATE attribute_grants SET status = ?, leaf_index = ? WHERE principal = ?",
                [.text(GrantStatus.revoked.rawValue), .integer(leaf), .text(principal)])
        case nil:
            break
        }
        return outcome.event
    }

    /// `addEncryptedData` / `revokeEncryptedData`: the entry's `encrypted_data` row.
    func store(_ outcome: PolicyUpload.Outcome, leaf: Int64) throws -> ContractEvent {
        switch outcome.change {
        case .protect(let protected):
            let entry = protected.entry
            var values: [SQLiteValue] = [
                .text(entry.dataID), .text(protected.owner), .text(protected.enterprise), .text(entry.lot),
                .text(entry.level.rawValue), .text(orNull: entry.window.map(AccessContracts.encodeWindow)),
                .text(entry.actions.map(\.rawValue).joined(separator: ",")), .blob(entry.searchableCiphertext),
                .blob(Array(entry.tokenDigest.bytes)), .text(EntryStatus.active.rawValue), .integer(leaf),
            ]
            values += PeriodColumns.values(entry.period)
            try run(
                "INSERT INTO encrypted_data(data_id, owner, enterprise, lot, level, time_window, actions, ciphertext, token_digest, status, leaf_index, not_before, not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values)
        case .revoke(let dataID):
            try run(
                "UPDATE encrypted_data SET status = ? WHERE data_id = ?",
                [.text(EntryStatus.revoked.rawValue), .text(dataID)])
        case nil:
            break
        }
        return outcome.event
    }

    /// `addResult`: the request's result and the strike a non-match earns.
    func store(_ outcome: MatchOutcome, requestID: String, time: Timestamp, leaf: Int64) throws -> ContractEvent {
        guard let result = outcome.result else { return outcome.event }
        let granted = result.dataID != nil && result.token != nil
        var values: [SQLiteValue] = [
            .text(result.status.rawValue), .text(result.reason), granted ? .text(orNull: result.dataID) : .null,
            granted ? .blob(orNull: result.token) : .null, .integer(leaf), .integer(time.milliseconds),
        ]
        values += PeriodColumns.values(granted ? result.period : nil)
        values.append(.text(requestID))
        try run(
            "UPDATE access_requests SET status = ?, reason = ?, data_id = ?, token = ?, result_leaf = ?, result_time = ?, grant_not_before = ?, grant_not_after = ? WHERE request_id = ?",
            values)
        for strike in outcome.strikes { try store(strike, leaf: leaf) }
        return outcome.event
    }

    /// `addToWhitelist` / `removeFromWhitelist`: the `whitelist` row.
    func store(_ outcome: Whitelisting.Outcome, leaf: Int64) throws -> ContractEvent {
        switch outcome.change {
        case .add(let entry, let owner, let enterprise):
            try run(
                "INSERT INTO whitelist(lot, level, principal, owner, enterprise, leaf_index) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(entry.lot), .text(entry.level.rawValue), .text(entry.principal), .text(owner),
                    .text(enterprise), .integer(leaf),
                ])
        case .remove(let entry):
            try run(
                "DELETE FROM whitelist WHERE lot = ? AND level = ? AND principal = ?",
                [.text(entry.lot), .text(entry.level.rawValue), .text(entry.principal)])
        case nil:
            break
        }
        return outcome.event
    }

    /// `reportViolation`: the report's `violations` row (a side record of its block).
    /// `confirmViolation` / `dismissViolation`: its decision and, on confirmation, the
    /// revocation of the offender's grants on the owner's data in the same block.
    func store(_ outcome: Violations.Outcome, leaf: Int64, time: Timestamp) throws -> ContractEvent {
        switch outcome.change {
        case .report(let report, let reporter):
            try run(
                "INSERT INTO violations(report_id, reporter, offender, owner, lot, level, evidence, severity, summary, status, leaf_index, time, revoked_grants) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [
                    .text(report.reportID), .text(reporter), .text(report.offender), .text(report.owner),
                    .text(report.lot), .text(report.level.rawValue), .blob(report.evidence.bytes),
                    .text(report.severity.rawValue), .text(report.summary), .text(ViolationStatus.open.rawValue),
                    .integer(leaf), .integer(time.milliseconds),
                ])
        case .confirm(let reportID, let regulator, let note, let revoked):
            try decide(reportID, .confirmed, by: regulator, note: note, revoked: revoked.count, leaf: leaf)
            for requestID in revoked {
                try run(
                    "INSERT INTO grant_revocations(request_id, owner, reason, leaf_index, time) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(requestID), .text(regulator), .text("violation \(reportID) confirmed: \(note)"),
                        .integer(leaf), .integer(time.milliseconds),
                    ])
            }
        case .dismiss(let reportID, let regulator, let note):
            try decide(reportID, .dismissed, by: regulator, note: note, revoked: 0, leaf: leaf)
        case nil:
            break
        }
        return outcome.event
    }

    func decide(
        _ reportID: String, _ status: ViolationStatus, by regulator: String, note: String, revoked: Int, leaf: Int64
    ) throws {
        try run(
            "UPDATE violations SET status = ?, decided_leaf = ?, decided_by = ?, note = ?, revoked_grants = ? WHERE report_id = ?",
            [.text(status.rawValue), .integer(leaf), .text(regulator), .text(note), .int(revoked), .text(reportID)])
    }

    /// A request granted by the whitelist: its entry, its result leaf (the request's own) and
    /// the entry's period.
    func storeWhitelistGrant(_ requestID: String, entry: WhitelistedEntry, leaf: Int64, time: Timestamp) throws {
        var values: [SQLiteValue] = [.text(entry.dataID), .integer(leaf), .integer(time.milliseconds)]
        values += PeriodColumns.values(entry.period)
        values.append(.text(requestID))
        try run(
            "UPDATE access_requests SET data_id = ?, result_leaf = ?, result_time = ?, grant_not_before = ?, grant_not_after = ? WHERE request_id = ?",
            values)
    }

    /// Stores the subject's entry after a strike (nothing when the strike changed nothing).
    func store(_ strike: Punishment.Strike, leaf: Int64) throws {
        guard let entry = strike.entry else { return }
        try run(
            "INSERT OR REPLACE INTO blacklist(source, strikes, blocked_until, last_strike, last_leaf) VALUES (?, ?, ?, ?, ?)",
            [
                .text(strike.source), .int(entry.strikes),
                entry.blockedUntil.map { .integer($0.milliseconds) } ?? .null, .integer(entry.lastStrike.milliseconds),
                .integer(leaf),
            ])
    }
}
