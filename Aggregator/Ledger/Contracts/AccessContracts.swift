import AgriTraceCore
import Crypto
import LedgerCore
import SQLiteStorage

/// The access-control contracts of domain.md §3 on the ledger: data upload (`addEncryptedData`),
/// policy decision (`addTrapdoor`), policy match management (`addResult`) and punishment
/// (`addToBlacklist`), plus the regulator's parameters and attribute grants. Their rules are
/// pure functions in LedgerCore (``PolicyUpload``, ``Decision``, ``Match``, ``Punishment``,
/// ``ParameterPublication``, ``AttributeGrants``); this type runs them over
/// ``AccessStateRows`` and persists their typed outcomes.
///
/// Two phases, like Fabric's endorsement and validation:
/// - admission (``AccessAdmission`` in LedgerCore) refuses what can never be valid: a
///   transaction not signed by an active registered principal, a method the principal's kind
///   may not call, malformed ids. Refused transactions never reach the log.
/// - ``write(_:leafIndex:height:time:to:)`` runs when the block is written, against the state
///   tables and the **block time**, and records the outcome of every transaction (applied,
///   refused with a reason, a decision) in `access_events`. It never throws for a business
///   reason, so replaying the log rebuilds exactly the same state.
public enum AccessContracts {
    // MARK: Block phase

    /// Applies a transaction admitted into a block, at the block's time, and records its
    /// audit event. Each method's pure contract (LedgerCore) decides over ``AccessStateRows``;
    /// this function persists its outcome.
    static func write(
        _ transaction: AccessTransaction, leafIndex: UInt64, height: UInt64, time: Timestamp, to db: SQLiteConnection
    ) throws {
        let rows = AccessStateRows(db: db)
        let event = try apply(transaction, leaf: Int64(leafIndex), time: time, rows)
        try record(event, of: transaction, leafIndex: leafIndex, height: height, time: time, rows)
    }

    /// Applies a transaction the access gateway relayed with the address it observed: the
    /// signer check at block time (a failure is refused and strikes the address, see
    /// ``Punishment/refuseRelayed(_:address:subject:at:view:)``), then the transaction's
    /// contract with the observed address, and the audit event.
    static func write(
        _ relayed: GatewayAccess, leafIndex: UInt64, height: UInt64, time: Timestamp, to db: SQLiteConnection
    ) throws {
        let leaf = Int64(leafIndex)
        let rows = AccessStateRows(db: db)
        let transaction = relayed.transaction.value
        let event: ContractEvent
        if let violation = AccessAdmission.signerViolation(
            relayed.transaction, key: try rows.principalKey(transaction.submitter))
        {
            let refused = try Punishment.refuseRelayed(
                violation, address: relayed.observedAddress, subject: transaction.submitter, at: time, view: rows)
            try rows.store(refused.strike, leaf: leaf)
            event = refused.event
        } else {
            event = try apply(transaction, address: relayed.observedAddress, leaf: leaf, time: time, rows)
        }
        try record(event, of: transaction, leafIndex: leafIndex, height: height, time: time, rows)
    }

    /// Records a transaction's audit event (`access_events`).
    static func record(
        _ event: ContractEvent, of transaction: AccessTransaction, leafIndex: UInt64, height: UInt64, time: Timestamp,
        _ rows: AccessStateRows
    ) throws {
        let leaf = Int64(leafIndex)
        try rows.run(
            "INSERT INTO access_events(leaf_index, height, time, submitter, method, subject, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(leaf), .int(height), .integer(time.milliseconds), .text(transaction.submitter),
                .text(transaction.method), .text(event.subject), .text(event.outcome.rawValue), .text(event.detail),
            ])
    }

    /// One access transaction's contract and its persisted outcome: the audit event.
    /// `address` is the network address the access gateway observed, nil when the
    /// transaction was not relayed by it.
    static func apply(
        _ transaction: AccessTransaction, address: String? = nil, leaf: Int64, time: Timestamp,
        _ rows: AccessStateRows
    ) throws -> ContractEvent {
        let submitter = transaction.submitter
        switch transaction.operation {
        case .publishParameters(let parameters):
            return try rows.store(ParameterPublication.apply(parameters, submitter: submitter), leaf: leaf)
        case .grantAttributes(let grant):
            return try rows.store(AttributeGrants.grant(grant), leaf: leaf)
        case .revokeAttributes(let principal, let reason):
            return try rows.store(AttributeGrants.revoke(principal: principal, reason: reason, view: rows), leaf: leaf)
        case .addEncryptedData(let entry):
            return try rows.store(PolicyUpload.protect(entry, submitter: submitter, view: rows), leaf: leaf)
        case .revokeEncryptedData(let dataID, let reason):
            return try rows.store(
                PolicyUpload.revoke(dataID: dataID, reason: reason, submitter: submitter, view: rows), leaf: leaf)
        case .addTrapdoor(let request):
            return try writeTrapdoor(request, submitter: submitter, address: address, time: time, leaf: leaf, rows)
        case .addResult(let requestID, let dataID, let token):
            let outcome = try Match.apply(requestID: requestID, dataID: dataID, token: token, at: time, view: rows)
            return try rows.store(outcome, requestID: requestID, time: time, leaf: leaf)
        case .addToBlacklist(let source, let reason):
            let punished = try Punishment.addToBlacklist(source: source, reason: reason, at: time, view: rows)
            try rows.store(punished.strike, leaf: leaf)
            return punished.event
        case .redeem, .addTransfer, .revokeGrant, .recordRead:
            return try TransferContracts.write(transaction, address: address, leaf: leaf, time: time, rows)
        case .setMinimumCredit(let dataID, let basisPoints):
            return try rows.store(
                Credit.setMinimum(dataID: dataID, basisPoints: basisPoints, submitter: submitter, view: rows),
                leaf: leaf)
        case .addToWhitelist(let entry):
            return try rows.store(Whitelisting.add(entry, submitter: submitter, view: rows), leaf: leaf)
        case .removeFromWhitelist(let entry):
            return try rows.store(Whitelisting.remove(entry, submitter: submitter, view: rows), leaf: leaf)
        case .reportViolation(let report):
            return try rows.store(
                Violations.report(report, reporter: submitter, view: rows), leaf: leaf, time: time)
        case .confirmViolation(let reportID, let note), .dismissViolation(let reportID, let note):
            let confirm = if case .confirmViolation = transaction.operation { true } else { false }
            let outcome = try Violations.decide(
                reportID: reportID, confirm: confirm, note: note, regulator: submitter, view: rows)
            return try rows.store(outcome, leaf: leaf, time: time)
        case .correctRecord(let correction):
            return try rows.store(
                RecordCorrections.apply(correction, submitter: submitter, view: rows), leaf: leaf, time: time)
        case .countersignTransfer(let countersignature):
            return try rows.store(
                TransferCountersigning.apply(countersignature, submitter: submitter, view: rows), leaf: leaf,
                time: time)
        case .publishDirectoryEntry(let entry):
            return try rows.store(
                ResourceDirectory.apply(entry, submitter: submitter, view: rows), leaf: leaf, time: time)
        }
    }

    /// `addTrapdoor`: the trapdoor and decision contracts (``Decision/submit(_:requester:at:view:)``)
    /// at block time; the request row and the strike.
    static func writeTrapdoor(
        _ request: TrapdoorRequest, submitter: String, address: String?, time: Timestamp, leaf: Int64,
        _ rows: AccessStateRows
    ) throws -> ContractEvent {
        let outcome = try Decision.submit(request, requester: submitter, address: address, at: time, view: rows)
        guard let decision = outcome.change else { return outcome.event }
        for strike in decision.strikes { try rows.store(strike, leaf: leaf) }
        try rows.run(
            "INSERT INTO access_requests(request_id, requester, lot, level, action, source, trapdoor, status, reason, request_leaf, request_time, observed_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(request.requestID), .text(submitter), .text(request.lot), .text(request.level.rawValue),
                .text(request.action.rawValue), .text(request.source), .blob(Canonical.encode(request.sealedTrapdoor)),
                .text(decision.status.rawValue), .text(orNull: decision.reason), .integer(leaf),
                .integer(time.milliseconds), .text(orNull: address),
            ])
        if let entry = decision.whitelistedEntry {
            try rows.storeWhitelistGrant(request.requestID, entry: entry, leaf: leaf, time: time)
        }
        return outcome.event
    }

    /// `start,end,offset` in minutes: the stored form of a time window.
    static func encodeWindow(_ window: TimeWindow) -> String {
        "\(window.start.minutes),\(window.end.minutes),\(window.utcOffsetMinutes)"
    }

    static func decodeWindow(_ text: String) -> TimeWindow? {
        let parts = text.split(separator: ",").compactMap { Int($0) }
        guard parts.count == 3, (0..<1440).contains(parts[0]), (0..<1440).contains(parts[1]) else { return nil }
        return TimeWindow(
            start: .init(hour: parts[0] / 60, minute: parts[0] % 60),
            end: .init(hour: parts[1] / 60, minute: parts[1] % 60),
            utcOffsetMinutes: parts[2])
    }
}
