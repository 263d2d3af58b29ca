// Fixed-base scalar multiplication for the generators: for each of the 64 four-bit windows
// of a scalar, a table of the 16 multiples d * 16^i * G (affine). A multiplication is then
// 64 mixed additions of entries picked by a masked scan of all 16 (constant time).

struct FixedBaseTable<C: CurveParams>: Sendable {
    let entries: [AffinePoint<C>]  // 64 windows x 16 digits

    init(base: ProjectivePoint<C>) {
        var pts = [ProjectivePoint<C>]()
        pts.reserveCapacity(64 * 16)
        var b = base
        for _ in 0..<64 {
            var m = ProjectivePoint<C>.identity
            for _ in 0..<16 {
                pts.append(m)
                m = m + b
            }
            b = m  // 16 * b
        }
        entries = batchAffine(pts)
    }

    func multiply(_ k: (UInt64, UInt64, UInt64, UInt64)) -> ProjectivePoint<C> {
        var acc = ProjectivePoint<C>.identity
        entries.withUnsafeBufferPointer { t in
            @inline(__always) func limb(_ w: UInt64, _ base: Int) {
                for s in 0..<16 {
                    let d = Int((w >> UInt64(4 * s)) & 0xf)
                    let row = (base + s) * 16
                    var x = t[row].x
                    var y = t[row].y
                    // Only digit 0 is the identity (j * 16^i * G = O would need the odd prime r to
                    // divide j * 2^(4i) with 0 < j < 16), so the flag is a comparison, not a table read.
                    let inf = d == 0
                    for j in 1..<16 {
                        let c = j == d
                        x = C.F.select(x, t[row + j].x, c)
                        y = C.F.select(y, t[row + j].y, c)
                    }
                    acc = acc.adding(AffinePoint(x: x, y: y, infinity: inf))
                }
            }
            limb(k.0, 0)
            limb(k.1, 16)
            limb(k.2, 32)
            limb(k.3, 48)
        }
        return acc
    }
}

let fixedBaseG1 = FixedBaseTable<G1Params>(base: BLS12381.G1.generator.p)
let fixedBaseG2 = FixedBaseTable<G2Params>(base: BLS12381.G2.generator.p)

// MARK: Benchmark hooks

extension BLS12381 {
    /// Internal measurement hooks for the benchmark executable; not part of the stable API.
    public enum _Bench {
        /// Runs `n` chained Fp multiplications and returns a value derived from the result.
        public static func fpMulChain(_ n: Int, seed: UInt64) -> UInt64 {
            var a = Fp(seed | 1)
            let b = Fp(seed &* 0x9abc_def0 | 3)
            for _ in 0..<n { a = a * b }
            return a.l0
        }
        /// Runs `n` chained Fp squarings.
        public static func fpSquareChain(_ n: Int, seed: UInt64) -> UInt64 {
            var a = Fp(seed | 1)
            for _ in 0..<n { a = a.square() }
            return a.l0
        }
        /// Runs one Miller loop and returns a limb of its value.
        public static func millerLoop(_ p: G1, _ q: G2) -> UInt64 {
            BLS12381.millerLoopValue(p, q).f.c0.c0.c0.l0
        }
        /// Runs `n` chained Fp12 multiplications.
        public static func fp12MulChain(_ n: Int) -> UInt64 {
            var a = BLS12381.GT.generator.f
            let b = a.square()
            for _ in 0..<n { a = a * b }
            return a.c0.c0.c0.l0
        }
    }
}
