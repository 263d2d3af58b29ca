import Foundation
import Ledger
import SharingGraph
import SharingGraphLedger

extension BenchGraph {
    static func percentile(_ samples: [Duration], _ p: Double) -> String {
        let sorted = samples.sorted()
        let value = sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
        let ms = Double(value.components.seconds) * 1000 + Double(value.components.attoseconds) / 1e15
        return String(format: "%.3f ms", ms)
    }

    static func residentMegabytes() -> String {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? "VmRSS: 0 kB"
        let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return String(format: "%.0f MB", kilobytes / 1024)
    }

    static func queries(_ arguments: [String]) throws {
        let edges = option("edges", arguments, default: 1_000_000)
        let runs = option("runs", arguments, default: 1000)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-graph-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // `--keep PATH`: the store is written there and kept (e.g. to run the API on it).
        let kept = arguments.firstIndex(of: "--keep").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = kept ?? folder.appendingPathComponent("ledger.sqlite").path
        let clock = ContinuousClock()
        var filler = try StoreFiller(path: path)
        let fill = try clock.measure {
            try filler.setUp()
            let db = filler.store.db
            try db.transaction { for _ in 0..<(edges / 4) { try filler.addRequest() } }
        }
        let store = try LedgerStore(path: path, readOnly: true)
        var graph = SharingGraph()
        let load = try clock.measure { graph = try SharingGraphLoader.graph(store) }
        var rows = [
            "| store | \(graph.edges.count) edges, \(graph.nodeCount) principals, \(filler.lots) lots (written in \(fill)) |",
            "| full load from the store (`SharingGraphLoader.graph`) | \(load), resident \(residentMegabytes()) |",
        ]
        rows += try timedQueries(graph, runs: runs, filler: filler)
        rows += try incremental(&graph, filler: &filler, path: path, store: store)
        var audit: [AnomalyAlarm] = []
        let detect = clock.measure { audit = BehaviourDetector().alarms(graph.edges, principals: graph.principals) }
        rows.append("| behaviour detector over all edges | \(detect) (\(audit.count) alarms) |")
        print("| measure | result |\n|---|---|\n" + rows.joined(separator: "\n"))
    }

    static func timedQueries(_ graph: SharingGraph, runs: Int, filler: StoreFiller) throws -> [String] {
        // Each query below is one closure timed alone; `found` keeps the window scans' results alive.
        var random = ScenarioRandom(seed: 5)
        let clock = ContinuousClock()
        var spread: [Duration] = []
        var reached = 0
        for _ in 0..<runs {
            let lot = "L\(random.int(0..<filler.lots))"
            spread.append(clock.measure { reached += graph.spread(lot: lot).edges.count })
        }
        var activity: [Duration] = []
        let month: Int64 = 30 * 86_400_000
        for _ in 0..<runs {
            let enterprise = "E\(random.int(0..<(filler.requesters / 4)))"
            let since = filler.start + Int64(random.int(0..<300)) * 86_400_000
            activity.append(
                clock.measure {
                    _ = graph.activity(of: enterprise, scope: .enterprise, since: since, until: since + month)
                })
        }
        var paths: [Duration] = []
        for _ in 0..<runs {
            let ownerIndex = random.int(0..<filler.owners)
            let requesterIndex = random.int(0..<filler.requesters)
            let owner = "Firm/o\(ownerIndex)@F\(ownerIndex)"
            let requester = "Firm/r\(requesterIndex)@E\(requesterIndex)"
            paths.append(clock.measure { _ = graph.paths(from: owner, to: requester) })
        }
        var top: [Duration] = []
        var found = 0
        for _ in 0..<min(runs, 50) { top.append(clock.measure { _ = graph.top(.receivers, count: 10) }) }
        var windowTop: [Duration] = []
        for _ in 0..<min(runs, 50) {
            let since = filler.start + Int64(random.int(0..<300)) * 86_400_000
            windowTop.append(
                clock.measure { found += graph.top(.receivers, count: 10, since: since, until: since + month).count })
        }
        return [
            "| spread of a lot (transitive, depth 8), \(runs) random lots | p50 \(percentile(spread, 0.5)), p99 \(percentile(spread, 0.99)) (\(reached / runs) edges on average) |",
            "| activity of an enterprise (4 principals) in a 30-day window | p50 \(percentile(activity, 0.5)), p99 \(percentile(activity, 0.99)) |",
            "| paths owner → requester (BFS, depth 6, 10 paths) | p50 \(percentile(paths, 0.5)), p99 \(percentile(paths, 0.99)) |",
            "| top 10 receivers over all edges (totals kept as edges are applied) | p50 \(percentile(top, 0.5)), p99 \(percentile(top, 0.99)) |",
            "| top 10 receivers in a 30-day window (a scan of the window's edges) | p50 \(percentile(windowTop, 0.5)), p99 \(percentile(windowTop, 0.99)) (\(found / max(1, min(runs, 50))) ranked) |",
        ]
    }

    /// Blocks of 100 requests (400 edges) written to the store, then applied with
    /// ``SharingGraphLoader/update(_:from:)``: the time of the update alone.
    static func incremental(_ graph: inout SharingGraph, filler: inout StoreFiller, path: String, store: LedgerStore)
        throws -> [String]
    {
        let clock = ContinuousClock()
        var updates: [Duration] = []
        for _ in 0..<50 {
            let db = filler.store.db
            try db.transaction { for _ in 0..<100 { try filler.addRequest() } }
            var added = 0
            updates.append(try clock.measure { added = try SharingGraphLoader.update(&graph, from: store) })
            precondition(added == 400, "an update added \(added) edges, not 400")
        }
        return [
            "| incremental update per block (100 requests = 400 edges), 50 blocks | p50 \(percentile(updates, 0.5)), p99 \(percentile(updates, 0.99)) |"
        ]
    }
}
