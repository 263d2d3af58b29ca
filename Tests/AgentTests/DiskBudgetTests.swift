import AgriTraceCore
import Crypto
import EdgeAgent
import Foundation
import TestSupport
import Testing

extension AgentIntegration {
    @Suite struct DiskBudgetTests {
        @Test func fullDiskRaisesTheAlarmAppliesBackPressureAndRecovers() async throws {
            let fixture = try DeviceFixture()
            let port = try freeLoopbackPort()  // no broker: nothing drains, the store only grows
            let small: Int64 = 512 * 1024
            let configuration = try fixture.writeConfiguration(
                brokerPort: port, authorityHex: TestReceiverKeys.authorityHex, maxBytes: small)
            let lines = simulatedLines(2_000, seed: 3)
            try fixture.appendLines(lines)
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }
            #expect(await waitUntil(timeout: .seconds(30)) { agent.metrics.counters.budgetReached })
            let pausedAt = agent.metrics.counters.accepted
            try await Task.sleep(for: .milliseconds(800))
            // Back-pressure: intake stopped, nothing dropped, one alarm.
            #expect(pausedAt > 0 && pausedAt < 2_000)
            #expect(agent.metrics.counters.accepted == pausedAt)
            #expect(agent.metrics.counters.rejected == 0)
            #expect(agent.metrics.counters.budgetAlarms == 1)
            #expect(agent.store.usedBytes <= small)
            #expect(try agent.store.integrityCheck() == "ok")
            let metricsText = agent.metrics.render(statistics: try agent.store.statistics(), budgetBytes: small)
            #expect(metricsText.contains("agritrace_agent_disk_budget_reached 1"))
            // The stored file position matches what was accepted: nothing will be skipped.
            let position = try #require(try agent.store.position(of: "file:\(fixture.inputPath)"))
            #expect(position.line == pausedAt)
            // Space returns (the operator raises the budget and reloads): intake resumes, every line arrives.
            var bigger = configuration
            bigger.storage.maxBytes = 64 << 20
            agent.reload(bigger)
            #expect(await waitUntil(timeout: .seconds(60)) { agent.metrics.counters.accepted == 2_000 })
            #expect(!agent.metrics.counters.budgetReached)
            let statistics = try agent.store.statistics()
            #expect(statistics.nextSequence == 2_000 && statistics.outboxDepth == 2_000)
            #expect(try agent.store.integrityCheck() == "ok")
        }

        @Test func sqliteFullInTheMiddleOfAGroupRollsBackTheWholeGroup() throws {
            let directory = try TemporaryDirectory()
            let key = try DeviceKey.create(path: directory.file("device.key"))
            let cipher = VaultCipher(key: key.vaultKey(enterprise: "e", device: "d"))
            let store = try AgentStore(path: directory.file("store.sqlite"), cipher: cipher, budgetBytes: 300 * 1024)
            let classifier = Classifier(
                identity: DeviceIdentity(enterprise: "e", device: "d", enrolledAt: Timestamp(milliseconds: 0)))
            let lines = simulatedLines(1_000).enumerated().map {
                InputLine(bytes: Array($0.element.utf8), number: Int64($0.offset + 1))
            }
            // One group far larger than the budget: SQLite fails with SQLITE_FULL halfway.
            #expect(throws: StoreError.self) {
                try store.ingest(lines, source: "test", position: nil, classifier: classifier, bootID: "b")
            }
            var statistics = try store.statistics()
            #expect(statistics.outboxDepth == 0 && statistics.nextSequence == 0)
            #expect(try store.integrityCheck() == "ok")
            // Space returns: the same group goes in whole, with sequences from 0.
            try store.setBudget(64 << 20)
            let result = try store.ingest(lines, source: "test", position: nil, classifier: classifier, bootID: "b")
            #expect(result.accepted == 1_000 && result.sequences == 0...999)
            statistics = try store.statistics()
            #expect(statistics.outboxDepth == 1_000 && statistics.nextSequence == 1_000)
        }

        @Test func clockBeforeEnrollmentIsFlaggedNotTrusted() throws {
            let directory = try TemporaryDirectory()
            let key = try DeviceKey.create(path: directory.file("device.key"))
            let store = try AgentStore(
                path: directory.file("store.sqlite"),
                cipher: VaultCipher(key: key.vaultKey(enterprise: "e", device: "d")), budgetBytes: 64 << 20)
            let enrolled = try #require(Timestamp(iso8601: "2026-01-01T00:00:00Z"))
            let classifier = Classifier(identity: DeviceIdentity(enterprise: "e", device: "d", enrolledAt: enrolled))
            let line = [InputLine(bytes: Array(simulatedLines(1)[0].utf8), number: 1)]
            _ = try store.ingest(
                line, source: "t", position: nil, classifier: classifier, bootID: "boot-a",
                now: Timestamp(milliseconds: 0))
            _ = try store.ingest(
                line, source: "t", position: nil, classifier: classifier, bootID: "boot-b", now: enrolled)
            let batch = try store.takeBatch(limit: 10, resendCutoff: 1, now: 2)
            let records = try batch.map { try Canonical.decode(Record.self, from: $0.body) }
            #expect(records.map(\.clockTrusted) == [false, true])
            #expect(records.map(\.sequence) == [0, 1])
            #expect(records.map(\.bootID) == ["boot-a", "boot-b"])
        }
    }
}
