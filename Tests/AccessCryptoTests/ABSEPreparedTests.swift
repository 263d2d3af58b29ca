import BLS12381
import Testing

@testable import AccessCrypto

/// `encrypt(keyword:token:prepared:)`: a policy's combined rows prepared once, against the
/// plain encrypt (TEST outcomes) and against the full 2n + 4 row sum (same randomness).
@Suite("ABSE encrypt with a prepared (reused) policy")
struct ABSEPreparedTests {
    /// Policies over 4 slots with no, some and only wildcards.
    static let policies: [[String?]] = [
        ["a", "b", "c", "d"], ["a", nil, "c", nil], [nil, "b", nil, nil], [nil, nil, nil, nil],
    ]

    @Test(arguments: policies)
    func preparedEncryptMatchesExactlyLikePlainEncrypt(policy: [String?]) throws {
        let (pp, mk) = try ABSE.setup(slotCount: 4)
        let prepared = try ABSE.PreparedPolicy(policy: policy, publicParameters: pp)
        #expect(prepared.rowCount == policy.compactMap { $0 }.count + 4)
        let satisfying = ["a", "b", "c", "d"]
        let hit = ABSE.trapdoor(
            keyword: "kw", attributeKey: try ABSE.issueAttributeKey(master: mk, attributes: satisfying))
        let wrongKeyword = ABSE.trapdoor(
            keyword: "other", attributeKey: try ABSE.issueAttributeKey(master: mk, attributes: satisfying))
        for workers in [1, 2] {
            let prep = ABSE.encrypt(keyword: "kw", token: [4, 2], prepared: prepared, workers: workers)
            let plain = try ABSE.encrypt(
                keyword: "kw", token: [4, 2], policy: policy, publicParameters: pp, workers: workers)
            #expect(prep.serialized.count == plain.serialized.count)
            for e in [prep, plain] {
                #expect(ABSE.test(e, hit, publicParameters: pp) == [4, 2], "\(policy) workers \(workers)")
                #expect(ABSE.test(e, wrongKeyword, publicParameters: pp) == nil, "\(policy)")
            }
            // One attribute changed, slot by slot: no match exactly where the slot is required,
            // for the prepared and the plain ciphertext alike.
            for slot in 0..<4 {
                var attributes = satisfying
                attributes[slot] = "changed"
                let td = ABSE.trapdoor(
                    keyword: "kw", attributeKey: try ABSE.issueAttributeKey(master: mk, attributes: attributes))
                let expected: [UInt8]? = policy[slot] == nil ? [4, 2] : nil
                #expect(ABSE.test(prep, td, publicParameters: pp) == expected, "\(policy) slot \(slot)")
                #expect(ABSE.test(plain, td, publicParameters: pp) == expected, "\(policy) slot \(slot)")
            }
        }
    }

    @Test(arguments: policies)
    func preparedColumnsEqualTheFullRowSum(policy: [String?]) throws {
        let (pp, _) = try ABSE.setup(slotCount: 4)
        let prepared = try ABSE.PreparedPolicy(policy: policy, publicParameters: pp)
        let onOneThread = try ABSE.PreparedPolicy(policy: policy, publicParameters: pp, workers: 1)
        let n = 4
        // The prepared scalars: r_i per required slot, r_K, −r_K·H(K), ζ, δ.
        let r = policy.map { $0 == nil ? nil : BLS12381.Scalar.random() }
        let rk = BLS12381.Scalar.random()
        let tail = [rk, -(rk * ABSE.keywordScalar("kw")), .random(), .random()]
        let scalars = r.compactMap { $0 } + tail
        // The same randomness as today's 2n + 4 coefficients (every row but η):
        // (r_i, −r_i·H(a_i)) per required slot, (0, 0) per wildcard, then kw, kw+1, ζ, δ.
        var full: [BLS12381.Scalar] = []
        for i in 0..<n {
            if let ri = r[i], let value = policy[i] {
                full += [ri, -(ri * ABSE.attributeScalar(slot: i, value))]
            } else {
                full += [.zero, .zero]
            }
        }
        full += tail
        #expect(full.count == 2 * n + 4)
        let expected = ABSEParallelTests.naiveVector(full, pp)
        #expect(ABSE.preparedColumns(scalars, prepared) == expected)
        #expect(ABSE.preparedColumns(scalars, onOneThread) == expected)
        #expect(pp.tables.columns(for: pp).map { $0.multiply(full) } == expected)
    }

    @Test func wrongSlotCountIsRejected() throws {
        let (pp, _) = try ABSE.setup(slotCount: 3)
        #expect(throws: AccessCryptoError.wrongAttributeCount(expected: 3, got: 2)) {
            try ABSE.PreparedPolicy(policy: ["a", nil], publicParameters: pp)
        }
    }

    @Test func tableMemoryFollowsTheRequiredSlots() throws {
        let (pp, _) = try ABSE.setup(slotCount: 8)
        let dim = ABSE.dimension(8)
        for required in [0, 3, 8] {
            let policy: [String?] = (0..<8).map { $0 < required ? "v\($0)" : nil }
            let prepared = try ABSE.PreparedPolicy(policy: policy, publicParameters: pp)
            #expect(prepared.rowCount == required + 4)
            #expect(prepared.tableBytes == dim * (required + 4) * 16 * 4 * 104)
        }
    }
}
