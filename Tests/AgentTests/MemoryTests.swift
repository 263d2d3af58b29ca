import Crypto
import Foundation
import TestSupport
import Testing

/// The running agent gives its start-up only pages back (docs/agent.md, "Memory").
extension AgentIntegration {
    @Suite struct MemoryTests {
        /// The value of `key=VALUE` (swift-log's metadata) in `line`.
        static func metadata(_ key: String, in line: Substring) -> Int? {
            guard let range = line.range(of: "\(key)=") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }

        @Test func runReleasesStartupPagesAndItsResidentSetShrinks() async throws {
            let executable = try agentExecutable()
            let broker = try await TestBroker.start()
            defer { broker.kill() }
            let fixture = try DeviceFixture()
            FileManager.default.createFile(atPath: fixture.inputPath, contents: nil)
            _ = try fixture.writeConfiguration(
                brokerPort: broker.port, authorityHex: Curve25519.Signing.PrivateKey().publicKey.hex, logLevel: "info")
            let agent = try BackgroundProcess(
                executable, ["run", "--config", fixture.configPath], logFile: fixture.directory.file("agent.log"))
            defer { agent.kill() }
            let released = await waitUntil(timeout: .seconds(20)) { agent.log.contains("released start-up pages") }
            #expect(released, "agent log: \(agent.log.suffix(2000))")
            let line = try #require(agent.log.split(separator: "\n").first { $0.contains("released start-up pages") })
            let advised = try #require(Self.metadata("advised_bytes", in: line))
            let before = try #require(Self.metadata("resident_bytes_before", in: line))
            let after = try #require(Self.metadata("resident_bytes_after", in: line))
            #expect(advised > 1 << 20, "the executable's read-only mappings alone are larger: \(line)")
            #expect(after < before, "\(line)")
            #expect(agent.isRunning)
            agent.terminate()
            #expect(!agent.isRunning)
        }
    }
}
