/// Why the aggregator refused a record, a batch or a transaction: the code a ``Rejection``
/// carries to devices, a contract's refusal carries to clients, and the ingest counters are
/// named after. The raw value is that spelling; it appears only on the wire, in stores and in
/// output.
///
/// The set is open on the receiving side: a code this build does not know (sent by a newer
/// aggregator, or by a test receiver) decodes as ``other(_:)`` with its spelling kept, so the
/// receipt batch carrying it still decodes, verifies and re-encodes to the same bytes, and the
/// agent still shows the code. The aggregator itself produces only the named cases.
public enum RejectionCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    case unknownDevice
    case revokedDevice
    case badRecordID
    case wrongStage
    case badSignature
    case invalidName
    case badKey
    case deviceExists
    case unknownPrincipal
    case revokedPrincipal
    case principalExists
    case notPermitted
    case malformed
    /// Ingest: the batch names another device than the topic it came on.
    case topicMismatch
    /// Ingest: a record names another device than its batch.
    case recordMismatch
    /// Ingest: a record id already taken by other content.
    case conflictingDuplicate
    /// The ledger failed; the sender should resend later.
    case `internal`
    /// A code this build does not know, as it was spelled.
    case other(String)

    /// The codes this build knows (every case but ``other(_:)``).
    public static let known: [RejectionCode] = [
        .unknownDevice, .revokedDevice, .badRecordID, .wrongStage, .badSignature, .invalidName, .badKey,
        .deviceExists, .unknownPrincipal, .revokedPrincipal, .principalExists, .notPermitted, .malformed,
        .topicMismatch, .recordMismatch, .conflictingDuplicate, .internal,
    ]

    private static let bySpelling = Dictionary(uniqueKeysWithValues: known.map { ($0.rawValue, $0) })

    /// The code spelled `rawValue`: a known case, or ``other(_:)``. Never fails.
    public init(rawValue: String) {
        self = Self.bySpelling[rawValue] ?? .other(rawValue)
    }

    /// The spelling on the wire, in stores and in output.
    public var rawValue: String {
        switch self {
        case .unknownDevice: "unknown-device"
        case .revokedDevice: "revoked-device"
        case .badRecordID: "bad-record-id"
        case .wrongStage: "wrong-stage"
        case .badSignature: "bad-signature"
        case .invalidName: "invalid-name"
        case .badKey: "bad-key"
        case .deviceExists: "device-exists"
        case .unknownPrincipal: "unknown-principal"
        case .revokedPrincipal: "revoked-principal"
        case .principalExists: "principal-exists"
        case .notPermitted: "not-permitted"
        case .malformed: "malformed"
        case .topicMismatch: "topic-mismatch"
        case .recordMismatch: "record-mismatch"
        case .conflictingDuplicate: "conflicting-duplicate"
        case .internal: "internal"
        case .other(let spelling): spelling
        }
    }

    /// The raw value, so a code interpolated into output is spelled as on the wire.
    public var description: String { rawValue }

    /// Codes are equal when they are spelled the same (`.other("malformed")` is `.malformed`).
    public static func == (lhs: RejectionCode, rhs: RejectionCode) -> Bool { lhs.rawValue == rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
}

extension RejectionCode: Codable {
    /// Decodes the spelling (any string: an unknown one is ``other(_:)``).
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the spelling, as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
