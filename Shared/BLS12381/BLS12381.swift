// Public API of the BLS12-381 pairing library.

/// The BLS12-381 pairing-friendly curve: groups G1, G2 and GT of prime order r, the scalar
/// field, the optimal ate pairing and RFC 9380 hashing to the curve.
///
/// ```swift
/// let a = BLS12381.Scalar.random()
/// let p = BLS12381.G1.generator * a
/// let e = BLS12381.pairing(p, BLS12381.G2.generator)
/// ```
public enum BLS12381 {
    /// Errors raised when decoding scalars, points and GT elements.
    public enum Error: Swift.Error, Equatable, Sendable {
        /// The input has the wrong number of bytes.
        case invalidLength(expected: Int, actual: Int)
        /// The flag bits (compression, infinity, sign) are inconsistent with the encoding.
        case invalidFlags
        /// The point at infinity is encoded with non-zero coordinate bits.
        case nonCanonicalInfinity
        /// A coordinate is not below the field modulus p.
        case coordinateNotInField
        /// A compressed x coordinate has no matching y on the curve.
        case noSquareRoot
        /// The point is not on the curve.
        case notOnCurve
        /// The point is on the curve but not in the prime-order subgroup.
        case notInSubgroup
        /// A scalar is not below the group order r.
        case scalarOutOfRange
        /// A GT encoding is not an element of the order-r subgroup of Fp12*.
        case notInGT
    }

    /// The order r of G1, G2 and GT, big-endian.
    public static let orderBytes: [UInt8] = [
        0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
        0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
    ]

    /// The default RFC 9380 domain separation tags.
    public static let defaultG1Domain = Array("BLS12381G1_XMD:SHA-256_SSWU_RO_".utf8)
    public static let defaultG2Domain = Array("BLS12381G2_XMD:SHA-256_SSWU_RO_".utf8)
}

// MARK: Scalar

extension BLS12381 {
    /// An element of the scalar field Fr (integers modulo the group order r).
    public struct Scalar: Sendable, Hashable {
        var value: Fr

        init(value: Fr) { self.value = value }

        /// The scalar zero.
        public static let zero = Scalar(value: .zero)
        /// The scalar one.
        public static let one = Scalar(value: .one)

        /// Creates a scalar from a small integer.
        /// - Parameter v: the integer.
        public init(_ v: UInt64) { value = Fr(v) }

        /// A uniformly random scalar from `SystemRandomNumberGenerator`.
        /// - Returns: a scalar in [0, r).
        public static func random() -> Scalar {
            var rng = SystemRandomNumberGenerator()
            return random(using: &rng)
        }

        /// A uniformly random scalar (64 random bytes reduced modulo r; bias below 2^-256).
        /// - Parameter rng: the random source.
        /// - Returns: a scalar in [0, r).
        public static func random<R: RandomNumberGenerator>(using rng: inout R) -> Scalar {
            var wide = [UInt8](repeating: 0, count: 64)
            for i in stride(from: 0, to: 64, by: 8) {
                let w = rng.next()
                for j in 0..<8 { wide[i + j] = UInt8(truncatingIfNeeded: w >> UInt64(8 * j)) }
            }
            return Scalar(reducing: wide)
        }

        /// Decodes 32 big-endian bytes holding a value below r.
        /// - Parameter bytes: the canonical encoding.
        /// - Throws: `BLS12381.Error.invalidLength` or `.scalarOutOfRange`.
        public init(bytes: some Collection<UInt8>) throws(BLS12381.Error) {
            let b = Array(bytes)
            guard b.count == 32 else { throw .invalidLength(expected: 32, actual: b.count) }
            let raw = b.withUnsafeBytes { r in
                Fr(loadBE(r, 24), loadBE(r, 16), loadBE(r, 8), loadBE(r, 0))
            }
            guard Fr.isCanonical(raw) else { throw .scalarOutOfRange }
            value = Fr.mul(raw, .r2)
        }

        /// Reduces an arbitrary big-endian byte string (at most 64 bytes) modulo r.
        /// - Parameter bytes: up to 64 bytes, big-endian.
        public init(reducing bytes: some Collection<UInt8>) {
            let b = Array(bytes)
            precondition(b.count <= 64, "Scalar(reducing:) takes at most 64 bytes")
            let wide = [UInt8](repeating: 0, count: 64 - b.count) + b
            value = wide.withUnsafeBytes { Fr.fromWideBytes($0) }
        }

        /// 32 big-endian bytes.
        public var bytes: [UInt8] {
            let c = value.canonical
            var out = [UInt8]()
            out.reserveCapacity(32)
            storeBE(c.l3, into: &out)
            storeBE(c.l2, into: &out)
            storeBE(c.l1, into: &out)
            storeBE(c.l0, into: &out)
            return out
        }

        /// Whether the scalar is zero.
        public var isZero: Bool { value.isZero }

        var limbs: (UInt64, UInt64, UInt64, UInt64) {
            let c = value.canonical
            return (c.l0, c.l1, c.l2, c.l3)
        }

        /// Sum modulo r.
        public static func + (a: Scalar, b: Scalar) -> Scalar { Scalar(value: a.value + b.value) }
        /// Difference modulo r.
        public static func - (a: Scalar, b: Scalar) -> Scalar { Scalar(value: a.value - b.value) }
        /// Product modulo r.
        public static func * (a: Scalar, b: Scalar) -> Scalar { Scalar(value: a.value * b.value) }
        /// Additive inverse modulo r.
        public static prefix func - (a: Scalar) -> Scalar { Scalar(value: -a.value) }

        /// The multiplicative inverse (constant time), or nil for zero.
        public var inverse: Scalar? { isZero ? nil : Scalar(value: value.inverse()) }

        public static func == (a: Scalar, b: Scalar) -> Bool { a.value == b.value }
        public func hash(into h: inout Hasher) { h.combine(bytes) }
    }
}

// MARK: Point encoding helpers

func decodeFlags(_ first: UInt8) -> (compressed: Bool, infinity: Bool, sort: Bool) {
    (first & 0x80 != 0, first & 0x40 != 0, first & 0x20 != 0)
}

/// Reads field element i (48 bytes) from an encoding, masking the flag bits in the first.
func readFp(_ b: [UInt8], _ i: Int) -> Fp? {
    var chunk = Array(b[(48 * i)..<(48 * i + 48)])
    if i == 0 { chunk[0] &= 0x1f }
    return chunk.withUnsafeBytes { Fp.fromBytes($0) }
}

func checkInfinity(_ b: [UInt8], flags: (compressed: Bool, infinity: Bool, sort: Bool))
    throws(BLS12381.Error)
{
    guard !flags.sort else { throw .invalidFlags }
    guard b[0] & 0x1f == 0, b.dropFirst().allSatisfy({ $0 == 0 }) else { throw .nonCanonicalInfinity }
}

// MARK: G1

extension BLS12381 {
    /// A point of G1, the order-r subgroup of E(Fp): y^2 = x^3 + 4.
    public struct G1: Sendable, Hashable, CustomStringConvertible {
        var p: ProjectivePoint<G1Params>

        init(_ p: ProjectivePoint<G1Params>) { self.p = p }

        /// The standard generator.
        public static let generator = G1(AffinePoint<G1Params>(x: Consts.g1x, y: Consts.g1y).projective)
        /// The identity (point at infinity).
        public static let identity = G1(.identity)

        /// Whether this is the identity.
        public var isIdentity: Bool { p.isIdentity }

        /// Point addition.
        public static func + (a: G1, b: G1) -> G1 { G1(a.p + b.p) }
        /// Point subtraction.
        public static func - (a: G1, b: G1) -> G1 { G1(a.p - b.p) }
        /// Point negation.
        public static prefix func - (a: G1) -> G1 { G1(a.p.negated()) }
        /// Doubling.
        public func doubled() -> G1 { G1(p.doubled()) }

        /// Scalar multiplication, constant time in the scalar (4-bit window, masked table scan).
        /// - Parameters:
        ///   - a: the point.
        ///   - k: the secret scalar.
        /// - Returns: k * a.
        public static func * (a: G1, k: Scalar) -> G1 { G1(a.p.multiplied(by: k.limbs)) }

        /// k * generator from a precomputed fixed-base table (constant time in k).
        /// - Parameter k: the scalar.
        /// - Returns: k * G1.generator.
        public static func generatorMultiple(_ k: Scalar) -> G1 { G1(fixedBaseG1.multiply(k.limbs)) }

        /// Hashes a message to G1 (RFC 9380, BLS12381G1_XMD:SHA-256_SSWU_RO_).
        /// - Parameters:
        ///   - message: the message bytes.
        ///   - domain: the domain separation tag.
        /// - Returns: a point of G1.
        public static func hash(toCurve message: some Collection<UInt8>, domain: some Collection<UInt8>)
            -> G1
        {
            G1(hashToG1(Array(message), dst: Array(domain)))
        }

        /// 48-byte compressed encoding (zkcrypto / IETF flag bits).
        public var compressed: [UInt8] {
            let a = p.affine
            if a.infinity { return [0xc0] + [UInt8](repeating: 0, count: 47) }
            var out = [UInt8]()
            out.reserveCapacity(48)
            a.x.appendBytes(to: &out)
            out[0] |= 0x80
            if a.y.isLexicographicallyLargest { out[0] |= 0x20 }
            return out
        }

        /// The 48-byte compressed encodings of `points`, concatenated in order; the same bytes
        /// as joining each point's `compressed`, with one field inversion for all the points
        /// (Montgomery's trick) instead of one per point.
        /// - Parameter points: the points (identities allowed).
        /// - Returns: 48 · `points.count` bytes.
        public static func compressed(_ points: [G1]) -> [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(48 * points.count)
            for a in batchAffine(points.map(\.p)) {
                if a.infinity {
                    out.append(0xc0)
                    out.append(contentsOf: repeatElement(0, count: 47))
                    continue
                }
                let start = out.count
                a.x.appendBytes(to: &out)
                out[start] |= 0x80
                if a.y.isLexicographicallyLargest { out[start] |= 0x20 }
            }
            return out
        }

        /// 96-byte uncompressed encoding x || y.
        public var uncompressed: [UInt8] {
            let a = p.affine
            if a.infinity { return [0x40] + [UInt8](repeating: 0, count: 95) }
            var out = [UInt8]()
            out.reserveCapacity(96)
            a.x.appendBytes(to: &out)
            a.y.appendBytes(to: &out)
            return out
        }

        /// Decodes a 48-byte compressed or 96-byte uncompressed point and checks that it is
        /// on the curve and in the subgroup.
        /// - Parameter bytes: the encoding.
        /// - Throws: a `BLS12381.Error` naming the first problem found.
        public init(bytes: some Collection<UInt8>) throws(BLS12381.Error) {
            let b = Array(bytes)
            guard b.count == 48 || b.count == 96 else {
                throw .invalidLength(expected: 48, actual: b.count)
            }
            let flags = decodeFlags(b[0])
            guard flags.compressed == (b.count == 48) else { throw .invalidFlags }
            if flags.infinity {
                try checkInfinity(b, flags: flags)
                self = .identity
                return
            }
            guard let x = readFp(b, 0) else { throw .coordinateNotInField }
            let a: AffinePoint<G1Params>
            if flags.compressed {
                guard let y0 = (x.square() * x + G1Params.b).sqrt() else { throw .noSquareRoot }
                let y = y0.isLexicographicallyLargest == flags.sort ? y0 : -y0
                a = AffinePoint(x: x, y: y)
            } else {
                guard !flags.sort else { throw .invalidFlags }
                guard let y = readFp(b, 1) else { throw .coordinateNotInField }
                a = AffinePoint(x: x, y: y)
                guard a.isOnCurve else { throw .notOnCurve }
            }
            let pp = a.projective
            guard pp.isTorsionFree else { throw .notInSubgroup }
            p = pp
        }

        /// Whether the point lies in the order-r subgroup (always true for values of this type
        /// built through the public API; exposed for tests and callers that want to re-check).
        public var isInSubgroup: Bool { p.isTorsionFree }

        public static func == (a: G1, b: G1) -> Bool { a.p == b.p }
        public func hash(into h: inout Hasher) { h.combine(compressed) }
        public var description: String { "G1(" + compressed.map { String(format2($0)) }.joined() + ")" }
    }
}

func format2(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return s.count == 1 ? "0" + s : s
}

// MARK: G2

extension BLS12381 {
    /// A point of G2, the order-r subgroup of the sextic twist E'(Fp2): y^2 = x^3 + 4(u+1).
    public struct G2: Sendable, Hashable, CustomStringConvertible {
        var p: ProjectivePoint<G2Params>

        init(_ p: ProjectivePoint<G2Params>) { self.p = p }

        /// The standard generator.
        public static let generator = G2(AffinePoint<G2Params>(x: Consts.g2x, y: Consts.g2y).projective)
        /// The identity (point at infinity).
        public static let identity = G2(.identity)

        /// Whether this is the identity.
        public var isIdentity: Bool { p.isIdentity }

        /// Point addition.
        public static func + (a: G2, b: G2) -> G2 { G2(a.p + b.p) }
        /// Point subtraction.
        public static func - (a: G2, b: G2) -> G2 { G2(a.p - b.p) }
        /// Point negation.
        public static prefix func - (a: G2) -> G2 { G2(a.p.negated()) }
        /// Doubling.
        public func doubled() -> G2 { G2(p.doubled()) }

        /// Scalar multiplication, constant time in the scalar (4-bit window, masked table scan).
        /// - Parameters:
        ///   - a: the point.
        ///   - k: the secret scalar.
        /// - Returns: k * a.
        public static func * (a: G2, k: Scalar) -> G2 { G2(a.p.multiplied(by: k.limbs)) }

        /// k * generator from a precomputed fixed-base table (constant time in k).
        /// - Parameter k: the scalar.
        /// - Returns: k * G2.generator.
        public static func generatorMultiple(_ k: Scalar) -> G2 { G2(fixedBaseG2.multiply(k.limbs)) }

        /// Hashes a message to G2 (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_).
        /// - Parameters:
        ///   - message: the message bytes.
        ///   - domain: the domain separation tag.
        /// - Returns: a point of G2.
        public static func hash(toCurve message: some Collection<UInt8>, domain: some Collection<UInt8>)
            -> G2
        {
            G2(hashToG2(Array(message), dst: Array(domain)))
        }

        /// 96-byte compressed encoding: x.c1 || x.c0 with flag bits.
        public var compressed: [UInt8] {
            let a = p.affine
            if a.infinity { return [0xc0] + [UInt8](repeating: 0, count: 95) }
            var out = [UInt8]()
            out.reserveCapacity(96)
            a.x.c1.appendBytes(to: &out)
            a.x.c0.appendBytes(to: &out)
            out[0] |= 0x80
            if a.y.isLexicographicallyLargest { out[0] |= 0x20 }
            return out
        }

        /// 192-byte uncompressed encoding x.c1 || x.c0 || y.c1 || y.c0.
        public var uncompressed: [UInt8] {
            let a = p.affine
            if a.infinity { return [0x40] + [UInt8](repeating: 0, count: 191) }
            var out = [UInt8]()
            out.reserveCapacity(192)
            a.x.c1.appendBytes(to: &out)
            a.x.c0.appendBytes(to: &out)
            a.y.c1.appendBytes(to: &out)
            a.y.c0.appendBytes(to: &out)
            return out
        }

        /// Decodes a 96-byte compressed or 192-byte uncompressed point and checks that it is
        /// on the curve and in the subgroup.
        /// - Parameter bytes: the encoding.
        /// - Throws: a `BLS12381.Error` naming the first problem found.
        public init(bytes: some Collection<UInt8>) throws(BLS12381.Error) {
            let b = Array(bytes)
            guard b.count == 96 || b.count == 192 else {
                throw .invalidLength(expected: 96, actual: b.count)
            }
            let flags = decodeFlags(b[0])
            guard flags.compressed == (b.count == 96) else { throw .invalidFlags }
            if flags.infinity {
                try checkInfinity(b, flags: flags)
                self = .identity
                return
            }
            guard let x1 = readFp(b, 0), let x0 = readFp(b, 1) else { throw .coordinateNotInField }
            let x = Fp2(x0, x1)
            let a: AffinePoint<G2Params>
            if flags.compressed {
                guard let y0 = (x.square() * x + G2Params.b).sqrt() else { throw .noSquareRoot }
                let y = y0.isLexicographicallyLargest == flags.sort ? y0 : -y0
                a = AffinePoint(x: x, y: y)
            } else {
                guard !flags.sort else { throw .invalidFlags }
                guard let y1 = readFp(b, 2), let y0 = readFp(b, 3) else { throw .coordinateNotInField }
                a = AffinePoint(x: x, y: Fp2(y0, y1))
                guard a.isOnCurve else { throw .notOnCurve }
            }
            let pp = a.projective
            guard pp.isTorsionFree else { throw .notInSubgroup }
            p = pp
        }

        /// Whether the point lies in the order-r subgroup.
        public var isInSubgroup: Bool { p.isTorsionFree }

        public static func == (a: G2, b: G2) -> Bool { a.p == b.p }
        public func hash(into h: inout Hasher) { h.combine(compressed) }
        public var description: String { "G2(" + compressed.map { format2($0) }.joined() + ")" }
    }
}

// MARK: GT

extension BLS12381 {
    /// An element of GT, the order-r subgroup of Fp12*, written multiplicatively.
    ///
    /// Serialization: 576 bytes, twelve 48-byte big-endian Fp coefficients in the order
    /// c0.c0.c0, c0.c0.c1, c0.c1.c0, c0.c1.c1, c0.c2.c0, c0.c2.c1, c1.c0.c0, ..., c1.c2.c1
    /// for the tower Fp12 = Fp6[w]/(w^2 - v), Fp6 = Fp2[v]/(v^3 - (u+1)), Fp2 = Fp[u]/(u^2+1).
    public struct GT: Sendable, Hashable {
        var f: Fp12

        init(_ f: Fp12) { self.f = f }

        /// The identity element 1.
        public static let identity = GT(.one)

        /// e(G1.generator, G2.generator).
        public static let generator: GT = pairing(.generator, .generator)

        /// Whether this is the identity.
        public var isIdentity: Bool { f.isOne }

        /// Group operation (multiplication in Fp12).
        public static func * (a: GT, b: GT) -> GT { GT(a.f * b.f) }
        /// Inverse (conjugation, since GT lies in the cyclotomic subgroup).
        public var inverse: GT { GT(f.conjugate()) }
        /// Division a * b^-1.
        public static func / (a: GT, b: GT) -> GT { GT(a.f * b.f.conjugate()) }

        /// Exponentiation, constant time in the exponent (4-bit window, masked table scan,
        /// cyclotomic squarings).
        /// - Parameter k: the exponent.
        /// - Returns: self^k.
        public func power(_ k: Scalar) -> GT { GT(cyclotomicPow(f, k.limbs)) }

        /// Precomputed powers of one GT element, for many constant-time exponentiations of
        /// that element (for example e(g1, g2)^ψ of public parameters): 64 multiplications
        /// per power instead of 256 squarings and 64 multiplications. Memory: `tableBytes`
        /// (1,024 elements, 576 KiB).
        public struct FixedBase: Sendable {
            let table: Fp12FixedBase

            /// Builds the table (about 1,000 multiplications).
            /// - Parameter base: the element to raise to powers.
            public init(_ base: GT) { table = Fp12FixedBase(base.f) }

            /// base^k, constant time in k.
            /// - Parameter k: the exponent.
            /// - Returns: base^k.
            public func power(_ k: Scalar) -> GT { GT(table.power(k.limbs)) }

            /// Bytes held by the table.
            public var tableBytes: Int { table.entries.count * MemoryLayout<Fp12>.stride }
        }

        /// 576-byte encoding (see the type documentation for the coefficient order).
        public var bytes: [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(576)
            for c6 in [f.c0, f.c1] {
                for c2 in [c6.c0, c6.c1, c6.c2] {
                    c2.c0.appendBytes(to: &out)
                    c2.c1.appendBytes(to: &out)
                }
            }
            return out
        }

        /// Decodes 576 bytes and checks membership in the order-r subgroup.
        /// - Parameter bytes: the encoding.
        /// - Throws: `.invalidLength`, `.coordinateNotInField` or `.notInGT`.
        public init(bytes: some Collection<UInt8>) throws(BLS12381.Error) {
            let b = Array(bytes)
            guard b.count == 576 else { throw .invalidLength(expected: 576, actual: b.count) }
            var c = [Fp]()
            for i in 0..<12 {
                guard let v = Array(b[(48 * i)..<(48 * i + 48)]).withUnsafeBytes({ Fp.fromBytes($0) })
                else {
                    throw .coordinateNotInField
                }
                c.append(v)
            }
            let v = Fp12(
                Fp6(Fp2(c[0], c[1]), Fp2(c[2], c[3]), Fp2(c[4], c[5])),
                Fp6(Fp2(c[6], c[7]), Fp2(c[8], c[9]), Fp2(c[10], c[11])))
            guard isInGT(v) else { throw .notInGT }
            f = v
        }

        public static func == (a: GT, b: GT) -> Bool { a.f == b.f }
        public func hash(into h: inout Hasher) { h.combine(bytes) }
    }
}

/// f is in GT iff f != 0 and f^r = 1 (plain square-and-multiply: f need not be cyclotomic).
func isInGT(_ f: Fp12) -> Bool {
    if f.c0.isZero && f.c1.isZero { return false }
    let r: (UInt64, UInt64, UInt64, UInt64) = (
        0xffff_ffff_0000_0001, 0x53bd_a402_fffe_5bfe, 0x3339_d808_09a1_d805, 0x73ed_a753_299d_7d48
    )
    var acc = Fp12.one
    for w in [r.3, r.2, r.1, r.0] {
        for i in (0..<64).reversed() {
            acc = acc.square()
            if (w >> UInt64(i)) & 1 == 1 { acc = acc * f }
        }
    }
    return acc.isOne
}

// MARK: Pairing

extension BLS12381 {
    /// The optimal ate pairing e: G1 x G2 -> GT (the same value as blst and zkcrypto).
    /// - Parameters:
    ///   - p: a point of G1.
    ///   - q: a point of G2.
    /// - Returns: e(p, q).
    public static func pairing(_ p: G1, _ q: G2) -> GT {
        GT(finalExponentiation(millerLoop(p.p.affine, q.p.affine)))
    }

    /// The product of pairings e(p1, q1) * ... * e(pn, qn), sharing the Miller-loop
    /// squarings and one final exponentiation.
    /// - Parameter pairs: the (G1, G2) pairs.
    /// - Returns: the product in GT.
    public static func multiPairing(_ pairs: [(G1, G2)]) -> GT {
        let g1 = batchAffine(pairs.map { $0.0.p })
        let g2 = batchAffine(pairs.map { $0.1.p })
        return GT(finalExponentiation(multiMillerLoop(Array(zip(g1, g2)))))
    }

    /// The Miller loop alone (no final exponentiation), for benchmarks and callers that
    /// combine loops themselves. The value is only meaningful after `finalExponentiation`.
    public static func millerLoopValue(_ p: G1, _ q: G2) -> MillerLoopResult {
        MillerLoopResult(f: millerLoop(p.p.affine, q.p.affine))
    }

    /// An Fp12 value produced by a Miller loop, before final exponentiation.
    public struct MillerLoopResult: Sendable {
        var f: Fp12
        /// Product of two Miller-loop values.
        public static func * (a: MillerLoopResult, b: MillerLoopResult) -> MillerLoopResult {
            MillerLoopResult(f: a.f * b.f)
        }
        /// Applies the final exponentiation.
        public func finalExponentiation() -> GT { GT(BLS12381Module.finalExp(f)) }
    }
}

/// Disambiguates the module-level function from the method name above.
enum BLS12381Module {
    static func finalExp(_ f: Fp12) -> Fp12 { finalExponentiation(f) }
}
