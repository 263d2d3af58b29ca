import SharingGraph

/// An anomaly the scenario injected: its kind, the subjects an alarm about it may name
/// (principal, lot, device), and the time span it is in.
struct Injection: Sendable {
    enum Kind: String, CaseIterable, Sendable {
        case oddHours = "odd-hours"
        case massDownload = "mass-download"
        case manySources = "many-sources"
        case denialBurst = "denial-burst"
        case fanOut = "fan-out"
        case twoPlaces = "two-places"
        case stageOrder = "stage-order"
        case timeOrder = "time-order"
        case location
        case rate
        case coldChain = "cold-chain"

        /// The alarm class an alarm of `kind` and `feature` belongs to.
        static func of(_ alarm: AnomalyAlarm) -> Kind {
            switch alarm.kind {
            case .behaviour:
                switch alarm.feature {
                case "hour-of-day": .oddHours
                case "distinct-sources": .manySources
                case "denial-ratio": .denialBurst
                case "distinct-owners": .fanOut
                default: .massDownload
                }
            case .fanOut: .fanOut
            case .twoPlaces: .twoPlaces
            case .stageOrder: .stageOrder
            case .timeOrder: .timeOrder
            case .location: .location
            case .rate: .rate
            case .coldChain: .coldChain
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
