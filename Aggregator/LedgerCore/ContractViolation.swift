/// Why a transaction or a record was refused, at admission or at ingest. The raw values are
/// the spelling rejections carry to devices and clients, and the counters' names.
public enum RefusalCode: String, Sendable, Hashable, CaseIterable {
    case unknownDevice = "unknown-device"
    case revokedDevice = "revoked-device"
    case badRecordID = "bad-record-id"
    case wrongStage = "wrong-stage"
    case badSignature = "bad-signature"
    case invalidName = "invalid-name"
    case badKey = "bad-key"
    case deviceExists = "device-exists"
    case unknownPrincipal = "unknown-principal"
    case revokedPrincipal = "revoked-principal"
    case principalExists = "principal-exists"
    case notPermitted = "not-permitted"
    case malformed
    /// Ingest: the batch names another device than the topic it came on.
    case topicMismatch = "topic-mismatch"
    /// Ingest: a record names another device than its batch.
    case recordMismatch = "record-mismatch"
    /// Ingest: a record id already taken by other content.
    case conflictingDuplicate = "conflicting-duplicate"
    /// The ledger failed; the sender should resend later.
    case `internal`
}

/// Why a contract refused a transaction at admission. The code's raw value is what
/// rejections carry to devices and clients.
public struct ContractViolation: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: RefusalCode
    public var reason: String

    /// A ``RefusalCode/malformed`` refusal.
    public static func malformed(_ reason: String) -> ContractViolation {
        ContractViolation(code: .malformed, reason: reason)
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
