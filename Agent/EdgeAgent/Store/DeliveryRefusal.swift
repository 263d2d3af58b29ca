import AgriTraceCore
import SQLiteStorage

/// The aggregator refused this box's record batches as a whole (a rejection naming no record:
/// `unknown-device`, `revoked-device`, `bad-signature`, ...): what `agritrace-agent status`
/// and `rejects` show until a receipt proves delivery works again.
public struct DeliveryRefusal: Sendable, Codable, Equatable {
    /// The aggregator's code, e.g. ``RejectionCode/unknownDevice``.
    public var code: RejectionCode
    /// The aggregator's reason.
    public var reason: String
    /// What the operator should do.
    public var fix: String
    /// How many refusals with this code since delivery last worked.
    public var count: Int64
    /// The first and the latest refusal (RFC 3339).
    public var firstAt: String
    public var lastAt: String

    /// The fix for a whole-batch refusal `code` of `enterprise`/`device`, whose signing key is `publicKeyHex`.
    public static func fix(code: RejectionCode, enterprise: String, device: String, publicKeyHex: String) -> String {
        switch code {
        case .unknownDevice:
            "register this box on the ledger: agritrace devices add --enterprise \(enterprise) --device \(device) --public-key \(publicKeyHex) (on the aggregator, with the authority key); the agent keeps the records and delivers them once registered"
        case .revokedDevice:
            "\(enterprise)/\(device) was revoked: enroll the box again with a new key (agritrace-agent init, then agritrace devices add); the records stay in the outbox"
        case .badSignature:
            "the key registered for \(enterprise)/\(device) is not this box's key (\(publicKeyHex)): check device.key_file, or register this key"
        case .topicMismatch:
            "device.enterprise and device.id in the configuration must name the device the broker's certificate and ACL are for"
        default:
            "see the aggregator's rejection codes (docs/aggregator.md); the records stay in the outbox and are offered again with back-off"
        }
    }
}

extension AgentStore {
    /// The migration step creating the refusals table (schema version 3).
    static let deliveryRefusalsMigration = """
        CREATE TABLE delivery_refusals(
            code TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            fix TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_at INTEGER NOT NULL,
            last_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// Counts a whole-batch refusal (kept until ``clearDeliveryRefusals()``).
    public func noteDeliveryRefusal(code: RejectionCode, reason: String, fix: String, now: Timestamp = .now()) throws {
        lock.lock()
        defer { lock.unlock() }
        let upsert = try db.cachedStatement(
            "INSERT INTO delivery_refusals(code, reason, fix, count, first_at, last_at) VALUES (?1, ?2, ?3, 1, ?4, ?4) ON CONFLICT(code) DO UPDATE SET reason = excluded.reason, fix = excluded.fix, count = count + 1, last_at = excluded.last_at"
        )
        try upsert.run([.text(code.rawValue), .text(reason), .text(fix), .integer(now.milliseconds)])
    }

    /// Forgets the refusals: a receipt arrived, so delivery works again.
    public func clearDeliveryRefusals() throws {
        lock.lock()
        defer { lock.unlock() }
        try db.execute("DELETE FROM delivery_refusals")
    }

    /// The standing whole-batch refusals, most recent first.
    public func deliveryRefusals() throws -> [DeliveryRefusal] {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.cachedStatement(
            "SELECT code, reason, fix, count, first_at, last_at FROM delivery_refusals ORDER BY last_at DESC")
        defer { select.reset() }
        var rows: [DeliveryRefusal] = []
        while try select.step() {
            rows.append(
                DeliveryRefusal(
                    code: RejectionCode(rawValue: select.string(at: 0) ?? ""), reason: select.string(at: 1) ?? "",
                    fix: select.string(at: 2) ?? "",
                    count: select.int64(at: 3), firstAt: Timestamp(milliseconds: select.int64(at: 4)).iso8601,
                    lastAt: Timestamp(milliseconds: select.int64(at: 5)).iso8601))
        }
        return rows
    }
}
