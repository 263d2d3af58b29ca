import AgriTraceCore
import Foundation
import TestSupport
import Testing

/// The agent process killed with SIGKILL at random moments under load, restarted each time.
extension AgentIntegration {
    @Suite struct CrashTests {
        func spawnAgent(_ executable: String, config: String, log: String) throws -> Process {
            try startLoggedProcess(executable, ["run", "--config", config], log: log)
        }

        @Test func sigkillTenTimesUnderLoadLosesAndDuplicatesNothing() async throws {
            let executable = try agentExecutable()
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            let (broker, fixture, receiver) = (rig.broker, rig.fixture, rig.receiver)
            FileManager.default.createFile(atPath: fixture.inputPath, contents: nil)
            try fixture.writeConfiguration(
                brokerPort: broker.port, authorityHex: receiver.authorityHex, batchSize: 100, resendTimeoutMs: 1500)
            let log = fixture.directory.file("agent.log")
            let lines = simulatedLines(3_000, seed: 23)
            var written = 0
            for round in 0..<10 {
                let process = try spawnAgent(executable, config: fixture.configPath, log: log)
                // Load while it runs: 300 new readings in 3 chunks.
                for _ in 0..<3 {
                    try fixture.appendLines(Array(lines[written..<(written + 100)]))
                    written += 100
                    try await Task.sleep(for: .milliseconds(Int.random(in: 20...120)))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...(round % 3 == 0 ? 1200 : 500))))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal)
            }
            #expect(written == 3_000)
            let final = try spawnAgent(executable, config: fixture.configPath, log: log)
            let drained = try await waitUntil(timeout: .seconds(90)) {
                let counts = try fixture.storeCounts()
                return counts.receipted == 3_000 && counts.outbox == 0
            }
            kill(final.processIdentifier, SIGTERM)
            let exited = await waitUntil(timeout: .seconds(20)) { !final.isRunning }
            if !exited { kill(final.processIdentifier, SIGKILL) }
            final.waitUntilExit()
            let agentLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(exited, "SIGTERM did not stop the agent within 20 s; log: \(agentLog.suffix(1500))")
            let counts = try fixture.storeCounts()
            #expect(
                drained,
                "receipted \(counts.receipted), outbox \(counts.outbox); log: \(fixture.directory.file("agent.log"))")
            #expect(final.terminationStatus == 0)
            // Every line accepted exactly once (not re-read, not skipped), every one on the ledger once.
            let accepted = try fixture.receiptedIDs()
            let snapshot = receiver.snapshot
            #expect(accepted.count == 3_000)
            #expect(Set(accepted) == Set(snapshot.ledger))
            #expect(snapshot.ledger.count == 3_000)
            #expect(snapshot.conflicts == 0, "a sequence number was reused for a different record")
            #expect(counts.rejects == 0)
        }
    }
}
