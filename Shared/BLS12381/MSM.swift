// Multi-scalar multiplication sum_i k_i * P_i.
//
// Three algorithms, all on the complete formulas of Curve.swift (so identities, equal and
// opposite points need no special cases):
//
// - `strausConstantTime`: interleaved 5-bit fixed windows (Straus). Each scalar is recoded
//   without branches into 52 odd digits in [-31, 31] (`oddDigits`, FixedBaseMSM.swift); one
//   shared chain of 255 doublings, then per window and point one mixed addition of an entry
//   picked by a masked scan of the point's 16-entry affine table (1, 3, ..., 31 P) and
//   negated by a masked select (`scanOdd`). The sequence of
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

/// Constant-time interleaved 5-bit window MSM with odd digits (see the file header).
func strausConstantTime<C>(_ points: [ProjectivePoint<C>], _ scalars: [Limbs]) -> ProjectivePoint<C> {
    precondition(
        points.count == scalars.count, "multiScalarMultiply: points and scalars differ in count")
    let n = points.count
    if n == 0 { return .identity }
    var proj = [ProjectivePoint<C>]()
    proj.reserveCapacity(16 * n)
    for p in points { appendOddMultiples(p, to: &proj) }
    let ids = points.map(\.isIdentity)  // public: the points are not secret
    let table = batchAffine(proj)
    let digits = MultiBaseTable<C>.digits(scalars)
    var acc = ProjectivePoint<C>.identity
    table.withUnsafeBufferPointer { t in
        for w in stride(from: oddWindows - 1, through: 0, by: -1) {
            if w != oddWindows - 1 {
                acc = acc.doubled().doubled().doubled().doubled().doubled()
            }
            for i in 0..<n {
                acc = acc.adding(scanOdd(t, 16 * i, digits[oddWindows * i + w], ids[i]))
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
