import Crypto

/// The on-ledger commitment to one privacy level of a record.
///
/// `root` is the RFC 9162 Merkle root over per-field commitments
/// `c_i = SHA-256("agritrace/v1/field-commitment" ‖ level ‖ key_i ‖ value_i ‖ s_i)`, where the
/// per-field salt `s_i = HMAC-SHA256(levelSalt, "agritrace/v1/field-salt" ‖ key_i)` derives from a
/// fresh 256-bit salt per record and level. Without the salts, the commitment reveals nothing
/// about low-entropy values; with one field's salt and audit path, that field alone can be
/// disclosed and checked (``FieldDisclosure``).
public struct LevelCommitment: Hashable, Sendable, CanonicalCodable {
    /// Which level this commits to (level-2 or level-1).
    public var level: PrivacyLevel
    /// The Merkle root over the field commitments.
    public var root: Digest32
    /// How many fields are committed.
    public var fieldCount: UInt32

    public init(level: PrivacyLevel, root: Digest32, fieldCount: UInt32) {
        self.level = level
        self.root = root
        self.fieldCount = fieldCount
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(level)
        writer.write(root)
        writer.write(fieldCount)
    }

    public init(from reader: inout CanonicalReader) throws {
        level = try reader.read(PrivacyLevel.self)
        root = try reader.read(Digest32.self)
        fieldCount = try reader.readUInt32("field count")
    }
}

/// Errors from checking private values against commitments.
public enum CommitmentError: Error, Hashable, Sendable, CustomStringConvertible {
    case levelMismatch(expected: PrivacyLevel, actual: PrivacyLevel)
    case fieldCountMismatch(expected: UInt32, actual: UInt32)
    case rootMismatch(level: PrivacyLevel)
    case unknownField(String)
    case invalidSalt
    case invalidProof(String)

    public var description: String {
        switch self {
        case .levelMismatch(let expected, let actual):
            "commitment is for \(expected.rawValue), values are \(actual.rawValue)"
        case .fieldCountMismatch(let expected, let actual): "commitment covers \(expected) fields, \(actual) were given"
        case .rootMismatch(let level): "the \(level.rawValue) values do not match the on-ledger commitment"
        case .unknownField(let key): "no field \(key) in these private values"
        case .invalidSalt: "a salt must be 32 bytes"
        case .invalidProof(let reason): "the disclosure proof is invalid: \(reason)"
        }
    }
}

/// The private values of one level of one record, with the salt they are committed under.
///
/// This is what the edge box keeps in its vault; it never goes to the cloud in the clear.
public struct PrivateFields: Hashable, Sendable, CanonicalCodable {
    public var level: PrivacyLevel
    /// The 32-byte random salt of this record and level.
    public var salt: [UInt8]
    /// The values, in canonical key order.
    public var entries: [FieldEntry]

    /// Creates private fields with a fresh random salt.
    public init(level: PrivacyLevel, entries: [FieldEntry]) {
        self.init(level: level, sortedEntries: entries.canonicallySorted(), salt: Self.freshSalt())
    }

    /// Creates private fields with a given salt (for tests and for re-opening stored values).
    public init(level: PrivacyLevel, entries: [FieldEntry], salt: [UInt8]) {
        self.init(level: level, sortedEntries: entries.canonicallySorted(), salt: salt)
    }

    /// Creates private fields from entries already in canonical key order (the classifier's
    /// path: it sorts once for all levels).
    init(level: PrivacyLevel, sortedEntries: [FieldEntry], salt: [UInt8]) {
        precondition(salt.count == 32, "salt must be 32 bytes")
        self.level = level
        self.salt = salt
        self.entries = sortedEntries
    }

    /// 32 random bytes from swift-crypto's generator, drawn through ``RandomPool`` (one system
    /// call per 128 salts).
    static func freshSalt() -> [UInt8] {
        RandomPool.bytes(32)
    }

    static let fieldSaltDomain = Array("agritrace/v1/field-salt".utf8)
    static let fieldCommitmentDomain = Array("agritrace/v1/field-commitment".utf8)

    /// The per-field salt of `key`.
    public func fieldSalt(for key: String) -> [UInt8] {
        Self.fieldSalt(levelSalt: salt, key: key)
    }

    static func fieldSalt(levelSalt: [UInt8], key: String) -> [UInt8] {
        var writer = CanonicalWriter(capacity: 64)
        return fieldSalt(keyed: SaltKey(key: levelSalt), key: key, scratch: &writer)
    }

    /// `HMAC-SHA256(levelSalt, domain ‖ key)` from an HMAC already keyed with the level salt
    /// (the key schedule is done once per record and level, not once per field).
    static func fieldSalt(keyed: SaltKey, key: String, scratch writer: inout CanonicalWriter) -> [UInt8] {
        writer.bytes.removeAll(keepingCapacity: true)
        writer.writeRaw(fieldSaltDomain)
        writer.write(key)
        return keyed.authenticationCode(for: writer.bytes).bytes
    }

    /// The commitment of one field value under its field salt.
    public static func fieldCommitment(level: PrivacyLevel, entry: FieldEntry, fieldSalt: [UInt8]) -> Digest32 {
        var writer = CanonicalWriter(capacity: 128)
        return fieldCommitment(level: level, entry: entry, fieldSalt: fieldSalt, scratch: &writer)
    }

    /// ``fieldCommitment(level:entry:fieldSalt:)`` reusing `writer`'s buffer.
    static func fieldCommitment(
        level: PrivacyLevel, entry: FieldEntry, fieldSalt: [UInt8], scratch writer: inout CanonicalWriter
    ) -> Digest32 {
        writer.bytes.removeAll(keepingCapacity: true)
        writer.writeRaw(fieldCommitmentDomain)
        writer.write(level)
        writer.write(entry)
        writer.writeBytes(fieldSalt)
        return Digest32.sha256(writer.bytes)
    }

    /// The leaf hashes of the commitment tree, in entry order: the level salt is keyed into
    /// HMAC once, and one scratch buffer serves every field.
    func leafHashes() -> [Digest32] {
        let keyed = SaltKey(key: salt)
        var saltScratch = CanonicalWriter(capacity: 64)
        var scratch = CanonicalWriter(capacity: 256)
        var hashes: [Digest32] = []
        hashes.reserveCapacity(entries.count)
        for entry in entries {
            let fieldSalt = Self.fieldSalt(keyed: keyed, key: entry.key, scratch: &saltScratch)
            hashes.append(
                MerkleTree.leafHash(
                    ofDigest: Self.fieldCommitment(level: level, entry: entry, fieldSalt: fieldSalt, scratch: &scratch))
            )
        }
        return hashes
    }

    /// The commitment that goes on the ledger.
    public func commitment() -> LevelCommitment {
        LevelCommitment(
            level: level, root: MerkleTree.root(leafHashes: leafHashes()), fieldCount: UInt32(entries.count))
    }

    /// Checks these values and salt against an on-ledger commitment.
    public func verify(against commitment: LevelCommitment) throws(CommitmentError) {
        guard commitment.level == level else { throw .levelMismatch(expected: commitment.level, actual: level) }
        guard commitment.fieldCount == UInt32(entries.count) else {
            throw .fieldCountMismatch(expected: commitment.fieldCount, actual: UInt32(entries.count))
        }
        guard MerkleTree.root(leafHashes: leafHashes()) == commitment.root else { throw .rootMismatch(level: level) }
    }

    /// Discloses one field with the proof that it is part of the commitment, revealing nothing
    /// about the other fields.
    public func disclose(key: String) throws(CommitmentError) -> FieldDisclosure {
        guard let index = entries.firstIndex(where: { $0.key == key }) else { throw .unknownField(key) }
        let path: [Digest32]
        do {
            path = try MerkleTree.inclusionProof(index: UInt64(index), leafHashes: leafHashes())
        } catch {
            throw .invalidProof("\(error)")
        }
        return FieldDisclosure(
            level: level, entry: entries[index], fieldSalt: fieldSalt(for: key), index: UInt32(index), path: path)
    }

    public func encode(to writer: inout CanonicalWriter) {
        writer.write(level)
        writer.writeBytes(salt)
        writer.write(entries)
    }

    public init(from reader: inout CanonicalReader) throws {
        level = try reader.read(PrivacyLevel.self)
        salt = try reader.readBytes("salt", count: 32)
        entries = try reader.readSortedEntries("private fields")
    }
}

/// One private field disclosed with its salt and its audit path in the level's commitment tree
/// (made by ``PrivateFields/disclose(key:)`` and by decoding).
public struct FieldDisclosure: Hashable, Sendable {
    public var level: PrivacyLevel
    public var entry: FieldEntry
    /// The field's own salt (derived; it reveals nothing about the other fields' salts).
    public var fieldSalt: [UInt8]
    /// The field's position among the level's fields.
    public var index: UInt32
    /// The audit path from the field's leaf to the root.
    public var path: [Digest32]

    /// Checks the disclosed value against an on-ledger commitment.
    public func verify(against commitment: LevelCommitment) throws(CommitmentError) {
        guard commitment.level == level else { throw .levelMismatch(expected: commitment.level, actual: level) }
        guard fieldSalt.count == 32 else { throw .invalidSalt }
        let leaf = MerkleTree.leafHash(
            ofDigest: PrivateFields.fieldCommitment(level: level, entry: entry, fieldSalt: fieldSalt))
        do {
            try MerkleTree.verifyInclusion(
                leafHash: leaf, index: UInt64(index), treeSize: UInt64(commitment.fieldCount), proof: path,
                root: commitment.root)
        } catch {
            throw .invalidProof("\(error)")
        }
    }
}

extension FieldDisclosure: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) {
        writer.write(level, entry, fieldSalt, index, path)
    }

    public init(from reader: inout CanonicalReader) throws {
        level = try reader.read(PrivacyLevel.self)
        entry = try reader.read(FieldEntry.self)
        fieldSalt = try reader.readBytes("field salt")
        index = try reader.readUInt32("index")
        path = try reader.readArray(Digest32.self, "path")
    }
}
