import AccessFlow
import AgriTraceCore
import Crypto
import Ledger
import PropertyBased
import Testing

/// Violations and automatic revocation (docs/governance.md) through the real ledger against a
/// reference model written from the rule's text: reports (one about an unknown principal is
/// refused naming `offender`), the regulator's confirmations and dismissals (only of open
/// reports), grants and redemptions in between; a confirmation revokes the offender's grants
/// on the owner's data in its own block; `replay` rebuilds the same state.
@Suite struct ViolationModelTests {
    struct Model {
        /// Report id → (offender, owner, status).
        var reports: [String: (offender: String, owner: String, status: ViolationStatus)] = [:]
        /// Granted request id → revoked.
        var grants: [String: Bool] = [:]

        mutating func report(_ id: String, offender: String, owner: String, registered: Bool) -> EventOutcome {
            guard registered else { return .refused }
            reports[id] = (offender, owner, .open)
            return .applied
        }

        mutating func decide(_ id: String, confirm: Bool, requester: String) -> EventOutcome {
            guard let report = reports[id], report.status == .open else { return .refused }
            reports[id]?.status = confirm ? .confirmed : .dismissed
            if confirm, report.offender == requester, report.owner == "PLANT1" {
                for key in grants.keys { grants[key] = true }
            }
            return .applied
        }
    }

    static func report(offender: String, owner: String) -> ViolationReport {
        ViolationReport(
            reportID: AccessIDs.random(), offender: offender, owner: owner, lot: Deployment.lot, level: .level2,
            evidence: Digest32.sha256([UInt8]("photo of the resold crate".utf8)), severity: .high,
            summary: "resold the data")
    }

    @Test func theLedgersViolationsEqualTheReferenceModel() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 0...1_000_000)) { seed in
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            let (d, keys) = try Deployment.protectedWithRequester()
            let requester = keys.grant.principal
            var model = Model()
            var ids: [String] = ["0123456789abcdef0123456789abcdef"]
            for step in 0..<16 {
                switch random.next(4) {
                case 0:
                    d.advance(minutes: 1)
                    let row = try d.requestAndMatch(keys)
                    #expect(row.status == .granted, "step \(step)")
                    model.grants[row.requestID] = false
                case 1:
                    let offender = [requester, Deployment.owner, "Firm/ghost@NONE"][random.next(3)]
                    let owner = random.next(3) == 0 ? "OTHER1" : "PLANT1"
                    let report = Self.report(offender: offender, owner: owner)
                    ids.append(report.reportID)
                    try d.submit(Deployment.owner, .reportViolation(report))
                    try d.cut()
                    let event = try #require(try d.queries.accessEvents().first)
                    let expected = model.report(
                        report.reportID, offender: offender, owner: owner, registered: offender != "Firm/ghost@NONE")
                    #expect(event.outcome == expected, "step \(step): \(event.detail)")
                    if expected == .refused { #expect(event.detail.hasPrefix("offender: Firm/ghost@NONE")) }
                default:
                    let id = ids[random.next(ids.count)]
                    let confirm = random.next(3) != 0
                    try d.submit(
                        Deployment.regulator,
                        confirm
                            ? .confirmViolation(reportID: id, note: "step \(step)")
                            : .dismissViolation(reportID: id, note: "step \(step)"))
                    try d.cut()
                    let event = try #require(try d.queries.accessEvents().first)
                    let expected = model.decide(id, confirm: confirm, requester: requester)
                    #expect(event.outcome == expected, "step \(step): \(event.detail)")
                }
                let grants = try d.queries.grants(owner: Deployment.owner)
                #expect(Dictionary(uniqueKeysWithValues: grants.map { ($0.requestID, $0.revoked) }) == model.grants)
                let stored = try d.queries.violations()
                #expect(
                    Dictionary(uniqueKeysWithValues: stored.map { ($0.reportID, $0.status) })
                        == model.reports.mapValues { $0.status }, "step \(step)")
            }
            let replay = try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// The confirmation's own block revokes the offender's grants: a redemption in that same
    /// block, after the confirmation, is refused; the owner may grant again later.
    @Test func aConfirmedViolationRevokesTheOffendersGrantsInTheSameBlock() throws {
        let (d, keys) = try Deployment.protectedWithRequester()
        let granted = try d.requestAndMatch(keys)
        #expect(granted.status == .granted)
        let report = Self.report(offender: keys.grant.principal, owner: "PLANT1")
        try d.submit(Deployment.owner, .reportViolation(report))
        try d.cut()
        let reported = try #require(try d.queries.accessEvents(method: "reportViolation").first)
        let creditBefore = try #require(try d.queries.credit().first { $0.enterprise == keys.grant.enterprise })
        #expect(creditBefore.violations == 0)
        try d.submit(Deployment.regulator, .confirmViolation(reportID: report.reportID, note: "resale confirmed"))
        try d.submit(keys.grant.principal, .redeem(Deployment.redeemRequest(granted.requestID)))
        try d.cut()
        let confirmation = try #require(try d.queries.accessEvents(method: "confirmViolation").first)
        #expect(confirmation.height == reported.height + 1)
        #expect(confirmation.detail.hasSuffix("1 grant(s) of \(keys.grant.principal) on PLANT1's data revoked"))
        let refused = try #require(try d.queries.accessEvents(method: "redeem").first)
        #expect(refused.height == confirmation.height)
        #expect(refused.outcome == .refused && refused.detail.hasPrefix("revoked"), "\(refused.detail)")
        let row = try #require(try d.queries.violations().first)
        #expect(row.status == .confirmed && row.revokedGrants == 1 && row.height == reported.height)
        // Its enterprise's credit counts the violation at the end of the confirmation's block.
        let creditAfter = try #require(try d.queries.credit().first { $0.enterprise == keys.grant.enterprise })
        #expect(creditAfter.violations == 1 && creditAfter.raw == creditBefore.raw - 20, "\(creditAfter)")
        // The owner may grant again: a new request is matched and granted.
        d.advance(minutes: 1)
        #expect(try d.requestAndMatch(keys).status == .granted)
        let thread = try d.queries.history(principal: keys.grant.principal).map(\.method)
        #expect(thread.contains("reportViolation") && thread.contains("confirmViolation") && thread.contains("redeem"))
        #expect(thread.filter { $0 == "addTrapdoor" }.count == 2 && thread.filter { $0 == "addResult" }.count == 2)
        #expect(try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey).ok)
    }
}
