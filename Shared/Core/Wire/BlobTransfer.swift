import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// The off-chain transfer of private data (docs/transfer.md): the edge box uploads each
// record's sealed private values (a blob, content-addressed by SHA-256) with the data key
// wrapped to the owning enterprise; the ledger records the blob's hash; the owner re-wraps
// data keys for granted requesters; requesters verify every value against the ledger.

extension Wire {
    /// Where a device uploads its sealed blobs: `agritrace/v1/<enterprise>/<device>/blobs`.
    public static func blobTopic(enterprise: String, device: String) -> String {
        "\(topicPrefix)/\(enterprise)/\(device)/blobs"
    }

    /// Where the aggregator acknowledges a device's uploads: `agritrace/v1/<enterprise>/<device>/blob-acks`.
    public static func blobAckTopic(enterprise: String, device: String) -> String {
        "\(topicPrefix)/\(enterprise)/\(device)/blob-acks"
    }

    /// The subscription filter for every device's uploads.
    public static let allBlobsFilter = "\(topicPrefix)/+/+/blobs"
}

/// What the ledger records about one uploaded blob, signed by the uploading device
/// (``SignatureDomain/blobReference``) and appended as ``LogEntry/blob(_:)``: the record and
/// level it seals, the blob's SHA-256 and size, and the data key wrapped (HPKE) to the owning
/// enterprise's X25519 key. Nothing in it opens the blob without the owner's private key.
public struct BlobReference: Hashable, Sendable, CanonicalCodable {
    public var enterprise: String
    public var device: String
    public var recordID: RecordID
    public var level: PrivacyLevel
    /// SHA-256 of the sealed blob (``SealedPrivateFields/blobID``).
    public var blobID: Digest32
    public var size: UInt64
    /// The owner's X25519 public key (32 bytes) the data key is wrapped to.
    public var ownerKey: [UInt8]
    /// The data key, wrapped to ``ownerKey``.
    public var wrappedKey: WrappedDataKey
    /// When the device sealed it (its clock; informational).
    public var sealedAt: Timestamp

    public init(
        enterprise: String, device: String, recordID: RecordID, level: PrivacyLevel, blobID: Digest32, size: UInt64,
        ownerKey: [UInt8], wrappedKey: WrappedDataKey, sealedAt: Timestamp
    ) {
        self.enterprise = enterprise
        self.device = device
        self.recordID = recordID
        self.level = level
        self.blobID = blobID
        self.size = size
        self.ownerKey = ownerKey
        self.wrappedKey = wrappedKey
        self.sealedAt = sealedAt
    }

    static let domain = "agritrace/v1/blob-reference"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain, enterprise, device, recordID, level, blobID, size, ownerKey, wrappedKey, sealedAt)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "blob reference domain")
        enterprise = try reader.readString("enterprise")
        device = try reader.readString("device")
        recordID = try reader.read(RecordID.self)
        level = try reader.read(PrivacyLevel.self)
        blobID = try reader.read(Digest32.self)
        size = try reader.readUInt64("size")
        ownerKey = try reader.readBytes("owner key")
        wrappedKey = try reader.read(WrappedDataKey.self)
        sealedAt = try reader.read(Timestamp.self)
    }
}

/// One upload on a device's blob topic: the signed reference and the blob itself.
public struct BlobUpload: Hashable, Sendable, CanonicalCodable {
    public var reference: Signed<BlobReference>
    /// `nonce ‖ ciphertext ‖ tag` (``SealedPrivateFields/blob``).
    public var blob: [UInt8]

    public init(reference: Signed<BlobReference>, blob: [UInt8]) {
        self.reference = reference
        self.blob = blob
    }

    /// Seals one level of a record's private values, wraps the data key to `owner` and signs
    /// the reference with the device key. Values longer than `segmentSize` are sealed as a
    /// ``SealedStream`` (`Int.max`: always one AES-GCM message, as before streaming).
    public static func make(
        _ fields: PrivateFields, record: RecordID, enterprise: String, device: String,
        owner: Curve25519.KeyAgreement.PublicKey, deviceKey: Curve25519.Signing.PrivateKey, now: Timestamp = .now(),
        segmentSize: Int = SealedStream.defaultSegmentSize
    ) throws -> BlobUpload {
        let (sealed, dataKey) = try SealedPrivateFields.seal(fields, recordID: record, segmentSize: segmentSize)
        let wrapped = try WrappedDataKey.wrap(dataKey, recordID: record, level: fields.level, for: owner)
        let reference = BlobReference(
            enterprise: enterprise, device: device, recordID: record, level: fields.level, blobID: sealed.blobID,
            size: UInt64(sealed.blob.count), ownerKey: Array(owner.rawRepresentation), wrappedKey: wrapped,
            sealedAt: now)
        return BlobUpload(
            reference: try Signed(reference, domain: .blobReference, key: deviceKey), blob: sealed.blob)
    }

    static let domain = "agritrace/v1/blob-upload"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain, reference, blob)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "blob upload domain")
        reference = try reader.read(Signed<BlobReference>.self)
        blob = try reader.readBytes("blob")
    }
}

/// One piece of a large upload on a device's blob topic: the signed reference (so each piece
/// names the blob, its size and hash), where the piece starts, and its bytes. The blob service
/// appends pieces in order to a temporary file, hashing as it goes, and accepts the blob only
/// when its size and SHA-256 are the announced ones; a gap drops the partial blob (the agent
/// sends every piece again after its resend timeout).
public struct BlobPiece: Hashable, Sendable, CanonicalCodable {
    /// Uploads larger than this go in pieces of this size (1 MiB).
    public static let defaultPieceSize = 1 << 20

    public var reference: Signed<BlobReference>
    public var offset: UInt64
    public var bytes: [UInt8]

    public init(reference: Signed<BlobReference>, offset: UInt64, bytes: [UInt8]) {
        self.reference = reference
        self.offset = offset
        self.bytes = bytes
    }

    /// The encoded pieces of `upload`, in order (one piece when the blob fits `pieceSize`).
    public static func pieces(of upload: BlobUpload, pieceSize: Int = defaultPieceSize) -> [[UInt8]] {
        stride(from: 0, to: max(upload.blob.count, 1), by: pieceSize).map { start in
            Canonical.encode(
                BlobPiece(
                    reference: upload.reference, offset: UInt64(start),
                    bytes: Array(upload.blob[start..<min(start + pieceSize, upload.blob.count)])))
        }
    }

    static let domain = "agritrace/v1/blob-piece"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain, reference, offset, bytes)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "blob piece domain")
        reference = try reader.read(Signed<BlobReference>.self)
        offset = try reader.readUInt64("offset")
        bytes = try reader.readBytes("piece")
    }
}

/// The aggregator's answer on a device's blob-ack topic, signed with the authority key
/// (``SignatureDomain/blobAck``): blobs whose reference is on the ledger (the agent marks them
/// uploaded), and blobs refused for good (with the reason).
public struct BlobAck: Hashable, Sendable, CanonicalCodable {
    public struct Refusal: Hashable, Sendable, CanonicalCodable {
        public var blobID: Digest32
        public var reason: String

        public init(blobID: Digest32, reason: String) {
            self.blobID = blobID
            self.reason = reason
        }

        public func encode(to writer: inout CanonicalWriter) {
            writer.write(blobID, reason)
        }

        public init(from reader: inout CanonicalReader) throws {
            blobID = try reader.read(Digest32.self)
            reason = try reader.readString("reason")
        }
    }

    public var enterprise: String
    public var device: String
    public var stored: [Digest32]
    public var refused: [Refusal]

    public init(enterprise: String, device: String, stored: [Digest32], refused: [Refusal] = []) {
        self.enterprise = enterprise
        self.device = device
        self.stored = stored
        self.refused = refused
    }

    static let domain = "agritrace/v1/blob-ack"

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(Self.domain, enterprise, device, stored, refused)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain(Self.domain, "blob ack domain")
        enterprise = try reader.readString("enterprise")
        device = try reader.readString("device")
        stored = try reader.readArray(Digest32.self, "stored blobs")
        refused = try reader.readArray(Refusal.self, "refused blobs")
    }
}

/// The data keys an owner re-wrapped for one redemption, delivered to the aggregator by the
/// owner's remote transfer service (`agritrace transfer serve --api`), signed with the owner's
/// registered principal key (``SignatureDomain/transferKeys``). The API stores them once per
/// redemption, only from the owner of the redeemed entry; they are not on the ledger (the
/// `addTransfer` that follows names their number and blob digest, which the requester checks).
public struct TransferKeyDelivery: Hashable, Sendable, CanonicalCodable {
    /// The owner's principal (the signer).
    public var owner: String
    /// The leaf of the `redeem` transaction answered.
    public var redeemLeaf: UInt64
    /// The data keys re-wrapped to the redemption's ephemeral key.
    public var keys: [WrappedDataKey]

    public init(owner: String, redeemLeaf: UInt64, keys: [WrappedDataKey]) {
        self.owner = owner
        self.redeemLeaf = redeemLeaf
        self.keys = keys
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write("agritrace/v1/transfer-keys", owner, redeemLeaf, keys)
    }

    public init(from reader: inout CanonicalReader) throws {
        try reader.readDomain("agritrace/v1/transfer-keys", "transfer keys label")
        owner = try reader.readString("owner")
        redeemLeaf = try reader.readUInt64("redeem leaf")
        keys = try reader.readArray(WrappedDataKey.self, "keys")
    }
}

// MARK: - Transfer transactions (operations of ``AccessTransaction``)

/// `redeem`: the requester of a granted request asks the owner's transfer service for the
/// data, giving a fresh X25519 key to re-wrap the data keys to and a proof that it holds the
/// access token (never the token itself).
public struct RedeemRequest: Hashable, Sendable, CanonicalCodable {
    public var requestID: String
    /// The requester's ephemeral X25519 public key (32 bytes).
    public var requesterKey: [UInt8]
    /// HMAC-SHA256 keyed with the access token over `request id ‖ requester key` (``proof(token:requestID:requesterKey:)``).
    public var proof: [UInt8]
    /// What the data is for (the 4Wh "how").
    public var purpose: String

    public init(requestID: String, requesterKey: [UInt8], proof: [UInt8], purpose: String) {
        self.requestID = requestID
        self.requesterKey = requesterKey
        self.proof = proof
        self.purpose = purpose
    }

    /// The proof of the token: HMAC-SHA256(token, canonical("agritrace/v1/redeem") ‖ request id ‖ key).
    public static func proof(token: [UInt8], requestID: String, requesterKey: [UInt8]) -> [UInt8] {
        let message = provenMessage(requestID: requestID, requesterKey: requesterKey)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: token)))
    }

    /// Whether ``proof`` was made with `token` (constant-time comparison).
    public func isProven(by token: [UInt8]) -> Bool {
        let message = Self.provenMessage(requestID: requestID, requesterKey: requesterKey)
        return HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: message, using: SymmetricKey(data: token))
    }

    /// What the proof authenticates: canonical("agritrace/v1/redeem") ‖ request id ‖ key.
    static func provenMessage(requestID: String, requesterKey: [UInt8]) -> [UInt8] {
        var writer = CanonicalWriter(capacity: 96)
        writer.write("agritrace/v1/redeem", requestID, requesterKey)
        return writer.bytes
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(requestID, requesterKey, proof, purpose)
    }

    public init(from reader: inout CanonicalReader) throws {
        requestID = try reader.readString("request id")
        requesterKey = try reader.readBytes("requester key")
        proof = try reader.readBytes("proof")
        purpose = try reader.readString("purpose")
    }
}

/// What an owner's transfer service says it did with a redemption (sent, stored and printed
/// as the raw value).
public enum TransferStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case delivered
    case refused
}

/// `addTransfer`: the 4Wh record of one transfer (who: sender and receiver; what: lot, level,
/// number of records and the digest of their blob ids; where: the request's source; when: the
/// block time; how: status and purpose). The re-wrapped keys are not on the ledger.
public struct TransferRecord: Hashable, Sendable, CanonicalCodable {
    public var requestID: String
    /// The leaf of the `redeem` this transfer answers.
    public var redeemLeaf: UInt64
    public var receiver: String
    public var lot: String
    public var level: ABAC.Sensitivity
    public var recordCount: UInt32
    /// ``digest(of:)`` of the transferred blob ids.
    public var blobDigest: Digest32
    public var source: String
    public var status: TransferStatus
    public var purpose: String
    /// Why it was refused (empty when delivered).
    public var reason: String

    public init(
        requestID: String, redeemLeaf: UInt64, receiver: String, lot: String, level: ABAC.Sensitivity,
        recordCount: UInt32, blobDigest: Digest32, source: String, status: TransferStatus, purpose: String,
        reason: String = ""
    ) {
        self.requestID = requestID
        self.redeemLeaf = redeemLeaf
        self.receiver = receiver
        self.lot = lot
        self.level = level
        self.recordCount = recordCount
        self.blobDigest = blobDigest
        self.source = source
        self.status = status
        self.purpose = purpose
        self.reason = reason
    }

    /// SHA-256 over the sorted blob ids.
    public static func digest(of blobIDs: [Digest32]) -> Digest32 {
        var writer = CanonicalWriter(capacity: 32 * blobIDs.count + 32)
        writer.write("agritrace/v1/transfer-blobs", blobIDs.sorted())
        return Digest32.sha256(writer.bytes)
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(
            requestID, redeemLeaf, receiver, lot, level.rawValue, recordCount, blobDigest, source, status.rawValue,
            purpose,
            reason)
    }

    public init(from reader: inout CanonicalReader) throws {
        requestID = try reader.readString("request id")
        redeemLeaf = try reader.readUInt64("redeem leaf")
        receiver = try reader.readString("receiver")
        lot = try reader.readString("lot")
        level = try reader.readRawValue(ABAC.Sensitivity.self, "sensitivity level")
        recordCount = try reader.readUInt32("record count")
        blobDigest = try reader.read(Digest32.self)
        source = try reader.readString("source")
        status = try reader.readRawValue(TransferStatus.self, "status")
        purpose = try reader.readString("purpose")
        reason = try reader.readString("reason")
    }
}

/// `recordRead`: the requester's CLI records each fetch (provenance): which transfer, how many
/// records, which fields it showed, and whether every value verified against the ledger.
public struct ReadRecord: Hashable, Sendable, CanonicalCodable {
    public var requestID: String
    public var transferLeaf: UInt64
    public var recordCount: UInt32
    /// The fields shown (empty: all of them).
    public var fields: [String]
    /// `verified` or `mismatch`.
    public var outcome: String
    public var detail: String

    public init(
        requestID: String, transferLeaf: UInt64, recordCount: UInt32, fields: [String], outcome: String,
        detail: String
    ) {
        self.requestID = requestID
        self.transferLeaf = transferLeaf
        self.recordCount = recordCount
        self.fields = fields
        self.outcome = outcome
        self.detail = detail
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(requestID, transferLeaf, recordCount, fields, outcome, detail)
    }

    public init(from reader: inout CanonicalReader) throws {
        requestID = try reader.readString("request id")
        transferLeaf = try reader.readUInt64("transfer leaf")
        recordCount = try reader.readUInt32("record count")
        fields = try reader.readArray(String.self, "fields")
        outcome = try reader.readString("outcome")
        detail = try reader.readString("detail")
    }
}
