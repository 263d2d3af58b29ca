/// Both detectors over one graph and one set of records: what `agritrace audit anomalies`,
/// its API route and `regulator watch` report.
public struct AnomalyAudit: Sendable {
    public var behaviour: BehaviourDetector
    public var traceability: TraceabilityDetector

    public init(behaviour: BehaviourDetector = .init(), traceability: TraceabilityDetector = .init()) {
        self.behaviour = behaviour
        self.traceability = traceability
    }

    /// The alarms at or after `since` (ms; nil: all) of the `kinds` asked (nil: all), in
    /// report order.
    public func alarms(
        graph: SharingGraph, records: [TraceRecord], series: [SensorSeries], since: Int64? = nil,
        kinds: Set<AnomalyAlarm.Kind>? = nil
    ) -> [AnomalyAlarm] {
        let wanted = kinds ?? Set(AnomalyAlarm.Kind.allCases)
        var alarms: [AnomalyAlarm] = []
        if wanted.contains(where: \.isBehaviour) {
            alarms += behaviour.alarms(graph.edges, principals: graph.principals)
        }
        if wanted.contains(where: { !$0.isBehaviour }) {
            alarms += traceability.alarms(records: records, series: series)
        }
        return alarms.filter { wanted.contains($0.kind) && $0.time >= (since ?? .min) }.reportOrder()
    }

    /// Parses a comma-separated list of kinds (`--kind`, `?kind=`).
    /// - Throws: ``UnknownKind`` naming the kind and the ones there are.
    public static func kinds(_ text: String) throws -> Set<AnomalyAlarm.Kind> {
        var kinds: Set<AnomalyAlarm.Kind> = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let kind = AnomalyAlarm.Kind(rawValue: String(name)) else { throw UnknownKind(name: String(name)) }
            kinds.insert(kind)
        }
        return kinds
    }

    /// A kind name that is not one of ``AnomalyAlarm/Kind``.
    public struct UnknownKind: Error, CustomStringConvertible {
        public var name: String
        public var description: String {
            "kind \(name.isEmpty ? "(empty)" : name) is not a kind of anomaly: give one or more of "
                + AnomalyAlarm.Kind.allCases.map(\.rawValue).joined(separator: ", ") + " (comma-separated)"
        }
    }
}
