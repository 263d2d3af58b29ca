import AgriTraceCore
import Crypto
import EdgeAgent
import Foundation
import Logging
import SQLiteStorage
import TestSupport
import Testing

/// A device directory for one test: key, configuration, store path, input file.
struct DeviceFixture {
    let directory: TemporaryDirectory
    let key: DeviceKey
    let enterprise: String
    let device: String

    var configPath: String { directory.file("agent.toml") }
    var storePath: String { directory.file("agent.sqlite") }
    var inputPath: String { directory.file("readings.jsonl") }
    var socketPath: String { directory.file("agent.sock") }

    init(enterprise: String = "ZS123", device: String = "farm-\(UInt16.random(in: 1...9999))") throws {
        directory = try TemporaryDirectory(prefix: "agent-test")
        key = try DeviceKey.create(path: directory.file("device.key"))
        self.enterprise = enterprise
        self.device = device
    }

    /// Writes the configuration; `extra` lines are appended inside the matching sections.
    @discardableResult
    func writeConfiguration(
        brokerPort: Int32, authorityHex: String, files: [String]? = nil, socket: Bool = false,
        maxBytes: Int64 = 1 << 30,
        batchSize: Int = 200, resendTimeoutMs: Int = 2000, maxLineBytes: Int = 65536, metricsPort: Int = 0,
        maxUnreceipted: Int = 20000, brokerExtra: String = "", logLevel: String = "warning",
        degradedAfterSeconds: Int = 3600
    ) throws -> AgentConfiguration {
        let fileList = (files ?? [inputPath]).map { "\"\($0)\"" }.joined(separator: ", ")
        let text = """
            # test configuration
            [device]
            enterprise = "\(enterprise)"
            id = "\(device)"
            stage = "planting"
            enrolled_at = "2026-01-01T00:00:00Z"
            key_file = "device.key"

            [broker]
            host = "127.0.0.1"
            port = \(brokerPort)
            reconnect_initial_seconds = 1
            reconnect_maximum_seconds = 2
            \(brokerExtra)

            [authority]
            public_key = "\(authorityHex)"

            [inputs]
            files = [\(fileList)]
            \(socket ? "socket = \"agent.sock\"" : "")
            max_line_bytes = \(maxLineBytes)
            poll_ms = 50

            [storage]
            path = "agent.sqlite"
            max_bytes = \(maxBytes)

            [delivery]
            batch_size = \(batchSize)
            resend_timeout_ms = \(resendTimeoutMs)
            max_unreceipted = \(maxUnreceipted)
            drain_timeout_ms = 2000

            [operations]
            metrics_port = \(metricsPort)
            log_level = "\(logLevel)"
            degraded_after_seconds = \(degradedAfterSeconds)
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        return try AgentConfiguration.load(path: configPath)
    }

    func appendLines(_ lines: [String], to path: String? = nil) throws {
        let target = path ?? inputPath
        if !FileManager.default.fileExists(atPath: target) {
            FileManager.default.createFile(atPath: target, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
        try handle.close()
    }

    var deviceKeys: [String: Curve25519.Signing.PublicKey] { ["\(enterprise)/\(device)": key.publicKey] }

    /// Counts read straight from the agent's database (read-only, WAL lets it run beside the agent).
    func storeCounts() throws -> (outbox: Int, receipted: Int, rejects: Int) {
        let db = try SQLiteConnection(path: storePath, readOnly: true, create: false)
        func count(_ table: String) throws -> Int {
            let statement = try db.prepare("SELECT count(*) FROM \(table)")
            _ = try statement.step()
            return Int(statement.int64(at: 0))
        }
        return (try count("outbox"), try count("receipted"), try count("rejects"))
    }

    func receiptedIDs() throws -> [RecordID] {
        let db = try SQLiteConnection(path: storePath, readOnly: true, create: false)
        let statement = try db.prepare("SELECT record_id FROM receipted ORDER BY sequence")
        var ids: [RecordID] = []
        while try statement.step() {
            ids.append(try Canonical.decode(RecordID.self, from: statement.bytes(at: 0) ?? []))
        }
        return ids
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "agent-test")
    logger.logLevel = .error
    return logger
}

/// Simulated planting readings.
func simulatedLines(_ count: Int, stage: Stage = .planting, seed: UInt64 = 7) -> [String] {
    var simulator = ReadingSimulator(stage: stage, lots: 10, seed: seed)
    return (0..<count).map { _ in simulator.next() }
}

/// Polls until `condition` holds or `timeout` passes.
func waitUntil(timeout: Duration, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try condition()
}

/// The built `agritrace-agent` executable next to the test bundle (``builtProduct(named:)``;
/// `AGRITRACE_AGENT_BINARY` overrides); when there is none the calling test fails, saying how
/// to build it.
func agentExecutable() throws -> String {
    try #require(
        try? builtProduct(named: "agritrace-agent"),
        "build agritrace-agent first (swift build) or set AGRITRACE_AGENT_BINARY")
}

/// The integration suites (real broker, real SQLite, child processes), run one at a time so
/// they do not compete for the two cores.
@Suite(.serialized) enum AgentIntegration {}

/// A real mosquitto, a device fixture and the test receiver on the broker standing in for the
/// aggregator: what the delivery suites start before each agent. ``stop()`` stops both.
struct DeliveryRig {
    let broker: TestBroker
    let fixture: DeviceFixture
    let receiver: TestReceiver

    /// Starts the broker and the receiver (which refuses the records of `refusing`).
    static func start(enforceOrder: Bool = false, refusing: Set<UInt64> = []) async throws -> DeliveryRig {
        let broker = try await TestBroker.start()
        do {
            let fixture = try DeviceFixture()
            let receiver = try TestReceiver(
                port: broker.port, deviceKeys: fixture.deviceKeys, enforceOrder: enforceOrder)
            if !refusing.isEmpty { receiver.refuse(refusing) }
            try await receiver.start()
            return DeliveryRig(broker: broker, fixture: fixture, receiver: receiver)
        } catch {
            broker.kill()
            throw error
        }
    }

    /// Writes the fixture's default configuration for the rig's broker, trusting the receiver's
    /// authority (or the one `authorityHex` names), and starts an agent on it.
    func startAgent(authorityHex: String? = nil) throws -> AgentRuntime {
        let configuration = try fixture.writeConfiguration(
            brokerPort: broker.port, authorityHex: authorityHex ?? receiver.authorityHex)
        let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
        try agent.start()
        return agent
    }

    /// Stops the receiver, then the broker.
    func stop() {
        receiver.stop()
        broker.kill()
    }
}
