import AgriTraceCore
import Crypto
import Ingest
import Ledger
import SQLiteStorage
import Testing

@Suite struct LedgerTests {
    @Test func receiptsVerifyAgainstTheSignedTreeHead() throws {
        var fixture = try LedgerFixture()
        let records = fixture.device.records(150, lot: "PL-1")
        let answer = try #require(
            fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(records)))
        #expect(!answer.isReady, "receipts must wait for the block")
        #expect(answer.rejections.isEmpty)
        let committed = try #require(try fixture.ledger.cutBlock())
        #expect(committed.block.header.value.height == 2)
        #expect(committed.block.header.value.transactionCount == 150)
        #expect(committed.block.header.value.logSize == 151)
        let receipts = try #require(committed.answers.first).receipts
        #expect(receipts.count == 150)
        for (record, receipt) in zip(records, receipts) {
            #expect(receipt.recordID == record.id)
            try receipt.verify(
                leafEntry: LogEntry.record(record).canonicalBytes, authority: fixture.authority.publicKey)
        }
        // A receipt does not verify for another record, nor under another key.
        #expect(throws: (any Error).self) {
            try receipts[0].verify(
                leafEntry: LogEntry.record(records[1]).canonicalBytes, authority: fixture.authority.publicKey)
        }
        #expect(throws: (any Error).self) {
            try receipts[0].verify(
                leafEntry: LogEntry.record(records[0]).canonicalBytes,
                authority: Curve25519.Signing.PrivateKey().publicKey)
        }
    }

    @Test func resentRecordGetsItsOriginalReceiptAndIsStoredOnce() throws {
        var fixture = try LedgerFixture()
        let records = fixture.device.records(10, lot: "PL-1")
        _ = fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(records))
        let original = try #require(try fixture.ledger.cutBlock()).answers[0].receipts
        _ = fixture.ledger.admit(
            topic: fixture.device.recordTopic, payload: fixture.device.payload(fixture.device.records(5, lot: "PL-2")))
        try fixture.ledger.cutBlock()
        // Resend the first batch plus one new record, and the same new record twice within the batch window.
        let extra = fixture.device.record(lot: "PL-3")
        let answer = try #require(
            fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(records + [extra])))
        #expect(answer.receipts == original, "already-committed records get their original receipts")
        _ = fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload([extra]))
        #expect(fixture.ledger.pendingCount == 1, "a duplicate within the pending block is not appended twice")
        let committed = try #require(try fixture.ledger.cutBlock())
        #expect(committed.block.header.value.transactionCount == 1)
        #expect(committed.answers.count == 2)
        #expect(committed.answers[1].receipts == [committed.answers[0].receipts.last!])
        let status = try LedgerQueries(store: fixture.ledger.store).status()
        #expect(status.records == 16)
        #expect(status.counters["duplicates"] == 11)
    }

    @Test func lookupsSeeBlocksCommittedAfterAnEarlierHit() throws {
        // The de-duplication look-ups use a second, read-only connection: a statement left
        // open after a hit would pin an old snapshot and let a later resend be appended twice.
        var fixture = try LedgerFixture()
        let first = fixture.device.records(3, lot: "PL-1")
        _ = fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(first))
        try fixture.ledger.cutBlock()
        #expect(
            fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(first))?.receipts
                .count == 3)
        let later = fixture.device.records(2, lot: "PL-2")
        _ = fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(later))
        try fixture.ledger.cutBlock()
        let again = try #require(
            fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(later)))
        #expect(again.isReady && again.receipts.count == 2, "records of the newer block are found")
        #expect(fixture.ledger.pendingCount == 0)
    }

    @Test func admissionGoesOnWhileABlockIsWrittenAndAFailedWriteLosesNothing() throws {
        var fixture = try LedgerFixture()
        let ledger = fixture.ledger
        let a = fixture.device.records(4, lot: "PL-1")
        _ = ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(a))
        let prepared = try #require(try ledger.prepareBlock())
        #expect(ledger.isWriting)
        // While block 2 is being written: a resend of one of its records and new records.
        let b = fixture.device.records(3, lot: "PL-2")
        let resend = try #require(
            ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload([a[1]] + b)))
        #expect(!resend.isReady)
        #expect(ledger.pendingCount == 3)
        // The write fails (e.g. disk full): everything goes back to pending, nothing is released.
        ledger.abandonBlock(prepared)
        #expect(!ledger.isWriting)
        #expect(ledger.pendingCount == 7)
        let committed = try #require(try ledger.cutBlock())
        #expect(committed.block.header.value.height == 2)
        #expect(committed.block.header.value.transactionCount == 7)
        let receipts = committed.answers.flatMap(\.receipts)
        #expect(receipts.count == 4 + 4)
        #expect(Set(receipts.map(\.recordID)) == Set((a + b).map(\.id)))
        for answer in committed.answers {
            for receipt in answer.receipts {
                let record = (a + b).first { $0.id == receipt.recordID }!
                try receipt.verify(
                    leafEntry: LogEntry.record(record).canonicalBytes, authority: fixture.authority.publicKey)
            }
        }
        // And the pipelined path: prepare, write, then finish with an answer that waited on it.
        let c = fixture.device.records(2, lot: "PL-3")
        _ = ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(c))
        let next = try #require(try ledger.prepareBlock())
        let waiting = try #require(
            ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload([c[0]])))
        #expect(!waiting.isReady)
        try Ledger.write(next, to: ledger.store)
        let done = try ledger.finishBlock(next)
        #expect(done.answers.count == 2, "the answer that waited on the block in flight completes with it")
        #expect(done.answers[1].receipts == [done.answers[0].receipts[0]])
        #expect(try LedgerVerifier.verify(store: ledger.store, authority: fixture.authority.publicKey).ok)
    }

    @Test func badInputIsRefusedWithAReason() throws {
        var fixture = try LedgerFixture()
        let ledger = fixture.ledger
        func codes(_ topic: String, _ payload: [UInt8]) -> [RejectionCode] {
            ledger.admit(topic: topic, payload: payload)?.rejections.map(\.code) ?? [.other("<no answer>")]
        }
        let good = fixture.device.records(2, lot: "PL-1")
        // Malformed and truncated payloads.
        #expect(codes(fixture.device.recordTopic, [1, 2, 3]) == [.malformed])
        let payload = fixture.device.payload(good)
        #expect(codes(fixture.device.recordTopic, Array(payload.dropLast(5))) == [.malformed])
        // Unknown device.
        var stranger = TestDevice(enterprise: "farm-1", device: "box-9")
        #expect(codes(stranger.recordTopic, stranger.payload(stranger.records(1, lot: "PL-1"))) == [.unknownDevice])
        // Bad signature: signed by another key.
        let impostor = TestDevice(enterprise: "farm-1", device: "box-1")
        #expect(codes(fixture.device.recordTopic, impostor.payload(good)) == [.badSignature])
        // Tampered after signing.
        var tampered = fixture.device.batch(good)
        tampered.value.records[0].lot = "PL-666"
        #expect(codes(fixture.device.recordTopic, Canonical.encode(tampered)) == [.badSignature])
        // Published on another device's topic.
        #expect(codes(Wire.recordTopic(enterprise: "farm-1", device: "box-2"), payload) == [.topicMismatch])
        // A record of another device inside a correctly signed batch.
        var foreign = stranger.record(lot: "PL-1")
        foreign.enterprise = "farm-1"
        let mixed = codes(fixture.device.recordTopic, fixture.device.payload([good[0], foreign]))
        #expect(mixed == [.recordMismatch])
        // A record id not derived from its sequence.
        var forged = fixture.device.record(lot: "PL-1")
        forged.sequence += 1000
        #expect(codes(fixture.device.recordTopic, fixture.device.payload([forged])) == [.badRecordID])
        try ledger.cutBlock()
        // Same id, other content (a replay with changed data).
        var changed = good[0]
        changed.lot = "PL-OTHER"
        #expect(codes(fixture.device.recordTopic, fixture.device.payload([changed])) == [.conflictingDuplicate])
        // Revoked device.
        try ledger.admit(registry: fixture.device.revocation(authority: fixture.authority))
        try ledger.cutBlock()
        #expect(
            codes(fixture.device.recordTopic, fixture.device.payload(fixture.device.records(1, lot: "PL-1"))) == [
                .revokedDevice
            ])
        try ledger.cutBlock()  // flushes the counters
        let counters = try LedgerQueries(store: ledger.store).status().counters
        #expect(counters["rejected.malformed"] == 2)
        #expect(counters["rejected.bad-signature"] == 2)
        #expect(counters["rejected.revoked-device"] == 1)
        #expect(
            try LedgerQueries(store: ledger.store).status().records == 1,
            "only the good record of the mixed batch is on the ledger")
    }

    @Test func aRecordOfAnotherStageThanTheDevicesIsRefused() throws {
        var fixture = try LedgerFixture()  // box-1 is registered for planting
        var free = TestDevice(device: "box-any")  // registered without a stage
        try fixture.ledger.admit(registry: free.registration(authority: fixture.authority, stage: nil))
        try fixture.ledger.cutBlock()
        let planting = fixture.device.record(lot: "PL-1")
        let processing = fixture.device.record(lot: "PR-1", stage: .processing, inputs: ["PL-1"])
        let answer = try #require(
            fixture.ledger.admit(
                topic: fixture.device.recordTopic, payload: fixture.device.payload([planting, processing])))
        #expect(answer.rejections.map(\.code) == [.wrongStage])
        #expect(answer.rejections.first?.recordID == processing.id)
        #expect(answer.rejections.first?.reason.contains("registered for planting") == true)
        // A device registered without a stage may send any stage.
        let anyStage = free.record(lot: "WH-1", stage: .warehousing)
        #expect(
            fixture.ledger.admit(topic: free.recordTopic, payload: free.payload([anyStage]))?.rejections.isEmpty == true
        )
        try fixture.ledger.cutBlock()
        let status = try LedgerQueries(store: fixture.ledger.store).status()
        #expect(status.records == 2, "the planting record and the unrestricted device's record")
        #expect(status.counters["rejected.wrong-stage"] == 1)
        #expect(try LedgerQueries(store: fixture.ledger.store).trace(lot: "PR-1").isEmpty)
        #expect(try StateReplay.replay(store: fixture.ledger.store, authority: fixture.authority.publicKey).ok)
    }

    @Test func registryTransactionsMustBeSignedByTheAuthority() throws {
        let fixture = try LedgerFixture()
        let other = TestDevice(device: "box-2")
        #expect(throws: ContractViolation.self) {
            try fixture.ledger.admit(registry: other.registration(authority: Curve25519.Signing.PrivateKey()))
        }
        #expect(throws: ContractViolation.self) {
            try fixture.ledger.admit(registry: fixture.device.registration(authority: fixture.authority))  // already registered
        }
    }

    @Test func reopenedLedgerContinuesTheSameLogAndVerifies() throws {
        var fixture = try LedgerFixture()
        for lot in ["PL-1", "PL-2", "PL-3"] {
            _ = fixture.ledger.admit(
                topic: fixture.device.recordTopic, payload: fixture.device.payload(fixture.device.records(37, lot: lot))
            )
            try fixture.ledger.cutBlock()
        }
        let rootBefore = fixture.ledger.frontier.root
        let reopened = try Ledger(
            path: fixture.path, authority: fixture.authority, configuration: .init(synchronous: .normal))
        #expect(reopened.frontier.root == rootBefore)
        #expect(reopened.latestBlock == fixture.ledger.latestBlock)
        _ = reopened.admit(
            topic: fixture.device.recordTopic, payload: fixture.device.payload(fixture.device.records(5, lot: "PL-4")))
        let block = try #require(try reopened.cutBlock())
        #expect(block.block.header.value.height == 5)
        #expect(block.block.header.value.previousHash == fixture.ledger.latestBlock!.hash)
        let report = try LedgerVerifier.verify(store: reopened.store, authority: fixture.authority.publicKey)
        #expect(report.ok, "\(report.fault ?? "")")
        #expect(report.blocks == 5)
        #expect(report.leaves == 1 + 3 * 37 + 5)
        // A store refuses another authority key.
        #expect(throws: LedgerStoreError.self) {
            try Ledger(path: fixture.path, authority: Curve25519.Signing.PrivateKey())
        }
    }

    @Test func traceFollowsLotLinksBothWays() throws {
        var fixture = try LedgerFixture()
        var processor = TestDevice(enterprise: "proc-1", device: "line-1")
        try fixture.ledger.admit(registry: processor.registration(authority: fixture.authority, stage: .processing))
        try fixture.ledger.cutBlock()
        let seed = fixture.device.record(lot: "PL-1", time: 1000)
        let harvest = fixture.device.record(lot: "PL-1", time: 2000)
        let other = fixture.device.record(lot: "PL-9", time: 1500)
        let processed = processor.record(lot: "PR-1", stage: .processing, inputs: ["PL-1", "PL-9"], time: 3000)
        _ = fixture.ledger.admit(
            topic: fixture.device.recordTopic, payload: fixture.device.payload([harvest, seed, other]))
        _ = fixture.ledger.admit(topic: processor.recordTopic, payload: processor.payload([processed]))
        try fixture.ledger.cutBlock()
        let queries = LedgerQueries(store: fixture.ledger.store)
        #expect(try queries.trace(lot: "PL-1").map(\.record.id) == [seed.id, harvest.id], "time order")
        #expect(
            try queries.trace(lot: "PR-1", direction: .backward).map(\.record.id) == [
                seed.id, other.id, harvest.id, processed.id,
            ])
        #expect(
            try queries.trace(lot: "PL-1", direction: .forward).map(\.record.id) == [seed.id, harvest.id, processed.id])
        #expect(try queries.trace(lot: "PR-1").count == 1)
    }

    @Test func replayRebuildsTheStoredStateAndFindsATamperedStateRow() throws {
        var fixture = try LedgerFixture()
        var second = TestDevice(device: "box-2")
        try fixture.ledger.admit(registry: second.registration(authority: fixture.authority, stage: .processing))
        _ = fixture.ledger.admit(
            topic: fixture.device.recordTopic, payload: fixture.device.payload(fixture.device.records(20, lot: "PL-1")))
        try fixture.ledger.cutBlock()
        _ = fixture.ledger.admit(
            topic: second.recordTopic,
            payload: second.payload([second.record(lot: "PR-1", stage: .processing, inputs: ["PL-1"])]))
        try fixture.ledger.admit(registry: second.revocation(authority: fixture.authority))
        try fixture.ledger.cutBlock()
        let clean = try StateReplay.replay(store: fixture.ledger.store, authority: fixture.authority.publicKey)
        #expect(clean.ok, "\(clean.differences)")
        #expect(clean.rows["records"] == 21)
        #expect(clean.rows["lot_links"] == 1)
        #expect(clean.rows["devices"] == 2)
        try fixture.ledger.store.db.execute("UPDATE records SET lot = 'PL-FORGED' WHERE leaf_index = 5")
        let tampered = try StateReplay.replay(store: fixture.ledger.store, authority: fixture.authority.publicKey)
        #expect(!tampered.ok)
        #expect(tampered.differences.first?.contains("records") == true)
        #expect(tampered.differences.first?.contains("PL-FORGED") == true)
    }
}

@Suite struct RecordQueryTests {
    @Test func recordsByEnterpriseStageProductAndTimeWindow() throws {
        var fixture = try LedgerFixture()  // farm-1/box-1, planting
        var processor = TestDevice(enterprise: "proc-1", device: "line-1")
        try fixture.ledger.admit(registry: processor.registration(authority: fixture.authority, stage: .processing))
        try fixture.ledger.cutBlock()
        let planted = (0..<5).map { fixture.device.record(lot: "PL-\($0)", time: 1_000 + Int64($0)) }
        let processed = (0..<3).map {
            processor.record(lot: "PR-\($0)", stage: .processing, inputs: ["PL-\($0)"], time: 2_000 + Int64($0))
        }
        _ = fixture.ledger.admit(topic: fixture.device.recordTopic, payload: fixture.device.payload(planted))
        _ = fixture.ledger.admit(topic: processor.recordTopic, payload: processor.payload(processed))
        try fixture.ledger.cutBlock()
        let queries = LedgerQueries(store: fixture.ledger.store)
        func lots(_ filter: LedgerQueries.RecordFilter) throws -> [String] {
            try queries.records(filter).map(\.record.lot)
        }
        #expect(try lots(.init(enterprise: "farm-1")) == ["PL-0", "PL-1", "PL-2", "PL-3", "PL-4"])
        #expect(try lots(.init(stage: .processing)) == ["PR-0", "PR-1", "PR-2"])
        #expect(try lots(.init(enterprise: "proc-1", stage: .planting)).isEmpty)
        #expect(try lots(.init(product: "fresh corn", limit: 3)) == ["PL-0", "PL-1", "PL-2"])
        #expect(try lots(.init(product: "rice")).isEmpty)
        #expect(
            try lots(.init(since: Timestamp(milliseconds: 1_003), until: Timestamp(milliseconds: 2_001)))
                == ["PL-3", "PL-4", "PR-0"])
        let first = try #require(try queries.records(.init(enterprise: "proc-1", limit: 1)).first)
        #expect(first.record.inputLots == ["PL-0"] && first.height == 3)  // 1, 2: registrations
    }
}
