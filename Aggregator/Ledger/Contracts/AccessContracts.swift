import AgriTraceCore
import Crypto
import SQLiteStorage

/// The access-control contracts of domain.md §3: data upload (`addEncryptedData`), policy
/// decision (`addTrapdoor`), policy match management (`addResult`) and punishment
/// (`addToBlacklist`), plus the regulator's parameters and attribute grants.
///
/// Two phases, like Fabric's endorsement and validation:
/// - ``check(_:registry:)`` at admission refuses what can never be valid: a transaction not
///   signed by an active registered principal, a method the principal's kind may not call,
///   malformed ids. Refused transactions never reach the log.
/// - ``write(_:leafIndex:height:time:to:)`` runs when the block is written, against the state
///   tables and the **block time**, and records the outcome of every transaction (applied,
///   refused with a reason, a decision) in `access_events`. It never throws for a business
///   reason, so replaying the log rebuilds exactly the same state.
public enum AccessContracts {
    /// Which principal kinds may call each method.
    static func allowedKinds(_ operation: AccessTransaction.Operation) -> Set<PrincipalEntry.Kind> {
        switch operation {
        case .publishParameters, .grantAttributes, .revokeAttributes, .addResult, .addToBlacklist: [.regulator]
        case .addEncryptedData, .revokeEncryptedData, .addTrapdoor: [.firm]
        case .redeem, .addTransfer, .revokeGrant, .recordRead: [.firm]
        }
    }

    /// Request and data ids: 32 lower-case hex characters (128 random bits).
    static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func isValidName(_ text: String, maximum: Int = 128) -> Bool {
        !text.isEmpty && text.utf8.count <= maximum
            && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// Admission check: signature, registration, permission, well-formedness.
    public static func check(_ signed: Signed<AccessTransaction>, registry: RegistryState) -> ContractViolation? {
        let transaction = signed.value
        guard let principal = registry.principals[transaction.submitter] else {
            return ContractViolation(
                code: "unknown-principal",
                reason:
                    "principal \(transaction.submitter) is not registered; enroll it first (agritrace principals add)")
        }
        guard principal.isActive else {
            return ContractViolation(code: "revoked-principal", reason: "principal \(transaction.submitter) is revoked")
        }
        guard signed.isValid(domain: .transaction, key: principal.publicKey) else {
            return ContractViolation(
                code: "bad-signature",
                reason: "the transaction is not signed by \(transaction.submitter)'s registered key")
        }
        guard allowedKinds(transaction.operation).contains(principal.entry.kind) else {
            return ContractViolation(
                code: "not-permitted",
                reason:
                    "\(transaction.method) may be called by \(allowedKinds(transaction.operation).map(\.rawValue).sorted().joined(separator: ", ")), not by a \(principal.entry.kind.rawValue)"
            )
        }
        func malformed(_ reason: String) -> ContractViolation { ContractViolation(code: "malformed", reason: reason) }
        switch transaction.operation {
        case .publishParameters(let parameters):
            guard parameters.trapdoorKey.count == 32,
                (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: parameters.trapdoorKey)) != nil
            else { return malformed("the trapdoor key is not an X25519 public key") }
            guard !parameters.searchable.isEmpty, !parameters.tokenEncryption.isEmpty, parameters.maximumStrikes >= 1,
                parameters.blockMilliseconds >= 0, parameters.trapdoorsPerMinute >= 1
            else { return malformed("empty parameters, or a rule below its minimum (1 strike, 0 ms, 1 trapdoor/min)") }
        case .grantAttributes(let grant):
            guard let grantee = registry.principals[grant.principal], grantee.isActive else {
                return ContractViolation(
                    code: "unknown-principal", reason: "principal \(grant.principal) is not registered and active")
            }
            guard isValidName(grant.enterprise), isValidName(grant.productCategory), isValidName(grant.region) else {
                return malformed("enterprise, category and region must be 1-128 printable bytes")
            }
            guard grant.role.stage == grant.stage else {
                return malformed(
                    "role \(grant.role.rawValue) belongs to stage \(grant.role.stage.rawValue), not \(grant.stage.rawValue)"
                )
            }
        case .revokeAttributes(let name, _):
            guard registry.principals[name] != nil else {
                return ContractViolation(code: "unknown-principal", reason: "principal \(name) is not registered")
            }
        case .addEncryptedData(let entry):
            guard isValidID(entry.dataID) else { return malformed("data id must be 32 lower-case hex characters") }
            guard isValidName(entry.lot) else { return malformed("lot must be 1-128 printable bytes") }
            guard !entry.actions.isEmpty else { return malformed("an entry must permit at least one action") }
            guard (1...(1 << 20)).contains(entry.searchableCiphertext.count) else {
                return malformed("searchable ciphertext of \(entry.searchableCiphertext.count) bytes (1 B to 1 MiB)")
            }
        case .revokeEncryptedData(let dataID, _):
            guard isValidID(dataID) else { return malformed("data id must be 32 lower-case hex characters") }
        case .addTrapdoor(let request):
            guard isValidID(request.requestID) else {
                return malformed("request id must be 32 lower-case hex characters")
            }
            guard isValidName(request.lot), isValidName(request.source) else {
                return malformed("lot and source must be 1-128 printable bytes")
            }
            guard request.sealedTrapdoor.encapsulatedKey.count == 32,
                (1...(1 << 16)).contains(request.sealedTrapdoor.ciphertext.count)
            else { return malformed("the sealed trapdoor is malformed") }
        case .addResult(let requestID, let dataID, let token):
            guard isValidID(requestID) else { return malformed("request id must be 32 lower-case hex characters") }
            guard (dataID == nil) == (token == nil) else {
                return malformed("a match names the data id and carries the token D; a non-match has neither")
            }
            if let dataID, !isValidID(dataID) { return malformed("data id must be 32 lower-case hex characters") }
        case .addToBlacklist(let source, _):
            guard isValidName(source) else { return malformed("source must be 1-128 printable bytes") }
        case .redeem, .addTransfer, .revokeGrant, .recordRead:
            if let reason = TransferContracts.malformation(transaction.operation) { return malformed(reason) }
        }
        return nil
    }

    // MARK: Block phase

    /// The rules in force: the latest published parameters, or the published defaults.
    struct Rules {
        var maximumStrikes: Int64 = 5
        var blockMilliseconds: Int64 = 10 * 60 * 1000
        var trapdoorsPerMinute: Int64 = 10
    }

    static func rules(_ db: SQLiteConnection) throws -> Rules {
        let select = try db.cachedStatement(
            "SELECT maximum_strikes, block_ms, trapdoors_per_minute FROM access_parameters ORDER BY leaf_index DESC LIMIT 1"
        )
        defer { select.reset() }
        guard try select.step() else { return Rules() }
        return Rules(
            maximumStrikes: select.int64(at: 0), blockMilliseconds: select.int64(at: 1),
            trapdoorsPerMinute: select.int64(at: 2))
    }

    /// Applies a transaction admitted into a block, at the block's time.
    static func write(
        _ transaction: AccessTransaction, leafIndex: UInt64, height: UInt64, time: Timestamp, to db: SQLiteConnection
    ) throws {
        let leaf = Int64(leafIndex)
        var event = (subject: "", outcome: "applied", detail: "")
        switch transaction.operation {
        case .publishParameters(let parameters):
            let insert = try db.cachedStatement(
                "INSERT INTO access_parameters(leaf_index, regulator, searchable, token_encryption, trapdoor_key, maximum_strikes, block_ms, trapdoors_per_minute) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            )
            try insert.bind(leaf, at: 1)
            try insert.bind(transaction.submitter, at: 2)
            try insert.bind(parameters.searchable, at: 3)
            try insert.bind(parameters.tokenEncryption, at: 4)
            try insert.bind(parameters.trapdoorKey, at: 5)
            try insert.bind(Int64(parameters.maximumStrikes), at: 6)
            try insert.bind(parameters.blockMilliseconds, at: 7)
            try insert.bind(Int64(parameters.trapdoorsPerMinute), at: 8)
            try insert.run()
            event.subject = "parameters"
            event.detail =
                "\(parameters.maximumStrikes) strikes, \(parameters.blockMilliseconds / 1000) s blocks, \(parameters.trapdoorsPerMinute) trapdoors/min"

        case .grantAttributes(let grant):
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
            event.subject = grant.principal
            event.detail =
                "\(grant.enterprise), \(grant.role.rawValue), \(grant.stage.rawValue), \(grant.productCategory), region \(grant.region)"

        case .revokeAttributes(let principal, let reason):
            let update = try db.cachedStatement(
                "UPDATE attribute_grants SET status = 'revoked', leaf_index = ? WHERE principal = ? AND status = 'active'"
            )
            try update.bind(leaf, at: 1)
            try update.bind(principal, at: 2)
            try update.run()
            event.subject = principal
            if db.changes == 0 {
                event.outcome = "refused"
                event.detail = "no active attribute grant"
            } else {
                event.detail = reason
            }

        case .addEncryptedData(let entry):
            event.subject = entry.dataID
            let owner = try enterprise(of: transaction.submitter, db)
            if try exists("SELECT 1 FROM encrypted_data WHERE data_id = ?", [entry.dataID], db) {
                event.outcome = "refused"
                event.detail = "data id \(entry.dataID) is already used"
            } else if !(try exists(
                "SELECT 1 FROM records WHERE lot = ? AND enterprise = ? LIMIT 1", [entry.lot, owner], db))
            {
                event.outcome = "refused"
                event.detail =
                    "lot \(entry.lot) has no record of enterprise \(owner) on the ledger: only its owner may protect it"
            } else {
                let insert = try db.cachedStatement(
                    "INSERT INTO encrypted_data(data_id, owner, enterprise, lot, level, time_window, actions, ciphertext, token_digest, status, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)"
                )
                try insert.bind(entry.dataID, at: 1)
                try insert.bind(transaction.submitter, at: 2)
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
                event.detail = "lot \(entry.lot) \(entry.level.rawValue)"
            }

        case .revokeEncryptedData(let dataID, let reason):
            let update = try db.cachedStatement(
                "UPDATE encrypted_data SET status = 'revoked' WHERE data_id = ? AND owner = ? AND status = 'active'")
            try update.bind(dataID, at: 1)
            try update.bind(transaction.submitter, at: 2)
            try update.run()
            event.subject = dataID
            if db.changes == 0 {
                event.outcome = "refused"
                event.detail = "no active entry \(dataID) of \(transaction.submitter)"
            } else {
                event.detail = reason
            }

        case .addTrapdoor(let request):
            event.subject = request.requestID
            if try exists("SELECT 1 FROM access_requests WHERE request_id = ?", [request.requestID], db) {
                event.outcome = "refused"
                event.detail = "request id \(request.requestID) is already used"
                break
            }
            let decision = try decide(request, requester: transaction.submitter, time: time, leaf: leaf, db)
            let insert = try db.cachedStatement(
                "INSERT INTO access_requests(request_id, requester, lot, level, action, source, trapdoor, status, reason, request_leaf, request_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            try insert.bind(request.requestID, at: 1)
            try insert.bind(transaction.submitter, at: 2)
            try insert.bind(request.lot, at: 3)
            try insert.bind(request.level.rawValue, at: 4)
            try insert.bind(request.action.rawValue, at: 5)
            try insert.bind(request.source, at: 6)
            try insert.bind(Canonical.encode(request.sealedTrapdoor), at: 7)
            try insert.bind(decision.status, at: 8)
            if let reason = decision.reason { try insert.bind(reason, at: 9) } else { try insert.bindNull(at: 9) }
            try insert.bind(leaf, at: 10)
            try insert.bind(time.milliseconds, at: 11)
            try insert.run()
            event.outcome = decision.status
            event.detail =
                decision.reason
                ?? "lot \(request.lot) \(request.level.rawValue) from \(request.source): awaiting the regulator's match"

        case .addResult(let requestID, let dataID, let token):
            event.subject = requestID
            let select = try db.cachedStatement(
                "SELECT lot, level, source, status FROM access_requests WHERE request_id = ?")
            try select.bind(requestID, at: 1)
            guard try select.step() else {
                select.reset()
                event.outcome = "refused"
                event.detail = "no request \(requestID)"
                break
            }
            let (lot, level, source, status) = (
                select.string(at: 0) ?? "", select.string(at: 1) ?? "", select.string(at: 2) ?? "",
                select.string(at: 3) ?? ""
            )
            select.reset()
            guard status == "pending" else {
                event.outcome = "refused"
                event.detail = "request \(requestID) is \(status), not pending"
                break
            }
            var outcome = "denied"
            var reason = "no-match: the requester's attributes do not satisfy any hidden policy of lot \(lot) \(level)"
            if let dataID {
                if try exists(
                    "SELECT 1 FROM encrypted_data WHERE data_id = ? AND lot = ? AND level = ? AND status = 'active'",
                    [dataID, lot, level], db)
                {
                    outcome = "granted"
                    reason = "matched entry \(dataID)"
                } else {
                    reason = "the regulator named entry \(dataID), which is not an active entry of lot \(lot) \(level)"
                }
            }
            let update = try db.cachedStatement(
                "UPDATE access_requests SET status = ?, reason = ?, data_id = ?, token = ?, result_leaf = ?, result_time = ? WHERE request_id = ?"
            )
            try update.bind(outcome, at: 1)
            try update.bind(reason, at: 2)
            if outcome == "granted", let dataID, let token {
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
            event.outcome = outcome
            event.detail = reason
            if outcome == "denied" {
                event.detail += "; " + (try strike(source, time: time, leaf: leaf, db))
            }

        case .addToBlacklist(let source, let reason):
            event.subject = source
            event.detail = reason + "; " + (try strike(source, time: time, leaf: leaf, db))
        case .redeem, .addTransfer, .revokeGrant, .recordRead:
            event = try TransferContracts.write(transaction, leaf: leaf, time: time, db)
        }
        let insert = try db.cachedStatement(
            "INSERT INTO access_events(leaf_index, height, time, submitter, method, subject, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(leaf, at: 1)
        try insert.bind(Int64(height), at: 2)
        try insert.bind(time.milliseconds, at: 3)
        try insert.bind(transaction.submitter, at: 4)
        try insert.bind(transaction.method, at: 5)
        try insert.bind(event.subject, at: 6)
        try insert.bind(event.outcome, at: 7)
        try insert.bind(event.detail, at: 8)
        try insert.run()
    }

    /// The policy-decision contract (`addTrapdoor`), at the block time. The order is the
    /// published one: a blocked source is denied first (no new strike); then the principal's
    /// registration and attributes, the rate limit, and the environment (an active entry for
    /// the lot and level whose time window contains the block time and whose actions include
    /// the request's). The hidden attribute conditions are the regulator's TEST, later.
    static func decide(
        _ request: TrapdoorRequest, requester: String, time: Timestamp, leaf: Int64, _ db: SQLiteConnection
    )
        throws -> (status: String, reason: String?)
    {
        if let block = try blockedUntil(request.source, at: time, db) {
            return (
                "denied",
                "blacklisted: source \(request.source) is blocked "
                    + (block.map { "until \($0.iso8601)" } ?? "permanently")
            )
        }
        func deny(_ reason: String) throws -> (status: String, reason: String?) {
            ("denied", reason + "; " + (try strike(request.source, time: time, leaf: leaf, db)))
        }
        guard
            try exists(
                "SELECT 1 FROM principals p JOIN attribute_grants g ON g.principal = p.name WHERE p.name = ? AND p.status = 'active' AND g.status = 'active'",
                [requester], db)
        else {
            return try deny(
                "unregistered: \(requester) has no active registration with attributes granted by the regulator")
        }
        let rules = try rules(db)
        let recent = try db.cachedStatement(
            "SELECT count(*) FROM access_requests WHERE requester = ? AND request_time > ?")
        try recent.bind(requester, at: 1)
        try recent.bind(time.milliseconds - 60_000, at: 2)
        _ = try recent.step()
        let count = recent.int64(at: 0)
        recent.reset()
        if count >= rules.trapdoorsPerMinute {
            return (
                "denied",
                "rate-limited: \(requester) submitted \(count) trapdoors in the last minute (limit \(rules.trapdoorsPerMinute))"
            )
        }
        let entries = try db.cachedStatement(
            "SELECT time_window, actions FROM encrypted_data WHERE lot = ? AND level = ? AND status = 'active'")
        try entries.bind(request.lot, at: 1)
        try entries.bind(request.level.rawValue, at: 2)
        var any = false
        var inWindow = false
        var permitted = false
        while try entries.step() {
            any = true
            let window = entries.string(at: 0).flatMap(decodeWindow)
            let actions = (entries.string(at: 1) ?? "").split(separator: ",").map(String.init)
            if window?.contains(time) ?? true {
                inWindow = true
                if actions.contains(request.action.rawValue) { permitted = true }
            }
        }
        entries.reset()
        guard any else { return try deny("no-data: lot \(request.lot) has no active \(request.level.rawValue) entry") }
        guard inWindow else {
            return try deny(
                "outside-window: \(time.iso8601) is outside every time window of lot \(request.lot) \(request.level.rawValue)"
            )
        }
        guard permitted else { return try deny("action-not-permitted: \(request.action.rawValue) is not permitted") }
        return ("pending", nil)
    }

    /// `.some(until)` when blocked until then, `.some(nil)` when blocked for ever, nil when free.
    static func blockedUntil(_ source: String, at time: Timestamp, _ db: SQLiteConnection) throws -> Timestamp?? {
        let select = try db.cachedStatement("SELECT blocked_until FROM blacklist WHERE source = ?")
        defer { select.reset() }
        try select.bind(source, at: 1)
        guard try select.step() else { return nil }
        if select.isNull(at: 0) { return .some(nil) }
        let until = Timestamp(milliseconds: select.int64(at: 0))
        return time < until ? .some(until) : nil
    }

    /// The punishment contract (`addToBlacklist`): one strike and a block of the configured
    /// duration; at the maximum, a permanent block. Returns what happened, for the audit.
    static func strike(_ source: String, time: Timestamp, leaf: Int64, _ db: SQLiteConnection) throws -> String {
        let rules = try rules(db)
        let select = try db.cachedStatement("SELECT strikes, blocked_until FROM blacklist WHERE source = ?")
        try select.bind(source, at: 1)
        var strikes: Int64 = 0
        if try select.step() {
            strikes = select.int64(at: 0)
            if select.isNull(at: 1) {
                select.reset()
                return "source \(source) is already blocked permanently"
            }
        }
        select.reset()
        strikes += 1
        let permanent = strikes >= rules.maximumStrikes
        let upsert = try db.cachedStatement(
            "INSERT OR REPLACE INTO blacklist(source, strikes, blocked_until, last_strike, last_leaf) VALUES (?, ?, ?, ?, ?)"
        )
        try upsert.bind(source, at: 1)
        try upsert.bind(strikes, at: 2)
        let until = time.milliseconds + rules.blockMilliseconds
        if permanent { try upsert.bindNull(at: 3) } else { try upsert.bind(until, at: 3) }
        try upsert.bind(time.milliseconds, at: 4)
        try upsert.bind(leaf, at: 5)
        try upsert.run()
        return permanent
            ? "strike \(strikes) of \(rules.maximumStrikes): source \(source) blocked permanently"
            : "strike \(strikes) of \(rules.maximumStrikes): source \(source) blocked until \(Timestamp(milliseconds: until).iso8601)"
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
