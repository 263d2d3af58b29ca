/// Traceability anomalies on public data: a lot at two places at once, stage or time order
/// violated along the lot graph, a record far from its device's usual location, a device
/// recording far faster than usual, and a cold-chain excursion in a sensor series.
/// Method and tuning: `docs/anomalies.md`. Pure and deterministic.
public struct TraceabilityDetector: Sendable {
    /// The detector's parameters.
    public struct Parameters: Sendable, Equatable {
        /// Two places: the fastest a lot may travel between two records, km/h.
        public var maximumSpeed = 150.0
        /// Two places: jumps shorter than this are GPS noise, km.
        public var minimumJump = 20.0
        /// Time order: a lot may be recorded this long before its input lot (clock skew), ms.
        public var timeTolerance: Int64 = 3_600_000
        /// Location: a fixed device's record further than this from its usual place, km.
        public var homeRadius = 30.0
        /// Location: the device's located records the usual place is the median of.
        public var homeHistory = 20
        /// Location: a device whose records spread wider than this around their median is
        /// mobile (a truck) and only the speed check applies to it, km.
        public var mobileSpread = 10.0
        /// Rate: the fewest records in one hour that can raise an alarm.
        public var rateMinimum = 30
        /// Rate: and at least this many times the device's median busy hour.
        public var rateFactor = 5.0
        /// Cold chain: the highest allowed value (°C for temperature).
        public var coldThreshold = 8.0
        /// Cold chain: the longest allowed time above the threshold, ms.
        public var coldDuration: Int64 = 30 * 60_000

        public init() {}
    }

    public var parameters: Parameters

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// Every traceability alarm over `records` and `series`, in report order.
    public func alarms(records: [TraceRecord], series: [SensorSeries] = []) -> [AnomalyAlarm] {
        let ordered = records.sorted { ($0.time, $0.leaf) < ($1.time, $1.leaf) }
        var alarms = twoPlaces(ordered)
        alarms += lotOrder(ordered)
        alarms += locations(ordered)
        alarms += rates(ordered)
        alarms += series.compactMap(coldChain)
        return alarms.reportOrder()
    }

    /// Consecutive located records of a lot further apart than it could have travelled.
    func twoPlaces(_ records: [TraceRecord]) -> [AnomalyAlarm] {
        var last: [String: TraceRecord] = [:]
        var alarms: [AnomalyAlarm] = []
        for record in records {
            guard let here = record.location else { continue }
            defer { last[record.lot] = record }
            guard let previous = last[record.lot], let there = previous.location else { continue }
            let distance = here.kilometres(to: there)
            let hours = max(Double(record.time - previous.time), 60_000) / 3_600_000
            let speed = distance / hours
            guard distance >= parameters.minimumJump, speed > parameters.maximumSpeed else { continue }
            alarms.append(
                AnomalyAlarm(
                    kind: .twoPlaces, subject: record.lot, feature: "speed-km-h",
                    score: speed / parameters.maximumSpeed,
                    time: record.time,
                    detail:
                        "lot \(record.lot) at \(BehaviourDetector.format(distance)) km from its previous record \(BehaviourDetector.format(hours * 60)) min earlier (\(Int(speed)) km/h; devices \(previous.device), \(record.device))",
                    evidence: [previous.leaf, record.leaf]))
        }
        return alarms
    }

    /// Links whose input lot is of a later stage, or first recorded after the lot made from it.
    func lotOrder(_ records: [TraceRecord]) -> [AnomalyAlarm] {
        var first: [String: TraceRecord] = [:]
        var stage: [String: Int] = [:]
        for record in records {
            if first[record.lot] == nil { first[record.lot] = record }
            stage[record.lot] = min(stage[record.lot] ?? record.stage, record.stage)
        }
        var alarms: [AnomalyAlarm] = []
        var seen: Set<LotLink> = []
        for record in records {
            for input in record.inputLots where seen.insert(LotLink(lot: record.lot, input: input)).inserted {
                guard let made = first[record.lot], let source = first[input], let madeStage = stage[record.lot],
                    let sourceStage = stage[input]
                else { continue }
                if sourceStage > madeStage {
                    alarms.append(
                        AnomalyAlarm(
                            kind: .stageOrder, subject: record.lot, feature: "stage",
                            score: Double(sourceStage - madeStage), time: record.time,
                            detail:
                                "lot \(record.lot) (stage \(madeStage)) is made from \(input) of a later stage (\(sourceStage))",
                            evidence: [source.leaf, made.leaf]))
                }
                if made.time + parameters.timeTolerance < source.time {
                    let early = Double(source.time - made.time) / 3_600_000
                    alarms.append(
                        AnomalyAlarm(
                            kind: .timeOrder, subject: record.lot, feature: "hours-before-input",
                            score: early * 3_600_000 / Double(max(parameters.timeTolerance, 1)), time: record.time,
                            detail:
                                "lot \(record.lot) was first recorded \(BehaviourDetector.format(early)) h before its input lot \(input)",
                            evidence: [made.leaf, source.leaf]))
                }
            }
        }
        return alarms
    }
}
