import PropertyBased
import Testing

@testable import BLS12381

/// Multi-scalar multiplication against the naive sum of single multiplications.
@Suite("BLS12-381 multi-scalar multiplication")
struct MSMTests {
  /// Points and scalars for one case: random multiples of the generator with identities,
  /// duplicates (equal and opposite points), zero, one and r - 1 scalars mixed in.
  static func g1Case(size: Int, seed: [Scalar]) -> ([G1], [Scalar]) {
    var points = [G1]()
    var scalars = [Scalar]()
    for i in 0..<size {
      let s = seed[i % seed.count] * Scalar(UInt64(i + 1)) + Scalar(UInt64(i))
      switch i % 7 {
      case 3: points.append(.identity)
      case 5 where i > 0: points.append(points[i - 1])  // duplicate
      case 6 where i > 1: points.append(-points[i - 2])  // opposite
      default: points.append(G1.generatorMultiple(s))
      }
      switch i % 5 {
      case 1: scalars.append(.zero)
      case 4: scalars.append(i % 2 == 0 ? .one : -Scalar.one)
      default: scalars.append(seed[(i + 1) % seed.count] + Scalar(UInt64(3 * i)))
      }
    }
    return (points, scalars)
  }

  static func naive(_ points: [G1], _ scalars: [Scalar]) -> G1 {
    var acc = G1.identity
    for (p, k) in zip(points, scalars) { acc = acc + p * k }
    return acc
  }

  static func naive(_ points: [G2], _ scalars: [Scalar]) -> G2 {
    var acc = G2.identity
    for (p, k) in zip(points, scalars) { acc = acc + p * k }
    return acc
  }

  @Test(
    "G1: constant-time, variable-time, bucket and fixed-base MSM equal the naive sum, sizes 1...64")
  func g1Random() async {
    await propertyCheck(count: 12, input: Gen.int(in: 1...64), scalarGen.array(of: 4)) {
      size, seed in
      let (points, scalars) = Self.g1Case(size: size, seed: seed)
      let expected = Self.naive(points, scalars)
      #expect(G1.multiScalarMultiply(points: points, scalars: scalars) == expected)
      #expect(
        G1.multiScalarMultiply(points: points, scalars: scalars, timing: .variableTime) == expected)
      #expect(BLS12381._Bench.pippengerG1(points, scalars) == expected)
      let parts = [1, 2, 4][size % 3]
      #expect(G1.FixedBases(points: points, parts: parts).multiply(scalars) == expected)
    }
  }

  @Test("G1: every size 1...64 once, all four algorithms")
  func g1AllSizes() {
    let seed = [Scalar(0x1234_5678_9abc_def0), -Scalar(77), Scalar.one, -Scalar(0xffff_ffff)]
    for size in 1...64 {
      let (points, scalars) = Self.g1Case(
        size: size, seed: seed.map { $0 * $0 + Scalar(UInt64(size)) })
      let expected = Self.naive(points, scalars)
      #expect(G1.multiScalarMultiply(points: points, scalars: scalars) == expected, "size \(size)")
      #expect(BLS12381._Bench.pippengerG1(points, scalars) == expected, "size \(size)")
      #expect(G1.FixedBases(points: points, parts: 4).multiply(scalars) == expected, "size \(size)")
    }
  }

  @Test("G1: large variable-time MSM (bucket method) equals the naive sum")
  func g1Large() {
    let seed = [Scalar(99), -Scalar(12345), Scalar(0xdead_beef_cafe)]
    let (points, scalars) = Self.g1Case(size: 130, seed: seed.map { $0 * $0 * $0 })
    let expected = Self.naive(points, scalars)
    #expect(
      G1.multiScalarMultiply(points: points, scalars: scalars, timing: .variableTime) == expected)
    #expect(G1.multiScalarMultiply(points: points, scalars: scalars) == expected)
  }

  @Test("G1: edge cases: empty, all-zero scalars, all identities, same point repeated")
  func g1Edges() {
    #expect(G1.multiScalarMultiply(points: [], scalars: []).isIdentity)
    #expect(BLS12381._Bench.pippengerG1([], []).isIdentity)
    #expect(G1.FixedBases(points: []).multiply([]).isIdentity)
    let p = G1.generatorMultiple(Scalar(5))
    let zeros = [Scalar](repeating: .zero, count: 9)
    #expect(
      G1.multiScalarMultiply(points: Array(repeating: p, count: 9), scalars: zeros).isIdentity)
    #expect(BLS12381._Bench.pippengerG1(Array(repeating: p, count: 9), zeros).isIdentity)
    let ids = [G1](repeating: .identity, count: 5)
    let ks = (0..<5).map { Scalar(UInt64($0 + 11)) }
    #expect(G1.multiScalarMultiply(points: ids, scalars: ks).isIdentity)
    #expect(G1.FixedBases(points: ids).multiply(ks).isIdentity)
    // the same point 60 times with scalar 1 and -1 alternating cancels; with 1 it is 60P
    let same = [G1](repeating: p, count: 60)
    let alt = (0..<60).map { $0 % 2 == 0 ? Scalar.one : -Scalar.one }
    #expect(BLS12381._Bench.pippengerG1(same, alt).isIdentity)
    #expect(G1.multiScalarMultiply(points: same, scalars: alt).isIdentity)
    let ones = [Scalar](repeating: .one, count: 60)
    #expect(BLS12381._Bench.pippengerG1(same, ones) == p * Scalar(60))
    #expect(G1.FixedBases(points: same, parts: 2).multiply(ones) == p * Scalar(60))
    // largest scalar r - 1
    #expect(G1.multiScalarMultiply(points: [p, p], scalars: [-Scalar.one, .one]).isIdentity)
  }

  @Test("G1: the batched fixed-base sum over several tables equals each table's naive sum")
  func g1FixedBaseBatched() async {
    await propertyCheck(count: 10, input: Gen.int(in: 1...24), scalarGen.array(of: 4)) {
      size, seed in
      let tableCount = 1 + size % 4
      let parts = [1, 2, 4][size % 3]
      // Random distinct bases (the affine path) and random, zero, one and r - 1 scalars.
      let scalars = (0..<size).map { i -> Scalar in
        switch i % 6 {
        case 1: return .zero
        case 2: return -Scalar.one
        case 3: return .one
        default: return seed[i % 4] * Scalar(UInt64(i + 2))
        }
      }
      let columns = (0..<tableCount).map { c in
        (0..<size).map { i in G1.generatorMultiple(seed[(i + c) % 4] + Scalar(UInt64(100 * c + i + 1))) }
      }
      let sums = G1.FixedBases.multiply(
        columns.map { G1.FixedBases(points: $0, parts: parts) }, sharing: scalars)
      #expect(sums.count == tableCount)
      for (c, points) in columns.enumerated() {
        #expect(sums[c] == Self.naive(points, scalars), "table \(c) of \(tableCount), \(size) points")
      }
      // Identities, equal and opposite points: the projective path or the recomputation.
      let (odd, oddScalars) = Self.g1Case(size: size, seed: seed)
      let oddSums = G1.FixedBases.multiply(
        [G1.FixedBases(points: odd, parts: parts), G1.FixedBases(points: columns[0], parts: parts)],
        sharing: oddScalars)
      #expect(oddSums == [Self.naive(odd, oddScalars), Self.naive(columns[0], oddScalars)])
    }
  }

  @Test("G1: batched fixed-base sums whose affine tree meets equal or opposite points are recomputed")
  func g1FixedBaseBatchedExceptional() {
    let p = G1.generatorMultiple(Scalar(0xabcdef))
    let q = G1.generatorMultiple(Scalar(0x123457))
    let k = Scalar(0x1234_5678_9abc_def0) * Scalar(0x0fed_cba9_8765_4321)
    // The same base twice with the same scalar: the first tree level adds P + P (doubling).
    let doubled = G1.FixedBases.multiply([G1.FixedBases(points: [p, p], parts: 1)], sharing: [k, k])
    #expect(doubled == [p * (k + k)])
    // The same base with opposite scalars: P + (-P), the sum is the identity.
    let cancelled = G1.FixedBases.multiply(
      [G1.FixedBases(points: [q, p], parts: 2), G1.FixedBases(points: [p, p], parts: 2)], sharing: [k, -k])
    #expect(cancelled[0] == q * k - p * k)
    #expect(cancelled[1].isIdentity)
    // 40 copies of one base with scalar 1 (every level meets equal points).
    let ones = [Scalar](repeating: .one, count: 40)
    let many = G1.FixedBases.multiply(
      [G1.FixedBases(points: Array(repeating: q, count: 40), parts: 4)], sharing: ones)
    #expect(many == [q * Scalar(40)])
    #expect(G1.FixedBases.multiply([], sharing: []).isEmpty)
    #expect(G1.FixedBases.multiply([G1.FixedBases(points: [])], sharing: []) == [G1.identity])
  }

  @Test("odd 5-bit recoding: 52 odd digits in [-31, 31] that sum back to the scalar")
  func oddRecoding() async {
    await propertyCheck(count: 30, input: scalarGen) { k in
      for s in [k, .zero, .one, -Scalar.one, -k, Scalar(2), k + k] {
        var digits = [Int8](repeating: 0, count: oddWindows)
        digits.withUnsafeMutableBufferPointer { oddDigits(s.limbs, into: $0.baseAddress!) }
        var acc = Scalar.zero
        for d in digits.reversed() {
          #expect((-31...31).contains(d) && d & 1 == 1)
          let mag = Scalar(UInt64(abs(Int(d))))
          acc = acc * Scalar(32) + (d < 0 ? -mag : mag)
        }
        #expect(acc == s)
      }
    }
  }

  @Test("G2: constant-time and variable-time MSM equal the naive sum")
  func g2Random() async {
    await propertyCheck(count: 4, input: Gen.int(in: 1...20), scalarGen.array(of: 3)) {
      size, seed in
      var points = [G2]()
      var scalars = [Scalar]()
      for i in 0..<size {
        switch i % 4 {
        case 1: points.append(.identity)
        case 2: points.append(points[0])
        default: points.append(G2.generatorMultiple(seed[i % 3] + Scalar(UInt64(i))))
        }
        scalars.append(i % 3 == 2 ? .zero : seed[(i + 1) % 3] * Scalar(UInt64(i + 2)))
      }
      let expected = Self.naive(points, scalars)
      #expect(G2.multiScalarMultiply(points: points, scalars: scalars) == expected)
      #expect(
        G2.multiScalarMultiply(points: points, scalars: scalars, timing: .variableTime) == expected)
    }
    // the bucket path for G2 (70 points: above the 64-point threshold)
    let pts = (0..<70).map { G2.generatorMultiple(Scalar(UInt64(3 * $0 + 1))) }
    let ks = (0..<70).map { Scalar(UInt64($0 * $0 + 7)) * Scalar(0x1_0000_0001) }
    #expect(
      G2.multiScalarMultiply(points: pts, scalars: ks, timing: .variableTime) == Self.naive(pts, ks)
    )
  }

  @Test("scalar bit extraction and the bucket method's window widths")
  func bits() {
    let k: Limbs = (
      0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0xffff_0000_ffff_0000, 0x7fff_ffff_ffff_fff1
    )
    #expect(scalarBits(k, 0, 4) == 0xf)
    #expect(scalarBits(k, 60, 8) == 0x00)
    #expect(scalarBits(k, 62, 4) == 0b0000)
    #expect(scalarBits(k, 64, 4) == 0x0)
    #expect(scalarBits(k, 124, 8) == 0x0f)
    #expect(scalarBits(k, 252, 4) == 0x7)
    #expect(scalarBits(k, 250, 10) == 0x1f)
    #expect(scalarBits(k, 256, 5) == 0)
    for n in [1, 23, 64, 256, 4096] { #expect((2...16).contains(pippengerWindow(n))) }
  }
}
