import AgriTraceCore
import ArgumentParser
import Foundation
import Ledger
import LedgerClient
import SharingGraph
import SharingGraphLedger

/// The options `audit anomalies` and `regulator watch` share.
struct AnomalyOptions: ParsableArguments {
    @Option(name: .long, help: "Only alarms at or after this RFC 3339 time.") var since: String?
    @Option(
        name: .long,
        help:
            "Only these kinds, comma-separated: behaviour, fan-out, two-places, stage-order, time-order, location, rate, cold-chain."
    )
    var kind: String?
    @Option(name: .long, help: "Cold chain: the highest allowed temperature, °C.") var coldThreshold: Double = 8
    @Option(name: .long, help: "Cold chain: the longest allowed time above it, minutes.") var coldMinutes: Int = 30
    @Option(
        name: .long,
        help:
            "Cold chain: also check these sensor series (a JSON array of {\"leaf\", \"lot\", \"device\", \"measure\", \"samples\": [{\"time\": ms, \"value\"}]}), e.g. disclosed temperatures; checked here, not by the server."
    )
    var series: String?

    func validate() throws {
        if let kind { _ = try Self.kinds(kind) }
        guard coldThreshold.isFinite else { throw ValidationError("--cold-threshold must be a number of °C") }
        guard (1...10_080).contains(coldMinutes) else {
            throw ValidationError("--cold-minutes \(coldMinutes) must be from 1 to 10080 (a week)")
        }
    }

    static func kinds(_ text: String) throws -> Set<AnomalyAlarm.Kind> {
        do { return try AnomalyAudit.kinds(text) } catch { throw ValidationError("--\(error)") }
    }

    var audit: AnomalyAudit {
        var traceability = TraceabilityDetector.Parameters()
        traceability.coldThreshold = coldThreshold
        traceability.coldDuration = Int64(coldMinutes) * 60_000
        return AnomalyAudit(traceability: TraceabilityDetector(parameters: traceability))
    }

    /// The API's query for these options.
    var query: [String: String?] {
        ["since": since, "kind": kind, "cold-threshold": String(coldThreshold), "cold-minutes": String(coldMinutes)]
    }

    /// The alarms of `state` these options select.
    func alarms(_ state: SharingLedgerState) throws -> [AnomalyAlarm] {
        state.alarms(audit, since: try GraphTime.milliseconds(since, "since"), kinds: try kind.map(Self.kinds))
    }

    /// The cold-chain alarms of the `--series` file, filtered like the others.
    /// - Throws: a ``UserError`` naming `--series`, the file and the shape it must have.
    func seriesAlarms() throws -> [AnomalyAlarm] {
        guard let series else { return [] }
        let values: [SensorSeries]
        do {
            values = try JSONDecoder().decode([SensorSeries].self, from: Data(contentsOf: URL(fileURLWithPath: series)))
        } catch {
            throw UserError(
                "--series \(series) is not a readable JSON array of series ({\"leaf\", \"lot\", \"device\", \"measure\", \"samples\": [{\"time\": milliseconds, \"value\": number}]}): \(error)"
            )
        }
        let earliest = try GraphTime.milliseconds(self.since, "since") ?? .min
        guard try kind.map(Self.kinds)?.contains(.coldChain) ?? true else { return [] }
        return audit.traceability.alarms(records: [], series: values).filter { $0.time >= earliest }
    }

    static func table(_ alarms: [AnomalyAlarm]) -> String {
        Output.table(
            ["time", "kind", "subject", "feature", "score", "evidence", "detail"],
            alarms.map {
                [
                    GraphTime.iso($0.time), $0.kind.rawValue, $0.subject, $0.feature,
                    BehaviourDetector.format($0.score),
                    $0.evidence.prefix(5).map(String.init).joined(separator: ",") + ($0.evidence.count > 5 ? ",…" : ""),
                    $0.detail,
                ]
            })
    }
}

extension Audit {
    struct Anomalies: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Behaviour anomalies of principals (EMD of their histograms against their history and peers, fan-out) and traceability anomalies of the records (docs/anomalies.md), each with its score, the feature that moved and the ledger leaves."
        )
        @OptionGroup var anomalies: AnomalyOptions
        @OptionGroup var options: StoreOptions

        func run() async throws {
            var alarms: [AnomalyAlarm] = try await options.read("/v1/audit/anomalies", query: anomalies.query) {
                var state = SharingLedgerState()
                try state.update(from: try openReadOnly(options.store))
                return try anomalies.alarms(state)
            }
            alarms = (alarms + (try anomalies.seriesAlarms())).reportOrder()
            if try options.printedJSON(alarms) { return }
            if alarms.isEmpty { return print("no anomalies") }
            print(AnomalyOptions.table(alarms))
        }
    }
}

extension Regulator {
    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Follow the ledger and report each new anomaly once, as blocks arrive (the graph is updated block by block, not rebuilt). Alarms already there at start are reported only with --since."
        )
        @OptionGroup var anomalies: AnomalyOptions
        @Option(name: .long, help: "Seconds between polls.") var interval: Double = 1
        @Option(name: .long, help: "Stop after reporting this many alarms (default: run until stopped).") var count:
            Int?
        @OptionGroup var options: StoreOptions

        func validate() throws {
            guard interval > 0, interval <= 3600 else {
                throw ValidationError("--interval \(interval) must be from 0 to 3600 seconds")
            }
            if let count, count < 1 { throw ValidationError("--count \(count) must be at least 1") }
        }

        func run() async throws {
            let store = options.api == nil ? try openReadOnly(options.store) : nil
            var state = SharingLedgerState()
            var seen: Set<String> = []
            var reported = 0
            var first = true
            while true {
                var alarms: [AnomalyAlarm] = []
                if let api = options.api {
                    alarms = try await APIClient.get(api, "/v1/audit/anomalies", query: anomalies.query)
                } else if try state.update(from: store!) > 0 || first {
                    // The detectors run again only when a block brought edges or records.
                    alarms = try anomalies.alarms(state)
                }
                for alarm in alarms where seen.insert(alarm.key).inserted && (!first || anomalies.since != nil) {
                    let line =
                        options.json
                        ? try Output.json(alarm, pretty: false)
                        : AnomalyOptions.table([alarm]).split(separator: "\n").last.map(String.init) ?? ""
                    // Written at once, not buffered: a watcher reads each alarm as it comes.
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    reported += 1
                    if let count, reported >= count { return }
                }
                first = false
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            }
        }
    }
}
