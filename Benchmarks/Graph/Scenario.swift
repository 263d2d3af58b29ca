import SharingGraph

/// A generated scenario: months of normal behaviour of dozens of principals and of the
/// traceability records of a small supply chain, with anomalies of each kind injected
/// (or none). It produces the detectors' input directly as values (edges, records, series):
/// no ledger store is built (docs/anomalies.md says so).
struct Scenario {
    static let day: Int64 = 86_400_000
    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000
    static let roles = [
        "processing-administrator", "warehouse-administrator", "logistics-administrator",
        "supermarket-administrator",
    ]

    struct Requester {
        var name: String
        var role: String
        var start: Int
        var rate: Double
        var owners: [Int]
        var sources: [String]
        var firstDay: Int
        /// The day of its fan-out, for the injected newcomers.
        var fanOutDay: Int?
    }

    let days: Int
    let inject: Bool
    let perKind: Int
    var random: ScenarioRandom
    var requesters: [Requester] = []
    var edges: [SharingEdge] = []
    var principals: [String: SharingPrincipal] = [:]
    var records: [TraceRecord] = []
    var series: [SensorSeries] = []
    var injections: [Injection] = []
    /// Behaviour injections by (principal index, day).
    var planned: [String: Injection.Kind.Behaviour] = [:]
    let owners = 16
    /// The supply chain's fixed sites (one device each) and the trace injections by "site|day".
    var farms: [GeoPoint] = []
    var processors: [GeoPoint] = []
    var warehouses: [GeoPoint] = []
    var shops: [GeoPoint] = []
    var tracePlan: [String: AnomalyAlarm.Kind] = [:]

    init(seed: UInt64, days: Int, perRole: Int, inject: Bool, perKind: Int = 10) {
        self.days = days
        self.inject = inject
        self.perKind = perKind
        random = ScenarioRandom(seed: seed)
        for owner in 0..<owners {
            let name = Self.owner(owner)
            principals[name] = SharingPrincipal(name: name, enterprise: "FARM\(owner)", role: "farm-administrator")
        }
        for (roleIndex, role) in Self.roles.enumerated() {
            for index in 0..<perRole { addRequester(role: role, tag: "\(roleIndex)-\(index)", firstDay: 0) }
        }
        // Four ordinary newcomers half-way, and the fan-out newcomers (normal ones without injections).
        for index in 0..<4 { addRequester(role: Self.roles[index % 4], tag: "late-\(index)", firstDay: days / 2) }
        for index in 0..<perKind {
            let day = 35 + (index * (days - 40)) / max(perKind, 1)
            addRequester(role: Self.roles[index % 4], tag: "new-\(index)", firstDay: day)
            if inject { requesters[requesters.count - 1].fanOutDay = day }
        }
    }

    static func owner(_ index: Int) -> String { "Firm/owner\(index)@FARM\(index)" }

    mutating func addRequester(role: String, tag: String, firstDay: Int) {
        let name = "Firm/r\(tag)@E\(tag)"
        var owners = Set<Int>()
        let count = random.int(2..<5)
        while owners.count < count { owners.insert(random.int(0..<self.owners)) }
        var sources = ["10.\(requesters.count / 250).\(requesters.count % 250).1"]
        if random.chance(0.3) { sources.append("vpn-\(requesters.count).example") }
        requesters.append(
            Requester(
                name: name, role: role, start: 7 + random.int(0..<3), rate: 2 + random.double(0..<3),
                owners: owners.sorted(), sources: sources, firstDay: firstDay))
        principals[name] = SharingPrincipal(name: name, enterprise: "E\(tag)", role: role)
    }

    /// Builds everything, leaves assigned in time order over edges and records together.
    mutating func build() {
        placeSites()
        if inject {
            planBehaviourInjections()
            planTraceInjections()
        }
        for day in 0..<days {
            for index in requesters.indices where requesters[index].firstDay <= day { behave(index, day: day) }
            supplyChain(day: day)
        }
        assignLeaves()
    }

    /// Picks `perKind` weekday (principal, day) pairs per behaviour kind, a week apart per principal.
    mutating func planBehaviourInjections() {
        let established = requesters.indices.filter { requesters[$0].firstDay == 0 }
        var used: [Int: [Int]] = [:]
        for kind in Injection.Kind.Behaviour.allCases {
            var placed = 0
            while placed < perKind {
                let index = established[random.int(0..<established.count)]
                let day = 35 + random.int(0..<(days - 37))
                guard day % 7 < 5, (used[index] ?? []).allSatisfy({ abs($0 - day) > 7 }) else { continue }
                used[index, default: []].append(day)
                planned["\(index)|\(day)"] = kind
                injections.append(
                    Injection(
                        kind: .behaviour(kind), subjects: [requesters[index].name], from: Int64(day) * Self.day,
                        until: Int64(day + 2) * Self.day))
                placed += 1
            }
        }
        for requester in requesters {
            guard let day = requester.fanOutDay else { continue }
            injections.append(
                Injection(
                    kind: .alarm(.fanOut), subjects: [requester.name], from: Int64(day) * Self.day,
                    until: Int64(day + 2) * Self.day))
        }
    }

    mutating func assignLeaves() {
        records.sort { ($0.time, $0.leaf) < ($1.time, $1.leaf) }
        edges.sort { $0.time < $1.time }
        var final: [UInt64: UInt64] = [:]
        var leaf: UInt64 = 0
        var edgeIndex = 0
        for index in records.indices {
            while edgeIndex < edges.count && edges[edgeIndex].time <= records[index].time {
                edges[edgeIndex].leaf = leaf
                leaf += 1
                edgeIndex += 1
            }
            final[records[index].leaf] = leaf
            records[index].leaf = leaf
            leaf += 1
        }
        while edgeIndex < edges.count {
            edges[edgeIndex].leaf = leaf
            leaf += 1
            edgeIndex += 1
        }
        for index in series.indices { series[index].leaf = final[series[index].leaf] ?? 0 }
    }
}
