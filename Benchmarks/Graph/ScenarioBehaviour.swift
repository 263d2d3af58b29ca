import SharingGraph

extension Scenario {
    /// One requester's day: normal, or the injected anomaly planned for it.
    mutating func behave(_ index: Int, day: Int) {
        let requester = requesters[index]
        if requester.fanOutDay == day { return fanOut(index, day: day) }
        if let kind = planned["\(index)|\(day)"] { return anomalous(kind, index, day: day) }
        if day % 7 >= 5 && !random.chance(0.2) { return }
        let count = max(1, random.poisson(requester.rate))
        for _ in 0..<count {
            let time = dayStart(day) + Int64(requester.start + random.int(0..<8)) * Self.hour + minutes(60)
            let owner =
                random.chance(0.03) ? random.int(0..<owners) : requester.owners[random.int(0..<requester.owners.count)]
            let source =
                requester.sources.count > 1 && random.chance(0.15) ? requester.sources[1] : requester.sources[0]
            ask(
                requester.name, owner: owner, lot: "F\(owner)-\(max(0, day - random.int(0..<5)))", at: time,
                source: source)
        }
    }

    func dayStart(_ day: Int) -> Int64 { Int64(day) * Self.day }
    mutating func minutes(_ upTo: Int) -> Int64 { Int64(random.int(0..<upTo)) * Self.minute }

    /// A request and what follows it: the decision, the match, the transfer and the read.
    mutating func ask(
        _ requester: String, owner: Int, lot: String, at time: Int64, source: String, outcome: Outcome = .normal,
        records: Int? = nil
    ) {
        let ownerName = Self.owner(owner)
        let decisionDenied = outcome == .deniedAtDecision || (outcome == .normal && random.chance(0.03))
        edges.append(edge(.request, requester, ownerName, lot, time, decisionDenied ? .denied : .submitted, source))
        guard !decisionDenied else { return }
        let resultTime = time + 5 * Self.minute + minutes(115)
        let granted = outcome == .granted || (outcome == .normal && random.chance(0.95))
        edges.append(
            edge(
                granted ? .grant : .denial, ownerName, requester, lot, resultTime, granted ? .granted : .denied,
                source))
        guard granted, outcome == .granted || random.chance(0.9) else { return }
        let transferTime = resultTime + 10 * Self.minute + minutes(50)
        let count = records ?? (10 + random.int(0..<30))
        edges.append(edge(.transfer, ownerName, requester, lot, transferTime, .delivered, source, records: count))
        edges.append(
            edge(
                .read, requester, ownerName, lot, transferTime + minutes(10) + Self.minute, .verified, "",
                records: count))
    }

    enum Outcome { case normal, granted, deniedAtDecision, deniedAtMatch }

    func edge(
        _ kind: SharingEdge.Kind, _ from: String, _ to: String, _ lot: String, _ time: Int64,
        _ outcome: SharingEdge.Outcome,
        _ source: String, records: Int = 0
    ) -> SharingEdge {
        SharingEdge(
            kind: kind, from: from, to: to, lot: lot, level: "level-2", time: time, outcome: outcome, leaf: 0,
            source: source, records: records)
    }

    /// The injected behaviours: night requests, a mass download, many sources, a denial burst.
    mutating func anomalous(_ kind: Injection.Kind.Behaviour, _ index: Int, day: Int) {
        let requester = requesters[index]
        let usual = { (random: inout ScenarioRandom) in requester.owners[random.int(0..<requester.owners.count)] }
        switch kind {
        case .oddHours:
            for _ in 0..<(3 + random.int(0..<4)) {
                let owner = usual(&random)
                ask(
                    requester.name, owner: owner, lot: "F\(owner)-\(day)",
                    at: dayStart(day) + Int64(random.int(0..<5)) * Self.hour + minutes(60), source: requester.sources[0]
                )
            }
        case .massDownload:
            for item in 0..<(40 + random.int(0..<41)) {
                let owner = usual(&random)
                let time = dayStart(day) + Int64(requester.start + random.int(0..<8)) * Self.hour + minutes(60)
                ask(
                    requester.name, owner: owner, lot: "F\(owner)-\(max(0, day - item % 30))-m\(item)", at: time,
                    source: requester.sources[0], outcome: .granted)
            }
        case .manySources:
            for item in 0..<(5 + random.int(0..<4)) {
                let owner = usual(&random)
                let time = dayStart(day) + Int64(requester.start + random.int(0..<8)) * Self.hour + minutes(60)
                ask(requester.name, owner: owner, lot: "F\(owner)-\(day)", at: time, source: "203.0.113.\(item + 10)")
            }
        case .denialBurst:
            for item in 0..<(6 + random.int(0..<5)) {
                let owner = usual(&random)
                let time = dayStart(day) + Int64(requester.start + random.int(0..<8)) * Self.hour + minutes(60)
                ask(
                    requester.name, owner: owner, lot: "F\(owner)-\(day)", at: time, source: requester.sources[0],
                    outcome: item % 2 == 0 ? .deniedAtDecision : .deniedAtMatch)
            }
        }
    }

    /// A newcomer's first day: requests to 10 to 14 owners it never asked before; its usual
    /// owners from then on are three of them.
    mutating func fanOut(_ index: Int, day: Int) {
        var reached = Set<Int>()
        let count = 10 + random.int(0..<5)
        while reached.count < count { reached.insert(random.int(0..<owners)) }
        let requester = requesters[index]
        for owner in reached.sorted() {
            let time = dayStart(day) + Int64(requester.start + random.int(0..<8)) * Self.hour + minutes(60)
            ask(requester.name, owner: owner, lot: "F\(owner)-\(day)", at: time, source: requester.sources[0])
        }
        requesters[index].owners = Array(reached.sorted().prefix(3))
    }
}
