/// A change to the registry of enterprises and devices: a typed ledger transaction,
/// signed by its submitter (the aggregator's authority key) in ``SignatureDomain/transaction``.
///
/// Appended to the log as ``LogEntry/registry(_:)``; the registry contract applies it to
/// the world state deterministically.
public struct RegistryTransaction: Hashable, Sendable, CanonicalCodable {
    /// What the transaction does.
    public enum Operation: Hashable, Sendable {
        /// Registers a device of `enterprise` with its Ed25519 public key (32 raw bytes).
        /// The enterprise is registered with it if it is new.
        case addDevice(enterprise: String, device: String, publicKey: [UInt8], stage: Stage?)
        /// Revokes a device: its batches are refused from the next transaction on.
        case revokeDevice(enterprise: String, device: String, reason: String)
        /// Registers a principal (a firm's user, a regulator, a device's owner) with its
        /// Ed25519 transaction-signing key: the enrollment record on the ledger.
        case addPrincipal(PrincipalEntry)
        /// Revokes a principal: its transactions are refused from the next one on.
        case revokePrincipal(name: String, reason: String)
    }

    public var operation: Operation
    /// When the submitter signed it (submitter's clock; informational).
    public var submittedAt: Timestamp
    /// A random nonce, so two identical operations are distinct transactions.
    public var nonce: UInt64

    public init(operation: Operation, submittedAt: Timestamp, nonce: UInt64) {
        self.operation = operation
        self.submittedAt = submittedAt
        self.nonce = nonce
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write("agritrace/v1/registry-transaction")
        switch operation {
        case .addDevice(let enterprise, let device, let publicKey, let stage):
            writer.write(UInt8(1), enterprise, device, publicKey, stage)
        case .revokeDevice(let enterprise, let device, let reason):
            writer.write(UInt8(2), enterprise, device, reason)
        case .addPrincipal(let principal):
            writer.write(UInt8(3), principal)
        case .revokePrincipal(let name, let reason):
            writer.write(UInt8(4), name, reason)
        }
        writer.write(submittedAt, nonce)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain("agritrace/v1/registry-transaction", "registry transaction domain")
        switch try reader.readUInt8("registry operation") {
        case 1:
            let enterprise = try reader.readString("enterprise")
            let device = try reader.readString("device")
            let publicKey = try reader.readBytes("public key", count: 32)
            let stage = try reader.readOptional(Stage.self, "stage")
            operation = .addDevice(enterprise: enterprise, device: device, publicKey: publicKey, stage: stage)
        case 2:
            operation = .revokeDevice(
                enterprise: try reader.readString("enterprise"), device: try reader.readString("device"),
                reason: try reader.readString("reason"))
        case 3:
            operation = .addPrincipal(try reader.read(PrincipalEntry.self))
        case 4:
            operation = .revokePrincipal(name: try reader.readString("name"), reason: try reader.readString("reason"))
        case let tag:
            throw Canonical.DecodingError.invalidTag(tag, context: "registry operation")
        }
        submittedAt = try reader.read(Timestamp.self)
        nonce = try reader.readUInt64("nonce")
    }
}

/// A principal as the registry holds it: the Kerberos-style name of the published method
/// (`Firm/alice@ZS123`, `Regulator/inspector@FOODAGENCY`), its kind, enterprise and role, and
/// the Ed25519 key its transactions are signed with.
public struct PrincipalEntry: Hashable, Sendable, CanonicalCodable {
    /// `device`, `firm`, `regulator` or `aggregator`.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case device, firm, regulator, aggregator
    }

    public var name: String
    public var kind: Kind
    public var enterprise: String
    /// An ABAC role name for devices and firms, or `regulator` / `aggregator`.
    public var role: String
    public var stage: Stage?
    /// Ed25519 public key, 32 raw bytes.
    public var publicKey: [UInt8]

    public init(name: String, kind: Kind, enterprise: String, role: String, stage: Stage?, publicKey: [UInt8]) {
        self.name = name
        self.kind = kind
        self.enterprise = enterprise
        self.role = role
        self.stage = stage
        self.publicKey = publicKey
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(name, kind.rawValue, enterprise, role, stage, publicKey)
    }

    public init(from reader: inout CanonicalReader) throws {
        name = try reader.readString("principal name")
        kind = try reader.readRawValue(Kind.self, "principal kind")
        enterprise = try reader.readString("enterprise")
        role = try reader.readString("role")
        stage = try reader.readOptional(Stage.self, "stage")
        publicKey = try reader.readBytes("public key", count: 32)
    }
}
