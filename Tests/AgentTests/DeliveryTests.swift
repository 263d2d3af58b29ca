import AgriTraceCore
import Crypto
import EdgeAgent
import Foundation
import TestSupport
import Testing

/// End-to-end delivery through a real mosquitto, with the test receiver as the aggregator.
extension AgentIntegration {
    @Suite struct DeliveryTests {
        @Test func tenThousandReadingsAreDeliveredAndReceiptedExactlyOnce() async throws {
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            let receiver = rig.receiver
            try rig.fixture.appendLines(simulatedLines(10_000))
            let agent = try rig.startAgent()
            let drained = try await waitUntil(timeout: .seconds(90)) {
                let statistics = try agent.store.statistics()
                return statistics.receipted == 10_000 && statistics.outboxDepth == 0
            }
            agent.shutdown()
            let snapshot = receiver.snapshot
            let receiptedCount = try agent.store.statistics().receipted
            #expect(drained, "receipted \(receiptedCount) of 10000")
            #expect(agent.metrics.counters.accepted == 10_000)
            #expect(snapshot.ledger.count == 10_000)
            #expect(snapshot.conflicts == 0)
            #expect(snapshot.badSignatures == 0)
            // Every id the agent holds a receipt for is on the ledger exactly once, and vice versa.
            let receipted = try agent.store.receiptedIDs()
            #expect(receipted.count == 10_000)
            #expect(Set(receipted) == Set(snapshot.ledger))
            #expect(Set(snapshot.ledger).count == snapshot.ledger.count)
            // Sequences are 0..<10000 with no gap.
            #expect(
                snapshot.ledgerSequences.map(\.1).sorted() == (0..<UInt64(snapshot.ledgerSequences.count)).map { $0 },
                "a sequence is missing")
            // Stored receipts still prove inclusion, and the vault opens to values matching the commitments.
            let authority = receiver.authority.publicKey
            try #require(receipted.count == 10_000)
            for id in [receipted[0], receipted[4_999], receipted[9_999]] {
                let stored = try #require(try agent.store.receipt(for: id))
                try stored.receipt.verify(
                    leafEntry: LogEntry.record(stored.record).canonicalBytes, authority: authority)
                let privateFields = try agent.store.privateFields(of: id)
                #expect(privateFields.count == 2)
                for fields in privateFields {
                    let commitment = try #require(stored.record.commitment(for: fields.level))
                    try fields.verify(against: commitment)
                }
                // Private values are not in the record on the ledger.
                #expect(stored.record.publicValue("planting.cost_price") == nil)
                #expect(stored.record.publicValue("planting.variety") != nil)
            }
        }

        @Test func brokerOutageUnderLoadLosesNothingAndKeepsDeviceOrder() async throws {
            let rig = try await DeliveryRig.start(enforceOrder: true)
            defer { rig.stop() }
            let (broker, fixture, receiver) = (rig.broker, rig.fixture, rig.receiver)
            FileManager.default.createFile(atPath: fixture.inputPath, contents: nil)
            let configuration = try fixture.writeConfiguration(
                brokerPort: broker.port, authorityHex: receiver.authorityHex, batchSize: 50, resendTimeoutMs: 1500)
            let agent = try AgentRuntime(configuration: configuration, logger: quietLogger())
            try agent.start()
            let lines = simulatedLines(3_000, seed: 11)
            // Load: 3000 readings over about 3 s; the broker goes away for 2 s in the middle.
            for (index, chunk) in stride(from: 0, to: lines.count, by: 100).enumerated() {
                try fixture.appendLines(Array(lines[chunk..<min(chunk + 100, lines.count)]))
                if index == 8 { await broker.stop() }
                if index == 20 { try await broker.restart() }
                try await Task.sleep(for: .milliseconds(100))
            }
            let drained = try await waitUntil(timeout: .seconds(60)) {
                let statistics = try agent.store.statistics()
                return statistics.receipted == 3_000 && statistics.outboxDepth == 0
            }
            let counters = agent.metrics.counters
            agent.shutdown()
            let snapshot = receiver.snapshot
            let receiptedCount = try agent.store.statistics().receipted
            #expect(drained, "receipted \(receiptedCount) of 3000")
            #expect(counters.accepted == 3_000)
            #expect(counters.reconnects >= 1)
            // In order per device: the ledger holds sequences 0, 1, 2, ... with no gap.
            let inOrder = snapshot.ledgerSequences.map(\.1) == (0..<3_000).map(UInt64.init)
            #expect(
                inOrder,
                "ledger order: \(snapshot.ledgerSequences.prefix(20).map(\.1))... (\(snapshot.ledgerSequences.count) records)"
            )
            #expect(snapshot.conflicts == 0)
        }

        @Test func refusedRecordsLeaveTheOutboxWithTheirReason() async throws {
            let rig = try await DeliveryRig.start(refusing: [3, 7])
            defer { rig.stop() }
            try rig.fixture.appendLines(simulatedLines(20))
            let agent = try rig.startAgent()
            let settled = try await waitUntil(timeout: .seconds(30)) {
                let statistics = try agent.store.statistics()
                return statistics.receipted + statistics.refused == 20 && statistics.outboxDepth == 0
            }
            let statistics = try agent.store.statistics()
            let refused = try agent.store.refusedRecords()
            agent.shutdown()
            #expect(settled)
            #expect(statistics.receipted == 18 && statistics.refused == 2)
            #expect(refused.map(\.sequence) == [3, 7])
            #expect(refused.allSatisfy { $0.code == .other("test-refused") && !$0.reason.isEmpty })
            #expect(agent.metrics.counters.refused == 2)
        }

        @Test func invalidReceiptsAreIgnoredAndRecordsStayInTheOutbox() async throws {
            // The agent trusts another authority than the one that signs the receipts.
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            try rig.fixture.appendLines(simulatedLines(50))
            let agent = try rig.startAgent(authorityHex: Curve25519.Signing.PrivateKey().publicKey.hex)
            let answered = await waitUntil(timeout: .seconds(20)) { agent.metrics.counters.invalidReceipts > 0 }
            let statistics = try agent.store.statistics()
            agent.shutdown()
            #expect(answered)
            #expect(rig.receiver.snapshot.ledger.count == 50)
            #expect(statistics.receipted == 0)
            #expect(statistics.outboxDepth == 50)
        }
    }
}
