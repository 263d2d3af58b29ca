import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A 32-byte SHA-256 digest, stored inline (no heap allocation).
public struct Digest32: Hashable, Sendable, Comparable, CustomStringConvertible {
    // Four words keep the value inline and make comparison cheap.
    @usableFromInline var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The all-zero digest (used as the previous hash of the genesis block).
    public static let zero = Digest32(w0: 0, w1: 0, w2: 0, w3: 0)

    @usableFromInline
    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        (self.w0, self.w1, self.w2, self.w3) = (w0, w1, w2, w3)
    }

    /// Creates a digest from exactly 32 bytes; returns nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for (index, byte) in bytes.enumerated() {
            let word = index / 8
            switch word {
            case 0: words.0 = words.0 << 8 | UInt64(byte)
            case 1: words.1 = words.1 << 8 | UInt64(byte)
            case 2: words.2 = words.2 << 8 | UInt64(byte)
            default: words.3 = words.3 << 8 | UInt64(byte)
            }
        }
        self.init(w0: words.0, w1: words.1, w2: words.2, w3: words.3)
    }

    /// Creates a digest from a swift-crypto SHA-256 digest.
    public init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { raw in
            func word(_ offset: Int) -> UInt64 {
                UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
            return Digest32(w0: word(0), w1: word(8), w2: word(16), w3: word(24))
        }
    }

    /// Parses 64 hexadecimal characters.
    public init?(hex: String) {
        guard let bytes = [UInt8](hexString: hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The 32 bytes, big-endian word order.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    /// Lower-case hexadecimal form.
    public var hex: String { bytes.hexString }

    public var description: String { hex }

    public static func < (lhs: Digest32, rhs: Digest32) -> Bool {
        (lhs.w0, lhs.w1, lhs.w2, lhs.w3) < (rhs.w0, rhs.w1, rhs.w2, rhs.w3)
    }

    /// Feeds the 32 bytes into a running hash without allocating.
    @inlinable
    public func update(_ hasher: inout SHA256) {
        withUnsafeBytes(of: (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)) {
            hasher.update(bufferPointer: $0)
        }
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: some DataProtocol) -> Digest32 {
        Digest32(SHA256.hash(data: bytes))
    }
}

extension Digest32: CanonicalCodable {
    public func encode(to writer: inout CanonicalWriter) {
        writer.write(w0)
        writer.write(w1)
        writer.write(w2)
        writer.write(w3)
    }

    public init(from reader: inout CanonicalReader) throws {
        self.init(
            w0: try reader.readUInt64("digest"),
            w1: try reader.readUInt64("digest"),
            w2: try reader.readUInt64("digest"),
            w3: try reader.readUInt64("digest")
        )
    }
}

extension Array where Element == UInt8 {
    /// Parses an even-length hexadecimal string; nil on any other character.
    public init?(hexString: String) {
        let utf8 = Array(hexString.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var index = 0
        while index < utf8.count {
            guard let hi = nibble(utf8[index]), let lo = nibble(utf8[index + 1]) else { return nil }
            out.append(hi << 4 | lo)
            index += 2
        }
        self = out
    }

    /// Lower-case hexadecimal form.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
