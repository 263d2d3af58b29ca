import AccessFlow
import AgriTraceCore
import Ledger
import PropertyBased
import Testing

/// The credit rule (docs/governance.md "Credit") through the real ledger against a reference
/// model written from the rule's text: random requests from three requesters of two
/// enterprises (granted, denied on their merits, an honest question, blocked), the
/// regulator's strikes, the owner's minimum-credit condition and time passing give the
/// behaviour counts, scores and decisions the model predicts after every block; `replay`
/// then rebuilds the same state.
@Suite struct CreditModelTests {
    /// The rule, restated: +1 per grant, −2 per denial on the merits, −5 per strike of the
    /// enterprise's principals, min-max normalised to 0...10,000 over every enterprise
    /// (10,000 for all when every raw score is equal), rounded down.
    struct Model {
        var punishment: PunishmentModelTests.Model
        var enterprises: Set<String>
        var principals: [String: String]
        var grants: [String: Int64] = [:]
        var denials: [String: Int64] = [:]
        /// The entry's minimum credit in basis points (0: none).
        var minimum: Int64 = 0

        func strikes(_ enterprise: String) -> Int64 {
            principals.filter { $0.value == enterprise }.keys.reduce(0) {
                $0 + Int64(punishment.entries["principal:" + $1]?.strikes ?? 0)
            }
        }

        func raw(_ enterprise: String) -> Int64 {
            grants[enterprise, default: 0] - 2 * denials[enterprise, default: 0] - 5 * strikes(enterprise)
        }

        func score(_ enterprise: String) -> Int64 {
            let raws = enterprises.map(raw)
            let (low, high) = (raws.min()!, raws.max()!)
            return high == low ? 10_000 : (raw(enterprise) - low) * 10_000 / (high - low)
        }

        /// A denial on the merits: counted, and a strike for the address and the principal.
        mutating func deny(_ principal: String, address: String, at time: Int64) {
            denials[principals[principal]!, default: 0] += 1
            punishment.strike(address, at: time)
            punishment.strike("principal:" + principal, at: time)
        }
    }

    enum Kind: CaseIterable { case read, write, noPolicy }

    @Test func theLedgersCreditEqualsTheReferenceModel() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 0...1_000_000)) { seed in
            let d = try Deployment()
            let (zhang, li) = try d.twoRequesters(maximumStrikes: 3, blockMinutes: 2, trapdoorsPerMinute: 1000)
            let wu = try d.enrollOutsider("Firm/wu@QX77", enterprise: "QX77")
            let dataID = try #require(try d.queries.encryptedData(owner: Deployment.owner).first).dataID
            var model = Model(
                punishment: .init(maximum: 3, blockMilliseconds: 120_000),
                enterprises: ["PLANT1", "AGENCY", "ZS123", "QX77"],
                principals: [
                    zhang.grant.principal: "ZS123", li.grant.principal: "ZS123", wu.grant.principal: "QX77",
                    Deployment.owner: "PLANT1", Deployment.regulator: "AGENCY",
                ])
            var random = AccessContractsPropertyTests.SplitMix(state: UInt64(seed))
            let requesters = [zhang, li, wu]
            for step in 0..<30 {
                switch random.next(8) {
                case 0: d.advance(minutes: Int64(random.next(3)))
                case 1:
                    let principal = requesters[random.next(3)].grant.principal
                    try d.submit(
                        Deployment.regulator, .addToBlacklist(source: "principal:" + principal, reason: "step"))
                    try d.cut()
                    model.punishment.strike("principal:" + principal, at: d.clock.milliseconds)
                case 2:
                    let minimum = [0, 2_500, 5_000, 10_000][random.next(4)]
                    try d.submit(Deployment.owner, .setMinimumCredit(dataID: dataID, basisPoints: UInt16(minimum)))
                    try d.cut()
                    model.minimum = Int64(minimum)
                default:
                    let keys = requesters[random.next(3)]
                    let kind = Kind.allCases[random.next(Kind.allCases.count)]
                    try Self.request(kind, keys, from: "192.0.2.\(random.next(3))", zhang: zhang, li: li, d, &model)
                }
                #expect(try Self.stored(d) == Self.expected(model), "step \(step)")
            }
            let replay = try StateReplay.replay(store: d.ledger.store, authority: d.authority.publicKey)
            #expect(replay.ok, "\(replay.differences)")
        }
    }

    /// One request through the gateway, then the regulator's match: checks the outcome the
    /// model predicts and folds the model.
    static func request(
        _ kind: Kind, _ keys: RequesterKeys, from address: String, zhang: RequesterKeys, li: RequesterKeys,
        _ d: Deployment, _ model: inout Model
    ) throws {
        let time = d.clock.milliseconds
        let principal = keys.grant.principal
        let credit = model.score(model.principals[principal]!)
        let row = try d.request(
            keys, source: "label", lot: kind == .noPolicy ? "LOT-WITHOUT-POLICY" : Deployment.lot,
            action: kind == .write ? .write : .read, observedAddress: address)
        let reason = row.reason ?? ""
        if model.punishment.isBlocked(address, at: time)
            || model.punishment.isBlocked("principal:" + principal, at: time)
        {
            #expect(reason.hasPrefix("blacklisted"), "\(reason)")
        } else if principal == li.grant.principal {
            #expect(reason.hasPrefix("unregistered"), "\(reason)")
            model.deny(principal, address: address, at: time)
        } else if kind == .noPolicy {
            #expect(reason.hasPrefix("no-data"), "\(reason)")
        } else if kind == .write {
            #expect(reason.hasPrefix("action-not-permitted"), "\(reason)")
            model.deny(principal, address: address, at: time)
        } else if credit < model.minimum {
            #expect(reason.hasPrefix("insufficient-credit"), "credit \(credit) < \(model.minimum): \(reason)")
        } else {
            #expect(row.status == .pending, "credit \(credit) ≥ \(model.minimum): \(reason)")
            try d.runMatcher()
            let matched = try #require(try d.queries.accessRequest(row.requestID))
            if principal == zhang.grant.principal {
                #expect(matched.status == .granted)
                model.grants[model.principals[principal]!, default: 0] += 1
            } else {
                #expect(matched.reason?.hasPrefix("no-match") == true, "\(matched.reason ?? "")")
                model.deny(principal, address: address, at: time)
            }
        }
    }

    struct Row: Equatable, CustomStringConvertible {
        var enterprise: String
        var grants, denials, strikes, raw, score: Int64
        var description: String { "\(enterprise): +\(grants) −\(denials) ×\(strikes) raw \(raw) → \(score)" }
    }

    static func stored(_ d: Deployment) throws -> [Row] {
        try d.queries.credit().map {
            Row(
                enterprise: $0.enterprise, grants: $0.grants, denials: $0.denials, strikes: $0.strikes, raw: $0.raw,
                score: $0.basisPoints)
        }.sorted { $0.enterprise < $1.enterprise }
    }

    static func expected(_ model: Model) -> [Row] {
        model.enterprises.sorted().map {
            Row(
                enterprise: $0, grants: model.grants[$0, default: 0], denials: model.denials[$0, default: 0],
                strikes: model.strikes($0), raw: model.raw($0), score: model.score($0))
        }
    }

    /// Malformed conditions are refused at admission, naming the field and the fix.
    @Test func aMinimumCreditOutOfRangeIsRefusedNamingTheField() throws {
        #expect(
            Credit.conditionMalformation(String(repeating: "a", count: 32), 10_001)
                == "minimum credit 10001 is out of range: 0 to 10000 basis points (--minimum 0 to 1)")
        #expect(Credit.conditionMalformation("not-an-id", 5_000) == "data id must be 32 lower-case hex characters")
        #expect(Credit.conditionMalformation(String(repeating: "a", count: 32), 10_000) == nil)
    }
}
