import Foundation
import SharingGraph

/// bench-graph: the detectors' precision and recall on a generated scenario
/// (`bench-graph scenario`), and the graph's queries and incremental updates on a ledger store
/// with a million edges (`bench-graph queries`). `scripts/bench-graph.sh` runs both and writes
/// the tables into BENCHMARKS.md.
enum BenchGraph {
    static func option(_ name: String, _ arguments: [String], default value: Int) -> Int {
        guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count,
            let parsed = Int(arguments[index + 1]), parsed > 0
        else { return value }
        return parsed
    }

    static func scenario(_ arguments: [String]) {
        let seed = UInt64(option("seed", arguments, default: 7))
        let days = option("days", arguments, default: 120)
        let perRole = option("per-role", arguments, default: 12)
        let perKind = option("per-kind", arguments, default: 10)
        let verbose = arguments.contains("--verbose")
        for inject in [true, false] {
            var scenario = Scenario(seed: seed, days: days, perRole: perRole, inject: inject, perKind: perKind)
            scenario.build()
            var graph = SharingGraph()
            graph.apply(SharingDelta(edges: scenario.edges, principals: Array(scenario.principals.values)))
            let clock = ContinuousClock()
            var alarms: [AnomalyAlarm] = []
            let elapsed = clock.measure {
                alarms = AnomalyAudit().alarms(graph: graph, records: scenario.records, series: scenario.series)
            }
            let evaluation = ScenarioEvaluation(alarms: alarms, injections: scenario.injections)
            let requesters = scenario.requesters.count
            let principalDays = scenario.requesters.reduce(0) { $0 + days - $1.firstDay }
            print(
                "\n### \(inject ? "With injected anomalies" : "Without injections (false alarms)"): seed \(seed), \(days) days, \(requesters) requesters and \(scenario.owners) owners, \(scenario.edges.count) edges, \(scenario.records.count) records, \(scenario.series.count) sensor series; detection \(elapsed)\n"
            )
            print(evaluation.table())
            if !inject {
                let behaviour = alarms.filter(\.kind.isBehaviour).count
                let trace = alarms.count - behaviour
                print(
                    "\nFalse alarms: \(behaviour) behaviour alarms over \(principalDays) principal-days (\(ScenarioEvaluation.format(Double(behaviour) * 1000 / Double(principalDays))) per 1,000 principal-days); \(trace) traceability alarms over \(scenario.records.count) records (\(ScenarioEvaluation.format(Double(trace) * 10_000 / Double(scenario.records.count))) per 10,000 records)."
                )
            }
            if verbose { evaluation.misses(scenario.injections).forEach { print($0) } }
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "scenario": BenchGraph.scenario(arguments)
case "queries": try BenchGraph.queries(arguments)
default:
    print("usage: bench-graph scenario [--seed N] [--days N] [--per-role N] [--per-kind N] [--verbose]")
    print("       bench-graph queries [--edges N] [--runs N] [--keep PATH]")
}
