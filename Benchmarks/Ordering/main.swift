// bench-ordering: the consortium's ordering through etcd (issue #16): fenced appends per second
// and their latency with 3 real members on loopback, and the sequencer's failover time.
// Run in release: scripts/bench-ordering.sh.
import Foundation
import LedgerClient
import Ordering
import Synchronization
import TestSupport

let seconds = benchmarkOption("--seconds", 5)
let concurrency = benchmarkOption("--concurrency", 8)
let entryBytes = benchmarkOption("--entry-bytes", 64)
let failovers = benchmarkOption("--failovers", 3)

func log(_ text: String) { FileHandle.standardError.write(Data(("bench: " + text + "\n").utf8)) }

func client(_ cluster: EtcdCluster) -> EtcdClient {
    EtcdClient(endpoints: cluster.endpoints, connection: APIConnection(insecureHTTP: true), timeout: .seconds(5))
}

/// The next free index, shared by the appending tasks.
final class NextIndex: Sendable {
    let value = Atomic<UInt64>(0)
    func take() -> UInt64 { value.add(1, ordering: .relaxed).oldValue }
}

/// Appends from `tasks` concurrent tasks for `seconds`, each taking the next free index.
func appendRun(_ leadership: Leadership, tasks: Int) async throws -> (count: Int, latencies: [Double]) {
    let next = NextIndex()
    let entry = [UInt8](repeating: 0xA5, count: entryBytes)
    let end = ContinuousClock.now + .seconds(seconds)
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<tasks {
            group.addTask {
                var mine: [Double] = []
                while ContinuousClock.now < end {
                    let index = next.take()
                    let start = ContinuousClock.now
                    try await leadership.append(entry, at: index)
                    mine.append(milliseconds(start.duration(to: .now)))
                }
                return mine
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }
    }
    return (latencies.count, latencies)
}

let cluster = try await EtcdCluster.start(members: 3) { cluster in
    (try? await client(cluster).range(from: Array("h".utf8), to: Array("h0".utf8))) != nil
}
// The members are child processes: stop them however the run ends (a global is never
// deinitialized, and an error thrown at the top level ends the process at once).
do {
    log("3 etcd members up on loopback (\(cluster.endpoints.map(\.absoluteString).joined(separator: ", ")))")
    var results: [(String, String)] = []

    let election = SequencerElection(etcd: client(cluster), prefix: "bench/", node: "node-a", leaseSeconds: 3)
    let leadership = try await election.campaign()
    for tasks in [1, concurrency] {
        let (count, latencies) = try await appendRun(leadership, tasks: tasks)
        let rate = Double(count) / Double(seconds)
        log(
            String(
                format: "%d task(s): %.0f fenced appends/s, p50 %.1f ms, p99 %.1f ms", tasks, rate,
                percentile(latencies, 0.5), percentile(latencies, 0.99)))
        results.append(
            ("fenced appends/s of \(entryBytes)-byte entries, \(tasks) concurrent", String(format: "%.0f", rate)))
        results.append(
            (
                "append latency p50 / p99, \(tasks) concurrent (ms)",
                String(format: "%.1f / %.1f", percentile(latencies, 0.5), percentile(latencies, 0.99))
            ))
    }
    let applied = try await election.entries(from: 0, limit: 1).first?.index ?? 0
    try await leadership.resign()
    log("first entry index \(applied); resigned")

    // Failover: the sequencer stops renewing (a paused or cut-off process); a waiting candidate
    // takes the role when the lease lapses and orders its first entry.
    var failoverTimes: [Double] = []
    for round in 0..<failovers {
        let a = SequencerElection(etcd: client(cluster), prefix: "failover-\(round)/", node: "node-a", leaseSeconds: 3)
        let b = SequencerElection(etcd: client(cluster), prefix: "failover-\(round)/", node: "node-b", leaseSeconds: 3)
        let old = try await a.campaign()
        try await old.append([1], at: 0)
        let waiting = Task { try await b.campaign(retryEvery: .milliseconds(100)) }
        try await Task.sleep(for: .milliseconds(500))
        let stopped = ContinuousClock.now
        old.stopRenewing()
        let new = try await waiting.value
        try await new.append([2], at: 1)
        let took = milliseconds(stopped.duration(to: .now))
        failoverTimes.append(took)
        log(
            String(
                format:
                    "failover %d: %.0f ms from when the old sequencer stopped renewing to the new one's first append",
                round + 1, took))
        try await new.resign()
    }
    results.append(
        (
            "failover: the sequencer stops renewing (lease 3 s) → the next one's first append, median of \(failovers) (ms)",
            String(format: "%.0f", percentile(failoverTimes, 0.5))
        ))

    print("| measure | result |")
    print("|---|---|")
    for (measure, value) in results { print("| \(measure) | \(value) |") }
} catch {
    cluster.stop()
    log("failed: \(error)")
    exit(1)
}
cluster.stop()
