import SharingGraph

/// Precision and recall of the detectors on a scenario, per kind.
struct ScenarioEvaluation {
    struct Row {
        var kind: Injection.Kind
        var injected = 0
        var detected = 0
        var alarms = 0
        var trueAlarms = 0

        var recall: Double? { injected > 0 ? Double(detected) / Double(injected) : nil }
        var precision: Double? { alarms > 0 ? Double(trueAlarms) / Double(alarms) : nil }
    }

    var rows: [Injection.Kind: Row] = [:]
    var alarms: [AnomalyAlarm] = []

    /// An alarm is true when it names the subject of an injected anomaly (of any kind) within
    /// its span; an injection is detected when an alarm of its own kind is true for it.
    init(alarms: [AnomalyAlarm], injections: [Injection]) {
        self.alarms = alarms
        for kind in Injection.Kind.allCases { rows[kind] = Row(kind: kind) }
        for alarm in alarms {
            let kind = Injection.Kind.of(alarm)
            rows[kind]?.alarms += 1
            if injections.contains(where: { $0.matches(alarm) }) { rows[kind]?.trueAlarms += 1 }
        }
        for injection in injections {
            rows[injection.kind]?.injected += 1
            if alarms.contains(where: { Injection.Kind.of($0) == injection.kind && injection.matches($0) }) {
                rows[injection.kind]?.detected += 1
            }
        }
    }

    static func format(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(Double(Int((value * 1000).rounded())) / 1000)
    }

    /// A Markdown table: kind, injected, detected, recall, alarms, true alarms, precision.
    func table() -> String {
        var lines = [
            "| kind | injected | detected | recall | alarms of the kind | true | precision |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for kind in Injection.Kind.allCases {
            let row = rows[kind]!
            lines.append(
                "| \(kind.name) | \(row.injected) | \(row.detected) | \(Self.format(row.recall)) | \(row.alarms) | \(row.trueAlarms) | \(Self.format(row.precision)) |"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// Misses and false alarms, for tuning (`--verbose`).
    func misses(_ injections: [Injection]) -> [String] {
        var lines: [String] = []
        for injection in injections
        where !alarms.contains(where: { Injection.Kind.of($0) == injection.kind && injection.matches($0) }) {
            lines.append(
                "MISSED \(injection.kind.name) \(injection.subjects.sorted()) day \(injection.from / Scenario.day)")
        }
        for alarm in alarms where !injections.contains(where: { $0.matches(alarm) }) {
            lines.append(
                "FALSE \(alarm.kind.rawValue) \(alarm.subject) \(alarm.feature) day \(alarm.time / Scenario.day) score \(alarm.score): \(alarm.detail)"
            )
        }
        return lines
    }
}
