import AgriTraceCore
import Foundation

/// One enrolled principal: what the lead submits to the ledger as a registry transaction,
/// and one entry of the registry file (`registry.json`) in the CA directory.
public struct EnrollmentRecord: Sendable, Hashable, Codable {
    /// Whether the principal may still connect.
    public enum Status: String, Sendable, Codable {
        /// Enrolled; its current certificate is accepted.
        case active
        /// Revoked: every certificate it had is on the revocation list and its ACL lines are gone.
        case revoked
    }

    /// The kind of party.
    public var kind: PrincipalKind
    /// The unique id: certificate common name and MQTT username.
    public var id: String
    /// `EdgeNode/planting/farm-box-01@FARM1`, `Firm/alice@RETAILER1`, ...
    public var principalName: String
    /// The enterprise id (a topic level for devices).
    public var enterprise: String
    /// The supply-chain stage (devices and firms).
    public var stage: Stage?
    /// The role (ABAC role name, or `regulator` / `aggregator`).
    public var role: String
    /// A firm's product category (an ABAC subject attribute), if given.
    public var productCategory: String?
    /// The principal's Ed25519 signing public key (32 bytes, lower-case hex), separate from
    /// its TLS key: devices sign record batches with it, firms and regulators their transactions.
    public var signingPublicKeyHex: String?
    /// The current certificate's serial (upper-case hex).
    public var certificateSerial: String
    /// The current certificate's subject (RFC 2253).
    public var certificateSubject: String
    /// The current certificate's validity.
    public var notBefore: Date
    /// The current certificate's expiry.
    public var notAfter: Date
    /// When the principal was first enrolled.
    public var enrolledAt: Date
    /// When the current certificate was issued by a renewal, if it was.
    public var renewedAt: Date?
    /// Serials of earlier certificates of this principal (renewals), oldest first. They stay
    /// valid until they expire, unless the principal is revoked.
    public var previousSerials: [String]
    /// Active or revoked.
    public var status: Status
    /// When it was revoked.
    public var revokedAt: Date?
    /// Why it was revoked.
    public var revocationReason: CertificateAuthority.RevocationReason?
    /// The device's record topic, if a device.
    public var recordTopic: String?
    /// The device's receipt topic, if a device.
    public var receiptTopic: String?

    /// Every serial this principal has held, current last.
    public var allSerials: [String] { previousSerials + [certificateSerial] }
}

/// The registry file: every enrollment of the deployment (`<ca>/registry.json`).
public struct EnrollmentRegistry: Sendable, Hashable, Codable {
    /// The file format version.
    public var version: Int = 1
    /// Every enrollment, in enrollment order (revoked ones stay).
    public var enrollments: [EnrollmentRecord] = []

    /// Creates an empty registry.
    public init() {}

    /// The enrollment with `id`, if any.
    public func record(id: String) -> EnrollmentRecord? { enrollments.first { $0.id == id } }

    /// Reads a registry file; a missing file is an empty registry.
    public static func load(from path: String) throws -> EnrollmentRegistry {
        guard FileManager.default.fileExists(atPath: path) else { return EnrollmentRegistry() }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try decoder.decode(EnrollmentRegistry.self, from: data)
        } catch {
            throw ProvisioningError.file(path: path, reason: "cannot read registry: \(error)")
        }
    }

    /// Writes the registry atomically (mode 0644: it holds no secret).
    public func save(to path: String) throws {
        let data: Data
        do { data = try Self.encoder.encode(self) } catch {
            throw ProvisioningError.file(path: path, reason: "cannot encode registry: \(error)")
        }
        try CertificateAuthority.write(String(decoding: data, as: UTF8.self) + "\n", to: path, mode: 0o644)
    }

    /// The JSON encoder used for the registry and for records handed to the ledger:
    /// sorted keys, ISO 8601 dates.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// The matching decoder.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
