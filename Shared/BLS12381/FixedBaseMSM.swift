// Constant-time multi-scalar multiplication over fixed bases (points known in advance, such
// as the ABSE public basis), and a batched form for many point lists that share the scalars
// (the N columns of an ABSE ciphertext).
//
// Recoding. A scalar k < r is made odd without a branch (k' = k if k is odd, else r - k,
// and the digits are then negated: k P = -(r - k) P) and recoded into 52 odd digits in
// [-31, 31] (k' = sum d_w 32^w; the regular recoding of Joye and Tunstall). No digit is zero,
// so no table entry is the identity.
//
// Tables. The 52 digits are cut into `parts` runs of 52 / parts; per point and run, the odd
// affine multiples 1, 3, ..., 31 of 2^(5 * first window of the run) P (16 entries). An entry
// is picked by a masked scan of all 16 and negated by a masked select.
//
// `MultiBaseTable.multiply`: Horner over the windows of a run (5 doublings each) with one
// complete mixed addition (Curve.swift) per point, part and window.
//
// `MultiBaseTable.multiplyAll`: for every window of a run, the count * parts picked entries
// are summed in affine coordinates, pairwise in a tree, with one field inversion per tree
// level for all pairs of all tables at once (Montgomery's trick): an affine addition costs
// about 5 multiplications and a squaring against 11 multiplications for the complete
// projective one. Then Horner per table, as above. The affine formula is wrong when two
// summands have the same x (equal or opposite points); that needs a discrete-logarithm
// relation between different bases or between a base's multiples, which random bases
// (such as the ABSE basis, drawn by the regulator) have only with negligible probability. The
// product of all denominators of a level is zero exactly when such a case occurred; then the
// whole call is recomputed with `multiply`. The sequence of field operations and memory
// accesses depends only on the number of tables and points, never on the scalars, except for
// that one recomputation (a wrong-result case that honest inputs do not reach).

/// Number of odd digits of a scalar below 2^255: 51 windows of 5 bits and a final digit 1.
let oddWindows = 52

/// The group order r, little-endian limbs.
let groupOrderLimbs: Limbs = (
    0xffff_ffff_0000_0001, 0x53bd_a402_fffe_5bfe, 0x3339_d808_09a1_d805, 0x73ed_a753_299d_7d48
)

/// Branch-free regular recoding of a scalar k < r into 52 odd digits in [-31, 31] with
/// k = sum d_w 32^w mod r (see the file header).
@inline(__always)
func oddDigits(_ k: Limbs, into out: UnsafeMutablePointer<Int8>) {
    var borrow: UInt64 = 0
    let n0 = subBorrow(groupOrderLimbs.0, k.0, &borrow)
    let n1 = subBorrow(groupOrderLimbs.1, k.1, &borrow)
    let n2 = subBorrow(groupOrderLimbs.2, k.2, &borrow)
    let n3 = subBorrow(groupOrderLimbs.3, k.3, &borrow)
    let even = (k.0 & 1) ^ 1
    let mask = 0 &- even  // all ones if k is even
    let odd: Limbs = (
        (k.0 & ~mask) | (n0 & mask), (k.1 & ~mask) | (n1 & mask),
        (k.2 & ~mask) | (n2 & mask), (k.3 & ~mask) | (n3 & mask)
    )
    // For odd k' < 2^256: k' = sum_{w<51} (2 b_w - 31) 32^w + 32^51 with b_w = bits 5w+1 … 5w+5.
    let negate = -Int(even)  // -1 negates, 0 keeps
    for w in 0..<(oddWindows - 1) {
        let d = 2 * scalarBits(odd, 5 * w + 1, 5) - 31
        out[w] = Int8(truncatingIfNeeded: (d ^ negate) - negate)
    }
    out[oddWindows - 1] = Int8(truncatingIfNeeded: (1 ^ negate) - negate)
}

/// Picks sign(d) * table[(|d| - 1) / 2] (d odd, |d| <= 31) from a 16-entry table of odd
/// multiples by a masked scan of every entry and a masked negation. `baseIsIdentity` (public)
/// marks a table of the identity point.
@inline(__always)
func scanOdd<C>(
    _ t: UnsafeBufferPointer<AffinePoint<C>>, _ row: Int, _ d: Int8, _ baseIsIdentity: Bool
) -> AffinePoint<C> {
    let m = Int(d) >> 7  // -1 if negative, else 0
    let j = ((Int(d) ^ m) - m) >> 1  // (|d| - 1) / 2 for odd d
    var x = t[row].x
    var y = t[row].y
    for i in 1..<16 {
        let c = i == j
        x = C.F.select(x, t[row + i].x, c)
        y = C.F.select(y, t[row + i].y, c)
    }
    y = C.F.select(y, -y, m != 0)
    return AffinePoint(x: x, y: y, infinity: baseIsIdentity)
}

/// Appends the 16 odd multiples 1, 3, …, 31 of `p` (projective).
@inline(__always)
func appendOddMultiples<C>(_ p: ProjectivePoint<C>, to out: inout [ProjectivePoint<C>]) {
    let twice = p.doubled()
    var m = p
    for _ in 0..<16 {
        out.append(m)
        m = m + twice
    }
}

/// x and y of an affine point that is not the identity (the batched sums' working storage:
/// 96 bytes in G1 against 104 for `AffinePoint`).
struct AffineCoordinates<C: CurveParams> {
    var x: C.F
    var y: C.F
}

/// Precomputed fixed-base tables for constant-time MSM over points known in advance.
struct MultiBaseTable<C: CurveParams>: Sendable {
    let count: Int
    /// The 52 odd digits are cut into `parts` runs, each with its own table.
    let parts: Int
    /// entries[(i * parts + k) * 16 + j] = (2j + 1) * 2^(5 * k * 52 / parts) * P_i (affine).
    let entries: [AffinePoint<C>]
    let identities: [Bool]
    /// Some point is the identity (public; such tables take the projective path).
    let hasIdentity: Bool

    init(points: [ProjectivePoint<C>], parts: Int) {
        precondition([1, 2, 4].contains(parts), "parts must be 1, 2 or 4")
        self.count = points.count
        self.parts = parts
        let shift = 5 * (oddWindows / parts)
        var proj = [ProjectivePoint<C>]()
        proj.reserveCapacity(points.count * parts * 16)
        for p in points {
            var base = p
            for k in 0..<parts {
                appendOddMultiples(base, to: &proj)
                if k + 1 < parts { for _ in 0..<shift { base = base.doubled() } }
            }
        }
        entries = batchAffine(proj)
        identities = points.map(\.isIdentity)
        hasIdentity = identities.contains(true)
    }

    /// Bytes held by the table entries.
    var tableBytes: Int { entries.count * MemoryLayout<AffinePoint<C>>.stride }

    /// The odd digits of every scalar, 52 per scalar.
    static func digits(_ scalars: [Limbs]) -> [Int8] {
        var digits = [Int8](repeating: 0, count: oddWindows * scalars.count)
        digits.withUnsafeMutableBufferPointer { dg in
            for i in scalars.indices { oddDigits(scalars[i], into: dg.baseAddress! + oddWindows * i) }
        }
        return digits
    }

    /// sum_i k_i * P_i, constant time in the scalars (complete projective additions).
    func multiply(_ scalars: [Limbs]) -> ProjectivePoint<C> {
        precondition(scalars.count == count, "fixed-base MSM: scalar count differs from point count")
        return multiply(digits: Self.digits(scalars))
    }

    func multiply(digits: [Int8]) -> ProjectivePoint<C> {
        let run = oddWindows / parts
        var acc = ProjectivePoint<C>.identity
        entries.withUnsafeBufferPointer { t in
            digits.withUnsafeBufferPointer { dg in
                for w in stride(from: run - 1, through: 0, by: -1) {
                    if w != run - 1 { acc = acc.doubled().doubled().doubled().doubled().doubled() }
                    for i in 0..<count {
                        for part in 0..<parts {
                            let d = dg[oddWindows * i + part * run + w]
                            acc = acc.adding(scanOdd(t, (i * parts + part) * 16, d, identities[i]))
                        }
                    }
                }
            }
        }
        return acc
    }

    /// For every table T in `tables`: sum_i k_i * T.P_i, all with the same scalars, by the
    /// batched affine sums of the file header. The tables must have the same point count and
    /// parts. Constant time in the scalars (see the header for the one exception).
    static func multiplyAll(_ tables: [MultiBaseTable], _ scalars: [Limbs]) -> [ProjectivePoint<C>] {
        guard let first = tables.first else { return [] }
        let count = first.count
        let parts = first.parts
        for t in tables {
            precondition(t.count == count && t.parts == parts, "fixed-base MSM: tables differ in shape")
        }
        precondition(scalars.count == count, "fixed-base MSM: scalar count differs from point count")
        let digits = Self.digits(scalars)
        // A table with an identity base (public) has identity entries, which the affine sum
        // cannot represent: those calls take the projective path.
        if count == 0 || tables.contains(where: \.hasIdentity) {
            return tables.map { $0.multiply(digits: digits) }
        }
        let run = oddWindows / parts
        let perGroup = count * parts
        let groups = tables.count * run
        let a = UnsafeMutableBufferPointer<AffineCoordinates<C>>.allocate(capacity: groups * perGroup)
        let b = UnsafeMutableBufferPointer<AffineCoordinates<C>>.allocate(capacity: groups * (perGroup + 1) / 2)
        let prefix = UnsafeMutableBufferPointer<C.F>.allocate(capacity: groups * (perGroup / 2))
        defer {
            a.deallocate()
            b.deallocate()
            prefix.deallocate()
        }
        // Group (table c, window w) holds the entries picked for window w of every run.
        digits.withUnsafeBufferPointer { dg in
            for (c, table) in tables.enumerated() {
                table.entries.withUnsafeBufferPointer { t in
                    for w in 0..<run {
                        var slot = (c * run + w) * perGroup
                        for i in 0..<count {
                            for part in 0..<parts {
                                let d = dg[oddWindows * i + part * run + w]
                                let e = scanOdd(t, (i * parts + part) * 16, d, false)
                                a[slot] = AffineCoordinates(x: e.x, y: e.y)
                                slot += 1
                            }
                        }
                    }
                }
            }
        }
        var src = a
        var dst = b
        var size = perGroup
        var exceptional = false
        while size > 1 {
            let pairs = size / 2
            let next = pairs + (size & 1)
            // Forward: prefix[q] = product of the denominators x_Q - x_P of the pairs before q.
            var product = C.F.one
            var q = 0
            for g in 0..<groups {
                let base = g * size
                for p in 0..<pairs {
                    prefix[q] = product
                    product = product * (src[base + 2 * p + 1].x - src[base + 2 * p].x)
                    q += 1
                }
            }
            exceptional = exceptional || product.isZero
            var inverse = product.inverse()
            // Backward: each pair's inverse denominator, then its affine sum.
            for g in stride(from: groups - 1, through: 0, by: -1) {
                let base = g * size
                let out = g * next
                if size & 1 == 1 { dst[out + pairs] = src[base + size - 1] }
                for p in stride(from: pairs - 1, through: 0, by: -1) {
                    q -= 1
                    let l = src[base + 2 * p]
                    let r = src[base + 2 * p + 1]
                    let den = r.x - l.x
                    let inv = inverse * prefix[q]
                    inverse = inverse * den
                    let lambda = (r.y - l.y) * inv
                    let x3 = lambda.square() - l.x - r.x
                    let y3 = lambda * (l.x - x3) - l.y
                    dst[out + p] = AffineCoordinates(x: x3, y: y3)
                }
            }
            swap(&src, &dst)
            size = next
        }
        if exceptional { return tables.map { $0.multiply(digits: digits) } }
        // src[c * run + w] is the sum for window w of table c: Horner over the windows.
        return (0..<tables.count).map { c in
            let top = src[c * run + run - 1]
            var acc = ProjectivePoint<C>(x: top.x, y: top.y, z: .one)
            for w in stride(from: run - 2, through: 0, by: -1) {
                let s = src[c * run + w]
                acc = acc.doubled().doubled().doubled().doubled().doubled().adding(AffinePoint(x: s.x, y: s.y))
            }
            return acc
        }
    }
}
