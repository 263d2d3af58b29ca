/// Behaviour anomalies of principals: each principal's activity, as histograms over a
/// sliding window of days, compared by Earth Mover's distance with its own history and with
/// its role peers over the same window; and a structural check, sudden fan-out to owners it
/// never reached before. Method and tuning: `docs/anomalies.md`.
///
/// Pure and deterministic: the same edges give the same alarms.
public struct BehaviourDetector: Sendable {
    /// The histograms compared (`docs/anomalies.md` lists their bins).
    public enum Feature: String, Sendable, Codable, CaseIterable {
        /// The UTC hour of each request (24 bins).
        case hourOfDay = "hour-of-day"
        /// Distinct lots requested per active day (log-2 bins).
        case lotsPerDay = "lots-per-day"
        /// Distinct owners requested from per active day (log-2 bins).
        case distinctOwners = "distinct-owners"
        /// Denied requests / requests per active day (11 bins of 0.1).
        case denialRatio = "denial-ratio"
        /// Records received in delivered transfers per day (log-2 bins up to 2¹⁵).
        case recordsFetched = "records-fetched"
        /// Distinct source addresses per active day (log-2 bins).
        case distinctSources = "distinct-sources"

        /// The number of bins of the feature's histogram.
        public var bins: Int {
            switch self {
            case .hourOfDay: 24
            case .denialRatio: 11
            case .recordsFetched: 17
            default: 9
            }
        }
    }

    /// The detector's parameters, with the defaults tuned on the generated scenario.
    public struct Parameters: Sendable, Equatable {
        /// Days in the compared window (ending at the end of a day the principal acted).
        public var windowDays: Int64 = 1
        /// Days of the principal's own history before the window.
        public var historyDays: Int64 = 28
        /// Active days the history needs before it is compared (else peers only).
        public var minimumHistoryDays = 5
        /// Threshold of each feature's distance to the history, in bins.
        public var thresholds: [Feature: Double] = [
            .hourOfDay: 6, .lotsPerDay: 3, .distinctOwners: 3, .denialRatio: 6, .recordsFetched: 4,
            .distinctSources: 1.8,
        ]
        /// The fewest events (requests; transfers for records fetched) on the window's last
        /// day for a feature to be compared: one denial in three requests is not a burst.
        public var minimumEvents: [Feature: Int] = [.denialRatio: 5]
        /// The distance to the role peers must also reach threshold × this (a shift the whole
        /// role made is not an anomaly of one principal).
        public var peerFactor = 0.5
        /// Without enough history, the distance to the peers must reach threshold × this.
        public var newPrincipalFactor = 1.5
        /// Fan-out: the fewest owners reached for the first time in one day that raise an alarm.
        public var fanOutMinimum = 6
        /// Fan-out: and at least this many times the principal's mean daily new owners.
        public var fanOutFactor = 3.0
        /// An alarm of the same principal and feature is not raised again within these days.
        public var quietDays: Int64 = 3

        public init() {}
    }

    public var parameters: Parameters

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// The alarms over `edges` (in leaf order), principals grouped by role from `principals`.
    public func alarms(_ edges: [SharingEdge], principals: [String: SharingPrincipal]) -> [AnomalyAlarm] {
        let days = BehaviourDays(edges)
        var alarms: [AnomalyAlarm] = []
        var lastRaised: [String: Int64] = [:]
        for day in days.activeOn.keys.sorted() {
            let end = day + 1
            let window = (end - parameters.windowDays)..<end
            let profiles = windowProfiles(days, window)
            let peers = roleSums(profiles, principals: principals)
            for principal in (days.activeOn[day] ?? []).sorted() {
                let role = principals[principal]?.role ?? ""
                var peer = peers[role] ?? BehaviourProfile()
                if let own = profiles[principal] { peer.subtract(own) }
                var found = featureAlarms(principal, days: days, window: window, peer: peer)
                found += fanOut(principal, days: days, day: end - 1).map { [$0] } ?? []
                for alarm in found {
                    let key = "\(alarm.subject)|\(alarm.feature)"
                    if let last = lastRaised[key], end - last < parameters.quietDays { continue }
                    lastRaised[key] = end
                    alarms.append(alarm)
                }
            }
        }
        return alarms.reportOrder()
    }

    private func windowProfiles(_ days: BehaviourDays, _ window: Range<Int64>) -> [String: BehaviourProfile] {
        var profiles: [String: BehaviourProfile] = [:]
        for principal in days.active(in: window) { profiles[principal] = days.profile(principal, window) }
        return profiles
    }

    private func roleSums(_ profiles: [String: BehaviourProfile], principals: [String: SharingPrincipal])
        -> [String: BehaviourProfile]
    {
        var sums: [String: BehaviourProfile] = [:]
        for (principal, profile) in profiles { sums[principals[principal]?.role ?? "", default: .init()].add(profile) }
        return sums
    }
}
