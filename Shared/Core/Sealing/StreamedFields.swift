import Crypto

/// Receives the values of a sealed blob as ``StreamedFields/open(_:record:level:expectedBlobID:disclose:into:)``
/// reads them: short values whole, long text values in chunks. Nothing it receives is
/// verified until `open` returns: write to a temporary place and publish only then.
public protocol PrivateValueSink {
    /// A value held whole (its ``FieldValue/display``; series and tracks as their sample count).
    mutating func field(_ key: String, display: String) throws
    /// A long text value of `byteCount` UTF-8 bytes begins; ``text(_:)`` chunks follow.
    mutating func beginText(_ key: String, byteCount: Int) throws
    /// The next chunk of the current long text value (whole characters).
    mutating func text(_ chunk: String) throws
    /// The current long text value ends.
    mutating func endText() throws
}

/// What a streamed open verified.
public struct StreamedFields: Sendable {
    public var level: PrivacyLevel
    /// The field keys, in canonical order.
    public var keys: [String]
    /// SHA-256 of the ciphertext (equal to the ledger's blob id).
    public var blobID: Digest32
    /// Plaintext bytes opened.
    public var plaintextBytes: Int
    /// The fields asked for with `disclose` whose audit path verified against the commitment.
    public var disclosed: [String]
}

extension StreamedFields {
    /// Text values longer than this go to the sink in chunks instead of whole.
    public static let wholeValueLimit = 65536

    /// Opens a sealed blob a segment at a time and checks it against the record on the ledger
    /// without holding it whole: the canonical encoding of ``PrivateFields`` is parsed as it is
    /// decrypted, each field's commitment hashed as its bytes pass, and at the end the Merkle
    /// root is compared with the record's commitment and the SHA-256 of the ciphertext with the
    /// blob id the ledger records. Memory: one segment, one field key, the field hashes.
    /// - Parameter disclose: fields whose audit path to check against the commitment too.
    public static func open<Source: BlobSource, Sink: PrivateValueSink>(
        _ reader: SealedBlobReader<Source>, record: Record, level: PrivacyLevel, expectedBlobID: Digest32?,
        disclose: [String] = [], into sink: inout Sink
    ) throws -> StreamedFields {
        guard let commitment = record.commitment(for: level) else { throw Sealing.Error.noCommitment(level) }
        var cursor = PlaintextCursor(reader: reader)
        var fields = try FieldCommitments(header: &cursor, level: level, commitment: commitment)
        for _ in 0..<fields.count { try fields.open(next: &cursor, into: &sink) }
        try cursor.finish()
        let blobID = cursor.reader.blobID
        if let expectedBlobID, expectedBlobID != blobID {
            throw Sealing.Error.blobMismatch(expected: expectedBlobID, actual: blobID)
        }
        guard MerkleTree.root(leafHashes: fields.leaves) == commitment.root else {
            throw Sealing.Error.commitment(.rootMismatch(level: level))
        }
        return StreamedFields(
            level: level, keys: fields.keys, blobID: blobID, plaintextBytes: cursor.reader.plaintextBytes,
            disclosed: try fields.verifyDisclosed(disclose, root: commitment.root))
    }

    /// The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence.
    static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
        var index = bytes.count - 1
        var continuation = 0
        while index >= 0, continuation < 3, bytes[index] & 0xC0 == 0x80 {
            index -= 1
            continuation += 1
        }
        guard index >= 0 else { return bytes.count }
        let lead = bytes[index]
        let needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return bytes.count - index < needed ? index : bytes.count
    }
}

/// The field commitments of a streamed open, hashed field by field as the plaintext passes:
/// the header's level, salt and count, then each field's key and value into its leaf hash.
struct FieldCommitments {
    let levelByte: [UInt8]
    let keyedSalt: SaltKey
    let count: Int
    var saltScratch = CanonicalWriter(capacity: 64)
    var leaves: [Digest32] = []
    var keys: [String] = []

    /// Reads the plaintext's header (level, salt, field count) and checks it against the record.
    init<Source: BlobSource>(
        header cursor: inout PlaintextCursor<Source>, level: PrivacyLevel, commitment: LevelCommitment
    ) throws {
        levelByte = try cursor.take(1, "level")
        guard let sealedLevel = try? Canonical.decode(PrivacyLevel.self, from: levelByte), sealedLevel == level else {
            throw Sealing.Error.wrongRecord
        }
        guard try cursor.uint32("salt length") == 32 else { throw Self.malformed("the salt is not 32 bytes") }
        keyedSalt = SaltKey(key: try cursor.take(32, "salt"))
        count = Int(try cursor.uint32("field count"))
        guard count == Int(commitment.fieldCount) else {
            throw Sealing.Error.commitment(
                .fieldCountMismatch(expected: commitment.fieldCount, actual: UInt32(clamping: count)))
        }
        leaves.reserveCapacity(count)
        keys.reserveCapacity(count)
    }

    static func malformed(_ reason: String) -> Sealing.Error { .malformedPlaintext(reason) }

    /// Reads the next field, hands its value to `sink` and appends its leaf hash.
    mutating func open<Source: BlobSource, Sink: PrivateValueSink>(
        next cursor: inout PlaintextCursor<Source>, into sink: inout Sink
    ) throws {
        var hasher = SHA256()
        hasher.update(data: PrivateFields.fieldCommitmentDomain)
        hasher.update(data: levelByte)
        let key = try readKey(&cursor, into: &hasher)
        let tag = try cursor.take(1, "field value")
        hasher.update(data: tag)
        var value = tag
        switch tag[0] {
        case 1: value += try Self.text(key, &cursor, into: &hasher, sink: &sink)
        case 2, 3: value += try cursor.take(8, "value")
        case 4: value += try cursor.take(1, "value")
        case 5, 6: try Self.samples(key, series: tag[0] == 5, &cursor, into: &hasher, sink: &sink)
        default: throw Self.malformed("field \(key) has value tag \(tag[0])")
        }
        if value.count > 1 {
            hasher.update(data: value[1...])
            let decoded: FieldValue
            do {
                decoded = try Canonical.decode(FieldValue.self, from: value)
            } catch {
                throw Self.malformed("field \(key): \(error)")
            }
            try sink.field(key, display: decoded.display)
        }
        let fieldSalt = PrivateFields.fieldSalt(keyed: keyedSalt, key: key, scratch: &saltScratch)
        var saltEncoding = CanonicalWriter(capacity: 36)
        saltEncoding.writeBytes(fieldSalt)
        hasher.update(data: saltEncoding.bytes)
        leaves.append(MerkleTree.leafHash(ofDigest: Digest32(hasher.finalize())))
        keys.append(key)
    }

    /// The field's key, checked to be UTF-8 and after the previous key.
    func readKey<Source: BlobSource>(_ cursor: inout PlaintextCursor<Source>, into hasher: inout SHA256) throws
        -> String
    {
        let keyLength = try cursor.take(4, "field key length")
        let length = keyLength.reduce(0) { $0 << 8 | Int($1) }
        guard length <= 4096 else { throw Self.malformed("a field key of \(length) bytes") }
        let keyBytes = try cursor.take(length, "field key")
        guard let key = String(validating: keyBytes, as: UTF8.self) else {
            throw Self.malformed("a field key is not UTF-8")
        }
        if let previous = keys.last, !previous.utf8.lexicographicallyPrecedes(key.utf8) {
            throw Self.malformed("field \(key) is not after \(previous)")
        }
        hasher.update(data: keyLength)
        hasher.update(data: keyBytes)
        return key
    }

    /// A text value: its length and bytes to decode whole, or, past
    /// ``StreamedFields/wholeValueLimit``, streamed to `sink` in whole characters (returns no bytes).
    static func text<Source: BlobSource, Sink: PrivateValueSink>(
        _ key: String, _ cursor: inout PlaintextCursor<Source>, into hasher: inout SHA256, sink: inout Sink
    ) throws -> [UInt8] {
        let lengthBytes = try cursor.take(4, "text length")
        let textLength = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard textLength > StreamedFields.wholeValueLimit else {
            return lengthBytes + (try cursor.take(textLength, "text value"))
        }
        hasher.update(data: lengthBytes)
        try sink.beginText(key, byteCount: textLength)
        var carry: [UInt8] = []
        try cursor.stream(textLength, "text value") { slice in
            hasher.update(data: slice)
            var bytes = carry
            bytes += slice
            let cut = StreamedFields.completeUTF8Prefix(bytes)
            guard let text = String(validating: bytes[..<cut], as: UTF8.self) else {
                throw malformed("field \(key) is not UTF-8")
            }
            carry = Array(bytes[cut...])
            if !text.isEmpty { try sink.text(text) }
        }
        guard carry.isEmpty else { throw malformed("field \(key) is not UTF-8") }
        try sink.endText()
        return []
    }

    /// Series (`series`) and tracks: element by element, each checked; only the count goes to `sink`.
    static func samples<Source: BlobSource, Sink: PrivateValueSink>(
        _ key: String, series: Bool, _ cursor: inout PlaintextCursor<Source>, into hasher: inout SHA256,
        sink: inout Sink
    ) throws {
        let countBytes = try cursor.take(4, "sample count")
        hasher.update(data: countBytes)
        let samples = countBytes.reduce(0) { $0 << 8 | Int($1) }
        for _ in 0..<samples {
            var element = try cursor.take(8, "sample time")
            if series {
                element += try cursor.lengthPrefixed("sample type")
                element += try cursor.take(8, "sample value")
                element += try cursor.lengthPrefixed("sample unit")
                guard (try? Canonical.decode(SensorSample.self, from: element)) != nil else {
                    throw malformed("a sample of field \(key) is malformed")
                }
            } else {
                element += try cursor.take(16, "position")
                guard (try? Canonical.decode(GeoSample.self, from: element)) != nil else {
                    throw malformed("a position of field \(key) is malformed")
                }
            }
            hasher.update(data: element)
        }
        try sink.field(key, display: series ? "\(samples) samples" : "\(samples) positions")
    }

    /// The fields of `names` found in the blob, each after its audit path to `root` verified.
    func verifyDisclosed(_ names: [String], root: Digest32) throws -> [String] {
        var disclosed: [String] = []
        for name in names {
            guard let index = keys.firstIndex(of: name) else { continue }
            do {
                let path = try MerkleTree.inclusionProof(index: UInt64(index), leafHashes: leaves)
                try MerkleTree.verifyInclusion(
                    leafHash: leaves[index], index: UInt64(index), treeSize: UInt64(count), proof: path, root: root)
            } catch {
                throw Sealing.Error.commitment(.invalidProof("field \(name): \(error)"))
            }
            disclosed.append(name)
        }
        return disclosed
    }
}

/// A pull parser's view of a sealed blob's plaintext: whole small items, or a long item in
/// the chunks it was decrypted in.
struct PlaintextCursor<Source: BlobSource> {
    var reader: SealedBlobReader<Source>
    var chunk: [UInt8] = []
    var position = 0

    init(reader: SealedBlobReader<Source>) { self.reader = reader }

    mutating func available() throws -> Bool {
        while position == chunk.count {
            guard let next = try reader.next() else { return false }
            chunk = next
            position = 0
        }
        return true
    }

    mutating func take(_ count: Int, _ context: String) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try stream(count, context) { out += $0 }
        return out
    }

    mutating func uint32(_ context: String) throws -> UInt32 {
        try take(4, context).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A length-prefixed item (prefix included), at most 64 KiB.
    mutating func lengthPrefixed(_ context: String) throws -> [UInt8] {
        var bytes = try take(4, context)
        let length = bytes.reduce(0) { $0 << 8 | Int($1) }
        guard length <= 65536 else { throw Sealing.Error.malformedPlaintext("\(context) of \(length) bytes") }
        bytes += try take(length, context)
        return bytes
    }

    mutating func stream(_ count: Int, _ context: String, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var left = count
        while left > 0 {
            guard try available() else { throw Sealing.Error.malformedPlaintext("the values end inside \(context)") }
            let n = min(left, chunk.count - position)
            try body(chunk[position..<(position + n)])
            position += n
            left -= n
        }
    }

    mutating func finish() throws {
        if try available() { throw Sealing.Error.malformedPlaintext("bytes after the last field") }
    }
}
