/// One alarm of the detectors: what kind, about whom, which feature moved, how far, and the
/// ledger leaves that show it.
public struct AnomalyAlarm: Hashable, Sendable, Codable {
    /// The kinds of alarm (`agritrace audit anomalies --kind`).
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A principal's behaviour histograms moved away from its own history and its peers.
        case behaviour
        /// A principal suddenly reached many owners it never reached before.
        case fanOut = "fan-out"
        /// A lot recorded at two places further apart than it could have travelled.
        case twoPlaces = "two-places"
        /// A lot made from a lot of a later stage.
        case stageOrder = "stage-order"
        /// A lot recorded before the lot it was made from.
        case timeOrder = "time-order"
        /// A record far from its (fixed) device's usual location.
        case location
        /// A device recording far faster than it usually does.
        case rate
        /// A sensor series above its threshold for longer than allowed.
        case coldChain = "cold-chain"

        /// True for the kinds about principals' behaviour (from access and transfer edges).
        public var isBehaviour: Bool { self == .behaviour || self == .fanOut }
    }

    public var kind: Kind
    /// The principal, lot or device the alarm is about.
    public var subject: String
    /// The feature that moved (`hour-of-day`, `records-fetched`, `new-owners`, `speed-km-h`, ...).
    public var feature: String
    /// How far past its threshold: 1 is at the threshold, 2 twice as far.
    public var score: Double
    /// When it was detected (the end of the window or the record's time), ms since 1970.
    public var time: Int64
    /// A one-line explanation with the figures.
    public var detail: String
    /// The ledger leaves of the transactions or records that show it (at most 50).
    public var evidence: [UInt64]

    public init(
        kind: Kind, subject: String, feature: String, score: Double, time: Int64, detail: String, evidence: [UInt64]
    ) {
        self.kind = kind
        self.subject = subject
        self.feature = feature
        self.score = score
        self.time = time
        self.detail = detail
        self.evidence = Array(evidence.prefix(Self.maximumEvidence))
    }

    /// The most leaves an alarm lists.
    public static let maximumEvidence = 50

    /// The alarm's identity for de-duplication (`regulator watch` reports each once).
    public var key: String { "\(kind.rawValue)|\(subject)|\(feature)|\(time)" }
}

/// Orders alarms by time, then kind, subject and feature (a stable, deterministic order).
extension Array where Element == AnomalyAlarm {
    /// The alarms in report order.
    public func reportOrder() -> [AnomalyAlarm] {
        sorted {
            ($0.time, $0.kind.rawValue, $0.subject, $0.feature) < ($1.time, $1.kind.rawValue, $1.subject, $1.feature)
        }
    }
}
