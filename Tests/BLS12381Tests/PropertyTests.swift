import PropertyBased
import Testing

@testable import BLS12381

/// Algebraic properties over random scalars (swift-property-based).
@Suite("BLS12-381 properties")
struct PropertyTests {
  @Test("bilinearity: e(aP, bQ) = e(P, Q)^(ab) = e(abP, Q) = e(P, abQ)")
  func bilinearity() async {
    let base = GT.generator
    await propertyCheck(count: 6, input: scalarGen, scalarGen) { a, b in
      let lhs = BLS12381.pairing(G1.generator * a, G2.generator * b)
      #expect(lhs == base.power(a * b))
      #expect(lhs == BLS12381.pairing(G1.generator * (a * b), .generator))
      #expect(lhs == BLS12381.pairing(.generator, G2.generator * (a * b)))
    }
  }

  @Test("pairing values have order r: e(P, Q)^(r-1) * e(P, Q) = 1 and f^r = 1")
  func orderR() async {
    await propertyCheck(count: 3, input: scalarGen) { a in
      let e = BLS12381.pairing(G1.generator * a, .generator)
      #expect(e.power(-Scalar.one) * e == GT.identity)
      #expect(isInGT(e.f))
      #expect(e.power(-Scalar.one) == e.inverse)
    }
  }

  @Test("fixed-base GT power equals the plain power: random, 0, 1, r - 1, 2^k exponents")
  func fixedBasePower() async {
    await propertyCheck(count: 6, input: scalarGen, scalarGen) { a, k in
      let base = GT.generator.power(a)
      let fixed = GT.FixedBase(base)
      #expect(fixed.tableBytes == 1024 * 576)
      for e in [k, .zero, .one, -Scalar.one, -k, Scalar(1 << 63) * Scalar(1 << 63)] {
        #expect(fixed.power(e) == base.power(e))
      }
    }
  }

  @Test("non-degeneracy and identities")
  func nonDegenerate() {
    let e = GT.generator
    #expect(e != GT.identity)
    #expect(!e.isIdentity)
    #expect(BLS12381.pairing(.identity, .generator).isIdentity)
    #expect(BLS12381.pairing(.generator, .identity).isIdentity)
    #expect(BLS12381.pairing(-G1.generator, .generator) == e.inverse)
    #expect(e.power(Scalar(2)) == e * e)
    #expect(e.power(.zero) == .identity)
    #expect(e.power(.one) == e)
  }

  @Test("multi-pairing equals the product of single pairings")
  func multiPairing() async {
    await propertyCheck(count: 3, input: scalarGen.array(of: 3), scalarGen.array(of: 3)) { a, b in
      let pairs = zip(a, b).map { (G1.generator * $0, G2.generator * $1) }
      var product = GT.identity
      for (p, q) in pairs { product = product * BLS12381.pairing(p, q) }
      #expect(BLS12381.multiPairing(pairs) == product)
      // with identities mixed in
      #expect(
        BLS12381.multiPairing(pairs + [(.identity, .generator), (.generator, .identity)]) == product
      )
    }
    #expect(BLS12381.multiPairing([]) == .identity)
    // e(P, Q) * e(-P, Q) = 1: the check a BLS verifier does
    let p = G1.generator * Scalar(7)
    #expect(BLS12381.multiPairing([(p, .generator), (-p, .generator)]).isIdentity)
  }

  @Test("group law: (a+b)P = aP + bP, a(bP) = (ab)P, P - P = O, 2P = P + P")
  func groupLaw() async {
    await propertyCheck(count: 8, input: scalarGen, scalarGen) { a, b in
      #expect(G1.generator * (a + b) == G1.generator * a + G1.generator * b)
      #expect(G2.generator * (a + b) == G2.generator * a + G2.generator * b)
      #expect((G1.generator * b) * a == G1.generator * (a * b))
      #expect((G2.generator * b) * a == G2.generator * (a * b))
      let p = G1.generator * a
      let q = G2.generator * a
      #expect((p - p).isIdentity)
      #expect((q - q).isIdentity)
      #expect(p.doubled() == p + p)
      #expect(q.doubled() == q + q)
      #expect(p + .identity == p)
      #expect(G1.generatorMultiple(a) == p)
      #expect(G2.generatorMultiple(a) == q)
      #expect((G1.generator * -a) == -p)
    }
    #expect((G1.generator * Scalar.zero).isIdentity)
    #expect((G2.generator * (-Scalar.one)) + .generator == .identity)
  }

  @Test("serialization round trip for G1, G2, GT and scalars")
  func roundTrip() async throws {
    await propertyCheck(count: 8, input: scalarGen) { a in
      let p = G1.generator * a
      let q = G2.generator * a
      #expect((try? G1(bytes: p.compressed)) == p)
      #expect((try? G1(bytes: p.uncompressed)) == p)
      #expect((try? G2(bytes: q.compressed)) == q)
      #expect((try? G2(bytes: q.uncompressed)) == q)
      #expect((try? Scalar(bytes: a.bytes)) == a)
      #expect(p.compressed.count == 48 && p.uncompressed.count == 96)
      #expect(q.compressed.count == 96 && q.uncompressed.count == 192)
    }
    let e = BLS12381.pairing(G1.generator * Scalar(5), .generator)
    #expect(try GT(bytes: e.bytes) == e)
    #expect(try G1(bytes: G1.identity.compressed).isIdentity)
    #expect(try G1(bytes: G1.identity.uncompressed).isIdentity)
    #expect(try G2(bytes: G2.identity.compressed).isIdentity)
    #expect(try G2(bytes: G2.identity.uncompressed).isIdentity)
    #expect(G1.identity.compressed == [0xc0] + [UInt8](repeating: 0, count: 47))
  }

  @Test("random off-curve and out-of-subgroup encodings are rejected")
  func invalidRandom() async {
    await propertyCheck(count: 16, input: Gen.uint64(), Gen.uint64()) { a, b in
      // off curve: bump y of a valid point
      let p = G1.generator * Scalar(a | 1)
      var u = p.uncompressed
      u[95] ^= UInt8(truncatingIfNeeded: b | 1)
      #expect(throws: BLS12381.Error.notOnCurve) { try G1(bytes: u) }
      let q = G2.generator * Scalar(a | 1)
      var v = q.uncompressed
      v[191] ^= UInt8(truncatingIfNeeded: b | 1)
      #expect(throws: BLS12381.Error.notOnCurve) { try G2(bytes: v) }
      // a point of E(Fp) mapped by SWU without cofactor clearing is almost never in G1
      let raw = mapToCurve(Fp(a), on: G1Params.self)
      if !raw.isIdentity {
        let enc = G1(raw).uncompressed
        #expect(throws: BLS12381.Error.notInSubgroup) { try G1(bytes: enc) }
        #expect(G1(raw.clearCofactor()).isInSubgroup)
      }
      let raw2 = mapToCurve(Fp2(Fp(a), Fp(b)), on: G2Params.self)
      if !raw2.isIdentity {
        let enc = G2(raw2).compressed
        #expect(throws: BLS12381.Error.notInSubgroup) { try G2(bytes: enc) }
        #expect(G2(raw2.clearCofactor()).isInSubgroup)
      }
      // GT: a random Fp12 element is not in GT
      var bytes = GT.generator.bytes
      bytes[47] ^= 1
      #expect(throws: BLS12381.Error.notInGT) { try GT(bytes: bytes) }
    }
  }

  @Test("hash-to-curve output is in the subgroup and domain-separated")
  func hashProperties() async {
    await propertyCheck(count: 4, input: Gen.uint64()) { n in
      let msg = Array("message \(n)".utf8)
      let p = G1.hash(toCurve: msg, domain: BLS12381.defaultG1Domain)
      let q = G2.hash(toCurve: msg, domain: BLS12381.defaultG2Domain)
      #expect(p.isInSubgroup && !p.isIdentity)
      #expect(q.isInSubgroup && !q.isIdentity)
      #expect(p != G1.hash(toCurve: msg, domain: Array("OTHER-DST".utf8)))
      #expect(p == G1.hash(toCurve: msg, domain: BLS12381.defaultG1Domain))
    }
  }

  @Test("scalar field: inverse, negation, distributivity")
  func scalarField() async {
    await propertyCheck(count: 20, input: scalarGen, scalarGen, scalarGen) { a, b, c in
      if let ai = a.inverse { #expect(a * ai == .one) }
      #expect(a + -a == .zero)
      #expect(a * (b + c) == a * b + a * c)
      #expect(a - b == a + -b)
    }
    let r1 = Scalar.random()
    let r2 = Scalar.random()
    #expect(r1 != r2)
  }

  @Test("G1.compressed(batch) equals each point's compressed encoding, identities included")
  func g1BatchCompression() {
    var points: [G1] = [.identity, .generator]
    for i in 0..<12 { points.append(G1.generatorMultiple(Scalar(UInt64(i * 7919 + 3)) * Scalar.random())) }
    points.append(.identity)
    points.append(-points[3])
    points.append(points[3] + points[4])  // projective, z != 1
    #expect(G1.compressed(points) == points.flatMap(\.compressed))
    #expect(G1.compressed([]).isEmpty)
    #expect(G1.compressed([.identity, .identity]) == G1.identity.compressed + G1.identity.compressed)
  }
}

/// Internal field and tower checks.
@Suite("BLS12-381 fields")
struct FieldTests {
  @Test("Fp: inverse, sqrt, canonical encoding")
  func fp() async {
    await propertyCheck(count: 30, input: Gen.uint64(), Gen.uint64()) { a, b in
      let x = Fp(a) * Fp(b) + Fp(7)
      #expect(x * x.inverse() == Fp.one)
      if let s = x.square().sqrt() {
        #expect(s == x || s == -x)
      } else {
        Issue.record("square has no root")
      }
      #expect((x - x).isZero)
      #expect(-(-x) == x)
      var out = [UInt8]()
      x.appendBytes(to: &out)
      #expect(out.withUnsafeBytes { Fp.fromBytes($0) } == x)
    }
    #expect(Fp(2) * Fp(3) == Fp(6))
    #expect((Fp.zero - Fp.one) + Fp(2) == Fp.one)
    #expect(-Fp.zero == Fp.zero)
  }

  @Test("Fp2, Fp6, Fp12: inverses, sqrt, Frobenius of order 12, cyclotomic squaring")
  func tower() async {
    await propertyCheck(count: 6, input: Gen.uint64().array(of: 12)) { w in
      let c = w.map { Fp($0) + Fp(1) }
      let a2 = Fp2(c[0], c[1])
      #expect(a2 * a2.inverse() == Fp2.one)
      if let s = a2.square().sqrt() {
        #expect(s == a2 || s == -a2)
      } else {
        Issue.record("Fp2 sqrt")
      }
      #expect(a2.square() == a2 * a2)
      let a6 = Fp6(a2, Fp2(c[2], c[3]), Fp2(c[4], c[5]))
      #expect(a6 * a6.inverse() == Fp6.one)
      #expect(a6.square() == a6 * a6)
      let f = Fp12(a6, Fp6(Fp2(c[6], c[7]), Fp2(c[8], c[9]), Fp2(c[10], c[11])))
      #expect(f * f.inverse() == Fp12.one)
      #expect(f.square() == f * f)
      var g = f
      for _ in 0..<6 { g = g.frobenius() }
      #expect(g == f.conjugate())
      for _ in 0..<6 { g = g.frobenius() }
      #expect(g == f)
      // sparse multiplication agrees with the dense product
      let l = Fp12(Fp6(c6(c, 0), c6(c, 2), .zero), Fp6(.zero, c6(c, 4), .zero))
      #expect(f.mulBy014(c6(c, 0), c6(c, 2), c6(c, 4)) == f * l)
      // move f into the cyclotomic subgroup: f^((p^6 - 1)(p^2 + 1))
      var u = f.conjugate() * f.inverse()
      u = u.frobenius().frobenius() * u
      #expect(cyclotomicSquare(u) == u.square())
    }
  }

  func c6(_ c: [Fp], _ i: Int) -> Fp2 { Fp2(c[i], c[i + 1]) }
}
