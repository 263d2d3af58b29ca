import AgriTraceCore
import Crypto
import LedgerCore
import SQLiteStorage

/// The access-control contracts of domain.md §3: data upload (`addEncryptedData`), policy
/// decision (`addTrapdoor`), policy match management (`addResult`) and punishment
/// (`addToBlacklist`), plus the regulator's parameters and attribute grants.
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
    /// audit event. Each method's contract is a named function returning the event.
    static func write(
        _ transaction: AccessTransaction, leafIndex: UInt64, height: UInt64, time: Timestamp, to db: SQLiteConnection
    ) throws {
        let leaf = Int64(leafIndex)
        let submitter = transaction.submitter
        let event: ContractEvent
        switch transaction.operation {
        case .publishParameters(let parameters):
            event = try writeParameters(parameters, submitter: submitter, leaf: leaf, db)
        case .grantAttributes(let grant):
            event = try writeGrant(grant, leaf: leaf, db)
        case .revokeAttributes(let principal, let reason):
            event = try updateOrRefuse(
                "UPDATE attribute_grants SET status = 'revoked', leaf_index = ? WHERE principal = ? AND status = 'active'",
                [.integer(leaf), .text(principal)], subject: principal, applied: reason,
                refused: "no active attribute grant", db)
        case .addEncryptedData(let entry):
            event = try writeEncryptedData(entry, submitter: submitter, leaf: leaf, db)
        case .revokeEncryptedData(let dataID, let reason):
            event = try updateOrRefuse(
                "UPDATE encrypted_data SET status = 'revoked' WHERE data_id = ? AND owner = ? AND status = 'active'",
                [.text(dataID), .text(submitter)], subject: dataID, applied: reason,
                refused: "no active entry \(dataID) of \(submitter)", db)
        case .addTrapdoor(let request):
            event = try writeTrapdoor(request, submitter: submitter, time: time, leaf: leaf, db)
        case .addResult(let requestID, let dataID, let token):
            event = try applyMatch(requestID: requestID, dataID: dataID, token: token, time: time, leaf: leaf, db)
        case .addToBlacklist(let source, let reason):
            event = ContractEvent(
                subject: source, outcome: .applied,
                detail: reason + "; " + (try strike(source, time: time, leaf: leaf, db)))
        case .redeem, .addTransfer, .revokeGrant, .recordRead:
            event = try TransferContracts.write(transaction, leaf: leaf, time: time, db)
        }
        let insert = try db.cachedStatement(
            "INSERT INTO access_events(leaf_index, height, time, submitter, method, subject, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(leaf, at: 1)
        try insert.bind(Int64(height), at: 2)
        try insert.bind(time.milliseconds, at: 3)
        try insert.bind(submitter, at: 4)
        try insert.bind(transaction.method, at: 5)
        try insert.bind(event.subject, at: 6)
        try insert.bind(event.outcome.rawValue, at: 7)
        try insert.bind(event.detail, at: 8)
        try insert.run()
    }

    /// `publishParameters`: the regulator's scheme parameters and punishment rules.
    static func writeParameters(_ parameters: AccessParameters, submitter: String, leaf: Int64, _ db: SQLiteConnection)
        throws -> ContractEvent
    {
        let insert = try db.cachedStatement(
            "INSERT INTO access_parameters(leaf_index, regulator, searchable, token_encryption, trapdoor_key, maximum_strikes, block_ms, trapdoors_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(leaf, at: 1)
        try insert.bind(submitter, at: 2)
        try insert.bind(parameters.searchable, at: 3)
        try insert.bind(parameters.tokenEncryption, at: 4)
        try insert.bind(parameters.trapdoorKey, at: 5)
        try insert.bind(Int64(parameters.maximumStrikes), at: 6)
        try insert.bind(parameters.blockMilliseconds, at: 7)
        try insert.bind(Int64(parameters.trapdoorsPerMinute), at: 8)
        try insert.run()
        return ContractEvent(
            subject: "parameters", outcome: .applied,
            detail:
                "\(parameters.maximumStrikes) strikes, \(parameters.blockMilliseconds / 1000) s blocks, \(parameters.trapdoorsPerMinute) trapdoors/min"
        )
    }

    /// `grantAttributes`: the regulator certifies a principal's attributes.
    static func writeGrant(_ grant: AttributeGrant, leaf: Int64, _ db: SQLiteConnection) throws -> ContractEvent {
        let upsert = try db.cachedStatement(
            "INSERT OR REPLACE INTO attribute_grants(principal, enterprise, role, stage, category, region, status, leaf_index) VALUES (?, ?, ?, ?, ?, ?, 'active', ?)"
        )
        try upsert.bind(grant.principal, at: 1)
        try upsert.bind(grant.enterprise, at: 2)
        try upsert.bind(grant.role.rawValue, at: 3)
        try upsert.bind(grant.stage.rawValue, at: 4)
        try upsert.bind(grant.productCategory, at: 5)
        try upsert.bind(grant.region, at: 6)
        try upsert.bind(leaf, at: 7)
        try upsert.run()
        return ContractEvent(
            subject: grant.principal, outcome: .applied,
            detail:
                "\(grant.enterprise), \(grant.role.rawValue), \(grant.stage.rawValue), \(grant.productCategory), region \(grant.region)"
        )
    }

    /// A revocation: applied when the update changes a row, refused otherwise.
    static func updateOrRefuse(
        _ sql: String, _ values: [SQLiteValue], subject: String, applied: String, refused: String,
        _ db: SQLiteConnection
    ) throws -> ContractEvent {
        let update = try db.cachedStatement(sql)
        for (index, value) in values.enumerated() { try update.bind(value, at: Int32(index + 1)) }
        try update.run()
        return db.changes == 0
            ? ContractEvent(subject: subject, outcome: .refused, detail: refused)
            : ContractEvent(subject: subject, outcome: .applied, detail: applied)
    }

    /// `addEncryptedData` (policy upload): the owner of a lot protects its private data.
    static func writeEncryptedData(
        _ entry: EncryptedDataEntry, submitter: String, leaf: Int64, _ db: SQLiteConnection
    ) throws -> ContractEvent {
        let owner = try enterprise(of: submitter, db)
        func refused(_ detail: String) -> ContractEvent {
            ContractEvent(subject: entry.dataID, outcome: .refused, detail: detail)
        }
        if try exists("SELECT 1 FROM encrypted_data WHERE data_id = ?", [entry.dataID], db) {
            return refused("data id \(entry.dataID) is already used")
        }
        guard try exists("SELECT 1 FROM records WHERE lot = ? AND enterprise = ? LIMIT 1", [entry.lot, owner], db)
        else {
            return refused(
                "lot \(entry.lot) has no record of enterprise \(owner) on the ledger: only its owner may protect it")
        }
        let insert = try db.cachedStatement(
            "INSERT INTO encrypted_data(data_id, owner, enterprise, lot, level, time_window, actions, ciphertext, token_digest, status, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)"
        )
        try insert.bind(entry.dataID, at: 1)
        try insert.bind(submitter, at: 2)
        try insert.bind(owner, at: 3)
        try insert.bind(entry.lot, at: 4)
        try insert.bind(entry.level.rawValue, at: 5)
        if let window = entry.window {
            try insert.bind(encodeWindow(window), at: 6)
        } else {
            try insert.bindNull(at: 6)
        }
        try insert.bind(entry.actions.map(\.rawValue).joined(separator: ","), at: 7)
        try insert.bind(entry.searchableCiphertext, at: 8)
        try insert.bind(Array(entry.tokenDigest.bytes), at: 9)
        try insert.bind(leaf, at: 10)
        try insert.run()
        return ContractEvent(
            subject: entry.dataID, outcome: .applied, detail: "lot \(entry.lot) \(entry.level.rawValue)")
    }

    /// `addTrapdoor`: the decision contract at block time, and the request row.
    static func writeTrapdoor(
        _ request: TrapdoorRequest, submitter: String, time: Timestamp, leaf: Int64, _ db: SQLiteConnection
    ) throws -> ContractEvent {
        if try exists("SELECT 1 FROM access_requests WHERE request_id = ?", [request.requestID], db) {
            return ContractEvent(
                subject: request.requestID, outcome: .refused,
                detail: "request id \(request.requestID) is already used")
        }
        let decision = try decide(request, requester: submitter, time: time, leaf: leaf, db)
        let insert = try db.cachedStatement(
            "INSERT INTO access_requests(request_id, requester, lot, level, action, source, trapdoor, status, reason, request_leaf, request_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(request.requestID, at: 1)
        try insert.bind(submitter, at: 2)
        try insert.bind(request.lot, at: 3)
        try insert.bind(request.level.rawValue, at: 4)
        try insert.bind(request.action.rawValue, at: 5)
        try insert.bind(request.source, at: 6)
        try insert.bind(Canonical.encode(request.sealedTrapdoor), at: 7)
        try insert.bind(decision.status.rawValue, at: 8)
        if let reason = decision.reason { try insert.bind(reason, at: 9) } else { try insert.bindNull(at: 9) }
        try insert.bind(leaf, at: 10)
        try insert.bind(time.milliseconds, at: 11)
        try insert.run()
        return ContractEvent(
            subject: request.requestID, outcome: decision.status == .pending ? .pending : .denied,
            detail: decision.reason
                ?? "lot \(request.lot) \(request.level.rawValue) from \(request.source): awaiting the regulator's match"
        )
    }

    /// The decision contract (``Decision``) against the stored state, its strike stored.
    static func decide(
        _ request: TrapdoorRequest, requester: String, time: Timestamp, leaf: Int64, _ db: SQLiteConnection
    ) throws -> DecisionOutcome {
        let rows = AccessStateRows(db: db)
        let outcome = try Decision.apply(request, requester: requester, at: time, view: rows)
        if let strike = outcome.strike { try rows.store(strike, leaf: leaf) }
        return outcome
    }

    /// The match contract (``Match``) against the stored state: the request's result and the
    /// strike stored. Returns the audit event.
    static func applyMatch(
        requestID: String, dataID: String?, token: [UInt8]?, time: Timestamp, leaf: Int64, _ db: SQLiteConnection
    ) throws -> ContractEvent {
        let rows = AccessStateRows(db: db)
        let outcome = try Match.apply(requestID: requestID, dataID: dataID, token: token, at: time, view: rows)
        guard let result = outcome.result else { return outcome.event }
        let update = try db.cachedStatement(
            "UPDATE access_requests SET status = ?, reason = ?, data_id = ?, token = ?, result_leaf = ?, result_time = ? WHERE request_id = ?"
        )
        try update.bind(result.status.rawValue, at: 1)
        try update.bind(result.reason, at: 2)
        if let dataID = result.dataID, let token = result.token {
            try update.bind(dataID, at: 3)
            try update.bind(token, at: 4)
        } else {
            try update.bindNull(at: 3)
            try update.bindNull(at: 4)
        }
        try update.bind(leaf, at: 5)
        try update.bind(time.milliseconds, at: 6)
        try update.bind(requestID, at: 7)
        try update.run()
        if let strike = outcome.strike { try rows.store(strike, leaf: leaf) }
        return outcome.event
    }

    /// The punishment contract (``Punishment``) against `source`, its new entry stored.
    /// Returns what happened, for the audit.
    static func strike(_ source: String, time: Timestamp, leaf: Int64, _ db: SQLiteConnection) throws -> String {
        let rows = AccessStateRows(db: db)
        let strike = Punishment.strike(
            source, current: try rows.blacklistEntry(source), rules: try rows.rules().blacklist, at: time)
        try rows.store(strike, leaf: leaf)
        return strike.detail
    }

    static func enterprise(of principal: String, _ db: SQLiteConnection) throws -> String {
        let select = try db.cachedStatement("SELECT enterprise FROM principals WHERE name = ?")
        defer { select.reset() }
        try select.bind(principal, at: 1)
        return try select.step() ? select.string(at: 0) ?? "" : ""
    }

    static func exists(_ sql: String, _ values: [String], _ db: SQLiteConnection) throws -> Bool {
        let select = try db.cachedStatement(sql)
        defer { select.reset() }
        for (index, value) in values.enumerated() { try select.bind(value, at: Int32(index + 1)) }
        return try select.step()
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
