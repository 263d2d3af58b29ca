import AgriTraceCore
import Crypto
import EdgeAgent
import Foundation
import TestSupport
import Testing

/// No silent forks at the edge: a box that is shown two different signed tree heads for one
/// height raises the alarm and keeps both as evidence.
extension AgentIntegration {
    @Suite struct ForkTests {
        /// Two ledgers signing with one authority key both answer the box's batches (the fork two
        /// `serve` processes with separate stores once made): the box receipts its records once,
        /// and every later head for a height it already holds is refused, counted and kept.
        @Test func twoLedgersSigningWithOneKeyAreCaughtAndTheirHeadsKept() async throws {
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            let second = try TestReceiver(
                port: rig.broker.port, deviceKeys: rig.fixture.deviceKeys, authority: rig.receiver.authority)
            try await second.start()
            defer { second.stop() }
            try rig.fixture.appendLines(simulatedLines(500))
            let agent = try rig.startAgent()
            defer { agent.shutdown() }
            let caught = try await waitUntil(timeout: .seconds(60)) {
                try agent.store.statistics().receipted == 500 && agent.metrics.counters.treeHeadForks > 0
            }
            let receipted = try agent.store.statistics().receipted
            #expect(caught, "receipted \(receipted) of 500, forks \(agent.metrics.counters.treeHeadForks)")

            // The evidence: two different headers for one height, both signed by the authority.
            let forks = try agent.store.treeHeadForks()
            try #require(!forks.isEmpty)
            let key = rig.receiver.authority.publicKey
            for fork in forks {
                let kept = try Canonical.decode(Signed<BlockHeader>.self, from: fork.kept)
                let shown = try Canonical.decode(Signed<BlockHeader>.self, from: fork.shown)
                #expect(kept != shown)
                #expect(kept.value.height == fork.height && shown.value.height == fork.height)
                #expect(kept.isValid(domain: .blockHeader, key: key) && shown.isValid(domain: .blockHeader, key: key))
            }
            #expect(Int64(forks.count) <= agent.metrics.counters.treeHeadForks)

            // One ledger alone never trips it.
            #expect(rig.receiver.snapshot.ledger.count == 500)
        }

        /// The check itself, on the store: a head that differs from the one kept for its height is
        /// refused, its receipts leave the records in the outbox, and both heads are kept.
        @Test func aReceiptUnderAForkedHeadLeavesItsRecordInTheOutbox() async throws {
            let rig = try await DeliveryRig.start()
            defer { rig.stop() }
            rig.receiver.setAnswering(false)
            try rig.fixture.appendLines(simulatedLines(20))
            let agent = try rig.startAgent()
            defer { agent.shutdown() }
            let published = try await waitUntil(timeout: .seconds(30)) { rig.receiver.snapshot.ledger.count == 20 }
            try #require(published)
            // The same records under one header per height, then the same height signed again with another.
            let ids = rig.receiver.snapshot.ledger
            let key = rig.receiver.authority.publicKey
            let honest = try rig.receiver.receiptBatch(for: ids, time: Timestamp(milliseconds: 1_000))
            let other = try rig.receiver.receiptBatch(for: ids, time: Timestamp(milliseconds: 2_000))
            let first = try agent.store.apply(Array(honest.receipts.prefix(10)).batch, authority: key)
            #expect(first.receipted == 10 && first.forkedHeights.isEmpty)
            let second = try agent.store.apply(Array(other.receipts.suffix(10)).batch, authority: key)
            #expect(second.receipted == 0 && second.invalid == 10)
            #expect(second.forkedHeights == [honest.receipts[0].treeHead.value.height])
            #expect(second.invalidReasons.allSatisfy { $0.contains("FORK") }, "\(second.invalidReasons)")
            #expect(try agent.store.statistics().outboxDepth == 10)
            let forks = try agent.store.treeHeadForks()
            #expect(forks.count == 1)
            #expect(forks.first?.kept == Canonical.encode(honest.receipts[0].treeHead))
            #expect(forks.first?.shown == Canonical.encode(other.receipts[0].treeHead))
        }
    }
}

extension Array where Element == Receipt {
    /// These receipts as a batch with no rejections.
    var batch: ReceiptBatch { ReceiptBatch(receipts: self, rejections: []) }
}
