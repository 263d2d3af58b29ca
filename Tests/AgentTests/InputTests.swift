import AgriTraceCore
import EdgeAgent
import Foundation
import TestSupport
import Testing

extension AgentIntegration {
    @Suite struct InputTests {
        static let valid =
            #"{"stage":"planting","lot":"PL-1","product":"fresh corn","time":"2026-05-01T08:00:00Z","fields":{"variety":"JD-101","planted_quantity":1200,"cost_price":1.85,"personnel":"Valid Secret Person"}}"#

        /// Connects to a Unix socket.
        func connect(_ path: String) throws -> Int32 {
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let result = UnixSocket.withAddress(path) { Glibc.connect(descriptor, $0, $1) }
            guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
            return descriptor
        }

        @Test func malformedInputsAreRejectedListedAndValidLinesAroundThemAccepted() async throws {
            let fixture = try DeviceFixture()
            let port = try freeLoopbackPort()
            let metricsPort = Int(try freeLoopbackPort())
            let configuration = try fixture.writeConfiguration(
                brokerPort: port, authorityHex: TestReceiverKeys.authorityHex, files: [], socket: true,
                maxLineBytes: 1024, metricsPort: metricsPort)
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }
            let lines = [
                Self.valid,  // 1
                #"{"stage":"planting","lot":"#,  // 2 malformed JSON
                Self.valid,  // 3
                #"{"stage":"harvesting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{}}"#,  // 4 unknown stage
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"colour":"red"}}"#,  // 5 unknown field
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"planted_quantity":"a lot","personnel":"Rejected Secret Person"}}"#,  // 6 wrong type
                #"{"stage":"planting","lot":"PL-1","product":"corn","time":"2026-05-01T08:00:00Z","fields":{"soil_test_report":""#
                    + String(repeating: "x", count: 2000) + #""}}"#,  // 7 oversize
                #"{"stage":"planting","product":"corn","time":"2026-05-01T08:00:00Z","fields":{}}"#,  // 8 missing lot
                "",  // 9 blank (ignored, counted)
                Self.valid,  // 10
                "[1,2]",  // 11 not an object
            ]
            let client = try connect(fixture.socketPath)
            defer { close(client) }
            let payload = Array(lines.map { $0 + "\n" }.joined().utf8)
            #expect(payload.withUnsafeBytes { write(client, $0.baseAddress, $0.count) } == payload.count)
            let done = await waitUntil(timeout: .seconds(20)) {
                agent.metrics.counters.accepted + agent.metrics.counters.rejected == 10
            }
            #expect(done)
            #expect(agent.metrics.counters.accepted == 3)
            #expect(agent.metrics.counters.rejected == 7)
            // The writer got an acknowledgement after the lines were durable.
            var ack = [UInt8](repeating: 0, count: 512)
            let count = ack.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            #expect(count > 0 && String(decoding: ack[0..<max(0, count)], as: UTF8.self).contains("\"accepted\":"))

            // The loopback endpoint reports the counts.
            let metrics = try httpGet(port: metricsPort, path: "/metrics")
            #expect(metrics.hasPrefix("HTTP/1.1 200"))
            #expect(metrics.contains("agritrace_agent_readings_accepted_total 3\n"))
            #expect(metrics.contains("agritrace_agent_readings_rejected_total 7\n"))
            #expect(metrics.contains("agritrace_agent_outbox_depth 3\n"))
            #expect(try httpGet(port: metricsPort, path: "/healthz").contains("\"status\":\"ok\""))

            let rejects = try agent.store.rejects()
            #expect(rejects.map(\.line) == [2, 4, 5, 6, 7, 8, 11])
            #expect(
                rejects.map(\.kind) == [
                    .malformedJSON, .unknownStage, .unknownField, .wrongType, .oversize, .missingField, .malformedJSON,
                ])
            #expect(rejects[2].field == "fields.colour")
            #expect(rejects[3].field == "fields.planted_quantity" && rejects[3].stage == "planting")
            #expect(rejects[5].field == "lot")
            #expect(rejects.allSatisfy { $0.source.hasPrefix("socket:") && !$0.reason.isEmpty && !$0.fix.isEmpty })

            // `agritrace-agent rejects --json` lists the same (the CLI reads the same store).
            do {
                let executable = try builtProduct(named: "agritrace-agent")
                let output = try runCommand(executable, ["rejects", "--config", fixture.configPath, "--json"])
                struct Listing: Decodable {
                    struct Line: Decodable { var line: Int64; var kind: String; var field: String? }
                    var rejects: [Line]
                }
                let listing = try JSONDecoder().decode(Listing.self, from: Data(output.utf8))
                #expect(listing.rejects.map(\.line) == [2, 4, 5, 6, 7, 8, 11])
                #expect(listing.rejects.map(\.kind).contains("oversize"))
            }
            // No private value is stored in the clear: not from accepted readings, not from rejected lines.
            agent.store.checkpoint()
            var bytes = (try? Data(contentsOf: URL(fileURLWithPath: fixture.storePath))) ?? Data()
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: fixture.storePath + "-wal"))) ?? Data()
            #expect(bytes.count > 0)
            #expect(bytes.range(of: Data("Valid Secret Person".utf8)) == nil)
            #expect(bytes.range(of: Data("Rejected Secret Person".utf8)) == nil)
            #expect(bytes.range(of: Data("JD-101".utf8)) != nil, "public values are stored in the clear")
        }

        @Test func tailedFileSurvivesRotationAndRestartWithoutRereadingOrSkipping() async throws {
            let fixture = try DeviceFixture()
            let port = try freeLoopbackPort()
            let configuration = try fixture.writeConfiguration(
                brokerPort: port, authorityHex: TestReceiverKeys.authorityHex)
            let lines = simulatedLines(600, seed: 5)
            try fixture.appendLines(Array(lines[0..<200]))
            var agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            #expect(await waitUntil(timeout: .seconds(30)) { agent.metrics.counters.accepted == 200 })
            // Rotate: rename and write a new file; the agent finishes the old one first.
            try fixture.appendLines(Array(lines[200..<300]))
            try FileManager.default.moveItem(atPath: fixture.inputPath, toPath: fixture.inputPath + ".1")
            try fixture.appendLines(Array(lines[300..<400]))
            #expect(await waitUntil(timeout: .seconds(30)) { (try? agent.store.statistics().nextSequence) == 400 })
            agent.shutdown()
            // While stopped: more lines, and another rotation.
            try fixture.appendLines(Array(lines[400..<500]))
            try FileManager.default.moveItem(atPath: fixture.inputPath + ".1", toPath: fixture.inputPath + ".2")
            try FileManager.default.moveItem(atPath: fixture.inputPath, toPath: fixture.inputPath + ".1")
            try fixture.appendLines(Array(lines[500..<600]))
            agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            #expect(await waitUntil(timeout: .seconds(30)) { (try? agent.store.statistics().nextSequence) == 600 })
            try await Task.sleep(for: .milliseconds(500))
            let statistics = try agent.store.statistics()
            agent.shutdown()
            #expect(statistics.nextSequence == 600)
            #expect(statistics.outboxDepth == 600)
            #expect(statistics.rejects == 0)
        }
    }

}

enum TestReceiverKeys {
    /// An authority key for tests that never receive receipts.
    static let authorityHex = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
}
