import AgriTraceCore
import PropertyBased
import Synchronization
import Testing

@testable import AccessCrypto

@Suite("ABSE agrees with the plaintext policy rule")
struct ABSEPropertyTests {
    /// Random wildcard patterns on the worked-example policy, random single or multiple
    /// attribute changes in the request, random keyword: TEST matches exactly when
    /// `AccessPolicy.permits` does (the window and action are satisfied by construction)
    /// and the keyword is the same.
    @Test func testAgreesWithPermits() async {
        let tally = Mutex((matches: 0, misses: 0))
        await propertyCheck(count: 10, input: Gen.int(in: 0..<512), Gen.int(in: 0..<512), Gen.bool()) {
            wildMask, changeMask, sameKeyword in
            var policy = Fixture.policy
            if wildMask & 1 != 0 { policy.subjectEnterprise = .any }
            if wildMask & 2 != 0 { policy.subjectRole = .any }
            if wildMask & 4 != 0 { policy.subjectStage = .any }
            if wildMask & 8 != 0 { policy.subjectCategory = .any }
            if wildMask & 16 != 0 { policy.objectProduct = .any }
            if wildMask & 32 != 0 { policy.objectLot = .any }
            if wildMask & 64 != 0 { policy.objectStage = .any }
            if wildMask & 128 != 0 { policy.objectLevel = .any }
            if wildMask & 256 != 0 { policy.source = .any }
            // Bias toward few changes so that matches are common.
            let changes = changeMask % 3 == 0 ? 0 : changeMask
            var request = Fixture.request
            if changes & 1 != 0 { request.subject.enterprise = "ZS999" }
            if changes & 2 != 0 { request.subject.role = .driver }
            if changes & 4 != 0 { request.subject.stage = .sales }
            if changes & 8 != 0 { request.subject.productCategory = "rice" }
            if changes & 16 != 0 { request.object.productType = "rice" }
            if changes & 32 != 0 { request.object.lot = "20240203A002" }
            if changes & 64 != 0 { request.object.stage = .warehousing }
            if changes & 128 != 0 { request.object.sensitivity = .level1 }
            if changes & 256 != 0 { request.region = "Shanghai"; request.sourceAddress = "10.9.9.9" }
            let expected = policy.permits(request) && sameKeyword
            let e = try! ABSE.encrypt(
                keyword: "kw-A", token: [42], policy: PolicySlots.conditions(of: policy),
                publicParameters: Fixture.pp)
            let key = try! ABSE.issueAttributeKey(master: Fixture.mk, attributes: PolicySlots.attributes(of: request))
            let t = ABSE.trapdoor(keyword: sameKeyword ? "kw-A" : "kw-B", attributeKey: key)
            let got = ABSE.test(e, t, publicParameters: Fixture.pp)
            #expect((got == [42]) == expected)
            #expect(got == nil || got == [42])
            tally.withLock { expected ? ($0.matches += 1) : ($0.misses += 1) }
        }
        let (m, n) = tally.withLock { $0 }
        #expect(m + n == 10)
    }
}
