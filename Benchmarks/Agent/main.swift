// bench-agent: intake and publish throughput of the edge agent (run in release).
//
//   bench-agent intake [--readings N] [--group G]
//   bench-agent publish --port P [--records N] [--batch B]
//
// Prints one `name value unit` line per figure.
import AgriTraceCore
import EdgeAgent
import Foundation
import Logging
import MQTTClient

func argument(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) {
        return value
    }
    return fallback
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "bench-agent-\(UInt32.random(in: 0...UInt32.max))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func makeStore(_ directory: String) throws -> (AgentStore, DeviceKey) {
    let key = try DeviceKey.create(path: directory + "/device.key")
    let store = try AgentStore(
        path: directory + "/agent.sqlite", cipher: VaultCipher(key: key.vaultKey(enterprise: "ZS123", device: "bench")),
        budgetBytes: 8 << 30)
    return (store, key)
}

/// CPU seconds (user + system) used by this process so far.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
        usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

nonisolated(unsafe) var lastCPUSeconds = 0.0

func fill(_ store: AgentStore, readings: Int, group: Int) throws -> Double {
    var simulator = ReadingSimulator(stage: .planting, lots: 50, seed: 42)
    let lines = (0..<readings).map { index in InputLine(bytes: Array(simulator.next().utf8), number: Int64(index + 1)) }
    let classifier = Classifier(
        identity: DeviceIdentity(enterprise: "ZS123", device: "bench", enrolledAt: Timestamp(milliseconds: 0)))
    let start = ContinuousClock.now
    let cpuStart = cpuSeconds()
    var accepted = 0
    for chunk in stride(from: 0, to: lines.count, by: group) {
        accepted += try store.ingest(
            Array(lines[chunk..<min(chunk + group, lines.count)]), source: "bench", position: nil,
            classifier: classifier, bootID: "bench"
        ).accepted
    }
    precondition(accepted == readings, "only \(accepted) of \(readings) accepted")
    lastCPUSeconds = cpuSeconds() - cpuStart
    let elapsed = ContinuousClock.now - start
    return Double(readings) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

let mode = CommandLine.arguments.dropFirst().first ?? "intake"
let directory = temporaryDirectory()
defer { try? FileManager.default.removeItem(atPath: directory) }

switch mode {
case "intake":
    let readings = argument("--readings", 50_000)
    let group = argument("--group", 500)
    let (store, _) = try makeStore(directory)
    let rate = try fill(store, readings: readings, group: group)
    print(
        "intake_readings_per_cpu_second \(Int(Double(readings) / lastCPUSeconds)) readings/s (same work, per CPU-second of this thread: the machine is shared)"
    )
    print(
        "intake_readings_per_second \(Int(rate)) readings/s (JSON parse + validate + classify + salted commitments + AES-GCM vault + outbox, \(group) per transaction, one thread, WAL synchronous=NORMAL)"
    )
case "publish":
    let records = argument("--records", 50_000)
    let batch = argument("--batch", 200)
    let port = Int32(argument("--port", 1883))
    let (store, key) = try makeStore(directory)
    _ = try fill(store, readings: records, group: 1000)
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let metrics = AgentMetrics()
    let client = try MQTTClient(clientID: "bench-agent", options: .init(host: "127.0.0.1", port: port))
    let publisher = RecordPublisher(
        client: client, store: store, key: key, authority: key.publicKey, enterprise: "ZS123", device: "bench",
        settings: .init(
            batchSize: batch, maxInflight: 100, maxUnreceipted: records, resendTimeoutMilliseconds: 600_000),
        metrics: metrics, logger: logger)
    let start = ContinuousClock.now
    try publisher.start()
    while metrics.counters.publishedRecords < records || !publisher.allAcknowledged {
        Thread.sleep(forTimeInterval: 0.005)
        if ContinuousClock.now - start > .seconds(120) { break }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let counters = metrics.counters
    publisher.stop()
    print(
        "publish_records_per_second \(Int(Double(counters.publishedRecords) / seconds)) records/s (\(batch) records per signed batch, QoS 1, PUBACKed, loopback mosquitto)"
    )
    print(
        "publish_messages_per_second \(Int(Double(counters.publishedMessages) / seconds)) messages/s (average payload \(counters.publishedBytes / max(1, counters.publishedMessages)) bytes)"
    )
case "profile":
    // Where the intake time goes, stage by stage (one thread).
    let readings = argument("--readings", 5_000)
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
    var simulator = ReadingSimulator(stage: .planting, lots: 50, seed: 42)
    var lines: [String] = []
    let generate = seconds { lines = (0..<readings).map { _ in simulator.next() } }
    var parsed: [Reading] = []
    let parse = try seconds {
        parsed = try lines.map { try JSONLineParser.reading(Array($0.utf8), catalog: .standard) }
    }
    let classifier = Classifier(
        identity: DeviceIdentity(enterprise: "ZS123", device: "bench", enrolledAt: Timestamp(milliseconds: 0)))
    var classified: [ClassifiedReading] = []
    let classify = seconds {
        classified = parsed.enumerated().map {
            classifier.classify($0.element, sequence: UInt64($0.offset), bootID: "b", recordedAt: .now())
        }
    }
    var encoded: [[UInt8]] = []
    let encode = seconds { encoded = classified.map { Canonical.encode($0.record) } }
    let key = DeviceKey(privateKey: .init())
    let cipher = VaultCipher(key: key.vaultKey(enterprise: "e", device: "d"))
    let seal = try seconds {
        for item in classified {
            for fields in [item.level1, item.level2] {
                if let fields { _ = try cipher.seal(Canonical.encode(fields), context: [1]) }
            }
        }
    }
    for (name, value) in [
        ("generate", generate), ("parse", parse), ("classify", classify), ("encode", encode), ("seal", seal),
    ] {
        print("\(name) \(Int(value / Double(readings) * 1e9 / 1000)) us/reading")
    }
    _ = encoded
default:
    print("usage: bench-agent intake [--readings N] [--group G] | publish --port P [--records N] [--batch B]")
}
