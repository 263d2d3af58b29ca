// Optimal ate pairing on BLS12-381: Miller loop over |x| = 0xd201000000010000 with sparse
// line multiplication (lines from Costello-Lange-Naehrig, eprint 2010/354, algorithms 26
// and 27, evaluated at P and multiplied in with mulBy014), then the final exponentiation
// (easy part by Frobenius and one inversion, hard part by the x-chain with cyclotomic
// squarings of Granger-Scott).

/// Miller-loop state for one G2 point: the running point T in Jacobian coordinates.
struct MillerState: Sendable {
    var x, y, z: Fp2
    init(x: Fp2, y: Fp2, z: Fp2) {
        self.x = x
        self.y = y
        self.z = z
    }
}

/// Coefficients of one line function (the three non-zero Fp2 slots of the sparse Fp12).
struct LineCoefficients: Sendable {
    var a, b, c: Fp2
    init(_ a: Fp2, _ b: Fp2, _ c: Fp2) {
        self.a = a
        self.b = b
        self.c = c
    }
}

func doublingStep(_ r: inout MillerState) -> LineCoefficients {
    let tmp0 = r.x.square()
    let tmp1 = r.y.square()
    var tmp2 = tmp1.square()
    var tmp3 = (tmp1 + r.x).square() - tmp0 - tmp2
    tmp3 = tmp3 + tmp3
    let tmp4 = tmp0 + tmp0 + tmp0
    var tmp6 = r.x + tmp4
    let tmp5 = tmp4.square()
    let zsquared = r.z.square()
    r.x = tmp5 - tmp3 - tmp3
    r.z = (r.z + r.y).square() - tmp1 - zsquared
    r.y = (tmp3 - r.x) * tmp4
    tmp2 = tmp2.double().double().double()
    r.y = r.y - tmp2
    tmp3 = tmp4 * zsquared
    tmp3 = -(tmp3 + tmp3)
    tmp6 = tmp6.square() - tmp0 - tmp5
    let t1 = tmp1.double().double()
    tmp6 = tmp6 - t1
    var t0 = r.z * zsquared
    t0 = t0 + t0
    return LineCoefficients(t0, tmp3, tmp6)
}

func additionStep(_ r: inout MillerState, _ q: AffinePoint<G2Params>) -> LineCoefficients {
    let zsquared = r.z.square()
    let ysquared = q.y.square()
    let t0 = zsquared * q.x
    var t1 = ((q.y + r.z).square() - ysquared - zsquared) * zsquared
    let t2 = t0 - r.x
    let t3 = t2.square()
    var t4 = t3 + t3
    t4 = t4 + t4
    let t5 = t4 * t2
    var t6 = t1 - r.y - r.y
    var t9 = t6 * q.x
    let t7 = t4 * r.x
    r.x = t6.square() - t5 - t7 - t7
    r.z = (r.z + t2).square() - zsquared - t3
    var t10 = q.y + r.z
    let t8 = (t7 - r.x) * t6
    var u0 = r.y * t5
    u0 = u0 + u0
    r.y = t8 - u0
    t10 = t10.square() - ysquared
    let ztsquared = r.z.square()
    t10 = t10 - ztsquared
    t9 = t9 + t9 - t10
    t10 = r.z + r.z
    t6 = -t6
    t1 = t6 + t6
    return LineCoefficients(t10, t1, t9)
}

func ell(_ f: Fp12, _ l: LineCoefficients, _ p: AffinePoint<G1Params>) -> Fp12 {
    let c0 = l.a.mul(by: p.y)
    let c1 = l.b.mul(by: p.x)
    return f.mulBy014(l.c, c1, c0)
}

/// |x| without its top bit, scanned from bit 62 down to 0.
let millerLoopBits: UInt64 = 0xd201_0000_0001_0000

/// Miller loop for one pair (identity inputs give one).
func millerLoop(_ p: AffinePoint<G1Params>, _ q: AffinePoint<G2Params>) -> Fp12 {
    if p.infinity || q.infinity { return .one }
    var t = MillerState(x: q.x, y: q.y, z: .one)
    var f = Fp12.one
    for i in (0..<63).reversed() {
        if i != 62 { f = f.square() }
        f = ell(f, doublingStep(&t), p)
        if (millerLoopBits >> UInt64(i)) & 1 == 1 {
            f = ell(f, additionStep(&t, q), p)
        }
    }
    return f.conjugate()
}

/// Product of Miller loops sharing the squarings of f.
func multiMillerLoop(_ pairs: [(AffinePoint<G1Params>, AffinePoint<G2Params>)]) -> Fp12 {
    let live = pairs.filter { !$0.0.infinity && !$0.1.infinity }
    if live.isEmpty { return .one }
    var ts = live.map { MillerState(x: $0.1.x, y: $0.1.y, z: .one) }
    var f = Fp12.one
    for i in (0..<63).reversed() {
        if i != 62 { f = f.square() }
        for j in 0..<live.count {
            f = ell(f, doublingStep(&ts[j]), live[j].0)
        }
        if (millerLoopBits >> UInt64(i)) & 1 == 1 {
            for j in 0..<live.count {
                f = ell(f, additionStep(&ts[j], live[j].1), live[j].0)
            }
        }
    }
    return f.conjugate()
}

// MARK: Final exponentiation

func fp4Square(_ a: Fp2, _ b: Fp2) -> (Fp2, Fp2) {
    let t0 = a.square()
    let t1 = b.square()
    let c0 = t1.mulByNonresidue() + t0
    let c1 = (a + b).square() - t0 - t1
    return (c0, c1)
}

/// Granger-Scott squaring, valid in the cyclotomic subgroup.
func cyclotomicSquare(_ f: Fp12) -> Fp12 {
    var z0 = f.c0.c0
    var z4 = f.c0.c1
    var z3 = f.c0.c2
    var z2 = f.c1.c0
    var z1 = f.c1.c1
    var z5 = f.c1.c2

    var (t0, t1) = fp4Square(z0, z1)
    z0 = t0 - z0
    z0 = z0 + z0 + t0
    z1 = t1 + z1
    z1 = z1 + z1 + t1

    (t0, t1) = fp4Square(z2, z3)
    let (t2, t3) = fp4Square(z4, z5)
    z4 = t0 - z4
    z4 = z4 + z4 + t0
    z5 = t1 + z5
    z5 = z5 + z5 + t1

    t0 = t3.mulByNonresidue()
    z2 = t0 + z2
    z2 = z2 + z2 + t0
    z3 = t2 - z3
    z3 = z3 + z3 + t2

    return Fp12(Fp6(z0, z4, z3), Fp6(z2, z1, z5))
}

/// f^x for the negative curve parameter x (f in the cyclotomic subgroup).
func cyclotomicExpByX(_ f: Fp12) -> Fp12 {
    var tmp = Fp12.one
    var found = false
    let k: UInt64 = 0xd201_0000_0001_0000
    for i in (0..<64).reversed() {
        let b = (k >> UInt64(i)) & 1 == 1
        if found { tmp = cyclotomicSquare(tmp) } else { found = b }
        if b { tmp = tmp * f }
    }
    return tmp.conjugate()
}

func finalExponentiation(_ m: Fp12) -> Fp12 {
    // easy part: m^((p^6 - 1)(p^2 + 1))
    var t0 = m.conjugate()
    var t1 = m.inverse()
    var t2 = t0 * t1
    t1 = t2
    t2 = t2.frobenius().frobenius()
    t2 = t2 * t1
    // hard part
    t1 = cyclotomicSquare(t2).conjugate()
    var t3 = cyclotomicExpByX(t2)
    var t4 = cyclotomicSquare(t3)
    var t5 = t1 * t3
    t1 = cyclotomicExpByX(t5)
    t0 = cyclotomicExpByX(t1)
    var t6 = cyclotomicExpByX(t0)
    t6 = t6 * t4
    t4 = cyclotomicExpByX(t6)
    t5 = t5.conjugate()
    t4 = t4 * (t5 * t2)
    t5 = t2.conjugate()
    t1 = t1 * t2
    t1 = t1.frobenius().frobenius().frobenius()
    t6 = t6 * t5
    t6 = t6.frobenius()
    t3 = t3 * t0
    t3 = t3.frobenius().frobenius()
    t3 = t3 * t1
    t3 = t3 * t6
    return t3 * t4
}

/// f^k for f in the cyclotomic subgroup, k given as canonical little-endian limbs:
/// 4-bit fixed window with a masked table scan (constant time in k).
func cyclotomicPow(_ f: Fp12, _ k: (UInt64, UInt64, UInt64, UInt64)) -> Fp12 {
    var table = [Fp12](repeating: .one, count: 16)
    table[1] = f
    for i in 2..<16 { table[i] = table[i - 1] * f }
    var acc = Fp12.one
    @inline(__always) func window(_ w: UInt64) {
        for s in stride(from: 60, through: 0, by: -4) {
            acc = cyclotomicSquare(cyclotomicSquare(cyclotomicSquare(cyclotomicSquare(acc))))
            let d = Int((w >> UInt64(s)) & 0xf)
            var t = table[0]
            for j in 1..<16 { t = Fp12.select(t, table[j], j == d) }
            acc = acc * t
        }
    }
    window(k.3)
    window(k.2)
    window(k.1)
    window(k.0)
    return acc
}

/// Fixed-base exponentiation: for each of the 64 four-bit windows of the exponent, the 16
/// powers f^(d · 16^i), d in 0..<16. A power is then 63 multiplications of entries picked by
/// a masked scan of all 16 (constant time in the exponent), against 256 squarings and 64
/// multiplications for `cyclotomicPow`.
struct Fp12FixedBase: Sendable {
    /// entries[16 i + d] = f^(d · 16^i).
    let entries: [Fp12]

    init(_ f: Fp12) {
        var entries = [Fp12]()
        entries.reserveCapacity(64 * 16)
        var base = f
        for _ in 0..<64 {
            var m = Fp12.one
            for _ in 0..<16 {
                entries.append(m)
                m = m * base
            }
            base = m  // f^(16^(i+1))
        }
        self.entries = entries
    }

    /// f^k for canonical little-endian limbs k.
    func power(_ k: (UInt64, UInt64, UInt64, UInt64)) -> Fp12 {
        entries.withUnsafeBufferPointer { t in
            @inline(__always) func pick(_ i: Int) -> Fp12 {
                let d = scalarBits(k, 4 * i, 4)
                var v = t[16 * i]
                for j in 1..<16 { v = Fp12.select(v, t[16 * i + j], j == d) }
                return v
            }
            var acc = pick(0)
            for i in 1..<64 { acc = acc * pick(i) }
            return acc
        }
    }
}
