import BLS12381
import Testing

@testable import AccessCrypto
@testable import AgriTraceCore

/// One TSetup shared by the tests (setup is the slow part and is independent per test).
enum Fixture {
    static let setup = try! ABSE.setup(slotCount: PolicySlots.count)
    static var pp: ABSE.PublicParameters { setup.0 }
    static var mk: ABSE.MasterKey { setup.1 }

    /// domain.md §2 worked example.
    static let policy = AccessPolicy(
        id: "p1",
        subjectEnterprise: .equals("ZS123"), subjectRole: .equals(.processingAdministrator),
        subjectStage: .equals(.processing), subjectCategory: .equals("fresh corn"),
        objectProduct: .equals("fresh corn"), objectLot: .equals("20240203A001"),
        objectStage: .equals(.planting), objectLevel: .equals(.level2), source: .equals("Beijing"),
        window: TimeWindow(start: .init(hour: 8), end: .init(hour: 12), utcOffsetMinutes: 480),
        actions: [.read]
    )
    static let request = ABAC.Request(
        subject: .init(
            enterprise: "ZS123", role: .processingAdministrator, stage: .processing,
            productCategory: "fresh corn"),
        object: .init(productType: "fresh corn", lot: "20240203A001", stage: .planting, sensitivity: .level2),
        sourceAddress: "10.1.2.3", region: "Beijing", time: Timestamp(milliseconds: 0), action: .read
    )
    static let attributes = PolicySlots.attributes(of: request)
    static let token = Array("access token D: CP-ABE ciphertext bytes".utf8)
    static let keyword = "20240203A001/level-2"
    static let ciphertext = try! ABSE.encrypt(
        keyword: keyword, token: token, policy: PolicySlots.conditions(of: policy), publicParameters: pp)
    static let key = try! ABSE.issueAttributeKey(master: mk, attributes: attributes)
}

@Suite("ABSE (hidden-policy searchable encryption)")
struct ABSETests {
    let pp = Fixture.pp

    @Test func workedExampleMatchesAndReleasesToken() throws {
        #expect(Fixture.policy.permits(Fixture.request))  // the plaintext rule agrees
        let t = ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: Fixture.key)
        #expect(ABSE.test(Fixture.ciphertext, t, publicParameters: pp) == Fixture.token)
    }

    @Test func wrongKeywordDoesNotMatch() {
        let t = ABSE.trapdoor(keyword: Fixture.keyword + "x", attributeKey: Fixture.key)
        #expect(ABSE.test(Fixture.ciphertext, t, publicParameters: pp) == nil)
    }

    @Test(arguments: 0..<PolicySlots.count)
    func changingAnySingleAttributeDoesNotMatch(slot: Int) throws {
        var attrs = Fixture.attributes
        attrs[slot] += "-other"
        let key = try ABSE.issueAttributeKey(master: Fixture.mk, attributes: attrs)
        let t = ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: key)
        #expect(ABSE.test(Fixture.ciphertext, t, publicParameters: pp) == nil)
    }

    @Test func wildcardSlotMatchesAnyValue() throws {
        var conditions = PolicySlots.conditions(of: Fixture.policy)
        conditions[5] = nil  // any lot
        conditions[8] = nil  // any source
        let e = try ABSE.encrypt(keyword: "kw", token: [1, 2, 3], policy: conditions, publicParameters: pp)
        for (lot, region) in [("20240203A001", "Beijing"), ("OTHER-LOT", "Shanghai")] {
            var attrs = Fixture.attributes
            attrs[5] = lot
            attrs[8] = region
            let key = try ABSE.issueAttributeKey(master: Fixture.mk, attributes: attrs)
            #expect(ABSE.test(e, ABSE.trapdoor(keyword: "kw", attributeKey: key), publicParameters: pp) == [1, 2, 3])
        }
        // A non-wildcard slot is still enforced.
        var attrs = Fixture.attributes
        attrs[0] = "ZS999"
        let key = try ABSE.issueAttributeKey(master: Fixture.mk, attributes: attrs)
        #expect(ABSE.test(e, ABSE.trapdoor(keyword: "kw", attributeKey: key), publicParameters: pp) == nil)
    }

    @Test func allWildcardPolicyStillNeedsKeyword() throws {
        let e = try ABSE.encrypt(
            keyword: "kw", token: [9], policy: Array(repeating: nil, count: PolicySlots.count), publicParameters: pp)
        #expect(ABSE.test(e, ABSE.trapdoor(keyword: "kw", attributeKey: Fixture.key), publicParameters: pp) == [9])
        #expect(ABSE.test(e, ABSE.trapdoor(keyword: "kx", attributeKey: Fixture.key), publicParameters: pp) == nil)
    }

    @Test func ciphertextsHaveSameSizeAndNoPolicyBytes() throws {
        let a = Fixture.ciphertext.serialized
        var other = PolicySlots.conditions(of: Fixture.policy)
        other[1] = nil; other[3] = nil; other[6] = "sales"
        let b = try ABSE.encrypt(keyword: "k2", token: Fixture.token, policy: other, publicParameters: pp).serialized
        let c = try ABSE.encrypt(
            keyword: Fixture.keyword, token: Fixture.token, policy: Array(repeating: nil, count: 9),
            publicParameters: pp
        ).serialized
        #expect(a.count == b.count && b.count == c.count)
        // No policy value, nor its hash in Fr, appears in the ciphertext.
        for (i, v) in PolicySlots.conditions(of: Fixture.policy).enumerated() {
            guard let v else { continue }
            #expect(!contains(a, Array(v.utf8)))
            #expect(!contains(a, ABSE.attributeScalar(slot: i, v).bytes))
        }
        #expect(!contains(a, Array(Fixture.keyword.utf8)))
        // Two encryptions of the same policy share no component (fresh randomness).
        let a2 = try ABSE.encrypt(
            keyword: Fixture.keyword, token: Fixture.token,
            policy: PolicySlots.conditions(of: Fixture.policy), publicParameters: pp)
        #expect(zip(a2.vector, Fixture.ciphertext.vector).allSatisfy { $0 != $1 })
    }

    @Test func trapdoorsAreRandomized() {
        let t1 = ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: Fixture.key)
        let t2 = ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: Fixture.key)
        #expect(t1 != t2)
        #expect(ABSE.test(Fixture.ciphertext, t2, publicParameters: pp) == Fixture.token)
    }

    @Test func droppingOrMixingKeyVectorsDoesNotMatch() throws {
        // A requester cannot "wildcard" its own wrong attribute: a key for a wrong enterprise,
        // combined with another user's key for a wrong role, fails, as does a trapdoor built
        // from the main vector alone.
        var a = Fixture.attributes; a[0] = "ZS999"
        var b = Fixture.attributes; b[1] = ABAC.Role.driver.rawValue
        let ka = try ABSE.issueAttributeKey(master: Fixture.mk, attributes: a)
        let kb = try ABSE.issueAttributeKey(master: Fixture.mk, attributes: b)
        let mixed = ABSE.AttributeKey(slotCount: 9, main: ka.main, keyword0: kb.keyword0, keyword1: kb.keyword1)
        #expect(
            ABSE.test(
                Fixture.ciphertext, ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: mixed),
                publicParameters: pp) == nil)
        // Leaving the keyword out (keyword coordinates (0, 1) or (0, 0)) does not match.
        let k = Fixture.key
        let alpha = BLS12381.Scalar.random()
        for v in [k.main, k.keyword1, zip(k.main, k.keyword1).map { $0 * alpha + $1 }] {
            #expect(ABSE.test(Fixture.ciphertext, ABSE.Trapdoor(slotCount: 9, vector: v), publicParameters: pp) == nil)
        }
        // Sanity: the same combination with the right keyword does match.
        let w = ABSE.keywordScalar(Fixture.keyword)
        let right = (0..<k.main.count).map { k.main[$0] * alpha + k.keyword0[$0] * w + k.keyword1[$0] }
        #expect(
            ABSE.test(Fixture.ciphertext, ABSE.Trapdoor(slotCount: 9, vector: right), publicParameters: pp)
                == Fixture.token)
    }

    @Test func tamperedCiphertextIsRejected() throws {
        var sealed = Fixture.ciphertext.sealedToken
        sealed[sealed.count - 1] ^= 1
        let e = ABSE.SearchableCiphertext(slotCount: 9, vector: Fixture.ciphertext.vector, sealedToken: sealed)
        let t = ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: Fixture.key)
        #expect(ABSE.test(e, t, publicParameters: pp) == nil)
        var v = Fixture.ciphertext.vector
        v[0] = v[0] + .generator
        let e2 = ABSE.SearchableCiphertext(slotCount: 9, vector: v, sealedToken: Fixture.ciphertext.sealedToken)
        #expect(ABSE.test(e2, t, publicParameters: pp) == nil)
    }

    @Test func serializationRoundTrips() throws {
        let pp2 = try ABSE.PublicParameters(serialized: pp.serialized)
        #expect(pp2 == pp)
        #expect(try ABSE.MasterKey(serialized: Fixture.mk.serialized) == Fixture.mk)
        let k2 = try ABSE.AttributeKey(serialized: Fixture.key.serialized)
        #expect(k2 == Fixture.key)
        let e2 = try ABSE.SearchableCiphertext(serialized: Fixture.ciphertext.serialized)
        #expect(e2 == Fixture.ciphertext)
        let t = ABSE.trapdoor(keyword: Fixture.keyword, attributeKey: k2)
        let t2 = try ABSE.Trapdoor(serialized: t.serialized)
        #expect(t2 == t)
        #expect(ABSE.test(e2, t2, publicParameters: pp2) == Fixture.token)
        // Sizes: n = 9 → N = 23.
        #expect(t.serialized.count == 8 + 2 + 23 * 96)
        #expect(Fixture.ciphertext.serialized.count == 8 + 2 + 23 * 48 + 4 + 12 + Fixture.token.count + 16)
    }

    @Test func invalidEncodingsAreRejected() throws {
        let ct = Fixture.ciphertext.serialized
        #expect(throws: AccessCryptoError.invalidLength) { try ABSE.SearchableCiphertext(serialized: ct.dropLast()) }
        #expect(throws: AccessCryptoError.invalidLength) { try ABSE.SearchableCiphertext(serialized: ct + [0]) }
        #expect(throws: AccessCryptoError.invalidMagic) {
            try ABSE.SearchableCiphertext(serialized: [0] + ct.dropFirst())
        }
        // A point that is on the curve but outside the subgroup is rejected.
        var bad = ct
        bad.replaceSubrange(10..<58, with: nonSubgroupG1)
        #expect(throws: AccessCryptoError.invalidElement(.notInSubgroup)) {
            try ABSE.SearchableCiphertext(serialized: bad)
        }
        // An x coordinate with no point (or off the curve) is rejected.
        var bad2 = ct
        bad2.replaceSubrange(10..<58, with: [0x80] + [UInt8](repeating: 0, count: 46) + [5])
        #expect(throws: AccessCryptoError.self) { try ABSE.SearchableCiphertext(serialized: bad2) }
        // Trapdoor: a G2 point with a corrupted coordinate.
        var td = ABSE.trapdoor(keyword: "k", attributeKey: Fixture.key).serialized
        td[10 + 96 + 40] ^= 0x55
        #expect(throws: AccessCryptoError.self) { try ABSE.Trapdoor(serialized: td) }
        // Slot-count mismatches are reported.
        #expect(throws: AccessCryptoError.wrongAttributeCount(expected: 9, got: 8)) {
            try ABSE.issueAttributeKey(master: Fixture.mk, attributes: Array(Fixture.attributes.prefix(8)))
        }
    }
}

/// Compressed encoding of a point on y² = x³ + 4 that is not in the order-r subgroup:
/// the first x = 0, 1, 2, … with a square root, before cofactor clearing.
let nonSubgroupG1: [UInt8] = {
    for x in 0..<UInt8(200) {
        let enc = [0x80] + [UInt8](repeating: 0, count: 46) + [x]
        do { _ = try BLS12381.G1(bytes: enc) } catch BLS12381.Error.notInSubgroup { return enc } catch {}
    }
    fatalError("no non-subgroup point found")
}()

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count, !needle.isEmpty else { return false }
    for i in 0...(haystack.count - needle.count) where haystack[i..<i + needle.count].elementsEqual(needle) {
        return true
    }
    return false
}
