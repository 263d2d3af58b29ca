import AgriTraceCore
import Crypto
import Foundation
import Ingest
import Ledger
import MQTTClient
import TestSupport
import Testing

/// A device-side MQTT client that collects what arrives on its receipt topics.
struct ReceiptListener {
    let client: MQTTClient
    let messages: Collector<MQTTMessage>
    let deliveries: Collector<MQTTDelivery>
    let events: Collector<MQTTConnectionEvent>

    init(_ id: String, port: Int32, topics: [String]) async throws {
        client = try MQTTClient(
            clientID: id,
            options: .init(
                port: port, reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 1, exponentialBackoff: false)))
        messages = Collector(client.messages)
        deliveries = Collector(client.deliveries)
        events = Collector(client.events)
        for topic in topics { try client.subscribe(topic: topic, qos: .atLeastOnce) }
        try client.connect()
        let expected = topics.count
        let events = self.events
        #expect(
            await eventually {
                events.values.filter { if case .subscribed = $0 { true } else { false } }.count >= expected
            })
    }

    /// Every receipt batch received on `topic`, checked against the authority key.
    func batches(on topic: String, authority: Curve25519.Signing.PublicKey) throws -> [ReceiptBatch] {
        try messages.values.filter { $0.topic == topic }.map { try decodeReceipts($0.payload, authority: authority) }
    }
}

func waitForSubmission(_ store: LedgerStore, _ id: Int64, timeout: Duration = .seconds(10)) async throws -> String {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let status = try store.submissionStatus(id).status.rawValue
        if status != "pending" { return status }
        try await Task.sleep(for: .milliseconds(20))
    }
    return "pending"
}

@Suite("Ingest over a real mosquitto", .serialized, .timeLimit(.minutes(2)))
struct IngestTests {
    @Test func aBurstFarLargerThanTheQueueIsHeldBackAndCommittedExactlyOnce() async throws {
        let broker = try await TestBroker.start(extraConfiguration: "max_queued_messages 100000")
        defer { broker.kill() }
        let directory = try TemporaryDirectory(prefix: "agritrace-ingest-burst")
        let path = directory.file("ledger.sqlite")
        let authority = Curve25519.Signing.PrivateKey()
        var device = TestDevice()
        do {
            let ledger = try Ledger(path: path, authority: authority)
            try ledger.admit(registry: device.registration(authority: authority))
            try ledger.cutBlock()
        }
        let bound = 4
        let service = try IngestService(
            storePath: path, authority: authority,
            ledger: .init(maxBlockTransactions: 100, maxBlockDelay: .milliseconds(20), synchronous: .full),
            ingest: .init(
                broker: .init(port: broker.port), clientID: "aggregator-burst", maxQueuedBatches: bound,
                maxPendingTransactions: 200))
        let serving = Task { try await service.run() }
        defer { serving.cancel() }
        // The service claims its share group (1.5 s) before it subscribes: publish after that.
        #expect(await eventually { service.observer.isRunning })
        let listener = try await ReceiptListener("box-1", port: broker.port, topics: [device.receiptTopic])
        defer { listener.client.disconnect() }
        // 400 batches of 10 records at once: a hundred times the queue's bound.
        var published: [RecordID] = []
        var payloads: [[UInt8]] = []
        for _ in 0..<400 {
            let records = device.records(10, lot: "BURST")
            published += records.map(\.id)
            payloads.append(device.payload(records))
        }
        // Every one published twice: a resend is receipted again but committed once.
        for payload in payloads + payloads.prefix(50) {
            try listener.client.publish(topic: device.recordTopic, payload: payload)
        }
        var deepest = 0
        let allReceipted = await eventually(timeout: .seconds(90)) {
            deepest = max(deepest, service.queueDepth)
            let receipted = Set(
                listener.messages.values.compactMap { try? decodeReceipts($0.payload, authority: authority.publicKey) }
                    .flatMap { $0.receipts.map(\.recordID) })
            return receipted.count == published.count
        }
        #expect(allReceipted, "every record receipted")
        // The queue filled up to its bound (the network thread waited) and never past it.
        #expect(service.queueHighWater == bound)
        #expect(service.queueFullWaits >= 1)
        #expect(deepest <= bound + 2)
        let rejections = listener.messages.values.compactMap {
            try? decodeReceipts($0.payload, authority: authority.publicKey)
        }.flatMap(\.rejections)
        #expect(rejections.isEmpty, "rejections: \(rejections.prefix(3))")
        // Committed exactly once: one row per record id, and the log verifies.
        serving.cancel()
        _ = try? await serving.value
        let store = try LedgerStore(path: path, readOnly: true)
        let count = try store.db.cachedStatement("SELECT COUNT(*), COUNT(DISTINCT record_id) FROM records")
        #expect(try count.step())
        #expect(count.int64(at: 0) == Int64(published.count))
        #expect(count.int64(at: 1) == Int64(published.count))
        let report = try LedgerVerifier.verify(store: store, authority: authority.publicKey)
        #expect(report.ok, "\(report.fault ?? "")")
        #expect(report.leaves == UInt64(published.count) + 1)
    }

    @Test func batchesBecomeBlocksWithVerifiableReceiptsAndBadInputIsRefusedOnTheReceiptTopic() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let directory = try TemporaryDirectory(prefix: "agritrace-ingest")
        let path = directory.file("ledger.sqlite")
        let authority = Curve25519.Signing.PrivateKey()
        var device = TestDevice()
        let stranger = TestDevice(enterprise: "farm-1", device: "box-9")
        let service = try IngestService(
            storePath: path, authority: authority,
            ledger: .init(maxBlockTransactions: 1000, maxBlockDelay: .milliseconds(50), synchronous: .normal),
            ingest: .init(
                broker: .init(port: broker.port), clientID: "aggregator-test", submissionPollInterval: .milliseconds(50)
            ))
        let serving = Task { try await service.run() }
        defer { serving.cancel() }
        // Register the device through the CLI's submission queue.
        let cli = try LedgerStore(path: path)
        let submission = try cli.submit(device.registration(authority: authority))
        #expect(try await waitForSubmission(cli, submission) == "applied")

        let listener = try await ReceiptListener(
            "box-1", port: broker.port, topics: [device.receiptTopic, stranger.receiptTopic])
        defer { listener.client.disconnect() }
        let records = device.records(250, lot: "PL-1")
        try listener.client.publish(topic: device.recordTopic, payload: device.payload(Array(records[0..<100])))
        try listener.client.publish(topic: device.recordTopic, payload: device.payload(Array(records[100...])))
        try listener.client.publish(topic: device.recordTopic, payload: [0xde, 0xad])
        try listener.client.publish(
            topic: device.recordTopic,
            payload: TestDevice(enterprise: "farm-1", device: "box-1").payload(device.records(3, lot: "PL-1")))
        var strangerCopy = stranger
        try listener.client.publish(
            topic: stranger.recordTopic, payload: stranger.payload([strangerCopy.record(lot: "X")]))
        #expect(
            await eventually { listener.messages.count >= 5 }, "receipt batches arrived: \(listener.messages.count)")

        let answers = try listener.batches(on: device.receiptTopic, authority: authority.publicKey)
        let receipts = answers.flatMap(\.receipts)
        #expect(receipts.count == 250)
        let byID = Dictionary(uniqueKeysWithValues: receipts.map { ($0.recordID, $0) })
        for record in records {
            let receipt = try #require(byID[record.id])
            try receipt.verify(leafEntry: LogEntry.record(record).canonicalBytes, authority: authority.publicKey)
        }
        #expect(Set(answers.flatMap(\.rejections).map(\.code)) == [.malformed, .badSignature])
        let strangerAnswers = try listener.batches(on: stranger.receiptTopic, authority: authority.publicKey)
        #expect(strangerAnswers.flatMap(\.rejections).map(\.code) == [.unknownDevice])

        // A resent batch gets the original receipts again, and nothing is appended twice.
        let before = listener.messages.count
        try listener.client.publish(topic: device.recordTopic, payload: device.payload(Array(records[0..<100])))
        #expect(await eventually { listener.messages.count > before })
        let again = try decodeReceipts(listener.messages.values.last!.payload, authority: authority.publicKey)
        #expect(again.receipts == Array(receipts.filter { r in records[0..<100].contains { $0.id == r.recordID } }))
        serving.cancel()
        _ = try? await serving.value
        let reader = try LedgerStore(path: path, readOnly: true)
        let status = try LedgerQueries(store: reader).status()
        #expect(status.records == 250)
        #expect(status.counters["rejected.malformed"] == 1)
        #expect(status.counters["rejected.bad-signature"] == 1)
        #expect(status.counters["rejected.unknown-device"] == 1)
        #expect(status.counters["duplicates"] == 100)
        #expect(try LedgerVerifier.verify(store: reader, authority: authority.publicKey).ok)
        #expect(try StateReplay.replay(store: reader, authority: authority.publicKey).ok)
    }
}
