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
            writer.write(UInt8(1))
            writer.write(enterprise)
            writer.write(device)
            writer.writeBytes(publicKey)
            writer.write(stage)
        case .revokeDevice(let enterprise, let device, let reason):
            writer.write(UInt8(2))
            writer.write(enterprise)
            writer.write(device)
            writer.write(reason)
        }
        writer.write(submittedAt)
        writer.write(nonce)
    }

    public init(from reader: inout CanonicalReader) throws {
        let domain = try reader.readString("registry transaction domain")
        guard domain == "agritrace/v1/registry-transaction" else {
            throw Canonical.DecodingError.nonCanonical("registry transaction domain \(domain)")
        }
        switch try reader.readUInt8("registry operation") {
        case 1:
            let enterprise = try reader.readString("enterprise")
            let device = try reader.readString("device")
            let publicKey = try reader.readBytes("public key")
            guard publicKey.count == 32 else {
                throw Canonical.DecodingError.nonCanonical("public key of \(publicKey.count) bytes")
            }
            let stage = try reader.readOptional(Stage.self, "stage")
            operation = .addDevice(enterprise: enterprise, device: device, publicKey: publicKey, stage: stage)
        case 2:
            operation = .revokeDevice(
                enterprise: try reader.readString("enterprise"), device: try reader.readString("device"),
                reason: try reader.readString("reason"))
        case let tag:
            throw Canonical.DecodingError.invalidTag(tag, context: "registry operation")
        }
        submittedAt = try reader.read(Timestamp.self)
        nonce = try reader.readUInt64("nonce")
    }
}
