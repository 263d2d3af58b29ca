import AccessCrypto
import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import Testing

/// The access-control flow of domain.md §3 on a real ledger store with real ABSE and CP-ABE:
/// the owner's hidden policy, the requester's trapdoor, the decision contract at block time,
/// the regulator's TEST, the released token, the punishment contract, and replay.
@Suite("Access flow (contracts, ABSE, CP-ABE)")
struct AccessFlowTests {
    @Test("the worked example of domain.md §2 is granted, and the requester opens the access token")
    func workedExampleGranted() throws {
        let deployment = try Deployment()
        let (entry, token) = try deployment.protect()
        let keys = try deployment.enrollRequester(Deployment.requesterGrant)
        let pending = try deployment.request(keys)
        #expect(pending.status == .pending)
        #expect(try deployment.runMatcher() == 1)
        let row = try #require(try deployment.queries.accessRequest(pending.requestID))
        #expect(row.status == .granted)
        #expect(row.dataID == entry.dataID)
        let released = try #require(row.token.flatMap { [UInt8](hexString: $0) })
        let opened = try keys.openToken(released)
        #expect(opened == token)
        #expect(Digest32.sha256(opened) == entry.tokenDigest)
        #expect(try deployment.queries.blacklist().isEmpty)
    }

    /// The grant with one subject attribute or the region changed.
    static let variations: [(String, AttributeGrant)] = {
        let g = Deployment.requesterGrant
        func with(_ name: String, _ change: (inout AttributeGrant) -> Void) -> (String, AttributeGrant) {
            var copy = g
            copy.principal = "Firm/\(name)@\(name.uppercased())"
            change(&copy)
            return (name, copy)
        }
        return [
            with("enterprise") { $0.enterprise = "ZS124" },
            with("role") { $0.role = .processingWorker },
            with("category") { $0.productCategory = "waxy corn" },
            with("region") { $0.region = "Shanghai" },
        ]
    }()

    @Test("changing any single subject attribute or the region does not match, and costs a strike")
    func singleAttributeChanges() throws {
        let deployment = try Deployment()
        try deployment.protect()
        for (index, (name, grant)) in Self.variations.enumerated() {
            let keys = try deployment.enrollRequester(grant)
            let source = "10.1.0.\(index)"
            let row = try deployment.requestAndMatch(keys, source: source)
            #expect(row.status == .denied, "\(name)")
            #expect(row.reason?.hasPrefix("no-match") == true, "\(name): \(row.reason ?? "")")
            #expect(row.token == nil)
            let entry = try #require(try deployment.queries.blacklist().first { $0.source == source })
            #expect(entry.strikes == 1)
        }
    }

    @Test("the subject stage changed alone (policy with a wildcard role) does not match")
    func stageChange() throws {
        let deployment = try Deployment()
        try deployment.protect(
            Deployment.policyText.replacingOccurrences(
                of: "subject.role       = processing-administrator", with: "subject.role       = *"))
        var grant = Deployment.requesterGrant
        grant.principal = "Firm/wh@WH1"
        grant.stage = .warehousing
        grant.role = .storekeeper
        let other = try deployment.enrollRequester(grant)
        #expect(try deployment.requestAndMatch(other).status == .denied)
        // The same policy still grants the processor.
        let processor = try deployment.enrollRequester(Deployment.requesterGrant)
        #expect(try deployment.requestAndMatch(processor, source: "10.2.0.1").status == .granted)
    }

    @Test("a wrong keyword (another product for the lot) does not match")
    func wrongKeyword() throws {
        let (deployment, keys) = try Deployment.protectedWithRequester()
        let row = try deployment.requestAndMatch(keys, product: "waxy corn")
        #expect(row.status == .denied)
        #expect(row.reason?.hasPrefix("no-match") == true)
    }

    @Test("a request outside 08:00-12:00 (+08:00) is denied by the decision contract at block time")
    func outsideWindow() throws {
        let (deployment, keys) = try Deployment.protectedWithRequester()
        deployment.advance(minutes: 4 * 60)  // 13:00 +08:00
        let row = try deployment.request(keys)
        #expect(row.status == .denied)
        #expect(row.reason?.hasPrefix("outside-window") == true, "\(row.reason ?? "")")
        #expect(try deployment.runMatcher() == 0)
        // Back inside the window the next day, the same requester is granted.
        deployment.advance(minutes: 20 * 60)
        #expect(try deployment.requestAndMatch(keys, source: "10.9.9.9").status == .granted)
    }

    @Test("four failures block the source 10 minutes each and expire; the fifth blocks it permanently")
    func punishment() throws {
        let (deployment, keys) = try Deployment.protectedWithRequester()
        var outsider = Deployment.requesterGrant
        outsider.principal = "Firm/mallory@ZS999"
        outsider.enterprise = "ZS999"
        let mallory = try deployment.enrollRequester(outsider)
        let source = "203.0.113.9"
        // The matcher's cursor: only requests after the given leaf are pending for it. (A third
        // firm asks here: its non-match strikes its own principal, which must not be mallory.)
        outsider.principal = "Firm/eve@ZS998"
        outsider.enterprise = "ZS998"
        let eve = try deployment.enrollRequester(outsider)
        let first = try deployment.request(eve, source: "198.51.100.1")
        let second = try deployment.request(keys, source: "198.51.100.2")
        #expect(try deployment.queries.pendingRequests().map(\.row.requestID) == [first.requestID, second.requestID])
        #expect(
            try deployment.queries.pendingRequests(after: first.requestLeaf).map(\.row.requestID) == [second.requestID])
        #expect(try deployment.queries.pendingRequests(after: second.requestLeaf).isEmpty)
        try deployment.runMatcher()
        for strike in 1...4 {
            let row = try deployment.requestAndMatch(mallory, source: source)
            #expect(row.status == .denied)
            let entry = try #require(try deployment.queries.blacklist().first { $0.source == source })
            #expect(entry.strikes == strike)
            #expect(!entry.permanent)
            // Blocked: even a request that would match is denied without a new strike.
            deployment.advance(minutes: 5)
            let blocked = try deployment.request(keys, source: source)
            #expect(blocked.status == .denied)
            #expect(blocked.reason?.hasPrefix("blacklisted") == true)
            #expect(try deployment.queries.blacklist().first { $0.source == source }?.strikes == strike)
            // The block expires after 10 minutes.
            deployment.advance(minutes: 6)
        }
        #expect(try deployment.requestAndMatch(keys, source: source).status == .granted)
        let fifth = try deployment.requestAndMatch(mallory, source: source)
        #expect(fifth.status == .denied)
        let entry = try #require(try deployment.queries.blacklist().first { $0.source == source })
        #expect(entry.strikes == 5)
        #expect(entry.permanent)
        deployment.advance(minutes: 24 * 60)
        let later = try deployment.request(keys, source: source)
        #expect(later.reason == "blacklisted: source \(source) is blocked permanently")
        // Every strike is a ledger fact with a verified inclusion proof.
        let proof = try deployment.queries.leafProof(entry.lastLeaf)
        #expect(proof.verified)
    }

    @Test("admission refuses unregistered principals, forged signatures and methods of another kind")
    func admission() throws {
        let deployment = try Deployment()
        let keys = try deployment.enrollRequester(Deployment.requesterGrant)
        let parameters = try #require(try deployment.queries.accessParameters()).parameters
        let request = try keys.trapdoorRequest(
            lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, action: .read,
            source: "x", parameters: parameters)
        #expect(throws: ContractViolation.self) {
            try deployment.submit("Firm/nobody@NONE", .addTrapdoor(request))
        }
        // Signed with a key that is not the principal's.
        let forged = try Signed(
            AccessTransaction(submitter: keys.grant.principal, operation: .addTrapdoor(request)), domain: .transaction,
            key: Curve25519.Signing.PrivateKey())
        do {
            try deployment.ledger.admit(access: forged)
            Issue.record("a forged signature was admitted")
        } catch let violation as ContractViolation {
            #expect(violation.code == .badSignature)
        }
        // A firm cannot record match results.
        do {
            try deployment.submit(
                keys.grant.principal, .addResult(requestID: request.requestID, dataID: nil, token: nil))
            Issue.record("a firm recorded a match result")
        } catch let violation as ContractViolation {
            #expect(violation.code == .notPermitted)
        }
    }

    @Test("a revoked principal's transactions are refused at admission, and replay agrees")
    func revokedPrincipal() throws {
        let (deployment, keys) = try Deployment.protectedWithRequester()
        try deployment.ledger.admit(
            registry: try Signed(
                RegistryTransaction(
                    operation: .revokePrincipal(name: keys.grant.principal, reason: "left the firm"),
                    submittedAt: .now(), nonce: 7), domain: .transaction, key: deployment.authority))
        try deployment.cut()
        do {
            _ = try deployment.request(keys)
            Issue.record("a revoked principal's trapdoor was admitted")
        } catch let violation as ContractViolation {
            #expect(violation.code == .revokedPrincipal)
        }
        // The registry survives a restart (loaded from the state tables) and a replay.
        let reopened = try Ledger(path: deployment.ledger.store.path, authority: deployment.authority)
        #expect(reopened.registry.principals[keys.grant.principal]?.isActive == false)
        #expect(try StateReplay.replay(store: deployment.ledger.store, authority: deployment.authority.publicKey).ok)
    }

    @Test("revoked attributes and revoked entries stop grants; the owner alone protects its lot")
    func revocations() throws {
        let deployment = try Deployment()
        let (entry, _) = try deployment.protect()
        let keys = try deployment.enrollRequester(Deployment.requesterGrant)
        try deployment.submit(Deployment.owner, .revokeEncryptedData(dataID: entry.dataID, reason: "contract ended"))
        try deployment.cut()
        let noData = try deployment.request(keys)
        #expect(noData.reason?.hasPrefix("no-data") == true)
        try deployment.protect()
        try deployment.submit(
            Deployment.regulator, .revokeAttributes(principal: keys.grant.principal, reason: "left the firm"))
        try deployment.cut()
        let revoked = try deployment.request(keys, source: "10.3.0.1")
        #expect(revoked.reason?.hasPrefix("unregistered") == true)
        // Another firm cannot put entries on a lot it does not own.
        try deployment.register("Firm/squatter@OTHER", kind: .firm, enterprise: "OTHER", role: "farm-administrator")
        try deployment.cut()
        let parameters = try #require(try deployment.queries.accessParameters()).parameters
        let policy = try PolicySyntax.parse(Deployment.policyText)[0]
        let squat = try DataOwner.protect(
            lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, policy: policy,
            parameters: parameters)
        try deployment.submit("Firm/squatter@OTHER", .addEncryptedData(squat.entry))
        try deployment.cut()
        let event = try #require(try deployment.queries.accessEvents(method: "addEncryptedData").first)
        #expect(event.outcome == .refused)
        #expect(try deployment.queries.encryptedData(owner: "Firm/squatter@OTHER").isEmpty)
    }

    @Test("replay rebuilds the access state from the log alone")
    func replay() throws {
        let (deployment, keys) = try Deployment.protectedWithRequester()
        _ = try deployment.requestAndMatch(keys)
        var outsider = Deployment.requesterGrant
        outsider.principal = "Firm/mallory@ZS999"
        outsider.enterprise = "ZS999"
        _ = try deployment.requestAndMatch(try deployment.enrollRequester(outsider), source: "198.51.100.1")
        let report = try StateReplay.replay(store: deployment.ledger.store, authority: deployment.authority.publicKey)
        #expect(report.ok, "\(report.differences)")
        #expect(report.rows["access_requests"] == 2)
        // The non-match struck the observed address and the requester principal.
        #expect(report.rows["blacklist"] == 2)
        #expect((report.rows["access_events"] ?? 0) >= 8)
        // A tampered outcome is caught.
        try deployment.ledger.store.db.execute(
            "UPDATE access_requests SET status = 'granted' WHERE source = '198.51.100.1'")
        let tampered = try StateReplay.replay(store: deployment.ledger.store, authority: deployment.authority.publicKey)
        #expect(!tampered.ok)
    }

    @Test("entries for different policies of the same shape have the same size and carry no policy bytes")
    func policyHiding() throws {
        let deployment = try Deployment()
        let other = Deployment.policyText
            .replacingOccurrences(of: "ZS123", with: "QX777")
            .replacingOccurrences(of: "Beijing", with: "Tianjin")
        let a = try deployment.protect().entry
        let b = try deployment.protect(other).entry
        #expect(a.searchableCiphertext.count == b.searchableCiphertext.count)
        let sizes = try deployment.queries.encryptedData().map(\.ciphertextBytes)
        #expect(Set(sizes).count == 1)
        // Scan every log entry for the hidden attribute values.
        var leaf: UInt64 = 0
        var scanned = 0
        while let stored = try deployment.ledger.store.entry(leafIndex: leaf) {
            if case .access(let signed) = try Canonical.decode(LogEntry.self, from: stored.entry),
                case .addEncryptedData = signed.value.operation
            {
                scanned += 1
                for secret in ["ZS123", "QX777", "processing-administrator", "Beijing", "Tianjin", "fresh corn"] {
                    #expect(!contains(stored.entry, Array(secret.utf8)), "\(secret) in leaf \(leaf)")
                }
            }
            leaf += 1
        }
        #expect(scanned == 2)
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }
}
