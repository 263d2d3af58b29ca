// RFC 9380 hashing to BLS12-381 G1 and G2 (suites BLS12381G1_XMD:SHA-256_SSWU_RO_ and
// BLS12381G2_XMD:SHA-256_SSWU_RO_): expand_message_xmd, hash_to_field, simplified SWU on
// the isogenous curve, the 11- and 3-isogeny maps, and cofactor clearing.

import Crypto

/// expand_message_xmd with SHA-256 (RFC 9380 section 5.3.1).
/// - Parameters:
///   - message: the message.
///   - dst: the domain separation tag; tags over 255 bytes are hashed as the RFC requires.
///   - length: output length in bytes, at most 255 * 32.
/// - Returns: `length` pseudo-random bytes.
func expandMessageXMD(_ message: [UInt8], dst: [UInt8], length: Int) -> [UInt8] {
    var dstBytes = dst
    if dstBytes.count > 255 {
        var h = SHA256()
        h.update(data: Array("H2C-OVERSIZE-DST-".utf8))
        h.update(data: dst)
        dstBytes = Array(h.finalize())
    }
    let ell = (length + 31) / 32
    precondition(ell <= 255 && length <= 65535, "expand_message_xmd: requested length too large")
    let dstPrime = dstBytes + [UInt8(dstBytes.count)]
    var h0 = SHA256()
    h0.update(data: [UInt8](repeating: 0, count: 64))
    h0.update(data: message)
    h0.update(data: [UInt8(length >> 8), UInt8(length & 0xff), 0])
    h0.update(data: dstPrime)
    let b0 = Array(h0.finalize())
    var out = [UInt8]()
    out.reserveCapacity(ell * 32)
    var prev = [UInt8](repeating: 0, count: 32)
    for i in 1...ell {
        var h = SHA256()
        var input = [UInt8](repeating: 0, count: 32)
        for j in 0..<32 { input[j] = b0[j] ^ prev[j] }
        h.update(data: input)
        h.update(data: [UInt8(i)])
        h.update(data: dstPrime)
        prev = Array(h.finalize())
        out.append(contentsOf: prev)
    }
    return Array(out.prefix(length))
}

/// Reduces 64 big-endian bytes modulo p.
func fpFromWide(_ b: ArraySlice<UInt8>) -> Fp {
    Array(b).withUnsafeBytes { raw -> Fp in
        let hi = Fp(loadBE(raw, 24), loadBE(raw, 16), loadBE(raw, 8), loadBE(raw, 0), 0, 0)
        let lo = Fp(loadBE(raw, 56), loadBE(raw, 48), loadBE(raw, 40), loadBE(raw, 32), 0, 0)
        return Fp.mul(hi, .r2) * Consts.twoTo256 + Fp.mul(lo, .r2)
    }
}

func hashToFieldFp(_ msg: [UInt8], dst: [UInt8]) -> (Fp, Fp) {
    let u = expandMessageXMD(msg, dst: dst, length: 128)
    return (fpFromWide(u[0..<64]), fpFromWide(u[64..<128]))
}

func hashToFieldFp2(_ msg: [UInt8], dst: [UInt8]) -> (Fp2, Fp2) {
    let u = expandMessageXMD(msg, dst: dst, length: 256)
    return (
        Fp2(fpFromWide(u[0..<64]), fpFromWide(u[64..<128])),
        Fp2(fpFromWide(u[128..<192]), fpFromWide(u[192..<256]))
    )
}

/// Field operations the SWU map needs beyond FieldElement.
protocol SWUField: FieldElement {
    func sqrt() -> Self?
    var sgn0: Bool { get }
}
extension Fp: SWUField {}
extension Fp2: SWUField {}

/// Simplified SWU (RFC 9380 section 6.6.2) for y^2 = x^3 + a x + b with non-square z.
func simplifiedSWU<F: SWUField>(_ u: F, a: F, b: F, z: F) -> (F, F) {
    let u2 = u.square()
    let zu2 = z * u2
    let den = zu2.square() + zu2
    let tv1 = den.inverse()  // inv0: zero maps to zero
    var x1 = (-b * a.inverse()) * (F.one + tv1)
    if tv1.isZero { x1 = b * (z * a).inverse() }
    let gx1 = (x1.square() + a) * x1 + b
    let x2 = zu2 * x1
    let gx2 = (x2.square() + a) * x2 + b
    var x: F
    var y: F
    if let s = gx1.sqrt() {
        x = x1
        y = s
    } else {
        x = x2
        y = gx2.sqrt()!  // gx1 * gx2 * z^-3 ... one of the two is square by construction
    }
    if u.sgn0 != y.sgn0 { y = -y }
    return (x, y)
}

func horner<F: FieldElement>(_ coeffs: [F], _ x: F) -> F {
    var acc = coeffs[coeffs.count - 1]
    for i in stride(from: coeffs.count - 2, through: 0, by: -1) { acc = acc * x + coeffs[i] }
    return acc
}

/// Rational isogeny map (x, y) -> (xnum/xden, y * ynum/yden), one shared inversion.
func isogenyMap<F: FieldElement>(_ x: F, _ y: F, _ xn: [F], _ xd: [F], _ yn: [F], _ yd: [F]) -> (
    F, F
)? {
    let a = horner(xn, x)
    let b = horner(xd, x)
    let c = horner(yn, x)
    let d = horner(yd, x)
    let bd = b * d
    if bd.isZero { return nil }  // exceptional case: the isogeny maps to the identity
    let inv = bd.inverse()
    return (a * d * inv, y * c * b * inv)
}

/// A curve hash-to-curve reaches through the simplified SWU map on an isogenous curve
/// (RFC 9380 section 6.6.3): that curve's a, b and non-square z, and the isogeny's x numerator,
/// x denominator, y numerator and y denominator coefficients.
protocol SWUCurve: CurveParams where F: SWUField {
    static var sswu: (a: F, b: F, z: F) { get }
    static var isogeny: ([F], [F], [F], [F]) { get }
}

extension G1Params: SWUCurve {
    static let sswu = (a: Consts.sswuG1A, b: Consts.sswuG1B, z: Consts.sswuG1Z)
    static let isogeny = (Consts.iso11XNum, Consts.iso11XDen, Consts.iso11YNum, Consts.iso11YDen)
}

extension G2Params: SWUCurve {
    static let sswu = (a: Consts.sswuG2A, b: Consts.sswuG2B, z: Consts.sswuG2Z)
    static let isogeny = (Consts.iso3XNum, Consts.iso3XDen, Consts.iso3YNum, Consts.iso3YDen)
}

/// Maps `u` to a point of `curve` (RFC 9380 map_to_curve): simplified SWU on the isogenous
/// curve, then the isogeny. The point is not yet in the subgroup: clear the cofactor.
func mapToCurve<C: SWUCurve>(_ u: C.F, on curve: C.Type) -> ProjectivePoint<C> {
    let (x, y) = simplifiedSWU(u, a: C.sswu.a, b: C.sswu.b, z: C.sswu.z)
    let (xNum, xDen, yNum, yDen) = C.isogeny
    guard let (ex, ey) = isogenyMap(x, y, xNum, xDen, yNum, yDen) else { return .identity }
    return AffinePoint<C>(x: ex, y: ey).projective
}

func hashToG1(_ msg: [UInt8], dst: [UInt8]) -> ProjectivePoint<G1Params> {
    let (u0, u1) = hashToFieldFp(msg, dst: dst)
    return (mapToCurve(u0, on: G1Params.self) + mapToCurve(u1, on: G1Params.self)).clearCofactor()
}

func hashToG2(_ msg: [UInt8], dst: [UInt8]) -> ProjectivePoint<G2Params> {
    let (u0, u1) = hashToFieldFp2(msg, dst: dst)
    return (mapToCurve(u0, on: G2Params.self) + mapToCurve(u1, on: G2Params.self)).clearCofactor()
}
