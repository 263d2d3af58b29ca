import AgriTraceCore
import Crypto
import Foundation
import MQTTClient
import Synchronization

/// A stand-in for the aggregator in tests: takes record batches from the real broker,
/// checks the device signature, appends each new record id once to a Merkle log and
/// answers with a signed `ReceiptBatch` holding real inclusion proofs.
final class TestReceiver: Sendable {
    struct State {
        var log = MerkleLog()
        var leafIndex: [RecordID: Int] = [:]
        var bodies: [RecordID: [UInt8]] = [:]
        /// Record ids in ledger order.
        var ledger: [RecordID] = []
        /// (device, sequence) in ledger order.
        var ledgerSequences: [(String, UInt64)] = []
        var nextExpected: [String: UInt64] = [:]
        var batches = 0
        var recordsSeen = 0
        var duplicates = 0
        /// Same id, different content: a reused sequence number.
        var conflicts = 0
        var badSignatures = 0
        var height: UInt64 = 0
        var answering = true
        /// Sequences to refuse with a `Rejection` instead of appending.
        var refuse: Set<UInt64> = []
    }

    let authority: Curve25519.Signing.PrivateKey
    let client: MQTTClient
    let deviceKeys: [String: Curve25519.Signing.PublicKey]
    /// Append only the next expected sequence of each device (drop later ones unanswered).
    let enforceOrder: Bool
    let state = Mutex(State())

    var authorityHex: String { authority.publicKey.hex }

    /// A receiver signing with `authority` (a new key by default; a second receiver given the
    /// first one's key is a second ledger signing with the same key: a fork).
    init(
        port: Int32, deviceKeys: [String: Curve25519.Signing.PublicKey], enforceOrder: Bool = false,
        authority: Curve25519.Signing.PrivateKey = .init()
    ) throws {
        self.authority = authority
        self.deviceKeys = deviceKeys
        self.enforceOrder = enforceOrder
        client = try MQTTClient(
            clientID: "test-receiver-\(UInt32.random(in: 0...UInt32.max))",
            options: .init(
                host: "127.0.0.1", port: port,
                reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 1, exponentialBackoff: false)))
    }

    func start() async throws {
        try client.subscribe(topic: Wire.allRecordsFilter, qos: .atLeastOnce)
        let messages = client.messages, events = client.events, deliveries = client.deliveries
        Task.detached { [self] in
            for await message in messages { handle(message) }
        }
        Task.detached { for await _ in deliveries {} }
        let subscribed = Mutex(false)
        Task.detached {
            for await event in events {
                if case .subscribed = event { subscribed.withLock { $0 = true } }
            }
        }
        try client.connect()
        let deadline = ContinuousClock.now + .seconds(10)
        while !subscribed.withLock({ $0 }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() { client.disconnect() }

    /// Stop or resume answering (records are still logged).
    func setAnswering(_ answering: Bool) { state.withLock { $0.answering = answering } }

    /// Refuse these sequence numbers (answer with a rejection naming the record).
    func refuse(_ sequences: Set<UInt64>) { state.withLock { $0.refuse = sequences } }

    var snapshot: State { state.withLock { $0 } }

    /// Receipts for `ids` (records on this receiver's log) under one header for the next height
    /// over the whole log, made at `time`, without answering or moving on: two calls with other
    /// times sign two different headers for one height, as a forked ledger would.
    func receiptBatch(for ids: [RecordID], time: Timestamp) throws -> ReceiptBatch {
        try state.withLock { state in
            let (height, size) = (state.height + 1, state.log.size)
            let header = BlockHeader(
                height: height, previousHash: .zero, transactionRoot: .zero, transactionCount: UInt32(ids.count),
                logSize: size, logRoot: state.log.root, time: time, proposer: "test-receiver")
            let head = try Signed(header, domain: .blockHeader, key: authority)
            let receipts = try ids.map { id in
                let index = UInt64(state.leafIndex[id]!)
                return Receipt(
                    recordID: id, height: height, leafIndex: index,
                    inclusionProof: try state.log.inclusionProof(index: index, size: size), treeHead: head)
            }
            return ReceiptBatch(receipts: receipts, rejections: [])
        }
    }

    func handle(_ message: MQTTMessage) {
        guard let (enterprise, device) = Wire.parseDeviceTopic(message.topic) else { return }
        let deviceKey = "\(enterprise)/\(device)"
        guard let signed = try? Canonical.decode(Signed<RecordBatch>.self, from: message.payload),
            let key = deviceKeys[deviceKey], signed.isValid(domain: .recordBatch, key: key),
            signed.value.enterprise == enterprise, signed.value.device == device
        else {
            state.withLock { $0.badSignatures += 1 }
            return
        }
        let answer: ReceiptBatch? = state.withLock { state in
            state.batches += 1
            var indices: [(Record, Int)] = []
            var rejections: [Rejection] = []
            for record in signed.value.records {
                state.recordsSeen += 1
                if state.refuse.contains(record.sequence) {
                    rejections.append(
                        Rejection(
                            recordID: record.id, code: .other("test-refused"), reason: "refused by the test receiver"))
                    continue
                }
                let body = Canonical.encode(record)
                if let index = state.leafIndex[record.id] {
                    state.duplicates += 1
                    if state.bodies[record.id] != body { state.conflicts += 1 }
                    indices.append((record, index))
                    continue
                }
                if enforceOrder {
                    let expected = state.nextExpected[deviceKey] ?? 0
                    guard record.sequence == expected else { continue }
                    state.nextExpected[deviceKey] = expected + 1
                }
                let index = Int(state.log.size)
                state.log.append(LogEntry.record(record).leafHash)
                state.leafIndex[record.id] = index
                state.bodies[record.id] = body
                state.ledger.append(record.id)
                state.ledgerSequences.append((deviceKey, record.sequence))
                indices.append((record, index))
            }
            guard state.answering, !indices.isEmpty || !rejections.isEmpty else { return nil }
            state.height += 1
            let size = state.log.size
            let header = BlockHeader(
                height: state.height, previousHash: .zero, transactionRoot: .zero,
                transactionCount: UInt32(indices.count),
                logSize: size, logRoot: state.log.root, time: .now(), proposer: "test-receiver")
            guard let head = try? Signed(header, domain: .blockHeader, key: authority) else { return nil }
            guard
                let receipts = try? indices.map({ record, index in
                    Receipt(
                        recordID: record.id, height: state.height, leafIndex: UInt64(index),
                        inclusionProof: try state.log.inclusionProof(index: UInt64(index), size: size), treeHead: head)
                })
            else { return nil }
            return ReceiptBatch(receipts: receipts, rejections: rejections)
        }
        guard let answer, let signedAnswer = try? Signed(answer, domain: .receiptBatch, key: authority) else { return }
        _ = try? client.publish(
            topic: Wire.receiptTopic(enterprise: enterprise, device: device), payload: Canonical.encode(signedAnswer),
            qos: .atLeastOnce)
    }
}
