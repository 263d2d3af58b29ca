import AgriTraceCore
import EdgeAgent
import Foundation
import TestSupport
import Testing

extension AgentIntegration {
    /// Finding 7 of issue #22: an unregistered device's batches, refused as a whole by the real
    /// aggregator (`unknown-device`), show in `status` and `rejects` with the fix; the agent
    /// backs off instead of resending every timeout, and delivers once the device is registered.
    @Suite(.timeLimit(.minutes(3))) struct RefusalTests {
        @Test func wholeBatchRefusalIsShownWithTheFixBacksOffAndRecovers() async throws {
            let agentBinary = try builtProduct(named: "agritrace-agent")
            let cli = try builtProduct(named: "agritrace")
            let broker = try await TestBroker.start()
            defer { broker.kill() }
            let fixture = try DeviceFixture()
            let directory = fixture.directory
            let store = directory.file("ledger.sqlite")
            let (_, authority) = try generateAuthorityKey(cli: cli, in: directory)
            let server = try BackgroundProcess(
                cli,
                [
                    "serve", "--store", store, "--authority-key", directory.file("authority.key"), "--broker-port",
                    "\(broker.port)", "--block-max-delay-ms", "50",
                ],
                logFile: directory.file("serve.log"))
            defer { server.terminate() }
            #expect(await eventually(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: store) })

            let configuration = try fixture.writeConfiguration(
                brokerPort: broker.port, authorityHex: authority, resendTimeoutMs: 1000)
            try fixture.appendLines(simulatedLines(20, seed: 11))
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }

            // The refusal reaches the box's status and rejects, with the code and the fix.
            let shown = try await waitUntil(timeout: .seconds(30)) {
                try runCommand(agentBinary, ["status", "--config", fixture.configPath]).contains("unknown-device")
            }
            #expect(shown, "status never showed the refusal; serve log: \(server.log.suffix(2000))")
            let status = try runCommand(agentBinary, ["status", "--config", fixture.configPath])
            #expect(status.contains("agritrace devices add"), "\(status)")
            let rejects = try runCommand(agentBinary, ["rejects", "--config", fixture.configPath])
            #expect(rejects.contains("unknown-device") && rejects.contains("agritrace devices add"), "\(rejects)")
            #expect(!rejects.contains("no rejects"))

            // Backing off: over 8 s with a 1 s resend timeout, a few probes, not a resend every second.
            let before = agent.metrics.counters.publishedMessages
            try await Task.sleep(for: .seconds(8))
            let probes = agent.metrics.counters.publishedMessages - before
            #expect(probes <= 3, "\(probes) batches published in 8 s while refused")
            #expect(try agent.store.statistics().outboxDepth == 20, "refused records stay in the outbox")

            // Registered: the next probe is receipted, everything drains and the refusal clears.
            _ = try runCommand(
                cli,
                [
                    "devices", "add", "--enterprise", fixture.enterprise, "--device", fixture.device, "--public-key",
                    fixture.key.publicKey.hex, "--authority-key", directory.file("authority.key"), "--store", store,
                    "--wait", "20",
                ])
            let drained = try await waitUntil(timeout: .seconds(60)) {
                try agent.store.statistics().outboxDepth == 0
            }
            #expect(drained, "the outbox did not drain after registration")
            let after = try runCommand(agentBinary, ["status", "--config", fixture.configPath])
            #expect(!after.contains("unknown-device"), "\(after)")
        }
    }
}
