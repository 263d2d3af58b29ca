import SharingGraph

/// An anomaly the scenario injected: its kind, the subjects an alarm about it may name
/// (principal, lot, device), and the time span it is in.
struct Injection: Sendable {
    /// What was injected: a behaviour the behaviour detector reports through one or more of
    /// its features, or an anomaly a detector reports under its own alarm kind.
    enum Kind: Hashable, Sendable {
        case behaviour(Behaviour)
        case alarm(AnomalyAlarm.Kind)

        /// The behaviours the scenario injects (each seen as `behaviour` alarms).
        enum Behaviour: String, CaseIterable, Sendable {
            case oddHours = "odd-hours"
            case massDownload = "mass-download"
            case manySources = "many-sources"
            case denialBurst = "denial-burst"
        }

        /// Every kind, in report order: the behaviours, then the detectors' other alarm kinds.
        static let allCases: [Kind] =
            Behaviour.allCases.map(Kind.behaviour)
            + AnomalyAlarm.Kind.allCases.filter { $0 != .behaviour }.map(Kind.alarm)

        /// The kind's name in the report (the alarm kind's own for the detectors' kinds).
        var name: String {
            switch self {
            case .behaviour(let behaviour): behaviour.rawValue
            case .alarm(let kind): kind.rawValue
            }
        }

        /// The kind an alarm belongs to: a behaviour alarm by the feature that moved (a
        /// `distinct-owners` one is a fan-out), any other by its alarm kind.
        static func of(_ alarm: AnomalyAlarm) -> Kind {
            guard alarm.kind == .behaviour else { return .alarm(alarm.kind) }
            return switch BehaviourDetector.Feature(rawValue: alarm.feature) {
            case .hourOfDay: .behaviour(.oddHours)
            case .distinctSources: .behaviour(.manySources)
            case .denialRatio: .behaviour(.denialBurst)
            case .distinctOwners: .alarm(.fanOut)
            default: .behaviour(.massDownload)
            }
        }
    }

    var kind: Kind
    var subjects: Set<String>
    /// Milliseconds: an alarm of it falls in [from, until].
    var from: Int64
    var until: Int64

    func matches(_ alarm: AnomalyAlarm) -> Bool {
        subjects.contains(alarm.subject) && alarm.time >= from && alarm.time <= until
    }
}
