import BLS12381
import Crypto
import Foundation

/// Errors of the attribute-based cryptography in this module (decoding and parameter
/// mismatches). A non-matching TEST is not an error: ``ABSE/test(_:_:_:)`` returns nil.
public enum AccessCryptoError: Swift.Error, Equatable, Sendable {
    /// The bytes do not start with the expected magic / version tag.
    case invalidMagic
    /// The encoding is shorter or longer than its header says.
    case invalidLength
    /// A group element or scalar failed to decode (off curve, outside the subgroup, ≥ r, …).
    case invalidElement(BLS12381.Error)
    /// Two objects were made for different slot layouts (number of attribute slots).
    case slotCountMismatch(expected: Int, got: Int)
    /// A policy or attribute list has the wrong number of entries.
    case wrongAttributeCount(expected: Int, got: Int)
    /// Authenticated decryption failed (tampered ciphertext or a key from another setup).
    case authenticationFailed
    /// The CP-ABE key lacks an attribute the ciphertext's policy requires.
    case policyNotSatisfied
    /// A slot count outside 1...64.
    case unsupportedSlotCount(Int)
}

// MARK: - Byte helpers (canonical encodings)

struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func append(_ b: [UInt8]) { bytes += b }
    mutating func u16(_ v: Int) { bytes += [UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)] }
    mutating func u32(_ v: Int) {
        bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) }
    }
    /// A u32 length then the bytes.
    mutating func sized(_ b: [UInt8]) {
        u32(b.count)
        append(b)
    }
    /// An ABSE object's encoding: `magic`, the u16 slot count, then what `body` writes.
    static func abse(_ magic: [UInt8], slotCount: Int, _ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter()
        w.append(magic)
        w.u16(slotCount)
        body(&w)
        return w.bytes
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ b: some Collection<UInt8>) { bytes = Array(b) }

    mutating func take(_ n: Int) throws(AccessCryptoError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw .invalidLength }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
    mutating func magic(_ m: [UInt8]) throws(AccessCryptoError) {
        guard offset + m.count <= bytes.count, Array(bytes[offset..<offset + m.count]) == m else { throw .invalidMagic }
        offset += m.count
    }
    mutating func u16() throws(AccessCryptoError) -> Int {
        let b = try take(2)
        return Int(b[b.startIndex]) << 8 | Int(b[b.startIndex + 1])
    }
    mutating func u32() throws(AccessCryptoError) -> Int {
        let b = Array(try take(4))
        return Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
    }
    /// One point or scalar: its fixed number of bytes, decoded and checked.
    mutating func element<T: SerializedElement>(_: T.Type = T.self) throws(AccessCryptoError) -> T {
        let b = try take(T.serializedSize)
        do { return try T(bytes: b) } catch { throw .invalidElement(error) }
    }
    mutating func g1() throws(AccessCryptoError) -> BLS12381.G1 { try element() }
    mutating func g2() throws(AccessCryptoError) -> BLS12381.G2 { try element() }
    mutating func gt() throws(AccessCryptoError) -> BLS12381.GT { try element() }
    mutating func scalar() throws(AccessCryptoError) -> BLS12381.Scalar { try element() }
    func finish() throws(AccessCryptoError) {
        guard offset == bytes.count else { throw .invalidLength }
    }
    /// `count` elements one after the other.
    mutating func elements<T: SerializedElement>(_ count: Int, of _: T.Type = T.self) throws(AccessCryptoError) -> [T] {
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try element()) }
        return values
    }
    /// `rows` sequences of `columns` elements each (row-major).
    mutating func rows<T: SerializedElement>(_ rows: Int, of columns: Int) throws(AccessCryptoError) -> [[T]] {
        var values: [[T]] = []
        values.reserveCapacity(rows)
        for _ in 0..<rows { values.append(try elements(columns)) }
        return values
    }
    /// A u32 length then that many bytes of UTF-8.
    mutating func string() throws(AccessCryptoError) -> String {
        let length = try u32()
        guard let text = String(validating: Array(try take(length)), as: UTF8.self) else { throw .invalidLength }
        return text
    }
    /// The ABSE header: `magic`, then a u16 slot count of 1...64.
    mutating func slotCount(after magic: [UInt8]) throws(AccessCryptoError) -> Int {
        try self.magic(magic)
        let n = try u16()
        guard (1...64).contains(n) else { throw .unsupportedSlotCount(n) }
        return n
    }
    /// A whole ABSE object: the header, what `body` reads for its slot count, and no byte more.
    static func abse<T>(
        _ bytes: some Collection<UInt8>, _ magic: [UInt8],
        _ body: (_ slotCount: Int, inout ByteReader) throws(AccessCryptoError) -> T
    ) throws(AccessCryptoError) -> T {
        var r = ByteReader(bytes)
        let n = try r.slotCount(after: magic)
        let value = try body(n, &r)
        try r.finish()
        return value
    }
}

/// A fixed-size value of the serialized forms: a point or a scalar, read by
/// ``ByteReader/element(_:)``.
protocol SerializedElement {
    /// The length of the encoding in bytes.
    static var serializedSize: Int { get }
    /// Decodes and checks the encoding (on the curve, in the subgroup, below r, ...).
    init(bytes: some Collection<UInt8>) throws(BLS12381.Error)
}

extension BLS12381.G1: SerializedElement {
    static var serializedSize: Int { 48 }
}

extension BLS12381.G2: SerializedElement {
    static var serializedSize: Int { 96 }
}

extension BLS12381.GT: SerializedElement {
    static var serializedSize: Int { 576 }
}

extension BLS12381.Scalar: SerializedElement {
    static var serializedSize: Int { 32 }
}

// MARK: - Hashing and symmetric layer

enum Hashing {
    /// An attribute value of slot `slot` hashed to Fr: SHA-512(tag ‖ u16 slot ‖ u32 len ‖ value) mod r.
    static func scalar(tag: String, slot: Int, value: String) -> BLS12381.Scalar {
        var w = ByteWriter()
        let t = Array(tag.utf8)
        w.u16(t.count)
        w.append(t)
        w.u16(slot)
        w.sized(Array(value.utf8))
        return BLS12381.Scalar(reducing: Array(SHA512.hash(data: w.bytes)))
    }

    /// A 256-bit key from a GT element and a context: SHA-256(tag ‖ GT ‖ context).
    static func kemKey(tag: String, _ gt: BLS12381.GT, context: [UInt8]) -> SymmetricKey {
        var h = SHA256()
        h.update(data: Array(tag.utf8))
        h.update(data: gt.bytes)
        h.update(data: context)
        return SymmetricKey(data: Array(h.finalize()))
    }

    /// AES-256-GCM seal; output is nonce ‖ ciphertext ‖ tag.
    static func seal(_ message: [UInt8], key: SymmetricKey, aad: [UInt8]) -> [UInt8] {
        // AES.GCM.seal only throws for invalid nonce/key sizes, which cannot happen here.
        let box = try! AES.GCM.seal(message, using: key, authenticating: aad)
        return Array(box.combined!)
    }

    static func open(_ sealed: [UInt8], key: SymmetricKey, aad: [UInt8]) -> [UInt8]? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
            let plain = try? AES.GCM.open(box, using: key, authenticating: aad)
        else { return nil }
        return Array(plain)
    }
}

// MARK: - Linear algebra over Fr

enum FrMatrix {
    typealias S = BLS12381.Scalar

    /// A uniformly random invertible N×N matrix and the transpose of its inverse.
    static func randomDualPair(_ n: Int) -> (x: [[S]], dualT: [[S]]) {
        while true {
            let x = (0..<n).map { _ in (0..<n).map { _ in S.random() } }
            if let inv = inverse(x) {
                let t = (0..<n).map { i in (0..<n).map { j in inv[j][i] } }
                return (x, t)
            }
        }
    }

    /// Gauss–Jordan inverse (nil if singular). Runs on secret data; pivot choice depends
    /// only on whether entries are zero, which for a random matrix happens with
    /// probability ~N/r (negligible), so the control flow is data-independent in practice.
    static func inverse(_ m: [[S]]) -> [[S]]? {
        let n = m.count
        var a = m
        var inv = (0..<n).map { i in (0..<n).map { j in i == j ? S.one : S.zero } }
        for col in 0..<n {
            guard let p = (col..<n).first(where: { !a[$0][col].isZero }) else { return nil }
            if p != col { a.swapAt(p, col); inv.swapAt(p, col) }
            let f = a[col][col].inverse!
            for j in 0..<n { a[col][j] = a[col][j] * f; inv[col][j] = inv[col][j] * f }
            for r in 0..<n where r != col {
                let g = a[r][col]
                if g.isZero { continue }
                for j in 0..<n {
                    a[r][j] = a[r][j] - g * a[col][j]
                    inv[r][j] = inv[r][j] - g * inv[col][j]
                }
            }
        }
        return inv
    }
}
