import PropertyBased
import Synchronization
import TestSupport
import Testing

@testable import AgriTraceCore

/// The worked example of domain reference §2.
private let workedExample = "# Set by a planting enterprise for one lot of fresh corn.\n" + WorkedExample.policy()

/// 2026-05-01 at the given Beijing (UTC+8) time.
private func beijing(_ hour: Int, _ minute: Int = 0) -> Timestamp {
    let midnightUTC: Int64 = 1_777_593_600_000  // 2026-05-01T00:00:00Z
    return Timestamp(milliseconds: midnightUTC + Int64((hour - 8) * 60 + minute) * 60_000)
}

private let matchingRequest = ABAC.Request(
    subject: ABAC.Subject(
        enterprise: "ZS123", role: .processingAdministrator, stage: .processing, productCategory: "fresh corn"),
    object: ABAC.Object(productType: "fresh corn", lot: "20240203A001", stage: .planting, sensitivity: .level2),
    sourceAddress: "203.0.113.10", region: "Beijing", time: beijing(9, 30), action: .read)

@Suite struct PolicyDecisionTests {
    let policies: [AccessPolicy] = try! PolicySyntax.parse(workedExample)

    func decide(_ request: ABAC.Request) -> PolicyDecision.Outcome {
        PolicyDecision.decide(request, policies: policies, registered: true, blacklist: Blacklist())
    }

    @Test func workedExampleMatches() {
        #expect(decide(matchingRequest) == .permit(policy: "corn-processing-read"))
        #expect(decide(with(matchingRequest) { $0.time = beijing(8, 0) }).isPermit)
        #expect(decide(with(matchingRequest) { $0.time = beijing(11, 59) }).isPermit)
    }

    @Test(arguments: 0..<11)
    func changingAnySingleAttributeDenies(attribute: Int) {
        let changed = with(matchingRequest) { request in
            switch attribute {
            case 0: request.subject.enterprise = "ZS124"
            case 1: request.subject.role = .processingWorker
            case 2: request.subject.stage = .warehousing
            case 3: request.subject.productCategory = "rice"
            case 4: request.object.productType = "rice"
            case 5: request.object.lot = "20240203A002"
            case 6: request.object.stage = .processing
            case 7: request.object.sensitivity = .level1
            case 8: request.region = "Shanghai"
            case 9: request.time = beijing(12, 0)
            default: request.action = .write
            }
        }
        #expect(decide(changed) == .deny(.noMatchingPolicy))
    }

    @Test func outsideTheWindowAndUnregisteredAreDenied() {
        #expect(!decide(with(matchingRequest) { $0.time = beijing(7, 59) }).isPermit)
        #expect(!decide(with(matchingRequest) { $0.time = beijing(20) }).isPermit)
        #expect(
            PolicyDecision.decide(matchingRequest, policies: policies, registered: false, blacklist: Blacklist())
                == .deny(.unregisteredPrincipal))
        #expect(
            PolicyDecision.decide(matchingRequest, policies: [], registered: true, blacklist: Blacklist())
                == .deny(.noMatchingPolicy))
    }

    @Test func fourFailuresBlockTenMinutesEachAndTheFifthIsPermanent() throws {
        var blacklist = Blacklist()
        let source = "10.9.8.7"
        var time = beijing(9)
        let bad = with(matchingRequest) {
            $0.sourceAddress = source; $0.subject.enterprise = "INTRUDER"
        }
        for strike in 1...4 {
            let at = time
            let outcome = PolicyDecision.decideAndPunish(
                with(bad) { $0.time = at }, policies: policies, registered: true, blacklist: &blacklist)
            #expect(outcome == .deny(.noMatchingPolicy))
            #expect(blacklist.entries[source]?.strikes == strike)
            // Blocked for ten minutes: even a request that a policy grants is denied meanwhile.
            let blockedGood = with(matchingRequest) {
                $0.sourceAddress = source; $0.time = Timestamp(milliseconds: at.milliseconds + 9 * 60_000)
            }
            #expect(
                PolicyDecision.decideAndPunish(blockedGood, policies: policies, registered: true, blacklist: &blacklist)
                    == .deny(.blacklisted(until: Timestamp(milliseconds: at.milliseconds + 600_000))))
            #expect(blacklist.entries[source]?.strikes == strike, "a blocked request adds no strike")
            // Expired after ten minutes.
            time = Timestamp(milliseconds: at.milliseconds + 10 * 60_000)
            #expect(!blacklist.isBlocked(source, at: time))
            #expect(
                PolicyDecision.decide(
                    with(matchingRequest) {
                        $0.sourceAddress = source; $0.time = time
                    }, policies: policies, registered: true, blacklist: blacklist
                ).isPermit)
        }
        PolicyDecision.decideAndPunish(
            with(bad) { $0.time = time }, policies: policies, registered: true, blacklist: &blacklist)
        #expect(blacklist.entries[source]?.strikes == 5)
        #expect(blacklist.entries[source]?.permanent == true)
        let muchLater = Timestamp(milliseconds: time.milliseconds + 365 * 24 * 3_600_000)
        #expect(
            PolicyDecision.decide(
                with(matchingRequest) {
                    $0.sourceAddress = source; $0.time = muchLater
                }, policies: policies, registered: true, blacklist: blacklist) == .deny(.blacklisted(until: nil)))
        // Other sources are unaffected; the state round-trips through canonical bytes.
        #expect(!blacklist.isBlocked("203.0.113.10", at: muchLater))
        #expect(try Canonical.decode(Blacklist.self, from: Canonical.encode(blacklist)) == blacklist)
    }

    @Test func unregisteredPrincipalIsAStrike() {
        var blacklist = Blacklist(rules: .init(maximumStrikes: 2, blockDurationMilliseconds: 1000))
        PolicyDecision.decideAndPunish(matchingRequest, policies: policies, registered: false, blacklist: &blacklist)
        #expect(blacklist.entries["203.0.113.10"]?.strikes == 1)
    }

    @Test func syntaxErrorsNameLineAttributeAndFix() {
        func failure(_ text: String) -> PolicySyntax.Error? {
            do {
                _ = try PolicySyntax.parse(text)
                return nil
            } catch { return error }
        }
        let missing = failure(workedExample.replacingOccurrences(of: "  object.lot         = 20240203A001\n", with: ""))
        #expect(missing?.attribute == "object.lot")
        #expect(missing?.fix.contains("object.lot = *") == true)
        let typo = failure(workedExample.replacingOccurrences(of: "object.lot ", with: "object.lott"))
        #expect(typo?.attribute == "object.lott")
        #expect(typo?.line == 8)
        #expect(typo?.fix.contains("did you mean object.lot") == true)
        #expect(
            failure(workedExample.replacingOccurrences(of: "08:00-12:00", with: "8-12"))?.attribute
                == "environment.time")
        #expect(failure(workedExample.replacingOccurrences(of: "= read", with: "= peek"))?.attribute == "action")
        #expect(
            failure(
                workedExample.replacingOccurrences(
                    of: "subject.stage      = processing", with: "subject.stage      = sales"))?.attribute
                == "subject.role")
        #expect(failure("subject.role = driver")?.line == 1)
        #expect(failure(workedExample + "\n" + workedExample)?.reason.contains("used twice") == true)
    }

    @Test func formatThenParseGivesTheSamePolicies() throws {
        let reparsed = try PolicySyntax.parse(PolicySyntax.format(policies))
        #expect(reparsed == policies)
    }

    /// Random policies and requests over small value sets, against a reference model written
    /// as plain attribute maps.
    @Test func decisionAgreesWithAReferenceModel() async {
        let enterprises = ["ZS123", "FARM1", "*"], categories = ["corn", "rice", "*"], lots = ["L1", "L2", "*"],
            sources = ["Beijing", "Harbin", "*"]
        let input = zip(
            Gen.int(in: 0..<3), Gen.int(in: 0..<13), Gen.int(in: 0..<7), Gen.int(in: 0..<3),
            Gen.int(in: 0..<3), Gen.int(in: 0..<7), Gen.int(in: 0..<3), Gen.int(in: 0..<3),
            Gen.int(in: 0..<(24 * 60)))
        let tally = Mutex((permits: 0, denials: 0))
        await propertyCheck(count: 500, input: input, Gen.int(in: 0..<13), Gen.int(in: 0..<7)) {
            p, requestSeed, actionMask in
            let (e, r, s, c, l, os, lv, src, minute) = p
            let roles = ABAC.Role.allCases
            let role = r < roles.count ? roles[r] : nil
            let stage = s < Stage.allCases.count ? Stage.allCases[s] : nil
            let objectStage = os < Stage.allCases.count ? Stage.allCases[os] : nil
            let level: ABAC.Sensitivity? = lv == 0 ? .level2 : lv == 1 ? .level1 : nil
            // A role must belong to the subject stage; skip inconsistent combinations as the validator would refuse them.
            if let role, let stage, role.stage != stage { return }
            let window: TimeWindow? =
                minute % 5 == 0
                ? nil
                : TimeWindow(
                    start: .init(hour: (minute / 60) % 24), end: .init(hour: (minute / 60 + 4) % 24),
                    utcOffsetMinutes: 480)
            let actions: Set<ABAC.Action> = Set(
                ABAC.Action.allCases.enumerated().filter {
                    (actionMask >> ($0.offset % 3)) & 1 == 1 || $0.offset == requestSeed % 5
                }.map(\.element))
            let policy = AccessPolicy(
                id: "p", subjectEnterprise: cond(enterprises[e]), subjectRole: role.map { .equals($0) } ?? .any,
                subjectStage: stage.map { .equals($0) } ?? .any,
                subjectCategory: cond(categories[c]), objectProduct: cond(categories[(c + 1) % 3]),
                objectLot: cond(lots[l]),
                objectStage: objectStage.map { .equals($0) } ?? .any, objectLevel: level.map { .equals($0) } ?? .any,
                source: cond(sources[src]), window: window, actions: actions)

            // The request follows the policy except for at most one perturbed attribute
            // (`requestSeed` 0...9 and 11 pick it; 10 and 12 perturb none), so both outcomes are common.
            let perturb = requestSeed
            func value(_ condition: AccessPolicy.Condition<String>, _ fallback: String, _ index: Int) -> String {
                let base: String
                if case .equals(let required) = condition { base = required } else { base = fallback }
                return perturb == index ? base + "-other" : base
            }
            let requestRole: ABAC.Role = {
                let base = role ?? roles[(minute * 7) % roles.count]
                guard perturb == 1 else { return base }
                return ABAC.Role.roles(of: base.stage).first { $0 != base }!
            }()
            let requestStage: Stage =
                stage.map { perturb == 2 ? Stage.allCases[($0.ordinal == 5 ? 0 : Int($0.ordinal) + 1)] : $0 }
                ?? requestRole.stage
            let requestObjectStage =
                objectStage.map { perturb == 5 ? Stage.allCases[(Int($0.ordinal) + 1) % 6] : $0 }
                ?? Stage.allCases[minute % 6]
            let requestLevel: ABAC.Sensitivity =
                level.map { perturb == 6 ? ($0 == .level1 ? .level2 : .level1) : $0 } ?? .level2
            var time = Timestamp(milliseconds: Int64(minute) * 60_000 * 13)
            if let window {
                // Local midnight of the day, then one minute after the start (inside) or the end (outside).
                let dayStart = (time.milliseconds / 86_400_000) * 86_400_000 - Int64(window.utcOffsetMinutes) * 60_000
                let local = perturb == 8 ? window.end.minutes : window.start.minutes + 1
                time = Timestamp(milliseconds: dayStart + Int64(local) * 60_000)
            }
            let granted = ABAC.Action.allCases.filter(actions.contains)
            let denied = ABAC.Action.allCases.filter { !actions.contains($0) }
            let action =
                perturb == 9 && !denied.isEmpty
                ? denied[0] : granted.isEmpty ? ABAC.Action.read : granted[minute % granted.count]
            let request = ABAC.Request(
                subject: ABAC.Subject(
                    enterprise: value(policy.subjectEnterprise, "ZS123", 0), role: requestRole, stage: requestStage,
                    productCategory: value(policy.subjectCategory, "corn", 3)),
                object: ABAC.Object(
                    productType: value(policy.objectProduct, "rice", 4), lot: value(policy.objectLot, "L9", 7),
                    stage: requestObjectStage, sensitivity: requestLevel),
                sourceAddress: "192.0.2.\(requestSeed)", region: value(policy.source, "Harbin", 11), time: time,
                action: action)

            let expected = referencePermits(policy: policy, request: request)
            #expect(policy.permits(request) == expected)
            var blacklist = Blacklist()
            let outcome = PolicyDecision.decideAndPunish(
                request, policies: [policy], registered: true, blacklist: &blacklist)
            #expect(outcome.isPermit == expected)
            #expect(blacklist.entries.isEmpty == expected)
            tally.withLock { expected ? ($0.permits += 1) : ($0.denials += 1) }
        }
        // The generator must exercise both outcomes, or the property says little.
        let (permits, denials) = tally.withLock { $0 }
        #expect(permits > 20 && denials > 20, "permits \(permits), denials \(denials)")
    }
}

private func cond(_ value: String) -> AccessPolicy.Condition<String> { value == "*" ? .any : .equals(value) }

/// The reference model: flatten both sides to attribute maps and compare name by name.
private func referencePermits(policy: AccessPolicy, request: ABAC.Request) -> Bool {
    func text<T>(_ condition: AccessPolicy.Condition<T>, _ render: (T) -> String) -> String? {
        if case .equals(let value) = condition { return render(value) }
        return nil
    }
    let required: [String: String?] = [
        "se": text(policy.subjectEnterprise) { $0 }, "sr": text(policy.subjectRole) { $0.rawValue },
        "ss": text(policy.subjectStage) { $0.rawValue }, "sc": text(policy.subjectCategory) { $0 },
        "op": text(policy.objectProduct) { $0 }, "ol": text(policy.objectLot) { $0 },
        "os": text(policy.objectStage) { $0.rawValue }, "ov": text(policy.objectLevel) { $0.rawValue },
        "src": text(policy.source) { $0 },
    ]
    let actual: [String: String] = [
        "se": request.subject.enterprise, "sr": request.subject.role.rawValue, "ss": request.subject.stage.rawValue,
        "sc": request.subject.productCategory, "op": request.object.productType, "ol": request.object.lot,
        "os": request.object.stage.rawValue, "ov": request.object.sensitivity.rawValue, "src": request.region,
    ]
    for (name, value) in required { if let value, actual[name] != value { return false } }
    guard policy.actions.contains(request.action) else { return false }
    if let window = policy.window {
        // Minutes since local midnight, computed independently of TimeWindow.
        let local = ((request.time.milliseconds / 60_000 + Int64(window.utcOffsetMinutes)) % 1440 + 1440) % 1440
        let start = Int64(window.start.minutes), end = Int64(window.end.minutes)
        let inside = start <= end ? (local >= start && local < end) : (local >= start || local < end)
        if !inside { return false }
    }
    return true
}

private func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
    var copy = value
    change(&copy)
    return copy
}
