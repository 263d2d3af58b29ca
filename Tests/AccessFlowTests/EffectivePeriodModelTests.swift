import AccessFlow
import AgriTraceCore
import Crypto
import Ledger
import PropertyBased
import Testing

/// Authority tuples with an effective period (docs/governance.md): a policy's, an attribute
/// grant's and a grant's not-before / not-after, enforced at block time, through the real
/// ledger against a reference model written from the rule's text; `replay` rebuilds the state.
@Suite struct EffectivePeriodModelTests {
    /// The rule, stated directly: a period [notBefore, notAfter) is in effect at t when
    /// notBefore ≤ t < notAfter. A request is denied `not-in-effect` (no strike) when the
    /// requester's attribute period or every policy's period excludes the block time; a match
    /// grants for the two periods intersected; a redemption is accepted only inside it.
    struct Model {
        var attributes: EffectivePeriod
        var entry: EffectivePeriod
        /// The granted requests and their grants' periods.
        var grants: [String: EffectivePeriod] = [:]

        func decision(at time: Timestamp) -> String {
            if !attributes.contains(time) || !entry.contains(time) { return "not-in-effect" }
            return "granted"
        }

        func redemption(_ requestID: String, at time: Timestamp) -> EventOutcome {
            (grants[requestID]?.contains(time) ?? false) ? .accepted : .refused
        }
    }

    /// A random period around `origin`: either end open or some minutes away.
    static func period(_ random: inout AccessContractsPropertyTests.SplitMix, around origin: Timestamp)
        -> EffectivePeriod
    {
        func minutes(_ m: Int) -> Timestamp { Timestamp(milliseconds: origin.milliseconds + Int64(m) * 60_000) }
        let start: Int? = random.next(3) == 0 ? nil : random.next(30) - 10
        let end: Int? = random.next(4) == 0 ? nil : (start ?? -10) + 1 + random.next(40)
        return EffectivePeriod(notBefore: start.map(minutes), notAfter: end.map(minutes))
    }

    @Test func theLedgersPeriodsEqualTheReferenceModel() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 0...1_000_000)) { seed in
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            let d = try Deployment()
            var model = Model(
                attributes: Self.period(&random, around: d.clock), entry: Self.period(&random, around: d.clock))
            var grant = Deployment.requesterGrant
            grant.period = model.attributes
            let keys = try d.enrollRequester(grant)
            try d.protect(period: model.entry)
            var granted: [String] = []
            for step in 0..<14 {
                switch random.next(3) {
                case 0: d.advance(minutes: Int64(random.next(7)))
                case 1:
                    d.advance(minutes: 1)  // one request a minute: never rate-limited
                    let expected = model.decision(at: d.clock)
                    let row = try d.requestAndMatch(keys)
                    if expected == "granted" {
                        #expect(row.status == .granted, "step \(step): \(row.reason ?? "")")
                        model.grants[row.requestID] = model.attributes.intersection(model.entry)
                        granted.append(row.requestID)
                    } else {
                        #expect(row.status == .denied, "step \(step)")
                        #expect(row.reason?.hasPrefix("not-in-effect") == true, "step \(step): \(row.reason ?? "")")
                    }
                default:
                    guard let requestID = granted.last else { continue }
                    let outcome = try d.redeem(requestID, as: keys)
                    #expect(
                        outcome.outcome == model.redemption(requestID, at: d.clock), "step \(step): \(outcome.detail)")
                }
                // A period is never an offence: nobody is ever struck.
                #expect(try d.queries.blacklist().isEmpty, "step \(step)")
            }
            let replay = try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// A grant that expires at T is honoured by a block at T - 1 ms and refused by the first
    /// block at T; the policy's next request is denied `not-in-effect`; the audit lists both.
    @Test func anExpiredGrantIsRefusedAtTheFirstBlockAfterItsExpiry() throws {
        let d = try Deployment()
        let keys = try d.enrollRequester(Deployment.requesterGrant)
        let expiry = Timestamp(milliseconds: d.clock.milliseconds + 10 * 60_000)
        try d.protect(period: EffectivePeriod(notAfter: expiry))
        let row = try d.requestAndMatch(keys)
        #expect(row.status == .granted)
        d.clock = Timestamp(milliseconds: expiry.milliseconds - 1)
        #expect(try d.redeem(row.requestID, as: keys).outcome == .accepted)
        let before = try d.queries.expiries()
        #expect(before.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.grant, .policy])
        #expect(before.allSatisfy { $0.status == .inEffect && $0.notAfter == expiry.iso8601 })
        d.clock = expiry
        let refused = try d.redeem(row.requestID, as: keys)
        #expect(refused.outcome == .refused)
        #expect(refused.detail.hasPrefix("expired: the grant of request \(row.requestID) ended at \(expiry.iso8601)"))
        #expect(try d.queries.grantPeriodProblem(row.requestID, at: expiry)?.hasPrefix("expired") == true)
        let again = try d.request(keys)
        #expect(again.reason?.hasPrefix("not-in-effect") == true)
        #expect(try d.queries.blacklist().isEmpty)
        #expect(try d.queries.expiries().allSatisfy { $0.status == .expired })
        #expect(try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey).ok)
    }

    /// A period that ends before it starts is refused at admission, naming the field.
    @Test func aMalformedPeriodIsRefusedNamingTheField() throws {
        let d = try Deployment()
        let start = d.clock
        var grant = Deployment.requesterGrant
        grant.period = EffectivePeriod(notBefore: start, notAfter: start)
        try d.register(grant.principal, kind: .firm, enterprise: grant.enterprise, role: grant.role.rawValue)
        try d.cut()
        let error = #expect(throws: (any Error).self) { try d.submit(Deployment.regulator, .grantAttributes(grant)) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("notAfter"))
    }

    /// The CLI's `--not-before` / `--not-after`: RFC 3339 or a duration; bad values name the option.
    @Test func theCLIsPeriodOptionsNameTheFieldOnBadInput() throws {
        let now = Timestamp(milliseconds: 1_800_000_000_000)
        let period = try EffectivePeriod.parse(notBefore: "2027-01-01T00:00:00Z", notAfter: "+30d", now: now)
        #expect(period?.notBefore == Timestamp(iso8601: "2027-01-01T00:00:00Z"))
        #expect(period?.notAfter == Timestamp(milliseconds: now.milliseconds + 30 * 86_400_000))
        #expect(try EffectivePeriod.parse(notBefore: nil, notAfter: nil, now: now) == nil)
        func field(_ notBefore: String?, _ notAfter: String?) -> String? {
            do throws(EffectivePeriod.InputError) {
                _ = try EffectivePeriod.parse(notBefore: notBefore, notAfter: notAfter, now: now)
                return nil
            } catch { return error.field }
        }
        #expect(field("yesterday", nil) == "--not-before")
        #expect(field(nil, "12x") == "--not-after")
        #expect(field(nil, "2020-01-01T00:00:00Z") == "--not-after")
        #expect(field("60d", "30d") == "--not-after")
    }
}

extension Deployment {
    /// The owner protects the lot's level-2 data under the worked example's policy, in effect
    /// for `period`.
    func protect(period: EffectivePeriod) throws {
        let policy = try PolicySyntax.parse(Deployment.policyText)[0]
        let parameters = try #require(try queries.accessParameters()).parameters
        var result = try DataOwner.protect(
            lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, policy: policy,
            parameters: parameters)
        result.entry.period = period
        try submit(Deployment.owner, .addEncryptedData(result.entry))
        try cut()
    }

    /// The requester redeems its grant (queued locally); returns the redemption's audit event.
    func redeem(_ requestID: String, as keys: RequesterKeys) throws -> AccessEventRow {
        try submit(keys.grant.principal, .redeem(Self.redeemRequest(requestID)))
        try cut()
        return try #require(try queries.accessEvents(method: "redeem").first)
    }

    /// A redemption of `requestID` with a fresh ephemeral key (its token proof is not checked
    /// on the ledger).
    static func redeemRequest(_ requestID: String) -> RedeemRequest {
        RedeemRequest(
            requestID: requestID, requesterKey: Array(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation),
            proof: [UInt8](repeating: 7, count: 32), purpose: "intake check")
    }
}
