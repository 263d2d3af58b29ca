import AccessCrypto
import AgriTraceCore
import Foundation
import Testing

@testable import AccessFlow

/// The owner's prepared-policy cache in ``DataOwner/DecodedParameters``: one preparation
/// per policy, reused for every entry, each entry matched by the regulator exactly as before.
@Suite("Access flow: prepared policies reused by the owner")
struct PreparedPolicyFlowTests {
    @Test("one decoded value prepares each policy once; every entry matches the satisfying requester only")
    func preparedPolicyReused() throws {
        let deployment = try Deployment()
        let parameters = try #require(try deployment.queries.accessParameters()).parameters
        let decoded = try DataOwner.DecodedParameters(parameters)
        let policy = try PolicySyntax.parse(Deployment.policyText)[0]
        let other = try PolicySyntax.parse(
            Deployment.policyText.replacingOccurrences(of: "ZS123", with: "QX777"))[0]
        func protect(_ p: AccessPolicy) throws -> (entry: EncryptedDataEntry, token: [UInt8]) {
            try DataOwner.protect(
                lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, policy: p,
                parameters: decoded)
        }
        let first = try protect(policy)
        let second = try protect(policy)
        #expect(decoded.prepared.count == 1)
        let foreign = try protect(other)
        #expect(decoded.prepared.count == 2)
        // A copy shares the cache.
        let copy = decoded
        _ = try DataOwner.protect(
            lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, policy: policy,
            parameters: copy)
        #expect(copy.prepared.count == 2)

        let keys = try deployment.enrollRequester(Deployment.requesterGrant)
        let request = try keys.trapdoorRequest(
            lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, action: .read,
            source: "10.0.0.7", parameters: parameters)
        for protected in [first, second] {
            let match = try #require(
                deployment.secrets.match(
                    request.sealedTrapdoor,
                    candidates: [(protected.entry.dataID, protected.entry.searchableCiphertext)]))
            #expect(match.dataID == protected.entry.dataID)
            #expect(try keys.openToken(match.token) == protected.token)
        }
        // Fresh randomness per entry: two entries under one prepared policy differ.
        #expect(first.entry.searchableCiphertext != second.entry.searchableCiphertext)
        // The policy naming another enterprise does not match this requester.
        #expect(
            deployment.secrets.match(
                request.sealedTrapdoor, candidates: [(foreign.entry.dataID, foreign.entry.searchableCiphertext)])
                == nil)
    }

    @Test("the cache holds at most its limit of policies")
    func cacheIsBounded() throws {
        let deployment = try Deployment()
        let parameters = try #require(try deployment.queries.accessParameters()).parameters
        let decoded = try DataOwner.DecodedParameters(parameters)
        for k in 0..<(DataOwner.PreparedPolicies.limit + 1) {
            _ = try decoded.preparedPolicy(["e\(k)", nil, nil, nil, nil])
        }
        #expect(decoded.prepared.count == 1)
        #expect(throws: AccessCryptoError.self) { try decoded.preparedPolicy(["too", "few"]) }
    }
}
