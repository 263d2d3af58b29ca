import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agent's counters and gauges, rendered in the Prometheus text format.
public final class AgentMetrics: Sendable {
    /// A snapshot of the counters.
    public struct Counters: Sendable, Equatable {
        public var accepted: Int64 = 0
        public var rejected: Int64 = 0
        public var publishedMessages: Int64 = 0
        public var publishedRecords: Int64 = 0
        public var publishedBytes: Int64 = 0
        public var receipted: Int64 = 0
        public var invalidReceipts: Int64 = 0
        /// Tree heads that fork from the one kept for their height (``TreeHeadFork``).
        public var treeHeadForks: Int64 = 0
        public var refused: Int64 = 0
        public var connections: Int64 = 0
        public var reconnects: Int64 = 0
        public var connected: Bool = false
        public var budgetReached: Bool = false
        public var budgetAlarms: Int64 = 0
        /// Intake paused because the filesystem (not the budget) has less than `storage.min_free_bytes` free.
        public var filesystemFull: Bool = false
        public var filesystemAlarms: Int64 = 0
        public var storeErrors: Int64 = 0
    }

    private let state = Mutex(Counters())
    /// When the metrics began, for uptime.
    public let startedAt = Date()

    public init() {}

    /// Changes the counters under the lock.
    public func update(_ body: (inout Counters) -> Void) {
        state.withLock { body(&$0) }
    }

    /// The current counters.
    public var counters: Counters { state.withLock { $0 } }

    /// The Prometheus exposition text.
    /// - Parameter statistics: store figures read at scrape time, if the store answered.
    public func render(statistics: StoreStatistics?, budgetBytes: Int64) -> String {
        var text = ExpositionText()
        Self.renderCounters(counters, into: &text)
        text.metric("agritrace_agent_store_budget_bytes", "gauge", "The configured storage budget.", "\(budgetBytes)")
        if let statistics { Self.renderStore(statistics, into: &text) }
        text.metric(
            "agritrace_agent_uptime_seconds", "gauge", "Seconds since start.",
            "\(Int(Date().timeIntervalSince(startedAt).rounded()))")
        return text.output
    }

    /// The counters' metrics, in exposition order.
    static func renderCounters(_ c: Counters, into text: inout ExpositionText) {
        text.metric(
            "agritrace_agent_readings_accepted_total", "counter", "Readings accepted and durably stored.",
            "\(c.accepted)")
        text.metric(
            "agritrace_agent_readings_rejected_total", "counter", "Input lines rejected (kept in the rejects table).",
            "\(c.rejected)")
        text.metric(
            "agritrace_agent_published_messages_total", "counter", "Record batches published.", "\(c.publishedMessages)"
        )
        text.metric(
            "agritrace_agent_published_records_total", "counter",
            "Records published (including re-sends); rate() gives the publish rate.", "\(c.publishedRecords)")
        text.metric(
            "agritrace_agent_published_bytes_total", "counter", "Payload bytes published.", "\(c.publishedBytes)")
        text.metric(
            "agritrace_agent_receipts_total", "counter", "Records receipted by the aggregator (verified).",
            "\(c.receipted)")
        text.metric(
            "agritrace_agent_invalid_receipts_total", "counter",
            "Receipts or receipt batches that failed verification.", "\(c.invalidReceipts)")
        text.metric(
            "agritrace_agent_tree_head_forks_total", "counter",
            "Tree heads signed by the authority for a height that already has another: evidence of a fork (alarm).",
            "\(c.treeHeadForks)")
        text.metric(
            "agritrace_agent_refused_records_total", "counter", "Records the aggregator refused.", "\(c.refused)")
        text.metric(
            "agritrace_agent_reconnects_total", "counter", "Broker connections after the first.", "\(c.reconnects)")
        text.metric("agritrace_agent_connected", "gauge", "1 while connected to the broker.", c.connected ? "1" : "0")
        text.metric(
            "agritrace_agent_disk_budget_reached", "gauge", "1 while intake is paused at the storage budget.",
            c.budgetReached ? "1" : "0")
        text.metric(
            "agritrace_agent_disk_budget_alarms_total", "counter", "Times the storage budget was reached.",
            "\(c.budgetAlarms)")
        text.metric(
            "agritrace_agent_filesystem_full", "gauge",
            "1 while intake is paused because the store's filesystem is nearly full (storage.min_free_bytes).",
            c.filesystemFull ? "1" : "0")
        text.metric(
            "agritrace_agent_filesystem_full_alarms_total", "counter", "Times the store's filesystem filled up.",
            "\(c.filesystemAlarms)")
        text.metric(
            "agritrace_agent_store_errors_total", "counter", "Store operations that failed.", "\(c.storeErrors)")

    }

    /// The store's figures read at scrape time.
    static func renderStore(_ statistics: StoreStatistics, into text: inout ExpositionText) {
        text.metric(
            "agritrace_agent_outbox_depth", "gauge", "Records waiting for a receipt.", "\(statistics.outboxDepth)")
        text.metric(
            "agritrace_agent_oldest_unreceipted_age_seconds", "gauge",
            "Age of the oldest record without a receipt.",
            Self.seconds(milliseconds: statistics.oldestUnreceiptedMillis ?? 0))
        text.metric("agritrace_agent_store_used_bytes", "gauge", "Bytes used by the store.", "\(statistics.usedBytes)")
        text.metric("agritrace_agent_receipted_records", "gauge", "Receipted records kept.", "\(statistics.receipted)")
        text.metric(
            "agritrace_agent_next_sequence", "gauge", "The next record sequence number.",
            "\(statistics.nextSequence)")
    }

    /// `milliseconds` as seconds with three decimals ("1.005"), as `%.3f` printed them.
    static func seconds(milliseconds: Int64) -> String {
        let magnitude = milliseconds.magnitude
        let fraction = String(magnitude % 1000)
        return "\(milliseconds < 0 ? "-" : "")\(magnitude / 1000)."
            + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// Prometheus exposition text being written, one metric after another.
struct ExpositionText {
    /// The text so far.
    var output = ""

    /// Appends one metric with its HELP and TYPE lines.
    mutating func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
    }
}
