import AgriTraceCore
import Crypto
import Foundation
import MQTTClient
import Synchronization

/// An append-only RFC 9162 log that keeps the hashes of its perfect subtrees, so roots and
/// inclusion proofs cost O(log² n) instead of O(n).
struct IncrementalMerkleLog {
    /// levels[k][j]: the hash of the perfect subtree of 2^k leaves starting at leaf j·2^k.
    var levels: [[Digest32]] = [[]]

    var size: Int { levels[0].count }

    mutating func append(_ leafHash: Digest32) {
        levels[0].append(leafHash)
        var k = 0
        while levels[k].count % 2 == 0 {
            let n = levels[k].count
            let parent = MerkleTree.nodeHash(levels[k][n - 2], levels[k][n - 1])
            if levels.count == k + 1 { levels.append([]) }
            levels[k + 1].append(parent)
            k += 1
        }
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    func root(_ lo: Int, _ hi: Int) -> Digest32 {
        let n = hi - lo
        if n == 0 { return MerkleTree.emptyRoot }
        if n & (n - 1) == 0, lo % n == 0 {
            let level = n.trailingZeroBitCount
            return levels[level][lo / n]
        }
        let k = Self.largestPowerOfTwo(below: n)
        return MerkleTree.nodeHash(root(lo, lo + k), root(lo + k, hi))
    }

    var root: Digest32 { root(0, size) }

    func proof(index: Int, size treeSize: Int) -> [Digest32] {
        func path(_ m: Int, _ lo: Int, _ hi: Int) -> [Digest32] {
            let n = hi - lo
            if n <= 1 { return [] }
            let k = Self.largestPowerOfTwo(below: n)
            if m < k { return path(m, lo, lo + k) + [root(lo + k, hi)] }
            return path(m - k, lo + k, hi) + [root(lo, lo + k)]
        }
        return path(index, 0, treeSize)
    }
}

/// A stand-in for the aggregator in tests: takes record batches from the real broker,
/// checks the device signature, appends each new record id once to a Merkle log and
/// answers with a signed `ReceiptBatch` holding real inclusion proofs.
final class TestReceiver: Sendable {
    struct State {
        var log = IncrementalMerkleLog()
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

    let authority = Curve25519.Signing.PrivateKey()
    let client: MQTTClient
    let deviceKeys: [String: Curve25519.Signing.PublicKey]
    /// Append only the next expected sequence of each device (drop later ones unanswered).
    let enforceOrder: Bool
    let state = Mutex(State())

    var authorityHex: String { authority.publicKey.hex }

    init(port: Int32, deviceKeys: [String: Curve25519.Signing.PublicKey], enforceOrder: Bool = false) throws {
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
                        Rejection(recordID: record.id, code: "test-refused", reason: "refused by the test receiver"))
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
                let index = state.log.size
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
                logSize: UInt64(size), logRoot: state.log.root, time: .now(), proposer: "test-receiver")
            guard let head = try? Signed(header, domain: .blockHeader, key: authority) else { return nil }
            let receipts = indices.map { record, index in
                Receipt(
                    recordID: record.id, height: state.height, leafIndex: UInt64(index),
                    inclusionProof: state.log.proof(index: index, size: size), treeHead: head)
            }
            return ReceiptBatch(receipts: receipts, rejections: rejections)
        }
        guard let answer, let signedAnswer = try? Signed(answer, domain: .receiptBatch, key: authority) else { return }
        _ = try? client.publish(
            topic: Wire.receiptTopic(enterprise: enterprise, device: device), payload: Canonical.encode(signedAnswer),
            qos: .atLeastOnce)
    }
}
