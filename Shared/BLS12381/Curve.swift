// Short Weierstrass curves y^2 = x^3 + b (a = 0) over Fp (G1) and Fp2 (G2), in homogeneous
// projective coordinates with the complete formulas of Renes, Costello and Batina
// (eprint 2015/1060, algorithms 7, 8 and 9). Complete formulas have no special cases, so
// scalar multiplication needs no secret-dependent branches.

protocol CurveParams: Sendable {
    associatedtype F: FieldElement
    static var b: F { get }
    static func mulBy3b(_ x: F) -> F
}

enum G1Params: CurveParams {
    static var b: Fp { Fp(4) }
    @inline(__always) static func mulBy3b(_ x: Fp) -> Fp {
        let x2 = x.double()
        let x4 = x2.double()
        return x4.double() + x4
    }
}

enum G2Params: CurveParams {
    static var b: Fp2 { Fp2(Fp(4), Fp(4)) }
    @inline(__always) static func mulBy3b(_ x: Fp2) -> Fp2 {
        let x2 = x.double()
        let x4 = x2.double()
        return (x4.double() + x4).mulByNonresidue()
    }
}

/// Affine point; `infinity` marks the identity (x, y are then zero).
struct AffinePoint<C: CurveParams>: Sendable {
    var x: C.F
    var y: C.F
    var infinity: Bool

    init(x: C.F, y: C.F, infinity: Bool = false) {
        self.x = x
        self.y = y
        self.infinity = infinity
    }

    static var identity: AffinePoint { AffinePoint(x: .zero, y: .zero, infinity: true) }

    var isOnCurve: Bool {
        infinity || y.square() == x.square() * x + C.b
    }

    var projective: ProjectivePoint<C> {
        ProjectivePoint(
            x: C.F.select(x, .zero, infinity), y: C.F.select(y, .one, infinity),
            z: C.F.select(.one, .zero, infinity))
    }

    func negated() -> AffinePoint {
        AffinePoint(x: x, y: C.F.select(-y, .zero, infinity), infinity: infinity)
    }

    static func == (a: AffinePoint, b: AffinePoint) -> Bool {
        (a.infinity && b.infinity) || (!a.infinity && !b.infinity && a.x == b.x && a.y == b.y)
    }
}

/// Homogeneous projective point (X : Y : Z) with x = X/Z, y = Y/Z; identity is (0 : 1 : 0).
struct ProjectivePoint<C: CurveParams>: Sendable {
    var x: C.F
    var y: C.F
    var z: C.F

    init(x: C.F, y: C.F, z: C.F) {
        self.x = x
        self.y = y
        self.z = z
    }

    static var identity: ProjectivePoint { ProjectivePoint(x: .zero, y: .one, z: .zero) }

    var isIdentity: Bool { z.isZero }

    static func select(_ a: ProjectivePoint, _ b: ProjectivePoint, _ c: Bool) -> ProjectivePoint {
        ProjectivePoint(
            x: C.F.select(a.x, b.x, c), y: C.F.select(a.y, b.y, c), z: C.F.select(a.z, b.z, c))
    }

    static func == (a: ProjectivePoint, b: ProjectivePoint) -> Bool {
        let x1 = a.x * b.z
        let x2 = b.x * a.z
        let y1 = a.y * b.z
        let y2 = b.y * a.z
        let bothId = a.z.isZero && b.z.isZero
        let neitherId = !a.z.isZero && !b.z.isZero
        return bothId || (neitherId && x1 == x2 && y1 == y2)
    }

    func negated() -> ProjectivePoint { ProjectivePoint(x: x, y: -y, z: z) }

    /// Algorithm 7 (complete addition, a = 0).
    static func + (p: ProjectivePoint, q: ProjectivePoint) -> ProjectivePoint {
        var t0 = p.x * q.x
        let t1 = p.y * q.y
        let t2 = p.z * q.z
        var t3 = p.x + p.y
        var t4 = q.x + q.y
        t3 = t3 * t4
        t4 = t0 + t1
        t3 = t3 - t4
        t4 = p.y + p.z
        var x3 = q.y + q.z
        t4 = t4 * x3
        x3 = t1 + t2
        t4 = t4 - x3
        x3 = p.x + p.z
        var y3 = q.x + q.z
        x3 = x3 * y3
        y3 = t0 + t2
        y3 = x3 - y3
        x3 = t0 + t0
        t0 = x3 + t0
        return sum(t0: t0, t1: t1, t2: C.mulBy3b(t2), t3: t3, t4: t4, s: y3)
    }

    static func - (p: ProjectivePoint, q: ProjectivePoint) -> ProjectivePoint { p + q.negated() }

    /// Algorithm 8 (mixed addition with an affine point, a = 0).
    func adding(_ q: AffinePoint<C>) -> ProjectivePoint {
        var t0 = x * q.x
        let t1 = y * q.y
        var t3 = q.x + q.y
        var t4 = x + y
        t3 = t3 * t4
        t4 = t0 + t1
        t3 = t3 - t4
        t4 = q.y * z
        t4 = t4 + y
        var y3 = q.x * z
        y3 = y3 + x
        let x3 = t0 + t0
        t0 = x3 + t0
        let r = Self.sum(t0: t0, t1: t1, t2: C.mulBy3b(z), t3: t3, t4: t4, s: y3)
        return ProjectivePoint.select(r, self, q.infinity)
    }

    /// The steps Algorithms 7 and 8 end with: from t0 = 3·X1X2, t1 = Y1Y2, t2 = 3b·Z1Z2,
    /// t3 = X1Y2 + X2Y1, t4 = Y1Z2 + Y2Z1 and s = X1Z2 + X2Z1 (Z2 = 1 in Algorithm 8),
    /// X3 = t3(t1 - t2) - t4·3b·s, Y3 = (t1 - t2)(t1 + t2) + 3b·s·t0, Z3 = t4(t1 + t2) + t0·t3.
    @inline(__always)
    static func sum(t0: C.F, t1: C.F, t2: C.F, t3: C.F, t4: C.F, s: C.F) -> ProjectivePoint {
        let plus = t1 + t2
        let minus = t1 - t2
        let s3b = C.mulBy3b(s)
        return ProjectivePoint(x: t3 * minus - t4 * s3b, y: minus * plus + s3b * t0, z: t4 * plus + t0 * t3)
    }

    /// Algorithm 9 (doubling, a = 0).
    func doubled() -> ProjectivePoint {
        var t0 = y.square()
        var z3 = t0 + t0
        z3 = z3 + z3
        z3 = z3 + z3
        var t1 = y * z
        var t2 = z.square()
        t2 = C.mulBy3b(t2)
        var x3 = t2 * z3
        var y3 = t0 + t2
        z3 = t1 * z3
        t1 = t2 + t2
        t2 = t1 + t2
        t0 = t0 - t2
        y3 = t0 * y3
        y3 = x3 + y3
        t1 = x * y
        x3 = t0 * t1
        x3 = x3 + x3
        let r = ProjectivePoint(x: x3, y: y3, z: z3)
        return ProjectivePoint.select(r, .identity, isIdentity)
    }

    var affine: AffinePoint<C> {
        let zi = z.inverse()
        let id = z.isZero
        return AffinePoint(
            x: C.F.select(x * zi, .zero, id), y: C.F.select(y * zi, .zero, id), infinity: id)
    }

    /// Multiplication by |x| = 0xd201000000010000 (public constant, variable time).
    func mulByAbsX() -> ProjectivePoint {
        var acc = ProjectivePoint.identity
        var started = false
        let k: UInt64 = 0xd201_0000_0001_0000
        for i in (0..<64).reversed() {
            if started { acc = acc.doubled() }
            if (k >> UInt64(i)) & 1 == 1 {
                acc = started ? acc + self : self
                started = true
            }
        }
        return acc
    }

    /// Multiplication by the (negative) curve parameter x.
    func mulByX() -> ProjectivePoint { mulByAbsX().negated() }

    /// Constant-time scalar multiplication with a 4-bit fixed window and a masked table scan.
    /// - Parameter k: canonical little-endian scalar limbs (any 256-bit value).
    func multiplied(by k: (UInt64, UInt64, UInt64, UInt64)) -> ProjectivePoint {
        // table[i] = i * self, i in 0..<16
        var table = (
            ProjectivePoint.identity, self, self.doubled(), ProjectivePoint.identity,
            ProjectivePoint.identity, ProjectivePoint.identity, ProjectivePoint.identity,
            ProjectivePoint.identity, ProjectivePoint.identity, ProjectivePoint.identity,
            ProjectivePoint.identity, ProjectivePoint.identity, ProjectivePoint.identity,
            ProjectivePoint.identity, ProjectivePoint.identity, ProjectivePoint.identity
        )
        return withUnsafeMutableBytes(of: &table) { raw -> ProjectivePoint in
            let t = raw.bindMemory(to: ProjectivePoint.self)
            for i in 3..<16 { t[i] = t[i - 1] + self }
            var acc = ProjectivePoint.identity
            @inline(__always) func window(_ w: UInt64) {
                for s in stride(from: 60, through: 0, by: -4) {
                    acc = acc.doubled().doubled().doubled().doubled()
                    let d = Int((w >> UInt64(s)) & 0xf)
                    var sel = t[0]
                    for j in 1..<16 { sel = ProjectivePoint.select(sel, t[j], j == d) }
                    acc = acc + sel
                }
            }
            window(k.3)
            window(k.2)
            window(k.1)
            window(k.0)
            return acc
        }
    }
}

extension ProjectivePoint where C == G1Params {
    /// The GLV endomorphism (x, y) -> (beta x, y), equal to [-x^2] on G1.
    func endomorphism() -> ProjectivePoint {
        ProjectivePoint(x: x * Consts.beta, y: y, z: z)
    }

    /// Bowe's check: P is in G1 iff phi(P) = [-x^2] P.
    var isTorsionFree: Bool {
        endomorphism() == mulByAbsX().mulByAbsX().negated()
    }

    /// h_eff = 1 - x = 1 + |x| (RFC 9380 section 8.8.1).
    func clearCofactor() -> ProjectivePoint { mulByAbsX() + self }
}

extension ProjectivePoint where C == G2Params {
    /// The untwist-Frobenius-twist endomorphism psi.
    func psi() -> ProjectivePoint {
        ProjectivePoint(
            x: x.frobenius() * Consts.psiX, y: y.frobenius() * Consts.psiY, z: z.frobenius())
    }

    /// Scott's check: P is in G2 iff psi(P) = [x] P.
    var isTorsionFree: Bool { psi() == mulByX() }

    /// Budroni-Pintore cofactor clearing, equal to [h_eff] (RFC 9380 appendix G.3).
    func clearCofactor() -> ProjectivePoint {
        let t1 = mulByX()
        var t2 = psi()
        var t3 = doubled().psi().psi()
        t3 = t3 - t2
        t2 = t1 + t2
        t2 = t2.mulByX()
        t3 = t3 + t2
        t3 = t3 - t1
        return t3 - self
    }
}

/// Converts many projective points to affine with one inversion (Montgomery's trick).
func batchAffine<C>(_ points: [ProjectivePoint<C>]) -> [AffinePoint<C>] {
    var acc = C.F.one
    var prefix = [C.F]()
    prefix.reserveCapacity(points.count)
    for p in points {
        prefix.append(acc)
        acc = acc * C.F.select(p.z, .one, p.z.isZero)
    }
    var inv = acc.inverse()
    var out = [AffinePoint<C>](repeating: .identity, count: points.count)
    for i in (0..<points.count).reversed() {
        let p = points[i]
        let id = p.z.isZero
        let zi = inv * prefix[i]
        inv = inv * C.F.select(p.z, .one, id)
        out[i] = id ? .identity : AffinePoint(x: p.x * zi, y: p.y * zi)
    }
    return out
}
