// bench-aggregator: ingest throughput and latency with a real mosquitto in the loop,
// trace and proof latency on a large store. Run in release: scripts/bench-aggregator.sh.
import AgriTraceCore
import Crypto
import Foundation
import Ingest
import Ledger
import MQTTClient
import SQLiteStorage
import TestSupport

let arguments = CommandLine.arguments
let throughputRecords = benchmarkOption("--throughput-records", 300_000)
let batchSize = benchmarkOption("--batch-size", 100)
let devices = benchmarkOption("--devices", 8)
let latencyRate = benchmarkOption("--latency-rate", 10_000)
let latencyDelays = (arguments.firstIndex(of: "--latency-delays").map { arguments[$0 + 1] } ?? "100,25").split(
    separator: ","
).compactMap { Int($0) }
let latencySeconds = benchmarkOption("--latency-seconds", 10)
let traceRecords = benchmarkOption("--trace-records", 1_000_000)
let recordsPerLot = benchmarkOption("--records-per-lot", 10)
/// Pads the large store with synthetic rows up to this many records (0: no padding), see `padStore`.
let padRecords = benchmarkOption("--pad-records", 0)

func log(_ text: String) { FileHandle.standardError.write(Data(("bench: " + text + "\n").utf8)) }

struct Device {
    let enterprise: String
    let device: String
    let key = Curve25519.Signing.PrivateKey()
    var sequence: UInt64 = 0
    let classifier: Classifier

    init(index: Int) {
        enterprise = "farm-\(index % 4)"
        device = "box-\(index)"
        classifier = Classifier(
            identity: DeviceIdentity(enterprise: enterprise, device: device, enrolledAt: Timestamp(milliseconds: 0)))
    }

    var topic: String { Wire.recordTopic(enterprise: enterprise, device: device) }

    mutating func batch(_ count: Int, lot: (UInt64) -> String) -> (Signed<RecordBatch>, [UInt8]) {
        var records: [Record] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            sequence += 1
            let reading = Reading(
                stage: .planting, lot: lot(sequence), product: "fresh corn",
                time: Timestamp(milliseconds: 1_780_000_000_000 + Int64(sequence)),
                fields: [
                    "planting.variety": .text("sweet corn"), "planting.planting_origin": .text("Hebei"),
                    "planting.planted_quantity": .number(1200), "planting.cost_price": .number(3.5),
                ])
            records.append(
                classifier.classify(
                    reading, sequence: sequence, bootID: "bench", recordedAt: Timestamp(milliseconds: 1_780_000_000_000)
                ).record)
        }
        let signed = try! Signed(
            RecordBatch(enterprise: enterprise, device: device, sentAt: .now(), records: records), domain: .recordBatch,
            key: key)
        return (signed, Canonical.encode(signed))
    }

    func registration(_ authority: Curve25519.Signing.PrivateKey) -> Signed<RegistryTransaction> {
        try! SignedRegistry.addDevice(
            enterprise: enterprise, device: device, key: key.publicKey, stage: .planting, authority: authority)
    }
}

/// CPU seconds (user + system) of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// A running aggregator (in this process) on a fresh store with registered devices.
func startAggregator(
    directory: TemporaryDirectory, port: Int32, authority: Curve25519.Signing.PrivateKey, devices: [Device],
    configuration: LedgerConfiguration = LedgerConfiguration()
) async throws -> Task<Void, Error> {
    let path = directory.file("ledger.sqlite")
    do {
        let ledger = try Ledger(path: path, authority: authority)
        for device in devices { try ledger.admit(registry: device.registration(authority)) }
        try ledger.cutBlock()
    }
    let service = try IngestService(
        storePath: path, authority: authority, ledger: configuration,
        ingest: IngestConfiguration(broker: .init(port: port), clientID: "bench-aggregator"),
        log: { log("aggregator: \($0)") })
    let task = Task { try await service.run() }
    // The service claims its share group (1.5 s) before it subscribes; then give the
    // subscription time to reach the broker.
    while !service.observer.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    try await Task.sleep(for: .milliseconds(500))
    return task
}

/// Publishes batches and timestamps the receipts (a receipt means: in a signed, committed block).
final class Publisher: @unchecked Sendable {
    let client: MQTTClient
    let lock = NSLock()
    var firstReceipt: [RecordID: ContinuousClock.Instant] = [:]
    var receipted = 0
    /// Bytes of the receipt batches counted (signature included).
    var receiptBytes = 0
    var lastReceiptAt = ContinuousClock.now

    let countOnly: Bool

    init(port: Int32, countOnly: Bool = false) async throws {
        self.countOnly = countOnly
        client = try MQTTClient(clientID: "bench-devices", options: .init(port: port))
        try client.subscribe(topic: "agritrace/v1/+/+/receipts", qos: .atLeastOnce)
        try client.connect()
        let client = self.client
        Task { for await _ in client.deliveries {} }
        Task { for await _ in client.events {} }
        Task { [self] in
            for await message in client.messages {
                let now = ContinuousClock.now
                if countOnly {
                    // The receipt count is the first 4 bytes of a Signed<ReceiptBatch>: no decoding under load.
                    let count = message.payload.prefix(4).reduce(0) { $0 << 8 | Int($1) }
                    lock.withLock {
                        receipted += count
                        receiptBytes += message.payload.count
                        lastReceiptAt = now
                    }
                    continue
                }
                guard let signed = try? Canonical.decode(Signed<ReceiptBatch>.self, from: message.payload) else {
                    continue
                }
                lock.withLock {
                    for receipt in signed.value.receipts where firstReceipt[receipt.recordID] == nil {
                        firstReceipt[receipt.recordID] = now
                        receipted += 1
                    }
                    lastReceiptAt = now
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
    }

    var receiptCount: Int { lock.withLock { receipted } }
}

let machine =
    "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
log("machine: \(machine)")
let authority = Curve25519.Signing.PrivateKey()
var results: [(String, String)] = []

/// The publisher below sends every batch at once (a real agent keeps at most `max_unreceipted`
/// records out), so mosquitto's default queue of 1,000 messages per client would drop QoS 1
/// messages to a subscriber that falls behind and the run would wait for receipts that never come.
let brokerQueue = "max_queued_messages 1000000"

// MARK: 1. Throughput

do {
    let broker = try await TestBroker.start(extraConfiguration: brokerQueue)
    defer { broker.kill() }
    let directory = try TemporaryDirectory(prefix: "bench-aggregator")
    var fleet = (0..<devices).map(Device.init(index:))
    log("signing \(throughputRecords) records in batches of \(batchSize)")
    let generationStart = ContinuousClock.now
    var payloads: [(String, [UInt8])] = []
    for i in 0..<(throughputRecords / batchSize) {
        let d = i % devices
        let (_, bytes) = fleet[d].batch(batchSize) { "PL-\(d)-\($0 / 50)" }
        payloads.append((fleet[d].topic, bytes))
    }
    let aggregator = try await startAggregator(
        directory: directory, port: broker.port, authority: authority, devices: fleet)
    let publisher = try await Publisher(port: broker.port, countOnly: true)
    let total = payloads.count * batchSize
    log("publishing \(total) records (signed in \(generationStart.duration(to: .now)))")
    let start = ContinuousClock.now
    let cpuStart = processCPUSeconds()
    for (topic, payload) in payloads { try publisher.client.publish(topic: topic, payload: payload, qos: .atLeastOnce) }
    let published = ContinuousClock.now
    while publisher.receiptCount < total && ContinuousClock.now - start < .seconds(300) {
        try await Task.sleep(for: .milliseconds(20))
    }
    let end = publisher.lock.withLock { publisher.lastReceiptAt }
    let cpuSeconds = processCPUSeconds() - cpuStart
    let seconds = milliseconds(end - start) / 1000
    let rate = Double(publisher.receiptCount) / seconds
    log(
        String(
            format: "throughput: %d records receipted in %.2f s = %.0f records/s (publishing took %.2f s)",
            publisher.receiptCount, seconds, rate, milliseconds(published - start) / 1000))
    results.append(
        (
            "records/s committed (\(total) records, batches of \(batchSize), \(devices) devices, QoS 1, broker in the loop, synchronous=FULL)",
            String(format: "%.0f", rate)
        ))
    log(String(format: "throughput: %.2f CPU seconds in this process", cpuSeconds))
    let bytesPerReceipt = Double(publisher.lock.withLock { publisher.receiptBytes }) / Double(publisher.receiptCount)
    log(String(format: "throughput: receipt batches carry %.0f bytes per record", bytesPerReceipt))
    results.append(
        ("receipt bytes back to the box per record (batches of \(batchSize))", String(format: "%.0f", bytesPerReceipt)))
    results.append(
        (
            "records committed per CPU-second of the bench process (aggregator and publisher; mosquitto not counted)",
            String(format: "%.0f", Double(publisher.receiptCount) / cpuSeconds)
        ))
    aggregator.cancel()
    _ = try? await aggregator.value
    publisher.client.disconnect()
}

// MARK: 2. Latency at a steady rate

for delay in latencySeconds > 0 ? latencyDelays : [] {
    let broker = try await TestBroker.start(extraConfiguration: brokerQueue)
    defer { broker.kill() }
    let directory = try TemporaryDirectory(prefix: "bench-aggregator")
    var fleet = (0..<devices).map(Device.init(index:))
    let batches = latencyRate * latencySeconds / batchSize
    var prepared: [(String, [RecordID], [UInt8])] = []
    for i in 0..<batches {
        let d = i % devices
        let (signed, bytes) = fleet[d].batch(batchSize) { "LT-\(d)-\($0 / 50)" }
        prepared.append((fleet[d].topic, signed.value.records.map(\.id), bytes))
    }
    let aggregator = try await startAggregator(
        directory: directory, port: broker.port, authority: authority, devices: fleet,
        configuration: LedgerConfiguration(maxBlockDelay: .milliseconds(delay)))
    let publisher = try await Publisher(port: broker.port)
    let interval = Duration.seconds(Double(batchSize) / Double(latencyRate))
    var sentAt: [ContinuousClock.Instant] = []
    let start = ContinuousClock.now
    for (index, (topic, _, payload)) in prepared.enumerated() {
        let due = start + interval * index
        if due > .now { try await Task.sleep(until: due, clock: .continuous) }
        sentAt.append(.now)
        try publisher.client.publish(topic: topic, payload: payload, qos: .atLeastOnce)
    }
    while publisher.receiptCount < batches * batchSize && ContinuousClock.now - start < .seconds(latencySeconds + 30) {
        try await Task.sleep(for: .milliseconds(20))
    }
    let latencies: [Double] = publisher.lock.withLock {
        prepared.enumerated().compactMap { index, item in
            item.1.compactMap { publisher.firstReceipt[$0] }.max().map { milliseconds($0 - sentAt[index]) }
        }
    }
    log(
        String(
            format: "latency at %d records/s, block delay %d ms: p50 %.1f ms, p99 %.1f ms (%d batches)", latencyRate,
            delay, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.count))
    results.append(
        (
            "publish → signed block → receipt back, p50 / p99 (\(latencyRate) records/s offered, block cut at \(delay) ms\(delay == 100 ? " (default)" : "") or 10,000 tx; \(latencies.count) batches)",
            String(format: "%.1f / %.1f ms", percentile(latencies, 0.5), percentile(latencies, 0.99))
        ))
    aggregator.cancel()
    _ = try? await aggregator.value
    publisher.client.disconnect()
}

// MARK: 3. Trace and proof on a large store

if traceRecords > 0 {
    let directory = try TemporaryDirectory(prefix: "bench-aggregator-large")
    let path = directory.file("ledger.sqlite")
    let ledger = try Ledger(path: path, authority: authority, configuration: .init(synchronous: .normal))
    var fleet = (0..<devices).map(Device.init(index:))
    for device in fleet { try ledger.admit(registry: device.registration(authority)) }
    try ledger.cutBlock()
    log("building a store of \(traceRecords) records (\(recordsPerLot) per lot)")
    let buildStart = ContinuousClock.now
    var sampleIDs: [RecordID] = []
    var built = 0
    while built < traceRecords {
        for d in 0..<devices where built < traceRecords {
            let (signed, bytes) = fleet[d].batch(batchSize) { "TR-\(d)-\($0 / UInt64(recordsPerLot))" }
            _ = ledger.admit(topic: fleet[d].topic, payload: bytes)
            if sampleIDs.count < 2000 && Int.random(in: 0..<(max(1, traceRecords / 200_000))) == 0 {
                sampleIDs.append(signed.value.records[Int.random(in: 0..<batchSize)].id)
            }
            built += batchSize
        }
        if ledger.isBlockDue() || ledger.pendingCount >= 10_000 { try ledger.cutBlock() }
        if built % 200_000 == 0 {
            log(
                "  \(built) records (\(String(format: "%.0f", Double(built) / (milliseconds(.now - buildStart) / 1000))) records/s)"
            )
        }
    }
    try ledger.cutBlock()
    log("store built in \(buildStart.duration(to: .now))")
    // `verify` needs a store built only through the ledger: run it before any padding.
    let verifyStart = ContinuousClock.now
    let report = try LedgerVerifier.verify(
        store: LedgerStore(path: path, readOnly: true), authority: authority.publicKey)
    precondition(report.ok)
    let verifySeconds = milliseconds(.now - verifyStart) / 1000
    var storeRecords = traceRecords
    if padRecords > traceRecords {
        let padStart = ContinuousClock.now
        try padStore(ledger.store.db, from: ledger.frontier.size, count: padRecords - traceRecords)
        storeRecords = padRecords
        log("padded to \(padRecords) records in \(padStart.duration(to: .now))")
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let reader = try LedgerStore(path: path, readOnly: true)
    let queries = LedgerQueries(store: reader)
    var traceTimes: [Double] = []
    var traced = 0
    for _ in 0..<1000 {
        let d = Int.random(in: 0..<devices)
        let lot = "TR-\(d)-\(UInt64.random(in: 1..<fleet[d].sequence) / UInt64(recordsPerLot))"
        let t0 = ContinuousClock.now
        traced += try queries.trace(lot: lot).count
        traceTimes.append(milliseconds(.now - t0))
    }
    var proofTimes: [Double] = []
    let head = try queries.treeHead()
    for id in sampleIDs.prefix(1000) {
        let t0 = ContinuousClock.now
        let proof = try queries.inclusionProof(of: id)
        proofTimes.append(milliseconds(.now - t0))
        precondition(proof.treeHead.logSize == head.value.logSize)
    }
    try queries.inclusionProof(of: sampleIDs[0]).verify(authority: authority.publicKey)
    log(
        String(
            format: "trace p50 %.3f ms p99 %.3f ms (%.1f records per lot); proof p50 %.3f ms p99 %.3f ms",
            percentile(traceTimes, 0.5), percentile(traceTimes, 0.99), Double(traced) / 1000,
            percentile(proofTimes, 0.5), percentile(proofTimes, 0.99)))
    results.append(
        (
            "store size for trace/proof (records; MiB on disk)",
            padRecords > traceRecords
                ? "\(storeRecords) (\(traceRecords) through the ledger, \(padRecords - traceRecords) synthetic rows); \(size >> 20) MiB"
                : "\(traceRecords); \(size >> 20) MiB"
        ))
    results.append(
        (
            "`trace <lot>` p50 / p99 (\(recordsPerLot) records per lot, decoded with public fields)",
            String(format: "%.3f / %.3f ms", percentile(traceTimes, 0.5), percentile(traceTimes, 0.99))
        ))
    results.append(
        (
            "inclusion proof generation p50 / p99 (from stored nodes)",
            String(format: "%.3f / %.3f ms", percentile(proofTimes, 0.5), percentile(proofTimes, 0.99))
        ))
    results.append(
        ("`verify` of the whole store (\(traceRecords) records)", String(format: "%.1f s", verifySeconds)))
}

/// Grows a store by `count` synthetic rows in the tables a trace and a proof read, so that
/// their indexes have the depth of a store that size: `records` (lots `PAD-n`, 10 per lot,
/// random record ids), `log_entries` (copies of the first record entry, leaf indexes after
/// `from`), and `log_nodes` (level-1 keys far beyond the real tree). The rows are not a
/// valid log (`verify` would fail): only the real records are traced and proved.
func padStore(_ db: SQLiteConnection, from first: UInt64, count: Int) throws {
    let chunk = 1_000_000
    var done = 0
    while done < count {
        let lo = Int(first) + done
        let hi = lo + min(chunk, count - done) - 1
        try db.transaction {
            try db.execute(
                """
                WITH RECURSIVE n(i) AS (SELECT \(lo) UNION ALL SELECT i + 1 FROM n WHERE i < \(hi))
                INSERT INTO records(leaf_index, record_id, height, lot, product, stage, enterprise, device, time)
                SELECT i, randomblob(16), 1, 'PAD-' || (i / 10), 'fresh corn', 'planting', 'farm-pad', 'box-pad', i FROM n;
                WITH RECURSIVE n(i) AS (SELECT \(lo) UNION ALL SELECT i + 1 FROM n WHERE i < \(hi))
                INSERT INTO log_entries(leaf_index, height, kind, entry, leaf_hash)
                SELECT i, 1, 1, (SELECT entry FROM log_entries WHERE kind = 1 LIMIT 1), randomblob(32) FROM n;
                WITH RECURSIVE n(i) AS (SELECT \(lo) UNION ALL SELECT i + 1 FROM n WHERE i < \(hi))
                INSERT INTO log_nodes(key, hash) SELECT (1 << 56) | (i + (1 << 40)), randomblob(32) FROM n;
                """)
        }
        done += min(chunk, count - done)
        log("  padded \(done) of \(count)")
    }
}

print("| measure | result |")
print("|---|---|")
for (name, value) in results { print("| \(name) | \(value) |") }
