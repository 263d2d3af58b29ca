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
    /// Each principal's active days in order with the running sums of their histograms, and
    /// the principals active on each day: a span's profile is the difference of two sums.
    private(set) var running: [String: Running] = [:]
    private(set) var activeOn: [Int64: [String]] = [:]

    /// A principal's active days and, for each prefix of them, the sum of their profiles
    /// (``BehaviourProfile/width`` bins per prefix, flat) and of their active-day counts.
    struct Running: Sendable {
        var days: [Int64] = []
        var bins: [Double] = []
        var requestDays: [Int] = [0]
        var fetchDays: [Int] = [0]

        /// The first position whose day is at or after `day`.
        func position(_ day: Int64) -> Int {
            var low = 0
            var high = days.count
            while low < high {
                let middle = (low + high) / 2
                if days[middle] >= day { high = middle } else { low = middle + 1 }
            }
            return low
        }
    }

    init(_ edges: [SharingEdge]) {
        for edge in edges { add(edge) }
        let width = BehaviourProfile.width
        for (principal, own) in days {
            var sums = Running()
            sums.days = own.keys.sorted()
            sums.bins = [Double](repeating: 0, count: (sums.days.count + 1) * width)
            var total = BehaviourProfile()
            for (index, day) in sums.days.enumerated() {
                total.add(own[day]!)
                for bin in 0..<width { sums.bins[(index + 1) * width + bin] = total.bins[bin] }
                sums.requestDays.append(total.requestDays)
                sums.fetchDays.append(total.fetchDays)
                activeOn[day, default: []].append(principal)
            }
            running[principal] = sums
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
            if edge.outcome == .denied {
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
        guard let sums = running[principal] else { return profile }
        let low = sums.position(range.lowerBound)
        let high = sums.position(range.upperBound)
        guard high > low else { return profile }
        let width = BehaviourProfile.width
        for bin in 0..<width { profile.bins[bin] = sums.bins[high * width + bin] - sums.bins[low * width + bin] }
        profile.requestDays = sums.requestDays[high] - sums.requestDays[low]
        profile.fetchDays = sums.fetchDays[high] - sums.fetchDays[low]
        return profile
    }

    /// The principals active on a day of `range`.
    func active(in range: Range<Int64>) -> Set<String> {
        var found: Set<String> = []
        for day in range { found.formUnion(activeOn[day] ?? []) }
        return found
    }
}

/// A principal's histograms over a span of days: every feature's bins, one after the other in
/// ``BehaviourDetector/Feature/allCases`` order, in one flat array.
struct BehaviourProfile: Sendable {
    /// Where each feature's bins start, and (last) the width of a profile.
    static let offsets: [Int] = BehaviourDetector.Feature.allCases.reduce(into: [0]) { $0.append($0.last! + $1.bins) }
    static let width = offsets.last!

    var bins = [Double](repeating: 0, count: BehaviourProfile.width)
    /// Days with at least one request, and with at least one delivered transfer.
    var requestDays = 0
    var fetchDays = 0

    /// The histogram of the feature at `index` (in ``BehaviourDetector/Feature/allCases``).
    func histogram(_ index: Int) -> [Double] {
        Array(bins[Self.offsets[index]..<Self.offsets[index + 1]])
    }

    private mutating func count(_ feature: Int, _ bin: Int, _ amount: Double = 1) {
        bins[Self.offsets[feature] + bin] += amount
    }

    mutating func add(_ day: BehaviourDay) {
        if day.requests > 0 {
            requestDays += 1
            for hour in 0..<24 { count(0, hour, Double(day.hours[hour])) }
            count(1, Self.logBin(day.lots.count, bins: 9))
            count(2, Self.logBin(day.owners.count, bins: 9))
            let ratio = min(1, Double(day.denials) / Double(day.requests))
            count(3, Int((ratio * 10).rounded()))
            count(5, Self.logBin(day.sources.count, bins: 9))
        }
        if day.fetches > 0 {
            fetchDays += 1
            count(4, Self.logBin(day.recordsFetched, bins: 17))
        }
    }

    mutating func add(_ other: BehaviourProfile) {
        for bin in bins.indices { bins[bin] += other.bins[bin] }
        requestDays += other.requestDays
        fetchDays += other.fetchDays
    }

    mutating func subtract(_ other: BehaviourProfile) {
        for bin in bins.indices { bins[bin] = max(0, bins[bin] - other.bins[bin]) }
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
