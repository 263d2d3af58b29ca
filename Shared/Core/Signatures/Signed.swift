import Crypto

/// What a signature is for; part of the signed bytes, so a signature for one purpose never
/// verifies for another.
public enum SignatureDomain: String, Sendable, CaseIterable {
    case record = "agritrace/v1/sig/record"
    case recordBatch = "agritrace/v1/sig/record-batch"
    case blockHeader = "agritrace/v1/sig/block-header"
    case receiptBatch = "agritrace/v1/sig/receipt-batch"
    case transaction = "agritrace/v1/sig/transaction"
    case blobReference = "agritrace/v1/sig/blob-reference"
    case blobAck = "agritrace/v1/sig/blob-ack"
    /// The owner's re-wrapped keys for one redemption, delivered to the aggregator's API by
    /// `transfer serve --api` (``TransferKeyDelivery``), signed with the owner's principal key.
    case transferKeys = "agritrace/v1/sig/transfer-keys"
}

/// Errors from signature checks.
public enum SignatureError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidSignature(domain: String)
    case malformedKey

    public var description: String {
        switch self {
        case .invalidSignature(let domain): "signature does not verify (\(domain))"
        case .malformedKey: "public key is not 32 bytes of an Ed25519 key"
        }
    }
}

/// A value with an Ed25519 signature over its canonical bytes in a ``SignatureDomain``.
public struct Signed<Value: CanonicalCodable & Sendable>: Sendable, CanonicalCodable {
    public var value: Value
    /// The 64-byte Ed25519 signature.
    public var signature: [UInt8]

    /// Signs `value` with `key` in `domain`.
    public init(_ value: Value, domain: SignatureDomain, key: Curve25519.Signing.PrivateKey) throws {
        self.value = value
        self.signature = Array(try key.signature(for: Self.message(value, domain: domain)))
    }

    /// Wraps an existing signature (to verify it).
    public init(value: Value, signature: [UInt8]) {
        self.value = value
        self.signature = signature
    }

    /// The bytes that are signed: the domain tag, then the value's canonical bytes.
    public static func message(_ value: Value, domain: SignatureDomain) -> [UInt8] {
        var writer = CanonicalWriter(capacity: 512)
        writer.write(domain.rawValue, value)
        return writer.bytes
    }

    /// Whether the signature verifies under `key` in `domain`.
    public func isValid(domain: SignatureDomain, key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: Self.message(value, domain: domain))
    }

    /// Throws unless the signature verifies under `key` in `domain`.
    public func verify(domain: SignatureDomain, key: Curve25519.Signing.PublicKey) throws(SignatureError) {
        guard isValid(domain: domain, key: key) else { throw .invalidSignature(domain: domain.rawValue) }
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(value, signature)
    }

    public init(from reader: inout CanonicalReader) throws {
        value = try Value(from: &reader)
        signature = try reader.readBytes("signature", count: 64)
    }
}

extension Signed: Equatable where Value: Equatable {}
extension Signed: Hashable where Value: Hashable {}

extension Curve25519.Signing.PublicKey {
    /// Parses a 32-byte raw Ed25519 public key.
    public init(rawBytes: [UInt8]) throws(SignatureError) {
        do {
            try self.init(rawRepresentation: rawBytes)
        } catch {
            throw .malformedKey
        }
    }

    /// The 32 raw bytes as lower-case hex.
    public var hex: String { Array(rawRepresentation).hexString }
}
