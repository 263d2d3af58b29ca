import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Chunked streaming AEAD for large sealed values: the STREAM construction (Hoang, Reyhanitabar,
/// Rogaway, Vizár; as in age and Tink's streaming AEAD) over AES-256-GCM.
///
/// Layout of a sealed stream:
///
/// ```
/// header (31 bytes) = "ATS1" ‖ segment size (UInt32, big-endian) ‖ salt (16) ‖ nonce prefix (7)
/// segment i         = AES-256-GCM(segment key, nonce_i, plaintext_i, aad: header) = ciphertext ‖ tag (16)
/// segment key       = HKDF-SHA256(data key, salt, info: "agritrace/v1/sealed-stream" ‖ record ‖ level)
/// nonce_i           = nonce prefix (7) ‖ i (UInt32, big-endian) ‖ last (1: 0x01 on the final segment, else 0x00)
/// ```
///
/// Every segment but the last holds exactly `segment size` plaintext bytes; the last holds 0 to
/// `segment size`. The counter in the nonce detects reordering and segment swaps, the last flag
/// detects truncation at a segment boundary (and extension), and the header is authenticated
/// as every segment's associated data. The key is bound to the record and level.
public enum SealedStream {
    /// The magic that opens every sealed stream.
    public static let magic: [UInt8] = Array("ATS1".utf8)
    /// The header length in bytes.
    public static let headerSize = 31
    /// The default plaintext bytes per segment (64 KiB).
    public static let defaultSegmentSize = 65536
    /// The largest segment size an opener accepts (bounds the memory one segment takes).
    public static let maximumSegmentSize = 1 << 20
    /// The AES-GCM tag length.
    public static let tagSize = 16

    /// The size of a sealed stream of `plaintextCount` bytes.
    public static func sealedSize(plaintextCount: Int, segmentSize: Int = defaultSegmentSize) -> Int {
        let segments = max(1, (plaintextCount + segmentSize - 1) / segmentSize)
        return headerSize + plaintextCount + segments * tagSize
    }

    /// Whether `prefix` (the first bytes of a blob) opens a sealed stream.
    public static func isStream(prefix: some Collection<UInt8>, size: Int) -> Bool {
        // A one-message blob is only made for values that fit one segment (or by an older agent,
        // whose random nonce begins with the magic with probability 2^-32: it then fails to open,
        // loudly, rather than being misread).
        size >= headerSize + tagSize && prefix.starts(with: magic)
    }

    static func segmentKey(dataKey: SymmetricKey, salt: [UInt8], record: RecordID, level: PrivacyLevel)
        -> SymmetricKey
    {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: dataKey, salt: salt,
            info: Sealing.context("agritrace/v1/sealed-stream", record: record, level: level), outputByteCount: 32)
    }

    static func nonce(prefix: [UInt8], counter: UInt32, last: Bool) -> AES.GCM.Nonce {
        var bytes = prefix
        bytes.append(UInt8(truncatingIfNeeded: counter >> 24))
        bytes.append(UInt8(truncatingIfNeeded: counter >> 16))
        bytes.append(UInt8(truncatingIfNeeded: counter >> 8))
        bytes.append(UInt8(truncatingIfNeeded: counter))
        bytes.append(last ? 1 : 0)
        return try! AES.GCM.Nonce(data: bytes)
    }

    /// Seals segment by segment: write ``header`` first, then ``seal(_:last:)`` each segment in
    /// order (every one but the last exactly ``segmentSize`` bytes).
    public struct Encryptor: Sendable {
        public let header: [UInt8]
        public let segmentSize: Int
        let key: SymmetricKey
        let prefix: [UInt8]
        var counter: UInt32 = 0
        var finished = false

        public init(
            dataKey: SymmetricKey, record: RecordID, level: PrivacyLevel, segmentSize: Int = defaultSegmentSize
        ) {
            precondition(segmentSize > 0 && segmentSize <= maximumSegmentSize, "segment size out of range")
            let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
            prefix = (0..<7).map { _ in UInt8.random(in: 0...255) }
            var header = magic
            let size = UInt32(segmentSize)
            header += [
                UInt8(size >> 24), UInt8(truncatingIfNeeded: size >> 16), UInt8(truncatingIfNeeded: size >> 8),
                UInt8(truncatingIfNeeded: size),
            ]
            header += salt
            header += prefix
            self.header = header
            self.segmentSize = segmentSize
            key = SealedStream.segmentKey(dataKey: dataKey, salt: salt, record: record, level: level)
        }

        /// Seals the next segment: `ciphertext ‖ tag`.
        public mutating func seal(_ segment: some DataProtocol, last: Bool) throws -> [UInt8] {
            precondition(!finished, "the last segment was sealed already")
            precondition(last ? segment.count <= segmentSize : segment.count == segmentSize, "segment size")
            let box = try AES.GCM.seal(
                segment, using: key, nonce: SealedStream.nonce(prefix: prefix, counter: counter, last: last),
                authenticating: header)
            guard counter < UInt32.max else { throw Sealing.Error.malformedPlaintext("too many segments") }
            counter += 1
            finished = last
            var out = [UInt8]()
            out.reserveCapacity(box.ciphertext.count + SealedStream.tagSize)
            out += box.ciphertext
            out += box.tag
            return out
        }

        /// Seals a whole plaintext in memory.
        public static func seal(
            _ plaintext: [UInt8], dataKey: SymmetricKey, record: RecordID, level: PrivacyLevel,
            segmentSize: Int = defaultSegmentSize
        ) throws -> [UInt8] {
            var encryptor = Encryptor(dataKey: dataKey, record: record, level: level, segmentSize: segmentSize)
            var out = encryptor.header
            out.reserveCapacity(sealedSize(plaintextCount: plaintext.count, segmentSize: segmentSize))
            var start = 0
            repeat {
                let end = min(start + segmentSize, plaintext.count)
                out += try encryptor.seal(plaintext[start..<end], last: end == plaintext.count)
                start = end
            } while start < plaintext.count
            return out
        }
    }

    /// Opens segment by segment, given the header and the sealed stream's total size.
    public struct Decryptor: Sendable {
        public let segmentSize: Int
        /// How many segments the stream has.
        public let segmentCount: Int
        let header: [UInt8]
        let key: SymmetricKey
        let prefix: [UInt8]
        let totalSize: Int
        var counter = 0

        public init(header: [UInt8], totalSize: Int, dataKey: SymmetricKey, record: RecordID, level: PrivacyLevel)
            throws(Sealing.Error)
        {
            guard header.count == headerSize, header.starts(with: magic) else {
                throw .malformedPlaintext("not a sealed stream header")
            }
            let size = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
            guard size > 0, size <= maximumSegmentSize else {
                throw .malformedPlaintext("segment size \(size) out of range")
            }
            let body = totalSize - headerSize
            guard body >= tagSize else { throw .truncated }
            segmentSize = size
            segmentCount = max(1, (body + size + tagSize - 1) / (size + tagSize))
            // A final segment must hold at least its tag.
            guard body - (segmentCount - 1) * (size + tagSize) >= tagSize else { throw .truncated }
            self.header = header
            self.totalSize = totalSize
            prefix = Array(header[24..<31])
            key = SealedStream.segmentKey(dataKey: dataKey, salt: Array(header[8..<24]), record: record, level: level)
        }

        /// The sealed length of the next segment (0 when every segment was opened).
        public var nextSegmentLength: Int {
            guard counter < segmentCount else { return 0 }
            if counter < segmentCount - 1 { return segmentSize + tagSize }
            return totalSize - headerSize - (segmentCount - 1) * (segmentSize + tagSize)
        }

        /// Opens the next segment (``nextSegmentLength`` bytes of `ciphertext ‖ tag`).
        public mutating func open(_ sealed: [UInt8]) throws(Sealing.Error) -> [UInt8] {
            guard counter < segmentCount else { throw .malformedPlaintext("data after the last segment") }
            guard sealed.count == nextSegmentLength else { throw .truncated }
            let last = counter == segmentCount - 1
            let split = sealed.count - tagSize
            do {
                let box = try AES.GCM.SealedBox(
                    nonce: SealedStream.nonce(prefix: prefix, counter: UInt32(counter), last: last),
                    ciphertext: sealed[..<split], tag: sealed[split...])
                let plaintext = try AES.GCM.open(box, using: key, authenticating: header)
                counter += 1
                return Array(plaintext)
            } catch {
                throw .segment(counter, of: segmentCount)
            }
        }

        /// Whether every segment was opened.
        public var isFinished: Bool { counter == segmentCount }
    }
}

/// Where a sealed blob's bytes come from, in order (a file, memory, a download).
public protocol BlobSource {
    /// The blob's total size in bytes.
    var size: Int { get }
    /// Reads exactly `count` bytes (fewer only at the end of the blob).
    mutating func read(_ count: Int) throws -> [UInt8]
}

/// A blob held in memory.
public struct BytesBlobSource: BlobSource {
    let bytes: [UInt8]
    var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var size: Int { bytes.count }

    public mutating func read(_ count: Int) throws -> [UInt8] {
        let end = min(offset + count, bytes.count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

/// A blob read from a file, a piece at a time (the file stays open until the source is closed).
public final class FileBlobSource: BlobSource {
    public let path: String
    public let size: Int
    let descriptor: Int32

    /// Opens `path` for reading.
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Sealing.Error.unreadable("cannot open \(path): errno \(errno)") }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            close(descriptor)
            throw Sealing.Error.unreadable("cannot stat \(path): errno \(errno)")
        }
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    public func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        try out.withUnsafeMutableBytes { raw in
            while filled < count {
                let n = Glibc.read(descriptor, raw.baseAddress! + filled, count - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Sealing.Error.unreadable("cannot read \(path): errno \(errno)")
                }
                if n == 0 { break }
                filled += n
            }
        }
        if filled < count { out.removeLast(count - filled) }
        return out
    }
}

/// The plaintext of a sealed blob, a segment at a time, with the SHA-256 of the ciphertext
/// computed as it is read (the blob id to check against the ledger once the stream ends).
/// A one-message blob (a value that fits one segment, or an older agent's) comes as one chunk.
public struct SealedBlobReader<Source: BlobSource> {
    var source: Source
    var decryptor: SealedStream.Decryptor?
    var pending: [UInt8]?
    var hasher = SHA256()
    public private(set) var plaintextBytes = 0

    /// Reads the header (or the whole one-message blob) and prepares to open it.
    public init(source: Source, dataKey: SymmetricKey, record: RecordID, level: PrivacyLevel) throws {
        self.source = source
        let size = source.size
        let head = try self.source.read(min(size, SealedStream.headerSize))
        hasher.update(data: head)
        if SealedStream.isStream(prefix: head, size: size) {
            decryptor = try SealedStream.Decryptor(
                header: head, totalSize: size, dataKey: dataKey, record: record, level: level)
        } else {
            var blob = head
            blob += try self.source.read(size - head.count)
            hasher.update(data: blob[head.count...])
            guard blob.count == size else { throw Sealing.Error.truncated }
            do {
                pending = Array(
                    try AES.GCM.open(
                        AES.GCM.SealedBox(combined: blob), using: dataKey,
                        authenticating: Sealing.context("agritrace/v1/sealed-fields", record: record, level: level)))
            } catch {
                throw Sealing.Error.decryptionFailed
            }
        }
    }

    /// The next plaintext chunk, or nil once the blob is read (every segment authenticated).
    public mutating func next() throws -> [UInt8]? {
        if let chunk = pending {
            pending = nil
            plaintextBytes += chunk.count
            return chunk
        }
        guard var decryptor, !decryptor.isFinished else { return nil }
        let length = decryptor.nextSegmentLength
        let sealed = try source.read(length)
        guard sealed.count == length else { throw Sealing.Error.truncated }
        hasher.update(data: sealed)
        let plaintext = try decryptor.open(sealed)
        self.decryptor = decryptor
        plaintextBytes += plaintext.count
        return plaintext
    }

    /// SHA-256 of every ciphertext byte read (the blob id once ``next()`` returned nil).
    public var blobID: Digest32 { Digest32(hasher.finalize()) }
}
