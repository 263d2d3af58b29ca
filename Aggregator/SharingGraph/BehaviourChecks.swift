extension BehaviourDetector {
    /// The features of `principal` whose window moved past their threshold (see ``Parameters``).
    func featureAlarms(_ principal: String, days: BehaviourDays, window: Range<Int64>, peer: BehaviourProfile)
        -> [AnomalyAlarm]
    {
        let lastDay = window.upperBound - 1
        guard let today = days.days[principal]?[lastDay] else { return [] }
        let own = days.profile(principal, window)
        let history = days.profile(principal, (window.lowerBound - parameters.historyDays)..<window.lowerBound)
        var alarms: [AnomalyAlarm] = []
        for (index, feature) in Feature.allCases.enumerated() {
            let fetched = feature == .recordsFetched
            guard (fetched ? today.fetches : today.requests) >= max(1, parameters.minimumEvents[feature] ?? 1),
                let threshold = parameters.thresholds[feature], threshold > 0
            else { continue }
            let peerDays = fetched ? peer.fetchDays : peer.requestDays
            let toPeers = peerDays > 0 ? try? EarthMovers.distance(own.histogram(index), peer.histogram(index)) : nil
            let historyDays = fetched ? history.fetchDays : history.requestDays
            let score: Double
            let detail: String
            if historyDays >= parameters.minimumHistoryDays {
                guard let toSelf = try? EarthMovers.distance(own.histogram(index), history.histogram(index)),
                    toSelf >= threshold, (toPeers ?? .infinity) >= threshold * parameters.peerFactor
                else { continue }
                score = toSelf / threshold
                detail =
                    "\(feature.rawValue) moved \(Self.format(toSelf)) bins from its own \(parameters.historyDays)-day history"
                    + (toPeers.map { " and \(Self.format($0)) from its role peers" } ?? " (no active role peers)")
                    + " (threshold \(Self.format(threshold)))"
            } else {
                let bar = threshold * parameters.newPrincipalFactor
                guard let toPeers, toPeers >= bar else { continue }
                score = toPeers / bar
                detail =
                    "\(feature.rawValue) is \(Self.format(toPeers)) bins from its role peers' (history of \(historyDays) active days only; bar \(Self.format(bar)))"
            }
            alarms.append(
                AnomalyAlarm(
                    kind: .behaviour, subject: principal, feature: feature.rawValue, score: score,
                    time: window.upperBound * BehaviourDays.dayMilliseconds, detail: detail,
                    evidence: today.evidence(feature)))
        }
        return alarms
    }

    /// A fan-out alarm when `principal` reached many owners for the first time on `day`.
    func fanOut(_ principal: String, days: BehaviourDays, day: Int64) -> AnomalyAlarm? {
        guard let own = days.days[principal], let today = own[day], today.newOwners.count >= parameters.fanOutMinimum
        else { return nil }
        var newOwners = 0
        var activeDays = 0
        for earlier in (day - parameters.historyDays)..<day {
            guard let stats = own[earlier], stats.requests > 0 else { continue }
            activeDays += 1
            newOwners += stats.newOwners.count
        }
        let mean = activeDays > 0 ? Double(newOwners) / Double(activeDays) : 0
        let bar = max(Double(parameters.fanOutMinimum), parameters.fanOutFactor * mean)
        guard Double(today.newOwners.count) >= bar else { return nil }
        return AnomalyAlarm(
            kind: .fanOut, subject: principal, feature: "new-owners", score: Double(today.newOwners.count) / bar,
            time: (day + 1) * BehaviourDays.dayMilliseconds,
            detail:
                "reached \(today.newOwners.count) owners for the first time in one day (bar \(Self.format(bar)); \(Self.format(mean)) a day over its \(activeDays) active days before)",
            evidence: today.newOwnerLeaves)
    }

    /// `value` rounded to two decimals, without a trailing `.0` (alarm details, tables).
    public static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
