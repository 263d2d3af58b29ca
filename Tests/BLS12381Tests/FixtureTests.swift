import Testing

@testable import BLS12381

/// Known answers from independent implementations (see scripts/bls-vectors.py).
@Suite("BLS12-381 known answers")
struct FixtureTests {
  @Test("e(G1, G2) equals the blst / arkworks / py_ecc value")
  func generatorPairing() throws {
    let expected = str(try Fixture.dict("gtGenerator"), "gt")
    #expect(BLS12381.pairing(.generator, .generator).bytes.hex == expected)
    #expect(GT.generator.bytes.hex == expected)
  }

  @Test("k*G1 and k*G2 match, in compressed and uncompressed form, and decode back")
  func scalarMultiplesOfGenerators() throws {
    for entry in try Fixture.list("points") {
      let k = try Scalar(bytes: [UInt8](hex: str(entry, "scalar")))
      let p = G1.generator * k
      let q = G2.generator * k
      #expect(p.compressed.hex == (str(entry, "g1Compressed")))
      #expect(p.uncompressed.hex == (str(entry, "g1Uncompressed")))
      #expect(q.compressed.hex == (str(entry, "g2Compressed")))
      #expect(q.uncompressed.hex == (str(entry, "g2Uncompressed")))
      #expect(G1.generatorMultiple(k) == p)
      #expect(G2.generatorMultiple(k) == q)
      #expect(try G1(bytes: [UInt8](hex: str(entry, "g1Compressed"))) == p)
      #expect(try G1(bytes: [UInt8](hex: str(entry, "g1Uncompressed"))) == p)
      #expect(try G2(bytes: [UInt8](hex: str(entry, "g2Compressed"))) == q)
      #expect(try G2(bytes: [UInt8](hex: str(entry, "g2Uncompressed"))) == q)
    }
  }

  @Test("scalar field arithmetic matches Python integers")
  func scalarArithmetic() throws {
    let d = try Fixture.dict("scalars")
    let arith = try #require(d["arithmetic"] as? [[String: Any]])
    for e in arith {
      let a = try Scalar(bytes: [UInt8](hex: str(e, "a")))
      let b = try Scalar(bytes: [UInt8](hex: str(e, "b")))
      #expect((a + b).bytes.hex == (str(e, "sum")))
      #expect((a - b).bytes.hex == (str(e, "difference")))
      #expect((a * b).bytes.hex == (str(e, "product")))
      #expect(b.inverse?.bytes.hex == (str(e, "bInverse")))
      #expect(a.bytes.hex == (str(e, "a")))
    }
    let wide = try #require(d["wideReduction"] as? [[String: Any]])
    for e in wide {
      #expect(Scalar(reducing: [UInt8](hex: str(e, "bytes"))).bytes.hex == (str(e, "reduced")))
    }
    #expect(Scalar.zero.inverse == nil)
    #expect(throws: BLS12381.Error.scalarOutOfRange) { try Scalar(bytes: BLS12381.orderBytes) }
  }

  @Test("pairings of random points match arkworks and blst")
  func pairings() throws {
    let d = try Fixture.dict("pairings")
    for e in try #require(d["single"] as? [[String: Any]]) {
      let p = try G1(bytes: [UInt8](hex: str(e, "g1")))
      let q = try G2(bytes: [UInt8](hex: str(e, "g2")))
      let gt = BLS12381.pairing(p, q)
      #expect(gt.bytes.hex == (str(e, "gt")))
      #expect(try GT(bytes: gt.bytes) == gt)
    }
    for e in try #require(d["multi"] as? [[String: Any]]) {
      let g1 = try #require(e["g1"] as? [String]).map { try G1(bytes: [UInt8](hex: $0)) }
      let g2 = try #require(e["g2"] as? [String]).map { try G2(bytes: [UInt8](hex: $0)) }
      #expect(BLS12381.multiPairing(Array(zip(g1, g2))).bytes.hex == (str(e, "gt")))
    }
  }

  @Test("RFC 9380 hash-to-curve vectors for both suites")
  func hashToCurve() throws {
    let d = try Fixture.dict("hashToCurve")
    for (suite, isG1) in [("G1", true), ("G2", false)] {
      let s = try #require(d[suite] as? [String: Any])
      let dst = Array(str(s, "dst").utf8)
      let vectors = try #require(s["vectors"] as? [[String: Any]])
      #expect(vectors.count == 5)
      for v in vectors {
        let msg = Array(str(v, "msg").utf8)
        let got =
          isG1
          ? G1.hash(toCurve: msg, domain: dst).uncompressed
          : G2.hash(toCurve: msg, domain: dst).uncompressed
        #expect(
          got.hex == (str(v, "uncompressed")),
          "msg \(String(decoding: msg.prefix(8), as: UTF8.self))")
      }
    }
  }

  @Test("expand_message_xmd (SHA-256) vectors")
  func expandMessage() throws {
    for v in try Fixture.list("expandMessage") {
      let out = expandMessageXMD(
        Array(str(v, "msg").utf8), dst: Array(str(v, "dst").utf8),
        length: try #require(v["length"] as? Int))
      #expect(out.hex == (str(v, "output")))
    }
  }

  @Test("invalid encodings are rejected with the expected error")
  func invalidEncodings() throws {
    let cases = try Fixture.list("invalidPoints")
    #expect(cases.count >= 15)
    for c in cases {
      let bytes = [UInt8](hex: str(c, "bytes"))
      let reason = str(c, "reason")
      let note = str(c, "note")
      var caught: BLS12381.Error?
      do {
        if str(c, "group") == "G1" { _ = try G1(bytes: bytes) } else { _ = try G2(bytes: bytes) }
      } catch {
        caught = error
      }
      let name = caught.map { e -> String in
        switch e {
        case .invalidLength: "invalidLength"
        case .invalidFlags: "invalidFlags"
        case .nonCanonicalInfinity: "nonCanonicalInfinity"
        case .coordinateNotInField: "coordinateNotInField"
        case .noSquareRoot: "noSquareRoot"
        case .notOnCurve: "notOnCurve"
        case .notInSubgroup: "notInSubgroup"
        case .scalarOutOfRange: "scalarOutOfRange"
        case .notInGT: "notInGT"
        }
      }
      #expect(name == reason, "\(note)")
    }
  }
}
