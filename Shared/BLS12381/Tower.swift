// The extension tower Fp2 = Fp[u]/(u^2+1), Fp6 = Fp2[v]/(v^3-(u+1)), Fp12 = Fp6[w]/(w^2-v).

// MARK: Field protocol (internal, used generically by the curve code; specialized in release)

protocol FieldElement: Sendable, Equatable {
    static var zero: Self { get }
    static var one: Self { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    func square() -> Self
    func double() -> Self
    func inverse() -> Self
    var isZero: Bool { get }
    static func select(_ a: Self, _ b: Self, _ choice: Bool) -> Self
}

extension Fp: FieldElement {}

extension FieldElement {
    /// self^e for a public exponent given as little-endian limbs (square and multiply:
    /// variable time in e only).
    func pow(_ e: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) -> Self {
        var res = Self.one
        let base = self
        @inline(__always) func step(_ w: UInt64) {
            for i in (0..<64).reversed() {
                res = res.square()
                if (w >> UInt64(i)) & 1 == 1 { res = res * base }
            }
        }
        step(e.5)
        step(e.4)
        step(e.3)
        step(e.2)
        step(e.1)
        step(e.0)
        return res
    }
}

// MARK: Fp2

/// c0 + c1*u with u^2 = -1.
struct Fp2: FieldElement {
    var c0: Fp
    var c1: Fp

    @inline(__always) init(_ c0: Fp, _ c1: Fp) {
        self.c0 = c0
        self.c1 = c1
    }

    static var zero: Fp2 { Fp2(.zero, .zero) }
    static var one: Fp2 { Fp2(.one, .zero) }

    @inline(__always) static func + (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 + b.c0, a.c1 + b.c1) }
    @inline(__always) static func - (a: Fp2, b: Fp2) -> Fp2 { Fp2(a.c0 - b.c0, a.c1 - b.c1) }
    @inline(__always) static prefix func - (a: Fp2) -> Fp2 { Fp2(-a.c0, -a.c1) }
    @inline(__always) static func += (a: inout Fp2, b: Fp2) { a = a + b }
    @inline(__always) static func -= (a: inout Fp2, b: Fp2) { a = a - b }
    @inline(__always) static func *= (a: inout Fp2, b: Fp2) { a = a * b }

    @inline(__always)
    static func * (a: Fp2, b: Fp2) -> Fp2 {
        let aa = a.c0 * b.c0
        let bb = a.c1 * b.c1
        let s = (a.c0 + a.c1) * (b.c0 + b.c1)
        return Fp2(aa - bb, s - aa - bb)
    }

    @inline(__always)
    func square() -> Fp2 {
        let a = c0 + c1
        let b = c0 - c1
        let c = c0 * c1
        return Fp2(a * b, c.double())
    }

    @inline(__always) func double() -> Fp2 { Fp2(c0.double(), c1.double()) }

    /// Multiplication by an Fp scalar.
    @inline(__always) func mul(by s: Fp) -> Fp2 { Fp2(c0 * s, c1 * s) }

    /// Multiplication by the Fp6 non-residue u+1.
    @inline(__always) func mulByNonresidue() -> Fp2 { Fp2(c0 - c1, c0 + c1) }

    @inline(__always) func conjugate() -> Fp2 { Fp2(c0, -c1) }
    @inline(__always) func frobenius() -> Fp2 { conjugate() }

    var isZero: Bool { c0.isZero && c1.isZero }

    func inverse() -> Fp2 {
        let t = (c0.square() + c1.square()).inverse()
        return Fp2(c0 * t, -(c1 * t))
    }

    @inline(__always)
    static func select(_ a: Fp2, _ b: Fp2, _ choice: Bool) -> Fp2 {
        Fp2(Fp.select(a.c0, b.c0, choice), Fp.select(a.c1, b.c1, choice))
    }

    static func == (a: Fp2, b: Fp2) -> Bool { a.c0.ctEqual(b.c0) && a.c1.ctEqual(b.c1) }

    /// Square root (Algorithm 9 of Adj and Rodriguez-Henriquez, p = 3 mod 4), nil if none.
    func sqrt() -> Fp2? {
        let a1 = pow(expPMinus3Div4)
        let alpha = a1.square() * self
        let x0 = a1 * self
        let minusOne = Fp2(-Fp.one, .zero)
        let candidate: Fp2
        if alpha == minusOne {
            candidate = Fp2(-x0.c1, x0.c0)  // u * x0
        } else {
            let b = (alpha + .one).pow(expPMinus1Div2)
            candidate = b * x0
        }
        return candidate.square() == self ? candidate : nil
    }

    /// RFC 9380 sgn0 for Fp2.
    var sgn0: Bool {
        let s0 = c0.sgn0
        let z0 = c0.isZero
        let s1 = c1.sgn0
        return s0 || (z0 && s1)
    }

    /// zkcrypto ordering: compare c1 first, then c0.
    var isLexicographicallyLargest: Bool {
        c1.isLexicographicallyLargest || (c1.isZero && c0.isLexicographicallyLargest)
    }
}

// MARK: Fp6

/// c0 + c1*v + c2*v^2 with v^3 = u+1.
struct Fp6: Sendable, Equatable {
    var c0, c1, c2: Fp2

    init(_ c0: Fp2, _ c1: Fp2, _ c2: Fp2) {
        self.c0 = c0
        self.c1 = c1
        self.c2 = c2
    }

    static var zero: Fp6 { Fp6(.zero, .zero, .zero) }
    static var one: Fp6 { Fp6(.one, .zero, .zero) }

    static func + (a: Fp6, b: Fp6) -> Fp6 {
        Fp6(a.c0 + b.c0, a.c1 + b.c1, a.c2 + b.c2)
    }
    static func - (a: Fp6, b: Fp6) -> Fp6 {
        Fp6(a.c0 - b.c0, a.c1 - b.c1, a.c2 - b.c2)
    }
    static prefix func - (a: Fp6) -> Fp6 { Fp6(-a.c0, -a.c1, -a.c2) }

    static func * (a: Fp6, b: Fp6) -> Fp6 {
        let aa = a.c0 * b.c0
        let bb = a.c1 * b.c1
        let cc = a.c2 * b.c2
        let t1 = ((a.c1 + a.c2) * (b.c1 + b.c2) - bb - cc).mulByNonresidue() + aa
        let t2 = (a.c0 + a.c1) * (b.c0 + b.c1) - aa - bb + cc.mulByNonresidue()
        let t3 = (a.c0 + a.c2) * (b.c0 + b.c2) - aa + bb - cc
        return Fp6(t1, t2, t3)
    }

    /// Chung-Hasan SQR2.
    func square() -> Fp6 {
        let s0 = c0.square()
        let s1 = (c0 * c1).double()
        let s2 = (c0 - c1 + c2).square()
        let s3 = (c1 * c2).double()
        let s4 = c2.square()
        return Fp6(s3.mulByNonresidue() + s0, s4.mulByNonresidue() + s1, s1 + s2 + s3 - s0 - s4)
    }

    /// Multiplication by v.
    func mulByNonresidue() -> Fp6 { Fp6(c2.mulByNonresidue(), c0, c1) }

    /// self * (b1 * v).
    func mulBy1(_ b1: Fp2) -> Fp6 {
        Fp6((c2 * b1).mulByNonresidue(), c0 * b1, c1 * b1)
    }

    /// self * (b0 + b1 * v).
    func mulBy01(_ b0: Fp2, _ b1: Fp2) -> Fp6 {
        let aa = c0 * b0
        let bb = c1 * b1
        let t1 = (c2 * b1).mulByNonresidue() + aa
        let t2 = (b0 + b1) * (c0 + c1) - aa - bb
        let t3 = c2 * b0 + bb
        return Fp6(t1, t2, t3)
    }

    func inverse() -> Fp6 {
        let t0 = c0.square() - (c1 * c2).mulByNonresidue()
        let t1 = c2.square().mulByNonresidue() - c0 * c1
        let t2 = c1.square() - c0 * c2
        let d = ((c1 * t2 + c2 * t1).mulByNonresidue() + c0 * t0).inverse()
        return Fp6(t0 * d, t1 * d, t2 * d)
    }

    func frobenius() -> Fp6 {
        Fp6(c0.frobenius(), c1.frobenius() * Consts.frobFp6C1, c2.frobenius() * Consts.frobFp6C2)
    }

    var isZero: Bool { c0.isZero && c1.isZero && c2.isZero }
}

// MARK: Fp12

/// c0 + c1*w with w^2 = v.
struct Fp12: Sendable, Equatable {
    var c0, c1: Fp6

    init(_ c0: Fp6, _ c1: Fp6) {
        self.c0 = c0
        self.c1 = c1
    }

    static var one: Fp12 { Fp12(.one, .zero) }

    static func * (a: Fp12, b: Fp12) -> Fp12 {
        let aa = a.c0 * b.c0
        let bb = a.c1 * b.c1
        let c1 = (a.c0 + a.c1) * (b.c0 + b.c1) - aa - bb
        return Fp12(bb.mulByNonresidue() + aa, c1)
    }

    static func *= (a: inout Fp12, b: Fp12) { a = a * b }

    func square() -> Fp12 {
        let ab = c0 * c1
        let s = c0 + c1
        let t = (c1.mulByNonresidue() + c0) * s - ab - ab.mulByNonresidue()
        return Fp12(t, ab + ab)
    }

    /// self * (a0 + a1*v + a4*v*w): multiplication by a sparse line value.
    func mulBy014(_ a0: Fp2, _ a1: Fp2, _ a4: Fp2) -> Fp12 {
        let aa = c0.mulBy01(a0, a1)
        let bb = c1.mulBy1(a4)
        let o = a1 + a4
        let t = (c1 + c0).mulBy01(a0, o) - aa - bb
        return Fp12(bb.mulByNonresidue() + aa, t)
    }

    func conjugate() -> Fp12 { Fp12(c0, -c1) }

    func inverse() -> Fp12 {
        let t = (c0.square() - c1.square().mulByNonresidue()).inverse()
        return Fp12(c0 * t, -(c1 * t))
    }

    func frobenius() -> Fp12 {
        let a = c0.frobenius()
        let b = c1.frobenius()
        let k = Consts.frobFp12C1
        return Fp12(a, Fp6(b.c0 * k, b.c1 * k, b.c2 * k))
    }

    var isOne: Bool { self == .one }

    /// b if `choice`, else a (masked, constant time).
    @inline(__always)
    static func select(_ a: Fp12, _ b: Fp12, _ choice: Bool) -> Fp12 {
        @inline(__always) func s6(_ x: Fp6, _ y: Fp6) -> Fp6 {
            Fp6(Fp2.select(x.c0, y.c0, choice), Fp2.select(x.c1, y.c1, choice), Fp2.select(x.c2, y.c2, choice))
        }
        return Fp12(s6(a.c0, b.c0), s6(a.c1, b.c1))
    }
}
