import SharingGraph
import Testing

/// Forty days of four processors asking two owners for two lots a day in office hours and
/// fetching one lot, then on the last day: one asks at night, one is denied six times out of
/// six, and a new principal asks eight owners it never asked before.
struct BehaviourHistory {
    static let day: Int64 = 86_400_000
    static let hour: Int64 = 3_600_000
    static let role = "processing-administrator"
    static let peers = (0..<4).map { "Firm/p\($0)@MILL\($0)" }
    static let newcomer = "Firm/new@MILL9"

    var edges: [SharingEdge] = []
    var leaf: UInt64 = 0
    /// The leaves of the last day's requests, by principal.
    var lastDay: [String: [UInt64]] = [:]

    var principals: [String: SharingPrincipal] {
        var all: [String: SharingPrincipal] = [:]
        for name in Self.peers + [Self.newcomer] {
            all[name] = SharingPrincipal(name: name, enterprise: String(name.split(separator: "@")[1]), role: Self.role)
        }
        return all
    }

    init() {
        for day in Int64(0)..<41 {
            for (index, peer) in Self.peers.enumerated() {
                let night = day == 40 && index == 0
                let denied = day == 40 && index == 1
                // The denied one asks six times that day (a denial ratio needs five requests).
                for request in 0..<(denied ? 6 : 3) {
                    let hour: Int64 = night ? 2 + Int64(request) : 9 + Int64(request)
                    let owner = "Firm/owner\(request % 2)@FARM"
                    add(
                        .request, peer, owner, lot: "L\(day)-\(request % 2)", at: day * Self.day + hour * Self.hour,
                        outcome: denied ? .denied : .submitted, day: day)
                }
                add(
                    .transfer, "Firm/owner0@FARM", peer, lot: "L\(day)-0", at: day * Self.day + 15 * Self.hour,
                    outcome: .delivered, records: 30, day: day)
            }
        }
        for owner in 0..<8 {
            add(
                .request, Self.newcomer, "Firm/other\(owner)@F\(owner)", lot: "N\(owner)",
                at: 40 * Self.day + 10 * Self.hour, outcome: .submitted, day: 40)
        }
    }

    mutating func add(
        _ kind: SharingEdge.Kind, _ from: String, _ to: String, lot: String, at time: Int64,
        outcome: SharingEdge.Outcome,
        records: Int = 0, day: Int64
    ) {
        leaf += 1
        edges.append(
            SharingEdge(
                kind: kind, from: from, to: to, lot: lot, level: "level-2", time: time, outcome: outcome, leaf: leaf,
                source: "10.1.0.1", records: records))
        if day == 40 && kind == .request { lastDay[from, default: []].append(leaf) }
    }
}

@Suite("Behaviour anomalies")
struct BehaviourDetectorTests {
    let history = BehaviourHistory()

    @Test func raisesExactlyTheChangedFeatures() throws {
        let alarms = BehaviourDetector().alarms(
            history.edges.sorted { $0.leaf < $1.leaf }, principals: history.principals)
        let found = Set(alarms.map { "\($0.kind.rawValue) \($0.subject) \($0.feature)" })
        #expect(
            found == [
                "behaviour \(BehaviourHistory.peers[0]) hour-of-day",
                "behaviour \(BehaviourHistory.peers[1]) denial-ratio",
                "fan-out \(BehaviourHistory.newcomer) new-owners",
            ])
        for alarm in alarms {
            #expect(alarm.score >= 1)
            #expect(alarm.time == 41 * BehaviourHistory.day)
            #expect(alarm.evidence == history.lastDay[alarm.subject])
        }
        let night = try #require(alarms.first { $0.feature == "hour-of-day" })
        #expect(night.detail.contains("28-day history"))
    }

    @Test func quietOnNormalDays() {
        // The same forty normal days without the last one raise nothing.
        let normal = history.edges.filter { $0.time < 40 * BehaviourHistory.day }
        #expect(BehaviourDetector().alarms(normal, principals: history.principals).isEmpty)
    }

    @Test func thresholdsAreTheKnobs() {
        var parameters = BehaviourDetector.Parameters()
        parameters.thresholds[.hourOfDay] = 8
        parameters.fanOutMinimum = 9
        parameters.minimumEvents[.denialRatio] = 7
        let alarms = BehaviourDetector(parameters: parameters).alarms(history.edges, principals: history.principals)
        #expect(alarms.isEmpty)
    }

    @Test func kindsParseOrNameTheFix() throws {
        #expect(try AnomalyAudit.kinds("fan-out,cold-chain") == [.fanOut, .coldChain])
        #expect(throws: AnomalyAudit.UnknownKind.self) { try AnomalyAudit.kinds("fanout") }
        // An empty kind (found by schemathesis: `?kind=` answered every alarm's absence) is refused.
        #expect(throws: AnomalyAudit.UnknownKind.self) { try AnomalyAudit.kinds("") }
        #expect(throws: AnomalyAudit.UnknownKind.self) { try AnomalyAudit.kinds("time-order,") }
        do {
            _ = try AnomalyAudit.kinds("fanout")
        } catch {
            #expect("\(error)".contains("kind fanout is not a kind of anomaly"))
            #expect("\(error)".contains("two-places"))
        }
    }
}
