import AccessFlow
import AgriTraceCore
import Ledger
import PropertyBased
import SQLiteStorage
import Testing

/// The decision and punishment contracts through the SQLite state store (a real ledger, block
/// times from the test clock, rules from the regulator's published parameters) against the
/// pure contracts folded over a memory model of the state: random sequences of valid and
/// invalid transactions and clock steps give the same outcomes, rows and audit text.
@Suite struct AccessContractsPropertyTests {
    /// A small deterministic generator from the property's seed.
    struct SplitMix {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    /// The audit text the contract must record for `entry` after a strike on `source`.
    static func expectedDetail(_ source: String, before: Blacklist.Entry?, after: Blacklist.Entry, maximum: Int)
        -> String
    {
        if let before, before.strikes > 0, after == before {
            let until = before.blockedUntil.map { "until \($0.iso8601)" } ?? "permanently"
            return "source \(source) is already blocked \(until): no new strike"
        }
        let block = after.blockedUntil.map { "blocked until \($0.iso8601)" } ?? "blocked permanently"
        return "strike \(after.strikes) of \(maximum): source \(source) \(block)"
    }

    @Test func storedBlacklistEqualsThePureFold() async throws {
        await propertyCheck(count: 6, input: Gen.int(in: 1...4), Gen.int(in: 0...1_000_000)) { maximum, seed in
            let d = try Deployment()
            let parameters = d.secrets.publicParameters(maximumStrikes: UInt32(maximum), blockMinutes: 3)
            try d.submit(Deployment.regulator, .publishParameters(parameters))
            try d.cut()
            var pure = Blacklist(rules: .init(maximumStrikes: maximum, blockDurationMilliseconds: 3 * 60_000))
            var details: [String] = []
            var random = SplitMix(state: UInt64(seed))
            for step in 0..<16 {
                let source = "10.0.0.\(random.next(3))"
                switch random.next(5) {
                case 0: d.advance(minutes: Int64(1 + random.next(4)))
                case 1:
                    // A firm may not punish: refused at admission, nothing changes.
                    #expect(throws: ContractViolation.self) {
                        try d.submit(Deployment.owner, .addToBlacklist(source: source, reason: "step \(step)"))
                    }
                default:
                    try d.submit(Deployment.regulator, .addToBlacklist(source: source, reason: "step \(step)"))
                    try d.cut()
                    let before = pure.entries[source]
                    let after = pure.addStrike(source, at: d.clock)
                    details.append(
                        "step \(step); " + Self.expectedDetail(source, before: before, after: after, maximum: maximum))
                }
            }
            let rows = try d.queries.blacklist()
            #expect(rows.count == pure.entries.count)
            for row in rows {
                let entry = try #require(pure.entries[row.source])
                #expect(row.strikes == entry.strikes, "\(row.source)")
                #expect(row.permanent == entry.permanent && row.blockedUntil == entry.blockedUntil?.iso8601)
                #expect(row.lastStrike == entry.lastStrike.iso8601)
            }
            let events = try d.queries.accessEvents(method: "addToBlacklist").reversed().map(\.detail)
            #expect(events == details)
        }
    }

    /// The state the decision contract reads, in memory: the model the SQLite store must match.
    struct MemoryAccessState: DecisionStateView {
        var current: AccessRules
        var blacklist: [String: Blacklist.Entry] = [:]
        var attributed: Set<String>
        var requestTimes: [String: [Timestamp]] = [:]
        var entries: [EntryTerms]

        func rules() -> AccessRules { current }
        func blacklistEntry(_ source: String) -> Blacklist.Entry? { blacklist[source] }
        func hasActiveAttributes(_ principal: String) -> Bool { attributed.contains(principal) }
        func requestCount(by requester: String, after time: Timestamp) -> Int64 {
            Int64(requestTimes[requester, default: []].filter { $0 > time }.count)
        }
        func activeEntries(lot: String, level: ABAC.Sensitivity) -> [EntryTerms] { entries }
        func credit(ofEnterpriseOf principal: String) -> Int64? { nil }

        /// The pure decision contract, its changes applied to the model.
        mutating func apply(_ request: TrapdoorRequest, requester: String, address: String?, at time: Timestamp)
            throws -> DecisionOutcome
        {
            let outcome = try Decision.apply(request, requester: requester, address: address, at: time, view: self)
            for strike in outcome.strikes {
                if let entry = strike.entry { blacklist[strike.source] = entry }
            }
            requestTimes[requester, default: []].append(time)
            return outcome
        }
    }

    @Test func storedDecisionsEqualThePureFold() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 1...3), Gen.int(in: 0...1_000_000)) { maximum, seed in
            let d = try Deployment()
            let (granted, unattributed) = try d.twoRequesters(
                maximumStrikes: maximum, blockMinutes: 2, trapdoorsPerMinute: 2)
            var model = MemoryAccessState(
                current: AccessRules(maximumStrikes: Int64(maximum), blockMilliseconds: 120_000, trapdoorsPerMinute: 2),
                attributed: [granted.grant.principal],
                entries: [
                    // The worked example's policy, protected by `d.protect()`.
                    EntryTerms(
                        window: TimeWindow(
                            start: .init(hour: 8, minute: 0), end: .init(hour: 12, minute: 0), utcOffsetMinutes: 480),
                        actions: [.read])
                ])
            #expect(try d.queries.candidates(lot: Deployment.lot, level: "level-2").count == 1)
            var random = SplitMix(state: UInt64(seed))
            for step in 0..<14 {
                if random.next(3) == 0 { d.advance(minutes: Int64(random.next(90))) }
                let keys = random.next(4) == 0 ? unattributed : granted
                let action: ABAC.Action = random.next(4) == 0 ? .write : .read
                let source = "10.0.1.\(random.next(2))"
                let parameters = try #require(try d.queries.accessParameters()).parameters
                let request = try keys.trapdoorRequest(
                    lot: Deployment.lot, product: Deployment.product, stage: .planting, level: .level2, action: action,
                    source: source, parameters: parameters)
                // Half the requests come through the access gateway with an observed address.
                let address = random.next(2) == 0 ? "192.0.2.\(random.next(2))" : nil
                try d.submit(keys.grant.principal, .addTrapdoor(request), observedAddress: address)
                try d.cut()
                let expected = try model.apply(
                    request, requester: keys.grant.principal, address: address, at: d.clock)
                let row = try #require(try d.queries.accessRequest(request.requestID))
                #expect(row.status == expected.status, "step \(step)")
                #expect(row.reason == expected.reason, "step \(step)")
            }
            let rows = try d.queries.blacklist()
            #expect(rows.count == model.blacklist.count)
            for row in rows {
                let entry = try #require(model.blacklist[row.source])
                #expect(row.strikes == entry.strikes && row.blockedUntil == entry.blockedUntil?.iso8601)
            }
        }
    }

    /// The attribute and policy-upload contracts through the SQLite state store against the
    /// pure contracts folded over ``MemoryContractState``: random grants, revocations,
    /// protections (duplicate ids, lots of another enterprise) and withdrawals, some refused
    /// at admission, give the same audit events and the same `attribute_grants` and
    /// `encrypted_data` rows.
    @Test func storedGrantsAndPoliciesEqualThePureFold() async throws {
        await propertyCheck(count: 4, input: Gen.int(in: 12...20), Gen.int(in: 0...1_000_000)) { steps, seed in
            let d = try Deployment()
            let firms = ["Firm/zhang@ZS123", "Firm/li@ZS123"]
            for firm in firms {
                try d.register(firm, kind: .firm, enterprise: "ZS123", role: "processing-administrator")
            }
            try d.cut()
            var model = MemoryContractState(
                enterprises: [Deployment.owner: "PLANT1", firms[0]: "ZS123", firms[1]: "ZS123"],
                recordedLots: [[Deployment.lot, "PLANT1"]])
            var random = SplitMix(state: UInt64(seed))
            let ids = ["c", "d", "e"].map { String(repeating: $0, count: 32) }
            for step in 0..<steps {
                let firm = firms[random.next(2)]
                let dataID = ids[random.next(3)]
                let submitter = random.next(3) == 0 ? firms[1] : Deployment.owner
                let expected: ContractEvent
                switch random.next(6) {
                case 0:
                    var grant = Deployment.requesterGrant
                    (grant.principal, grant.region) = (firm, ["Beijing", "Hebei"][random.next(2)])
                    try d.submit(Deployment.regulator, .grantAttributes(grant))
                    expected = model.fold(AttributeGrants.grant(grant), leaf: try Self.cut(d))
                case 1:
                    try d.submit(Deployment.regulator, .revokeAttributes(principal: firm, reason: "step \(step)"))
                    let outcome = try AttributeGrants.revoke(principal: firm, reason: "step \(step)", view: model)
                    expected = model.fold(outcome, leaf: try Self.cut(d))
                case 2, 3:
                    let entry = PureContractTests.entry(
                        dataID, lot: random.next(3) == 0 ? "20990101Z999" : Deployment.lot)
                    try d.submit(submitter, .addEncryptedData(entry))
                    let outcome = try PolicyUpload.protect(entry, submitter: submitter, view: model)
                    expected = model.fold(outcome, leaf: try Self.cut(d))
                case 4:
                    try d.submit(submitter, .revokeEncryptedData(dataID: dataID, reason: "step \(step)"))
                    let outcome = try PolicyUpload.revoke(
                        dataID: dataID, reason: "step \(step)", submitter: submitter, view: model)
                    expected = model.fold(outcome, leaf: try Self.cut(d))
                default:
                    // A firm may not grant attributes: refused at admission, nothing changes.
                    #expect(throws: ContractViolation.self) {
                        try d.submit(Deployment.owner, .grantAttributes(Deployment.requesterGrant))
                    }
                    continue
                }
                let row = try #require(try d.queries.accessEvents(limit: 1).first)
                #expect(
                    ContractEvent(
                        subject: row.subject, outcome: row.outcome, detail: row.detail)
                        == expected, "step \(step)")
            }
            #expect(try Self.rows("attribute_grants", orderBy: "principal", d) == Self.grantRows(model))
            #expect(try Self.rows("encrypted_data", orderBy: "data_id", d) == Self.entryRows(model))
        }
    }

    /// Cuts a block holding the one transaction just submitted; returns its leaf.
    static func cut(_ d: Deployment) throws -> UInt64 {
        try d.cut()
        return try d.ledger.store.logSize() - 1
    }

    /// A state table's rows, in key order.
    static func rows(_ table: String, orderBy: String, _ d: Deployment) throws -> [[SQLiteValue]] {
        let select = try d.ledger.store.db.prepare("SELECT * FROM \(table) ORDER BY \(orderBy)")
        var rows: [[SQLiteValue]] = []
        while try select.step() { rows.append((0..<select.columnCount).map { select.value(at: $0) }) }
        return rows
    }

    /// The model's `attribute_grants` rows.
    static func grantRows(_ model: MemoryContractState) -> [[SQLiteValue]] {
        model.grants.sorted { $0.key < $1.key }.map { _, row in
            let grant = row.grant
            return [
                .text(grant.principal), .text(grant.enterprise), .text(grant.role.rawValue),
                .text(grant.stage.rawValue),
                .text(grant.productCategory), .text(grant.region), .text(row.status.rawValue),
                .integer(Int64(row.leaf)),
            ] + periodValues(grant.period)
        }
    }

    /// The `not_before`, `not_after` columns of an effective period (docs/governance.md).
    static func periodValues(_ period: EffectivePeriod?) -> [SQLiteValue] {
        [period?.notBefore, period?.notAfter].map { $0.map { .integer($0.milliseconds) } ?? .null }
    }

    /// The model's `encrypted_data` rows (entries without a time window or credit condition).
    static func entryRows(_ model: MemoryContractState) -> [[SQLiteValue]] {
        model.entries.sorted { $0.key < $1.key }.map { _, row in
            let entry = row.entry.entry
            return [
                .text(entry.dataID), .text(row.entry.owner), .text(row.entry.enterprise), .text(entry.lot),
                .text(entry.level.rawValue), .null, .text(entry.actions.map(\.rawValue).joined(separator: ",")),
                .blob(entry.searchableCiphertext), .blob(entry.tokenDigest.bytes), .text(row.status.rawValue),
                .integer(Int64(row.leaf)),
            ] + [.null] + periodValues(entry.period)  // minimum_credit: no condition (migration 7)
        }
    }
}
