import Foundation
import PropertyBased
import Testing

@testable import BLS12381

/// The MULX/ADX Montgomery multiplication against the portable Swift one (and known answers
/// from Python's integers), called directly so both run whatever `AGRITRACE_FP_PORTABLE` says.
@Suite("Fp multiplication: MULX/ADX assembly and portable Swift")
struct FpMultiplicationTests {
    /// p - 1, the largest field element.
    static let pMinus1 = Fp(Fp.m0 - 1, Fp.m1, Fp.m2, Fp.m3, Fp.m4, Fp.m5)

    /// Edge values: 0, 1 and 2 (raw and in Montgomery form), p - 1, p - 2, (p - 1) / 2,
    /// (p + 1) / 2, the largest values below p with many all-ones bits, R mod p.
    static let edges: [Fp] = [
        Fp(0, 0, 0, 0, 0, 0), Fp(1, 0, 0, 0, 0, 0), Fp(2, 0, 0, 0, 0, 0), .one, Fp(2), pMinus1,
        Fp(Fp.m0 - 2, Fp.m1, Fp.m2, Fp.m3, Fp.m4, Fp.m5),
        Fp(
            0xdcff_7fff_ffff_d555, 0x0f55_ffff_58a9_ffff, 0xb398_6950_7b58_7b12, 0xb23b_a5c2_79c2_895f,
            0x258d_d3db_21a5_d66b, 0x0d00_88f5_1cbf_f34d),
        Fp(
            0xdcff_7fff_ffff_d556, 0x0f55_ffff_58a9_ffff, 0xb398_6950_7b58_7b12, 0xb23b_a5c2_79c2_895f,
            0x258d_d3db_21a5_d66b, 0x0d00_88f5_1cbf_f34d),
        Fp(.max, .max, .max, .max, .max, Fp.m5 - 1),
        Fp(0, 0, 0, 0, 0, Fp.m5 - 1),
        Fp(.max, 0, .max, 0, .max, 0),
        .r2,
    ]

    /// Random elements below p: 381 random bits reduced once (2^381 < 2p).
    static let elementGen = Gen.uint64().array(of: 6).map { (w: [UInt64]) -> Fp in
        Fp(w[0], w[1], w[2], w[3], w[4], w[5] & ((1 << 61) - 1)).reduced()
    }

    /// Known Montgomery products a*b*2^-384 mod p (found with Python integers), limbs
    /// little-endian: products whose result before the final subtraction is ≥ p, (p-1)^2 and
    /// (p-1) * 1.
    static func knownProducts() throws -> [(a: Fp, b: Fp, product: Fp)] {
        func element(_ row: [String: Any], _ key: String) throws -> Fp {
            let limbs = try #require(row[key] as? [String]).compactMap { UInt64($0, radix: 16) }
            try #require(limbs.count == 6, "\(key) of \(row)")
            return Fp(limbs[0], limbs[1], limbs[2], limbs[3], limbs[4], limbs[5])
        }
        return try Fixture.list("fpProducts").map {
            (try element($0, "a"), try element($0, "b"), try element($0, "product"))
        }
    }

    @Test("known answers, including products that need the final subtraction")
    func knownAnswers() throws {
        let cases = try Self.knownProducts()
        #expect(cases.count == 5)
        #expect(cases.contains { $0.a == Self.pMinus1 && $0.b == Self.pMinus1 })
        for (a, b, expected) in cases {
            #expect(Fp.mulPortable(a, b) == expected)
            #expect(Fp.mul(a, b) == expected)
            #if arch(x86_64)
                if Fp.cpuHasADX {
                    #expect(Fp.mulADX(a, b) == expected)
                    #expect(Fp.mulADX(b, a) == expected)
                }
            #endif
        }
    }

    @Test("the assembly equals the Swift code on all pairs of edge values")
    func edgeValues() throws {
        #if arch(x86_64)
            try #require(Fp.cpuHasADX, "this CPU lacks BMI2/ADX: only the portable path exists here")
            for a in Self.edges {
                for b in Self.edges {
                    let expected = Fp.mulPortable(a, b)
                    #expect(Fp.mulADX(a, b).bitwiseEqual(expected), "\(a) * \(b)")
                    #expect(Fp.mul(a, b).bitwiseEqual(expected))
                }
            }
        #endif
    }

    @Test("the assembly equals the Swift code on random elements, also squaring and in place")
    func randomElements() async throws {
        #if arch(x86_64)
            try #require(Fp.cpuHasADX, "this CPU lacks BMI2/ADX: only the portable path exists here")
            await propertyCheck(count: 3000, input: Self.elementGen, Self.elementGen) { a, b in
                let expected = Fp.mulPortable(a, b)
                let got = Fp.mulADX(a, b)
                #expect(got.bitwiseEqual(expected))
                #expect(Fp.isCanonical(got), "result not below p")
                #expect(Fp.mulADX(a, a).bitwiseEqual(Fp.mulPortable(a, a)))
                var x = a
                x *= b  // the dispatched path, output in the place of an input
                #expect(x.bitwiseEqual(expected))
            }
        #endif
    }

    @Test("long chains agree: 10,000 chained products")
    func chains() throws {
        #if arch(x86_64)
            try #require(Fp.cpuHasADX, "this CPU lacks BMI2/ADX: only the portable path exists here")
            var x = Fp(3)
            var y = Fp(3)
            var k = Fp(0x1234_5678)
            for i in 0..<10_000 {
                x = Fp.mulADX(x, k)
                y = Fp.mulPortable(y, k)
                k = Fp.add(k, Fp.one)
                if i % 1000 == 0 { #expect(x.bitwiseEqual(y)) }
            }
            #expect(x.bitwiseEqual(y))
            #expect(!x.isZero)
        #endif
    }

    @Test("dispatch: the assembly runs iff the CPU has BMI2 and ADX and AGRITRACE_FP_PORTABLE is unset")
    func dispatch() {
        let env = ProcessInfo.processInfo.environment["AGRITRACE_FP_PORTABLE"] ?? ""
        let forced = !env.isEmpty && env != "0"
        #expect(Fp.usesADX == (Fp.cpuHasADX && !forced))
        #if !arch(x86_64)
            #expect(!Fp.usesADX)
        #endif
    }
}

extension Fp {
    /// Limb-by-limb equality (both sides must be fully reduced to compare equal).
    fileprivate func bitwiseEqual(_ o: Fp) -> Bool {
        l0 == o.l0 && l1 == o.l1 && l2 == o.l2 && l3 == o.l3 && l4 == o.l4 && l5 == o.l5
    }
}
