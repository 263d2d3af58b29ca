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

    /// Products whose Montgomery result before the final subtraction is ≥ p (found with
    /// Python integers), with a*b*2^-384 mod p.
    static let needSubtraction: [(Fp, Fp, Fp)] = [
        (
            Fp(
                0x92be_e8bb_15d2_822e, 0x0933_c54d_aafe_fb73, 0xdd06_cada_1757_7588, 0x81a7_d2f4_1ff2_581f,
                0x7418_a947_980e_b273, 0x0c79_ab23_3d13_e9b6),
            Fp(
                0x766f_4868_e07e_43d1, 0xf69a_dd7a_7aff_f23a, 0x1b89_f5a4_52c2_e316, 0x87dc_1f70_cbe5_0995,
                0x8ac7_1eff_078a_c135, 0x0c4e_cd70_b99a_0948),
            Fp(
                0x4f45_853b_993b_00e1, 0x413c_1d99_c307_57fd, 0x5dc2_eee7_de07_4c3a, 0x5aae_e08b_9f21_e13e,
                0x03f5_c554_c7e9_3707, 0x0026_3c6b_c937_a7d8)
        ),
        (
            Fp(
                0x8324_2b07_7e58_a171, 0xd903_bf96_7e56_6d98, 0xe4c3_433e_a84d_f9e9, 0x52be_f68c_8fd1_a9c0,
                0xc515_632b_0c91_9522, 0x12cc_c8a7_f592_f22c),
            Fp(
                0x3bbb_de15_7a10_a1da, 0x6a12_6988_5421_c1cb, 0x3756_ed52_4253_6ba2, 0x6fad_d05b_5d22_e05d,
                0x5088_5a11_0007_9c02, 0x1952_1d06_1e97_8354),
            Fp(
                0xcdc9_dfe6_ec5f_dfb6, 0x93c6_0c2c_e074_4179, 0xdad3_867f_99fe_b78f, 0x1a32_d387_a629_4b50,
                0xd61a_0599_8331_80b6, 0x01b2_fc2b_6534_b996)
        ),
        (
            Fp(
                0xb988_dd31_2eb8_7661, 0x8dd6_9626_2b4f_58b1, 0x5335_1617_1ca6_f1ff, 0x2c6d_efc7_82ea_1c14,
                0x3501_02a3_a2ed_2fce, 0x127e_5cd8_b848_e78d),
            Fp(
                0x9c05_e0b0_3d04_4912, 0x0667_f05e_dd94_e99b, 0x275a_ef47_e6d9_756f, 0x9d84_498a_7915_ef5c,
                0x1d70_69d9_1eae_d64d, 0x1505_3a64_2c7e_df24),
            Fp(
                0xe9af_82df_e42e_5442, 0x8b10_e940_7563_163f, 0xa742_dd6e_0d36_6f76, 0x13e2_7531_852a_958a,
                0x783a_509f_07ee_ab8b, 0x0002_b837_a0c1_23b8)
        ),
    ]

    @Test("known answers, including products that need the final subtraction")
    func knownAnswers() throws {
        var cases = Self.needSubtraction
        // (p-1)^2 * 2^-384 and (p-1) * 1 * 2^-384 mod p
        cases.append(
            (
                Self.pMinus1, Self.pMinus1,
                Fp(
                    0xf4d3_8259_380b_4820, 0x7fe1_1274_d898_fafb, 0x343e_a979_1495_6dc8, 0x1797_ab14_58a8_8de9,
                    0xed5e_6427_3c4f_538b, 0x14fe_c701_e8fb_0ce9)
            ))
        cases.append(
            (
                Self.pMinus1, Fp(1, 0, 0, 0, 0, 0),
                Fp(
                    0xc52b_7da6_c7f4_628b, 0x9eca_ed89_d8bb_0503, 0x32f2_2927_e21b_885b, 0x4cdf_a070_9adc_84d6,
                    0x5dbd_438f_06fc_594c, 0x0502_4ae8_5084_d9b0)
            ))
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
