/// One principal's activity on one day (UTC), the unit the behaviour histograms are built from.
struct BehaviourDay: Sendable {
    var requests = 0
    var denials = 0
    var lots: Set<String> = []
    var owners: Set<String> = []
    var sources: Set<String> = []
    var hours = [Int](repeating: 0, count: 24)
    var recordsFetched = 0
    var fetches = 0
    /// Owners the principal reached this day for the first time ever.
    var newOwners: Set<String> = []
    var requestLeaves: [UInt64] = []
    var denialLeaves: [UInt64] = []
    var fetchLeaves: [UInt64] = []
    var newOwnerLeaves: [UInt64] = []

    /// The leaves that show `feature` on this day.
    func evidence(_ feature: BehaviourDetector.Feature) -> [UInt64] {
        switch feature {
        case .recordsFetched: fetchLeaves
        case .denialRatio: (requestLeaves + denialLeaves).sorted()
        default: requestLeaves
        }
    }
}

/// Every principal's days, folded from the graph's edges in leaf order.
struct BehaviourDays: Sendable {
    static let dayMilliseconds: Int64 = 86_400_000
    var days: [String: [Int64: BehaviourDay]] = [:]
    private var knownOwners: [String: Set<String>] = [:]
    /// Each principal's histograms of each active day, its active days in order, and the
    /// principals active on each day: profiles of a span add up the days' profiles.
    private(set) var dayProfiles: [String: [Int64: BehaviourProfile]] = [:]
    private(set) var activeDays: [String: [Int64]] = [:]
    private(set) var activeOn: [Int64: [String]] = [:]

    init(_ edges: [SharingEdge]) {
        for edge in edges { add(edge) }
        for (principal, own) in days {
            var profiles: [Int64: BehaviourProfile] = [:]
            for (day, stats) in own {
                var profile = BehaviourProfile()
                profile.add(stats)
                profiles[day] = profile
                activeOn[day, default: []].append(principal)
            }
            dayProfiles[principal] = profiles
            activeDays[principal] = own.keys.sorted()
        }
    }

    static func day(of time: Int64) -> Int64 {
        time >= 0 ? time / dayMilliseconds : (time - dayMilliseconds + 1) / dayMilliseconds
    }

    private mutating func add(_ edge: SharingEdge) {
        switch edge.kind {
        case .request: addRequest(edge)
        case .denial:
            update(edge.to, edge.time) {
                $0.denials += 1
                $0.denialLeaves.append(edge.leaf)
            }
        case .transfer where edge.delivered:
            update(edge.to, edge.time) {
                $0.recordsFetched += edge.records
                $0.fetches += 1
                $0.fetchLeaves.append(edge.leaf)
            }
        default: break
        }
    }

    private mutating func addRequest(_ edge: SharingEdge) {
        let isNew = knownOwners[edge.from, default: []].insert(edge.to).inserted
        let hour = Int((edge.time % Self.dayMilliseconds + Self.dayMilliseconds) % Self.dayMilliseconds / 3_600_000)
        update(edge.from, edge.time) {
            $0.requests += 1
            if edge.outcome == "denied" {
                $0.denials += 1
            }
            $0.lots.insert(edge.lot)
            $0.owners.insert(edge.to)
            if !edge.source.isEmpty { $0.sources.insert(edge.source) }
            $0.hours[hour] += 1
            $0.requestLeaves.append(edge.leaf)
            if isNew {
                $0.newOwners.insert(edge.to)
                $0.newOwnerLeaves.append(edge.leaf)
            }
        }
    }

    private mutating func update(_ principal: String, _ time: Int64, _ change: (inout BehaviourDay) -> Void) {
        change(&days[principal, default: [:]][Self.day(of: time), default: BehaviourDay()])
    }

    /// The histograms of `principal` over the days `range` (every feature, in
    /// ``BehaviourDetector/Feature/allCases`` order) and its active days.
    func profile(_ principal: String, _ range: Range<Int64>) -> BehaviourProfile {
        var profile = BehaviourProfile()
        guard let active = activeDays[principal], let profiles = dayProfiles[principal] else { return profile }
        var low = 0
        var high = active.count
        while low < high {
            let middle = (low + high) / 2
            if active[middle] >= range.lowerBound { high = middle } else { low = middle + 1 }
        }
        while low < active.count && active[low] < range.upperBound {
            if let day = profiles[active[low]] { profile.add(day) }
            low += 1
        }
        return profile
    }

    /// The principals active on a day of `range`.
    func active(in range: Range<Int64>) -> Set<String> {
        var found: Set<String> = []
        for day in range { found.formUnion(activeOn[day] ?? []) }
        return found
    }
}

/// A principal's histograms over a span of days.
struct BehaviourProfile: Sendable {
    var histograms: [[Double]] = BehaviourDetector.Feature.allCases.map { [Double](repeating: 0, count: $0.bins) }
    /// Days with at least one request, and with at least one delivered transfer.
    var requestDays = 0
    var fetchDays = 0

    mutating func add(_ day: BehaviourDay) {
        if day.requests > 0 {
            requestDays += 1
            for hour in 0..<24 { histograms[0][hour] += Double(day.hours[hour]) }
            histograms[1][Self.logBin(day.lots.count, bins: 9)] += 1
            histograms[2][Self.logBin(day.owners.count, bins: 9)] += 1
            let ratio = min(1, Double(day.denials) / Double(day.requests))
            histograms[3][Int((ratio * 10).rounded())] += 1
            histograms[5][Self.logBin(day.sources.count, bins: 9)] += 1
        }
        if day.fetches > 0 {
            fetchDays += 1
            histograms[4][Self.logBin(day.recordsFetched, bins: 17)] += 1
        }
    }

    mutating func add(_ other: BehaviourProfile) {
        for feature in histograms.indices {
            for bin in histograms[feature].indices { histograms[feature][bin] += other.histograms[feature][bin] }
        }
        requestDays += other.requestDays
        fetchDays += other.fetchDays
    }

    mutating func subtract(_ other: BehaviourProfile) {
        for feature in histograms.indices {
            for bin in histograms[feature].indices {
                histograms[feature][bin] = max(0, histograms[feature][bin] - other.histograms[feature][bin])
            }
        }
        requestDays -= other.requestDays
        fetchDays -= other.fetchDays
    }

    /// 0 → bin 0, 1 → 1, 2 → 2, 3-4 → 3, 5-8 → 4, 9-16 → 5, …, the last bin open-ended.
    static func logBin(_ count: Int, bins: Int) -> Int {
        guard count > 0 else { return 0 }
        var bin = 1
        var limit = 1
        while count > limit && bin < bins - 1 {
            bin += 1
            limit *= 2
        }
        return bin
    }
}
