import AgriTraceCore
import Crypto
import EdgeAgent
import Foundation
import Synchronization
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
            #expect(metricsText.split(separator: "\n").contains("agritrace_agent_disk_budget_reached 1"))
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

        @Test func deletedReceiptedRowsReturnTheBudgetAndIntakeResumes() async throws {
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            let (broker, fixture, receiver) = (rig.broker, rig.fixture, rig.receiver)
            let small: Int64 = 1024 * 1024
            let configuration = try fixture.writeConfiguration(
                brokerPort: broker.port, authorityHex: receiver.authorityHex, maxBytes: small)
            let total = 4_000
            try fixture.appendLines(simulatedLines(total, seed: 5))
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }
            #expect(await waitUntil(timeout: .seconds(30)) { agent.metrics.counters.budgetReached })
            // Receipts still retire records at the budget (a receipted row is larger than the
            // outbox row it replaces, so there they are kept compact) and the freed outbox
            // pages go back to the budget; the vault keeps every private value, so the store
            // ends up full of vault entries, receipted, with intake paused.
            let settled = try await waitUntil(timeout: .seconds(90)) {
                let statistics = try agent.store.statistics()
                return statistics.outboxDepth == 0 && statistics.receipted == agent.metrics.counters.accepted
                    && agent.metrics.counters.budgetReached
            }
            let pausedAt = agent.metrics.counters.accepted
            let statistics = try agent.store.statistics()
            #expect(settled, "receipts could not drain the outbox at the budget: \(statistics)")
            #expect(pausedAt > 0 && pausedAt < Int64(total))
            #expect(agent.metrics.counters.rejected == 0)
            // Retention deletes the receipted rows and their vault entries (a millisecond of
            // retention: every block before the newest one receipted): their pages return to the
            // budget and intake resumes.
            let later = Timestamp(milliseconds: Timestamp.now().milliseconds + 2 * 86_400_000)
            let deleted = try agent.store.applyRetention(keepingMilliseconds: 1, now: later)
            #expect(deleted > 0)
            #expect(agent.store.usedBytes < agent.store.intakeLimitBytes)
            #expect(
                await waitUntil(timeout: .seconds(20)) {
                    agent.metrics.counters.accepted > pausedAt
                })
            // Keep deleting what gets receipted, as retention would: every line arrives once, none dropped.
            let finished = await waitUntil(timeout: .seconds(120)) {
                _ = try? agent.store.applyRetention(
                    keepingMilliseconds: 1, now: Timestamp(milliseconds: Timestamp.now().milliseconds + 2 * 86_400_000))
                return agent.metrics.counters.accepted == Int64(total)
            }
            #expect(finished, "accepted \(agent.metrics.counters.accepted) of \(total)")
            #expect(agent.metrics.counters.rejected == 0)
            #expect(await waitUntil(timeout: .seconds(60)) { receiver.snapshot.ledger.count == total })
            #expect(Set(receiver.snapshot.ledger).count == total)
            #expect(agent.store.usedBytes <= small)
            #expect(try agent.store.integrityCheck() == "ok")
        }

        @Test func socketWritersAreBlockedNotDroppedAtTheBudget() async throws {
            let fixture = try DeviceFixture()
            let port = try freeLoopbackPort()  // no broker: nothing drains
            let small: Int64 = 512 * 1024
            let configuration = try fixture.writeConfiguration(
                brokerPort: port, authorityHex: TestReceiverKeys.authorityHex, files: [], socket: true, maxBytes: small)
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            defer { agent.shutdown() }
            let total = 3_000
            let payload = Array(simulatedLines(total, seed: 13).map { $0 + "\n" }.joined().utf8)
            let descriptor = try InputTests().connect(fixture.socketPath)
            defer { close(descriptor) }
            // The writer writes everything with blocking writes on its own thread.
            let written = WrittenBytes()
            let writer = Thread {
                var offset = 0
                while offset < payload.count {
                    let count = payload[offset...].withUnsafeBytes {
                        send(descriptor, $0.baseAddress, min($0.count, 16_384), Int32(MSG_NOSIGNAL))
                    }
                    if count <= 0 { break }
                    offset += count
                    written.value.withLock { $0 = offset }
                }
            }
            writer.start()
            #expect(await waitUntil(timeout: .seconds(30)) { agent.metrics.counters.budgetReached })
            try await Task.sleep(for: .milliseconds(1500))
            // Back-pressure: the agent stopped reading, the writer is blocked part-way, nothing was dropped.
            let pausedAt = agent.metrics.counters.accepted
            let writtenAtPause = written.value.withLock { $0 }
            #expect(pausedAt < Int64(total))
            #expect(writtenAtPause < payload.count, "the writer was never blocked")
            try await Task.sleep(for: .milliseconds(500))
            #expect(written.value.withLock { $0 } == writtenAtPause)
            #expect(agent.metrics.counters.accepted == pausedAt)
            #expect(agent.metrics.counters.rejected == 0)
            // Space returns: the writer unblocks and every line is accepted.
            var bigger = configuration
            bigger.storage.maxBytes = 64 << 20
            agent.reload(bigger)
            #expect(await waitUntil(timeout: .seconds(60)) { agent.metrics.counters.accepted == Int64(total) })
            #expect(written.value.withLock { $0 } == payload.count)
            #expect(agent.metrics.counters.rejected == 0)
            #expect(try agent.store.statistics().nextSequence == UInt64(total))
        }

        @Test func receiptsAtTheBudgetRetireRecordsAndReturnTheirSpace() throws {
            let directory = try TemporaryDirectory()
            let key = try DeviceKey.create(path: directory.file("device.key"))
            let cipher = VaultCipher(key: key.vaultKey(enterprise: "e", device: "d"))
            let budget: Int64 = 400 * 1024
            let store = try AgentStore(path: directory.file("store.sqlite"), cipher: cipher, budgetBytes: budget)
            let classifier = Classifier(
                identity: DeviceIdentity(enterprise: "e", device: "d", enrolledAt: Timestamp(milliseconds: 0)))
            // Fill to the intake limit, 20 readings per group.
            var lines = simulatedLines(2_000, seed: 17)[...]
            var number: Int64 = 0
            while !lines.isEmpty {
                let group = lines.prefix(20).map { line -> InputLine in
                    number += 1
                    return InputLine(bytes: Array(line.utf8), number: number)
                }
                do {
                    _ = try store.ingest(group, source: "t", position: nil, classifier: classifier, bootID: "b")
                } catch is StoreError {
                    break
                }
                lines = lines.dropFirst(20)
            }
            #expect(store.isAtBudget())
            // The aggregator receipts everything in the outbox, as the test receiver does.
            let authority = Curve25519.Signing.PrivateKey()
            let rows = try store.takeBatch(limit: 10_000, resendCutoff: 1, now: 2)
            let records = try rows.map { try Canonical.decode(Record.self, from: $0.body) }
            var log = MerkleLog()
            for record in records { log.append(LogEntry.record(record).leafHash) }
            let head = try Signed(
                BlockHeader(
                    height: 1, previousHash: .zero, transactionRoot: .zero, transactionCount: UInt32(records.count),
                    logSize: log.size, logRoot: log.root, time: .now(), proposer: "test"),
                domain: .blockHeader, key: authority)
            let receipts = try records.enumerated().map { index, record in
                Receipt(
                    recordID: record.id, height: 1, leafIndex: UInt64(index),
                    inclusionProof: try log.inclusionProof(index: UInt64(index)), treeHead: head)
            }
            let usedBefore = store.usedBytes
            let outcome = try store.apply(
                ReceiptBatch(receipts: receipts, rejections: []), authority: authority.publicKey)
            // Every record retired (the full copies did not fit: they are kept compact), the
            // outbox pages are free again and intake can go on.
            #expect(outcome.receipted == records.count && outcome.invalid == 0)
            let statistics = try store.statistics()
            #expect(statistics.outboxDepth == 0 && statistics.receipted == Int64(records.count))
            #expect(store.usedBytes < usedBefore)
            #expect(!store.isAtBudget())
            #expect(try store.receipt(for: records[0].id) == nil)
            #expect(try store.privateFields(of: records[0].id).count == 2)
            #expect(try store.integrityCheck() == "ok")
            let next = try #require(lines.first)
            let more = try store.ingest(
                [InputLine(bytes: Array(next.utf8), number: number + 1)], source: "t", position: nil,
                classifier: classifier, bootID: "b")
            #expect(more.accepted == 1)
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

/// How far the socket writer of a test got.
final class WrittenBytes: Sendable {
    let value = Mutex(0)
}
