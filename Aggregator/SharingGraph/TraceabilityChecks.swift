extension TraceabilityDetector {
    /// Records of a fixed device far from the median of its recent located records.
    func locations(_ records: [TraceRecord]) -> [AnomalyAlarm] {
        var recent: [String: [GeoPoint]] = [:]
        var raised: Set<String> = []
        var alarms: [AnomalyAlarm] = []
        for record in records {
            guard let here = record.location else { continue }
            let history = recent[record.device, default: []]
            if history.count >= 5, let home = Self.median(history),
                let spread = Self.median(history.map { $0.kilometres(to: home) }), spread <= parameters.mobileSpread
            {
                let distance = here.kilometres(to: home)
                if distance > parameters.homeRadius {
                    let key = "\(record.device)|\(BehaviourDays.day(of: record.time))"
                    if raised.insert(key).inserted {
                        alarms.append(
                            AnomalyAlarm(
                                kind: .location, subject: record.device, feature: "km-from-usual",
                                score: distance / parameters.homeRadius, time: record.time,
                                detail:
                                    "device \(record.device) recorded lot \(record.lot) \(BehaviourDetector.format(distance)) km from its usual place (median of its last \(history.count) located records)",
                                evidence: [record.leaf]))
                    }
                    continue
                }
            }
            recent[record.device] = Array((history + [here]).suffix(parameters.homeHistory))
        }
        return alarms
    }

    static func median(_ points: [GeoPoint]) -> GeoPoint? {
        guard let latitude = median(points.map(\.latitude)), let longitude = median(points.map(\.longitude)) else {
            return nil
        }
        return GeoPoint(latitude: latitude, longitude: longitude)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Hours in which a device recorded far more than its median busy hour.
    func rates(_ records: [TraceRecord]) -> [AnomalyAlarm] {
        var hours: [String: [(hour: Int64, leaves: [UInt64])]] = [:]
        for record in records {
            let hour = record.time / 3_600_000
            if let last = hours[record.device]?.last, last.hour == hour {
                hours[record.device]![hours[record.device]!.count - 1].leaves.append(record.leaf)
            } else {
                hours[record.device, default: []].append((hour, [record.leaf]))
            }
        }
        var alarms: [AnomalyAlarm] = []
        for (device, busy) in hours {
            for (index, current) in busy.enumerated()
            where index >= 10 && current.leaves.count >= parameters.rateMinimum {
                let before = busy[max(0, index - 200)..<index].map { Double($0.leaves.count) }
                guard let usual = Self.median(before), Double(current.leaves.count) >= parameters.rateFactor * usual
                else { continue }
                alarms.append(
                    AnomalyAlarm(
                        kind: .rate, subject: device, feature: "records-per-hour",
                        score: Double(current.leaves.count) / (parameters.rateFactor * usual),
                        time: current.hour * 3_600_000,
                        detail:
                            "device \(device) recorded \(current.leaves.count) records in one hour; its median busy hour has \(BehaviourDetector.format(usual))",
                        evidence: current.leaves))
            }
        }
        return alarms
    }

    /// The longest run of a series above ``Parameters/coldThreshold``, if longer than allowed.
    func coldChain(_ series: SensorSeries) -> AnomalyAlarm? {
        let samples = series.samples.sorted { $0.time < $1.time }
        var longest: (start: Int64, end: Int64, peak: Double)?
        var run: (start: Int64, peak: Double)?
        for sample in samples {
            if sample.value > parameters.coldThreshold {
                run = run.map { ($0.start, max($0.peak, sample.value)) } ?? (sample.time, sample.value)
                continue
            }
            if let open = run, sample.time - open.start > (longest.map { $0.end - $0.start } ?? -1) {
                longest = (open.start, sample.time, open.peak)
            }
            run = nil
        }
        if let open = run, let last = samples.last, last.time - open.start > (longest.map { $0.end - $0.start } ?? -1) {
            longest = (open.start, last.time, open.peak)
        }
        guard let excursion = longest, excursion.end - excursion.start > parameters.coldDuration else { return nil }
        let minutes = Double(excursion.end - excursion.start) / 60_000
        return AnomalyAlarm(
            kind: .coldChain, subject: series.lot, feature: "minutes-above-threshold",
            score: Double(excursion.end - excursion.start) / Double(max(parameters.coldDuration, 1)),
            time: excursion.start,
            detail:
                "\(series.measure) of lot \(series.lot) on \(series.device) above \(BehaviourDetector.format(parameters.coldThreshold)) for \(BehaviourDetector.format(minutes)) min (peak \(BehaviourDetector.format(excursion.peak)); allowed \(parameters.coldDuration / 60_000) min)",
            evidence: [series.leaf])
    }
}
