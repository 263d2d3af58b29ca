import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Encryption of a record's private values for off-chain storage and transfer.
///
/// The edge box seals each level's ``PrivateFields`` (values and salt) under a fresh 256-bit
/// data key with AES-256-GCM; the ciphertext is stored off-chain, addressed by its SHA-256
/// (``SealedPrivateFields/blobID``). Only the data key travels, wrapped to a recipient's
/// X25519 key with HPKE (RFC 9180, base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// AES-256-GCM) — ``WrappedDataKey``. A receiver opens the blob and checks every value against
/// the record's on-ledger commitment before trusting it.
public enum Sealing {
    /// Errors from sealing and opening.
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        case blobMismatch(expected: Digest32, actual: Digest32)
        case decryptionFailed
        case wrongRecord
        case malformedPlaintext(String)
        case commitment(CommitmentError)
        case noCommitment(PrivacyLevel)
        /// A sealed stream ends early (a segment or the final segment is missing).
        case truncated
        /// A segment of a sealed stream does not authenticate: altered, reordered, swapped or
        /// cut (segment `index` of `count`, counting from 0).
        case segment(Int, of: Int)
        /// The blob cannot be read.
        case unreadable(String)

        public var description: String {
            switch self {
            case .blobMismatch(let expected, let actual):
                "blob hash \(actual.hex) is not the expected \(expected.hex): the blob was altered or swapped"
            case .decryptionFailed: "the ciphertext or the data key does not authenticate"
            case .wrongRecord: "the sealed values belong to another record or level"
            case .malformedPlaintext(let reason): "the decrypted values are malformed: \(reason)"
            case .commitment(let error): "the decrypted values do not match the ledger: \(error)"
            case .noCommitment(let level): "the record has no \(level.rawValue) commitment"
            case .truncated: "the sealed stream is truncated: its final segment is missing or cut"
            case .segment(let index, let count):
                "segment \(index) of \(count) does not authenticate: the sealed stream was altered, reordered or cut"
            case .unreadable(let reason): reason
            }
        }
    }

    /// The HPKE ciphersuite used to wrap data keys.
    public static let ciphersuite = HPKE.Ciphersuite(
        kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .AES_GCM_256)

    static func context(_ domain: String, record: RecordID, level: PrivacyLevel) -> [UInt8] {
        var writer = CanonicalWriter(capacity: 64)
        writer.write(domain)
        writer.write(record)
        writer.write(level)
        return writer.bytes
    }
}

/// One level of one record's private values, encrypted under a data key.
public struct SealedPrivateFields: Hashable, Sendable {
    public var recordID: RecordID
    public var level: PrivacyLevel
    /// `nonce ‖ ciphertext ‖ tag` (AES-256-GCM combined form).
    public var blob: [UInt8]

    /// The content address of the blob: SHA-256 of its bytes (what the ledger records).
    public var blobID: Digest32 { Digest32.sha256(blob) }

    /// Seals private values under a fresh data key: values that fit one segment
    /// (``SealedStream/defaultSegmentSize``) as one AES-256-GCM message, larger ones as a
    /// ``SealedStream`` of segments, so a reader can open and verify them a segment at a time.
    /// - Returns: the sealed blob and the data key (to be wrapped for the owner and grantees).
    public static func seal(
        _ fields: PrivateFields, recordID: RecordID, segmentSize: Int = SealedStream.defaultSegmentSize
    ) throws -> (
        sealed: SealedPrivateFields, dataKey: SymmetricKey
    ) {
        let key = SymmetricKey(size: .bits256)
        let plaintext = Canonical.encode(fields)
        if plaintext.count > segmentSize {
            let blob = try SealedStream.Encryptor.seal(
                plaintext, dataKey: key, record: recordID, level: fields.level, segmentSize: segmentSize)
            return (SealedPrivateFields(recordID: recordID, level: fields.level, blob: blob), key)
        }
        let box = try AES.GCM.seal(
            plaintext, using: key,
            authenticating: Sealing.context("agritrace/v1/sealed-fields", record: recordID, level: fields.level))
        return (SealedPrivateFields(recordID: recordID, level: fields.level, blob: Array(box.combined!)), key)
    }

    public init(recordID: RecordID, level: PrivacyLevel, blob: [UInt8]) {
        self.recordID = recordID
        self.level = level
        self.blob = blob
    }

    /// Opens the blob and checks the values against the record's commitment.
    /// - Parameters:
    ///   - dataKey: the unwrapped data key.
    ///   - record: the record as read from the ledger.
    ///   - expectedBlobID: the blob hash the ledger records, if any.
    public func open(dataKey: SymmetricKey, record: Record, expectedBlobID: Digest32? = nil) throws(Sealing.Error)
        -> PrivateFields
    {
        if let expectedBlobID, expectedBlobID != blobID {
            throw .blobMismatch(expected: expectedBlobID, actual: blobID)
        }
        guard record.id == recordID else { throw .wrongRecord }
        guard let commitment = record.commitment(for: level) else { throw .noCommitment(level) }
        var plaintext: [UInt8] = []
        do {
            var reader = try SealedBlobReader(
                source: BytesBlobSource(blob), dataKey: dataKey, record: recordID, level: level)
            while let chunk = try reader.next() { plaintext += chunk }
        } catch let error as Sealing.Error {
            throw error
        } catch {
            throw .decryptionFailed
        }
        let fields: PrivateFields
        do {
            fields = try Canonical.decode(PrivateFields.self, from: plaintext)
        } catch {
            throw .malformedPlaintext("\(error)")
        }
        guard fields.level == level else { throw .wrongRecord }
        do {
            try fields.verify(against: commitment)
        } catch {
            throw .commitment(error)
        }
        return fields
    }
}

/// A data key wrapped to one recipient's X25519 public key with HPKE (RFC 9180, base mode).
public struct WrappedDataKey: Hashable, Sendable, CanonicalCodable {
    public var recordID: RecordID
    public var level: PrivacyLevel
    /// The HPKE encapsulated key (ephemeral X25519 public key).
    public var encapsulatedKey: [UInt8]
    /// The AES-256-GCM ciphertext of the data key.
    public var ciphertext: [UInt8]

    /// Wraps `dataKey` for `recipient`, bound to the record and level.
    public static func wrap(
        _ dataKey: SymmetricKey, recordID: RecordID, level: PrivacyLevel,
        for recipient: Curve25519.KeyAgreement.PublicKey
    ) throws -> WrappedDataKey {
        var sender = try HPKE.Sender(
            recipientKey: recipient, ciphersuite: Sealing.ciphersuite,
            info: Data(Sealing.context("agritrace/v1/data-key", record: recordID, level: level)))
        let ciphertext = try dataKey.withUnsafeBytes { try sender.seal(Data($0)) }
        return WrappedDataKey(
            recordID: recordID, level: level, encapsulatedKey: Array(sender.encapsulatedKey),
            ciphertext: Array(ciphertext))
    }

    public init(recordID: RecordID, level: PrivacyLevel, encapsulatedKey: [UInt8], ciphertext: [UInt8]) {
        self.recordID = recordID
        self.level = level
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
    }

    /// Unwraps the data key with the recipient's private key.
    public func unwrap(with privateKey: Curve25519.KeyAgreement.PrivateKey) throws(Sealing.Error) -> SymmetricKey {
        do {
            var recipient = try HPKE.Recipient(
                privateKey: privateKey, ciphersuite: Sealing.ciphersuite,
                info: Data(Sealing.context("agritrace/v1/data-key", record: recordID, level: level)),
                encapsulatedKey: Data(encapsulatedKey))
            let key = try recipient.open(Data(ciphertext))
            guard key.count == 32 else { throw Sealing.Error.decryptionFailed }
            return SymmetricKey(data: key)
        } catch {
            throw .decryptionFailed
        }
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(recordID)
        writer.write(level)
        writer.writeBytes(encapsulatedKey)
        writer.writeBytes(ciphertext)
    }

    public init(from reader: inout CanonicalReader) throws {
        recordID = try reader.read(RecordID.self)
        level = try reader.read(PrivacyLevel.self)
        encapsulatedKey = try reader.readBytes("encapsulated key")
        ciphertext = try reader.readBytes("wrapped key")
    }
}
