import AccessFlow
import AgriTraceCore
import Crypto
import Ledger
import PropertyBased
import Testing

/// The punishment rule (docs/governance.md) through the real ledger against a small reference
/// model written from the rule's text alone: random requests through the access gateway from
/// several addresses and principals (granted, unattributed, an unregistered key, a lot with no
/// policy), the regulator's manual strikes on addresses and principals, and time passing give
/// the decisions and the blacklist the model predicts; `replay` then rebuilds the same state.
@Suite struct PunishmentModelTests {
    /// The rule, stated directly: every strike of a subject that is not blocked adds one and
    /// blocks it for `blockMinutes`, permanently at `maximum`; a strike while blocked changes
    /// nothing; a request is refused while its address or its principal is blocked.
    struct Model {
        let maximum: Int
        let blockMilliseconds: Int64
        /// Strikes and block end (nil: permanent) per blacklist key.
        var entries: [String: (strikes: Int, until: Int64?)] = [:]

        func isBlocked(_ key: String, at time: Int64) -> Bool {
            guard let entry = entries[key] else { return false }
            return entry.until.map { time < $0 } ?? true
        }

        mutating func strike(_ key: String, at time: Int64) {
            if isBlocked(key, at: time) { return }
            let strikes = (entries[key]?.strikes ?? 0) + 1
            entries[key] = (strikes, strikes >= maximum ? nil : time + blockMilliseconds)
        }
    }

    /// What a request is, for the model: the verdict the decision reaches when nobody is blocked.
    enum Kind: CaseIterable {
        case allowed, forbiddenAction, unattributed, noPolicy, unregisteredKey
    }

    @Test func theLedgersPunishmentEqualsTheReferenceModel() async throws {
        await propertyCheck(count: 5, input: Gen.int(in: 1...4), Gen.int(in: 0...1_000_000)) { maximum, seed in
            let d = try Deployment()
            let (granted, unattributed) = try d.twoRequesters(
                maximumStrikes: maximum, blockMinutes: 2, trapdoorsPerMinute: 1000)
            var model = Model(maximum: maximum, blockMilliseconds: 120_000)
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            for step in 0..<24 {
                let address = "192.0.2.\(random.next(3))"
                switch random.next(6) {
                case 0: d.advance(minutes: Int64(random.next(3)))
                case 1:
                    let subject: Punishment.Subject =
                        random.next(2) == 0 ? .address(address) : .principal(granted.grant.principal)
                    try d.submit(Deployment.regulator, .addToBlacklist(source: subject.key, reason: "step \(step)"))
                    try d.cut()
                    model.strike(subject.key, at: d.clock.milliseconds)
                default:
                    let kind = Kind.allCases[random.next(Kind.allCases.count)]
                    try Self.request(kind, from: address, granted: granted, unattributed: unattributed, d, &model)
                }
                #expect(try Self.stored(d) == Self.expected(model), "step \(step)")
            }
            let replay = try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// One request of `kind` from `address` through the gateway; checks its decision against
    /// the model's and folds the model.
    static func request(
        _ kind: Kind, from address: String, granted: RequesterKeys, unattributed: RequesterKeys, _ d: Deployment,
        _ model: inout Model
    ) throws {
        let time = d.clock.milliseconds
        if kind == .unregisteredKey {
            // A transaction signed by a key the ledger does not know: refused, and the
            // observed address (never the name it claims) is struck.
            let request = try granted.trapdoorRequest(
                lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, action: .read,
                source: "label", parameters: try #require(try d.queries.accessParameters()).parameters)
            try d.submit("Firm/ghost@NONE", .addTrapdoor(request), observedAddress: address)
            try d.cut()
            #expect(try d.queries.accessRequest(request.requestID) == nil)
            model.strike(address, at: time)
            return
        }
        let keys = kind == .unattributed ? unattributed : granted
        let principal = Punishment.Subject.principal(keys.grant.principal).key
        let row = try d.request(
            keys, source: "label-\(address)", lot: kind == .noPolicy ? "LOT-WITHOUT-POLICY" : Deployment.lot,
            action: kind == .forbiddenAction ? .write : .read, observedAddress: address)
        if model.isBlocked(address, at: time) || model.isBlocked(principal, at: time) {
            #expect(row.reason?.hasPrefix("blacklisted") == true, "\(row.reason ?? "pending")")
            return
        }
        switch kind {
        case .allowed: #expect(row.status == .pending)
        case .noPolicy: #expect(row.reason?.hasPrefix("no-data") == true)
        case .forbiddenAction, .unattributed:
            #expect(row.status == .denied)
            model.strike(address, at: time)
            model.strike(principal, at: time)
        case .unregisteredKey: break
        }
    }

    struct Row: Equatable, CustomStringConvertible {
        var key: String
        var strikes: Int
        var until: String?
        var description: String { "\(key): \(strikes) until \(until ?? "ever")" }
    }

    static func stored(_ d: Deployment) throws -> [Row] {
        try d.queries.blacklist().map { Row(key: $0.source, strikes: $0.strikes, until: $0.blockedUntil) }
            .sorted { $0.key < $1.key }
    }

    static func expected(_ model: Model) -> [Row] {
        model.entries.map { key, entry in
            Row(key: key, strikes: entry.strikes, until: entry.until.map { Timestamp(milliseconds: $0).iso8601 })
        }.sorted { $0.key < $1.key }
    }

    @Test func aBlockedRequesterCannotRedeemEvenWithoutTheGateway() throws {
        let (d, keys) = try Deployment.protectedWithRequester()
        let granted = try d.requestAndMatch(keys)
        #expect(granted.status == .granted)
        func redeem() throws -> AccessEventRow {
            let request = RedeemRequest(
                requestID: granted.requestID,
                requesterKey: Array(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation),
                proof: [UInt8](repeating: 7, count: 32), purpose: "intake check")
            try d.submit(keys.grant.principal, .redeem(request))
            try d.cut()
            return try #require(try d.queries.accessEvents(method: "redeem").first)
        }
        #expect(try redeem().outcome == .accepted)
        // The regulator strikes the principal: its redemption queued locally (no gateway) is
        // refused on the ledger, naming the block.
        let key = Punishment.Subject.principal(keys.grant.principal).key
        try d.submit(Deployment.regulator, .addToBlacklist(source: key, reason: "abuse"))
        try d.cut()
        let refused = try redeem()
        #expect(refused.outcome == .refused)
        #expect(refused.detail.hasPrefix("blacklisted: principal \(keys.grant.principal) is blocked until "))
        // Once the block ends, the grant may be redeemed again.
        d.advance(minutes: 11)
        #expect(try redeem().outcome == .accepted)
        #expect(try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey).ok)
    }
}
