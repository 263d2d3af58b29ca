import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import LedgerClient
import PropertyBased
import Testing

/// Whitelists (docs/governance.md) through the real ledger against a reference model written
/// from the rule's text: the owner adds and removes principals (a non-owner and an unknown
/// principal are refused), requests from whitelisted principals are granted without a match
/// (`granted (whitelist)`), others are decided as before, and a blacklisted principal or
/// address is refused even when whitelisted; `replay` rebuilds the same state.
@Suite struct WhitelistModelTests {
    /// The rule: the owner's whitelist, a set of principals; the blacklist as the punishment
    /// model has it.
    struct Model {
        var whitelist: Set<String> = []
        var punishment: PunishmentModelTests.Model

        /// The expected event of the owner's (or another firm's) change.
        mutating func change(_ principal: String, add: Bool, byOwner: Bool, registered: Bool) -> EventOutcome {
            guard byOwner else { return .refused }
            if add {
                guard registered, !whitelist.contains(principal) else { return .refused }
                whitelist.insert(principal)
            } else {
                guard whitelist.remove(principal) != nil else { return .refused }
            }
            return .applied
        }
    }

    @Test func theLedgersWhitelistEqualsTheReferenceModel() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 0...1_000_000)) { seed in
            let d = try Deployment()
            let (granted, unattributed) = try d.twoRequesters(
                maximumStrikes: 3, blockMinutes: 2, trapdoorsPerMinute: 1000)
            var model = Model(punishment: .init(maximum: 3, blockMilliseconds: 120_000))
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            let requesters = [granted, unattributed]
            let names = requesters.map(\.grant.principal) + ["Firm/ghost@NONE"]
            for step in 0..<20 {
                let address = "192.0.2.\(random.next(2))"
                switch random.next(5) {
                case 0: d.advance(minutes: Int64(random.next(3)))
                case 1:
                    let name = names[random.next(names.count)]
                    let add = random.next(3) != 0
                    let byOwner = random.next(5) != 0
                    let entry = WhitelistEntry(lot: Deployment.lot, level: .level2, principal: name)
                    try d.submit(
                        byOwner ? Deployment.owner : granted.grant.principal,
                        add ? .addToWhitelist(entry) : .removeFromWhitelist(entry))
                    try d.cut()
                    let event = try #require(try d.queries.accessEvents().first)
                    let expected = model.change(
                        name, add: add, byOwner: byOwner, registered: name != "Firm/ghost@NONE")
                    #expect(event.outcome == expected, "step \(step): \(event.detail)")
                default:
                    let keys = requesters[random.next(2)]
                    try Self.request(keys, from: address, d, &model)
                }
                #expect(
                    Set(try d.queries.whitelist().map(\.principal)) == model.whitelist, "step \(step)")
            }
            let replay = try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// One read request through the gateway at `address`: blacklisted, granted by the
    /// whitelist, pending (attributes) or denied with strikes (no attributes), as the model says.
    static func request(_ keys: RequesterKeys, from address: String, _ d: Deployment, _ model: inout Model) throws {
        let time = d.clock.milliseconds
        let principal = keys.grant.principal
        let principalKey = Punishment.Subject.principal(principal).key
        let row = try d.request(keys, source: "label", observedAddress: address)
        if model.punishment.isBlocked(address, at: time) || model.punishment.isBlocked(principalKey, at: time) {
            #expect(row.reason?.hasPrefix("blacklisted") == true, "\(row.reason ?? "")")
        } else if model.whitelist.contains(principal) {
            #expect(row.status == .granted)
            #expect(row.reason?.hasPrefix("granted (whitelist): whitelisted by PLANT1") == true, "\(row.reason ?? "")")
            #expect(row.dataID != nil && row.resultLeaf == row.requestLeaf)
            let event = try #require(try d.queries.accessEvents(leaf: row.requestLeaf).first)
            #expect(event.outcome == .granted && event.method == "addTrapdoor")
        } else if principal == Deployment.requesterGrant.principal {
            #expect(row.status == .pending)
        } else {
            #expect(row.status == .denied)
            model.punishment.strike(address, at: time)
            model.punishment.strike(principalKey, at: time)
        }
    }
}

extension GatewayPunishmentTests {
    /// Through a real `agritrace api` over mutual TLS: a whitelisted principal's request is
    /// granted at once; once the principal is blacklisted, the gateway refuses its next request
    /// (403), and one queued without the gateway is denied `blacklisted` on the ledger.
    @Test func aBlacklistedWhitelistedPrincipalIsRefused() async throws {
        let (d, keys) = try Deployment.protectedWithRequester()
        d.clock = Timestamp.now()
        let principal = keys.grant.principal
        try d.submit(
            Deployment.owner, .addToWhitelist(WhitelistEntry(lot: Deployment.lot, level: .level2, principal: principal))
        )
        try d.cut()
        let gateway = try await Self.start(d, extra: [])
        defer { gateway.server.terminate() }
        let (first, body) = try Self.trapdoor(d, keys, source: "label")
        #expect(try await gateway.post("/v1/transactions", body, client: nil).status == 200)
        try Self.order(d)
        let granted = try #require(try d.queries.accessRequest(first.requestID))
        #expect(granted.status == .granted, "\(granted.reason ?? "")")
        #expect(granted.reason?.hasPrefix("granted (whitelist)") == true)
        let listed = try await gateway.get("/v1/access/whitelist?lot=\(Deployment.lot)", client: nil)
        let rows = try JSONDecoder().decode([WhitelistRow].self, from: Data(listed.body))
        #expect(rows.map(\.principal) == [principal])

        try d.submit(
            Deployment.regulator,
            .addToBlacklist(source: Punishment.Subject.principal(principal).key, reason: "abuse"))
        try d.cut()
        let (_, again) = try Self.trapdoor(d, keys, source: "label")
        let refused = try await gateway.post("/v1/transactions", again, client: nil)
        #expect(refused.status == 403)
        let message = String(decoding: refused.body, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
        #expect(message.contains("blacklisted: principal \(principal)"), "\(message)")
        let local = try d.request(keys)
        #expect(local.status == .denied && local.reason?.hasPrefix("blacklisted: principal") == true)
    }
}
