import AccessCrypto
import AccessFlow
import Foundation
import Ledger
import PropertyBased
import Synchronization
import Testing

@testable import AgriTraceCore

/// The whole flow (hidden policy, trapdoor, decision contract at block time, regulator's TEST)
/// against the reference model of the rules (`AccessPolicy.permits`), for random wildcard
/// patterns, a random perturbed attribute, and a time inside or outside the window.
@Suite("Access flow against the reference model")
struct FlowPropertyTests {
    @Test func flowAgreesWithTheReferenceModel() async throws {
        let outcomes = Mutex((granted: 0, denied: 0))
        // mask: which of the 5 subject slots are wildcards; perturb: 0-4 change that slot's
        // value, 5 moves the time outside the window, 6-7 change nothing.
        await propertyCheck(count: 12, input: Gen.int(in: 0..<32), Gen.int(in: 0..<8)) { mask, perturb in
            do {
                let deployment = try Deployment()
                let base = Deployment.requesterGrant
                func slot(_ index: Int, _ text: String) -> String { (mask >> index) & 1 == 1 ? "*" : text }
                let policyText = """
                    policy random
                      subject.enterprise = \(slot(0, base.enterprise))
                      subject.role       = \(slot(1, base.role.rawValue))
                      subject.stage      = \(slot(2, base.stage.rawValue))
                      subject.category   = \(slot(3, base.productCategory))
                      object.product     = *
                      object.lot         = \(Deployment.lot)
                      object.stage       = planting
                      object.level       = level-2
                      environment.source = \(slot(4, base.region))
                      environment.time   = 08:00-12:00 +08:00
                      action             = read
                    """
                let policy = try PolicySyntax.parse(policyText)[0]
                try deployment.protect(policyText)
                var grant = base
                grant.principal = "Firm/random@R\(mask)"
                switch perturb {
                case 0: grant.enterprise = "ZS999"
                case 1: grant.role = .processingWorker
                case 2:
                    grant.stage = .warehousing
                    grant.role = .storekeeper
                case 3: grant.productCategory = "rice"
                case 4: grant.region = "Harbin"
                default: break
                }
                if perturb == 5 { deployment.advance(minutes: 5 * 60) }
                let keys = try deployment.enrollRequester(grant)
                let row = try deployment.requestAndMatch(keys)
                let reference = ABAC.Request(
                    subject: .init(
                        enterprise: grant.enterprise, role: grant.role, stage: grant.stage,
                        productCategory: grant.productCategory),
                    object: .init(
                        productType: Deployment.product, lot: Deployment.lot, stage: .planting, sensitivity: .level2),
                    sourceAddress: "10.0.0.7", region: grant.region, time: deployment.clock, action: .read)
                let expected = policy.permits(reference)
                #expect(
                    (row.status == .granted) == expected,
                    "mask \(mask) perturb \(perturb): ledger \(row.status) (\(row.reason ?? "")), reference \(expected)"
                )
                outcomes.withLock { expected ? ($0.granted += 1) : ($0.denied += 1) }
            } catch {
                Issue.record("flow failed: \(error)")
            }
        }
        let tally = outcomes.withLock { $0 }
        #expect(tally.granted > 0 && tally.denied > 0, "both outcomes exercised: \(tally)")
    }
}
