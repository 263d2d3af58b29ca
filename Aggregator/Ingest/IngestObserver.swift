import Metrics
import Synchronization

/// What the ingest service reports through swift-metrics (exported for Prometheus by
/// `agritrace serve --metrics-port`; see docs/operations.md for the names): the ledger's
/// admission counters as they grow, the queue depth, each block's size and commit latency.
/// Without a metrics backend bootstrapped these cost nothing.
public final class IngestObserver: Sendable {
    private struct State {
        /// The admission counters already reported since the ledger's last flush.
        var reported: [String: Int] = [:]
        var running = false
    }

    private let state = Mutex(State())
    private let queueDepth = Gauge(label: "agritrace_ingest_queue_depth")
    private let blocks = Counter(label: "agritrace_blocks_committed_total")
    private let transactions = Counter(label: "agritrace_transactions_committed_total")
    private let blockFailures = Counter(label: "agritrace_block_commit_failures_total")
    private let blockSize = Recorder(label: "agritrace_block_transactions", aggregate: true)
    private let commitLatency = Timer(label: "agritrace_block_commit_seconds")

    /// While ``IngestService/run()`` runs: the store is open and ingest goes on.
    public var isRunning: Bool { state.withLock { $0.running } }

    func started() { state.withLock { $0.running = true } }
    func stopped() { state.withLock { $0.running = false } }

    /// Reports what the ledger's in-memory admission counters gained since the last call,
    /// and the queue depth. Call right before the ledger flushes its counters, then ``flushed()``.
    func observe(counters: [String: Int], queueDepth depth: Int) {
        queueDepth.record(depth)
        let gains: [(String, Int)] = state.withLock { state in
            defer { state.reported = counters }
            return counters.compactMap { name, value in
                let gain = value - state.reported[name, default: 0]
                return gain > 0 ? (name, gain) : nil
            }
        }
        for (name, gain) in gains { Self.counter(for: name).increment(by: gain) }
    }

    /// The ledger wrote its counters to the store and started again from zero.
    func flushed() { state.withLock { $0.reported = [:] } }

    /// One block committed in `duration`.
    func committed(transactions count: Int, duration: Duration) {
        blocks.increment()
        transactions.increment(by: count)
        blockSize.record(count)
        commitLatency.recordNanoseconds(duration.nanoseconds)
    }

    /// One block commit failed: its transactions stay pending and the ledger takes back its
    /// `counters`, which were reported already.
    func commitFailed(restoring counters: [String: Int]) {
        blockFailures.increment()
        state.withLock { $0.reported.merge(counters, uniquingKeysWith: +) }
    }

    /// The metric of one of the ledger's admission counters (names as in `ingest_counters`).
    static func counter(for name: String) -> Counter {
        switch name {
        case "batches-received": Counter(label: "agritrace_batches_received_total")
        case "records-received": Counter(label: "agritrace_records_received_total")
        case "duplicates": Counter(label: "agritrace_records_duplicate_total")
        case let name where name.hasPrefix("rejected."):
            Counter(label: "agritrace_rejected_total", dimensions: [("code", String(name.dropFirst(9)))])
        default:
            Counter(label: "agritrace_ingest_events_total", dimensions: [("event", name)])
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole + attoseconds / 1_000_000_000
    }
}

extension IngestService {
    /// Whether the MQTT connection to the broker is up now (for `/readyz`).
    public nonisolated var isBrokerConnected: Bool { client.isConnected }
}
