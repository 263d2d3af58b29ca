// Multi-scalar multiplication sum_i k_i * P_i.
//
// Three algorithms, all on the complete formulas of Curve.swift (so identities, equal and
// opposite points need no special cases):
//
// - `strausConstantTime`: interleaved signed 5-bit fixed windows (Straus). Each scalar is
//   recoded without branches into 52 digits in [-16, 16]; one shared chain of 255 doublings,
//   then per window and point one mixed addition of an entry picked by a masked scan of the
//   point's 17-entry affine table (0..16 P) and negated by a masked select. The sequence of
//   field operations and memory accesses depends only on the number of points, never on
//   the scalars: constant time.
// - `pippengerVariableTime`: signed-digit bucket method. Which bucket a point goes to, and
//   whether a bucket is empty, depends on the scalar digits: NOT constant time. For public
//   scalars only (verification, batch checks, benchmarks).
// - `MultiBaseTable` (FixedBaseMSM.swift): fixed bases known in advance (e.g. the ABSE
//   public basis), odd-digit tables, and a batched affine sum over many tables sharing
//   the scalars.

typealias Limbs = (UInt64, UInt64, UInt64, UInt64)

/// Bits [start, start + width) of a 256-bit little-endian scalar (width <= 32), zero past 256.
@inline(__always)
func scalarBits(_ k: Limbs, _ start: Int, _ width: Int) -> Int {
    if start >= 256 { return 0 }
    let l = start >> 6
    let s = UInt64(start & 63)
    let w0: UInt64
    let w1: UInt64
    switch l {
    case 0: (w0, w1) = (k.0, k.1)
    case 1: (w0, w1) = (k.1, k.2)
    case 2: (w0, w1) = (k.2, k.3)
    default: (w0, w1) = (k.3, 0)
    }
    // The limb index is a public position, not a secret: the switch is on `start` only.
    var v = w0 >> s
    if s != 0 { v |= w1 << (64 - s) }
    return Int(v & ((1 << UInt64(width)) - 1))
}

/// Number of signed 5-bit digits of a scalar below 2^255 (51 windows plus the final carry).
let signedWindows = 52

/// Branch-free recoding of a scalar (< 2^255) into 52 digits d_w in [-16, 16] with
/// k = sum d_w 32^w.
@inline(__always)
func signedDigits(_ k: Limbs, into out: UnsafeMutablePointer<Int8>) {
    var carry = 0
    for w in 0..<signedWindows {
        let raw = scalarBits(k, 5 * w, 5) + carry  // 0...32
        carry = ((16 - raw) >> 63) & 1  // raw > 16, without a branch
        out[w] = Int8(truncatingIfNeeded: raw - (carry << 5))
    }
}

/// Picks sign(d) * table[|d|] (|d| <= 16) from a 17-entry affine table by a masked scan of
/// every entry and a masked negation. Entry 0 is the identity; `baseIsIdentity` (public)
/// marks a table of the identity point.
@inline(__always)
func scanSigned<C>(
    _ t: UnsafeBufferPointer<AffinePoint<C>>, _ row: Int, _ d: Int8, _ baseIsIdentity: Bool
) -> AffinePoint<C> {
    let m = Int(d) >> 7  // -1 if negative, else 0
    let a = (Int(d) ^ m) - m
    var x = t[row].x
    var y = t[row].y
    for j in 1...16 {
        let c = j == a
        x = C.F.select(x, t[row + j].x, c)
        y = C.F.select(y, t[row + j].y, c)
    }
    y = C.F.select(y, -y, m != 0)
    // For a point of prime order r, j * 2^e * P (0 < j <= 16) is never the identity, so only
    // digit 0 is; a public identity base makes every entry the identity.
    let inf = baseIsIdentity ? true : a == 0
    return AffinePoint(x: x, y: y, infinity: inf)
}

/// Appends the 17 multiples 0..16 of `p` (projective).
@inline(__always)
func appendMultiples<C>(_ p: ProjectivePoint<C>, to out: inout [ProjectivePoint<C>]) {
    var m = ProjectivePoint<C>.identity
    for d in 0...16 {
        out.append(m)
        m = d == 1 ? p.doubled() : m + p
    }
}

/// Constant-time interleaved signed 5-bit window MSM (see the file header).
func strausConstantTime<C>(_ points: [ProjectivePoint<C>], _ scalars: [Limbs]) -> ProjectivePoint<C> {
    precondition(
        points.count == scalars.count, "multiScalarMultiply: points and scalars differ in count")
    let n = points.count
    if n == 0 { return .identity }
    var proj = [ProjectivePoint<C>]()
    proj.reserveCapacity(17 * n)
    for p in points { appendMultiples(p, to: &proj) }
    let ids = points.map(\.isIdentity)  // public: the points are not secret
    let table = batchAffine(proj)
    var digits = [Int8](repeating: 0, count: signedWindows * n)
    digits.withUnsafeMutableBufferPointer { dg in
        for i in 0..<n { signedDigits(scalars[i], into: dg.baseAddress! + signedWindows * i) }
    }
    var acc = ProjectivePoint<C>.identity
    table.withUnsafeBufferPointer { t in
        for w in stride(from: signedWindows - 1, through: 0, by: -1) {
            if w != signedWindows - 1 {
                acc = acc.doubled().doubled().doubled().doubled().doubled()
            }
            for i in 0..<n {
                acc = acc.adding(scanSigned(t, 17 * i, digits[signedWindows * i + w], ids[i]))
            }
        }
    }
    return acc
}

/// Window width minimizing the bucket method's cost W * (n + 2^(c-1)) + 256 doublings.
func pippengerWindow(_ n: Int) -> Int {
    var best = 2
    var bestCost = Int.max
    for c in 2...16 {
        let windows = 256 / c + 1
        let cost = windows * (n + (1 << (c - 1)) * 2) + 256
        if cost < bestCost {
            bestCost = cost
            best = c
        }
    }
    return best
}

/// Variable-time signed-digit bucket MSM (Pippenger). Not constant time: see the file header.
func pippengerVariableTime<C>(_ points: [ProjectivePoint<C>], _ scalars: [Limbs])
    -> ProjectivePoint<C>
{
    precondition(
        points.count == scalars.count, "multiScalarMultiply: points and scalars differ in count")
    let n = points.count
    if n == 0 { return .identity }
    let affine = batchAffine(points)
    let c = pippengerWindow(n)
    let windows = 256 / c + 1  // one more than needed for the final carry
    let half = 1 << (c - 1)
    // Signed recoding: digits in [-2^(c-1), 2^(c-1)], k = sum d_w 2^(c w).
    var digits = [Int32](repeating: 0, count: n * windows)
    for i in 0..<n {
        var carry = 0
        for w in 0..<windows {
            var v = scalarBits(scalars[i], c * w, c) + carry
            carry = 0
            if v > half {
                v -= 1 << c
                carry = 1
            }
            digits[i * windows + w] = Int32(v)
        }
    }
    var buckets = [ProjectivePoint<C>](repeating: .identity, count: half)
    var acc = ProjectivePoint<C>.identity
    for w in stride(from: windows - 1, through: 0, by: -1) {
        if !acc.isIdentity { for _ in 0..<c { acc = acc.doubled() } }
        for b in 0..<half { buckets[b] = .identity }
        var used = false
        for i in 0..<n {
            let d = Int(digits[i * windows + w])
            if d > 0 {
                buckets[d - 1] = buckets[d - 1].adding(affine[i])
                used = true
            } else if d < 0 {
                buckets[-d - 1] = buckets[-d - 1].adding(affine[i].negated())
                used = true
            }
        }
        if !used { continue }
        // sum_b (b + 1) * bucket[b] by running sums from the top bucket down.
        var running = ProjectivePoint<C>.identity
        var total = ProjectivePoint<C>.identity
        for b in stride(from: half - 1, through: 0, by: -1) {
            if !buckets[b].isIdentity { running = running + buckets[b] }
            if !running.isIdentity { total = total + running }
        }
        acc = acc + total
    }
    return acc
}

/// Below this many points the variable-time entry point uses Straus (measured crossover in
/// Benchmarks/BLS: the bucket method wins from a few dozen points on).
let pippengerThreshold = 64

// MARK: Public API

extension BLS12381 {
    /// How a multi-scalar multiplication may depend on its scalars.
    public enum MSMTiming: Sendable {
        /// Running time and memory accesses depend only on the number of points (interleaved
        /// signed 5-bit windows with masked table scans). Use for secret scalars.
        case constantTime
        /// Fastest algorithm for the size (bucket method from `pippengerThreshold` points on);
        /// its running time depends on the scalars. Use for public scalars only.
        case variableTime
    }
}

/// Dispatches on `timing` (and, for variable time, on the size).
func msm<C>(_ p: [ProjectivePoint<C>], _ scalars: [BLS12381.Scalar], _ timing: BLS12381.MSMTiming)
    -> ProjectivePoint<C>
{
    precondition(p.count == scalars.count, "multiScalarMultiply: points and scalars differ in count")
    let k = scalars.map(\.limbs)
    switch timing {
    case .constantTime: return strausConstantTime(p, k)
    case .variableTime:
        return p.count < pippengerThreshold ? strausConstantTime(p, k) : pippengerVariableTime(p, k)
    }
}

extension BLS12381.G1 {
    /// sum_i scalars[i] * points[i].
    /// - Parameters:
    ///   - points: the points.
    ///   - scalars: one scalar per point.
    ///   - timing: `.constantTime` (default) for secret scalars, `.variableTime` for public ones.
    /// - Returns: the sum (the identity for no points).
    public static func multiScalarMultiply(
        points: [BLS12381.G1], scalars: [BLS12381.Scalar], timing: BLS12381.MSMTiming = .constantTime
    ) -> BLS12381.G1 {
        BLS12381.G1(msm(points.map(\.p), scalars, timing))
    }

    /// Precomputed tables for constant-time MSM over a fixed list of points (for example a
    /// public basis reused for every ciphertext). Memory: `tableBytes`, 16 * parts affine
    /// points (104 bytes each in G1) per point.
    public struct FixedBases: Sendable {
        let table: MultiBaseTable<G1Params>

        /// Builds the tables.
        /// - Parameters:
        ///   - points: the fixed points.
        ///   - parts: 1, 2 or 4; the scalar is split into that many pieces with their own
        ///     tables (more parts: fewer doublings, proportionally more memory and build time).
        public init(points: [BLS12381.G1], parts: Int = 4) {
            table = MultiBaseTable(points: points.map(\.p), parts: parts)
        }

        /// The number of points.
        public var count: Int { table.count }
        /// Bytes held by the precomputed entries.
        public var tableBytes: Int { table.tableBytes }

        /// sum_i scalars[i] * points[i], constant time in the scalars.
        /// - Parameter scalars: one scalar per point.
        /// - Returns: the sum.
        public func multiply(_ scalars: [BLS12381.Scalar]) -> BLS12381.G1 {
            BLS12381.G1(table.multiply(scalars.map(\.limbs)))
        }

        /// For every element T of `tables`: sum_i scalars[i] * T.points[i], the same scalars
        /// for all (for example the N columns of a ciphertext vector). The sums are formed in
        /// affine coordinates with one field inversion per level for all tables at once,
        /// about twice as fast per point as ``multiply(_:)``; constant time in the scalars
        /// (FixedBaseMSM.swift has the argument and its one exception).
        /// - Parameters:
        ///   - tables: tables built with the same point count and parts.
        ///   - scalars: one scalar per point.
        /// - Returns: one sum per table, in order.
        public static func multiply(_ tables: [FixedBases], sharing scalars: [BLS12381.Scalar])
            -> [BLS12381.G1]
        {
            MultiBaseTable.multiplyAll(tables.map(\.table), scalars.map(\.limbs)).map(BLS12381.G1.init)
        }
    }
}

extension BLS12381.G2 {
    /// sum_i scalars[i] * points[i].
    /// - Parameters:
    ///   - points: the points.
    ///   - scalars: one scalar per point.
    ///   - timing: `.constantTime` (default) for secret scalars, `.variableTime` for public ones.
    /// - Returns: the sum (the identity for no points).
    public static func multiScalarMultiply(
        points: [BLS12381.G2], scalars: [BLS12381.Scalar], timing: BLS12381.MSMTiming = .constantTime
    ) -> BLS12381.G2 {
        BLS12381.G2(msm(points.map(\.p), scalars, timing))
    }
}

extension BLS12381._Bench {
    /// The variable-time bucket method regardless of size (to measure the crossover).
    public static func pippengerG1(_ points: [BLS12381.G1], _ scalars: [BLS12381.Scalar])
        -> BLS12381.G1
    {
        BLS12381.G1(pippengerVariableTime(points.map(\.p), scalars.map(\.limbs)))
    }
}
