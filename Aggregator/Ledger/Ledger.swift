import AgriTraceCore
import Crypto
import SQLiteStorage

/// How blocks are cut and signed.
public struct LedgerConfiguration: Sendable {
    /// Cut a block when this many transactions are pending (Fabric's MaxMessageCount). Default 10,000.
    public var maxBlockTransactions: Int
    /// Cut a block when the oldest pending transaction has waited this long (Fabric's BatchTimeout). Default 100 ms.
    public var maxBlockDelay: Duration
    /// The proposer id written in every block header. Default `"aggregator-1"`.
    public var proposer: String
    /// SQLite durability; `.full` (the default) fsyncs every block before receipts go out.
    public var synchronous: SQLiteConnection.Options.Synchronous

    public init(
        maxBlockTransactions: Int = 10_000, maxBlockDelay: Duration = .milliseconds(100),
        proposer: String = "aggregator-1", synchronous: SQLiteConnection.Options.Synchronous = .full
    ) {
        self.maxBlockTransactions = maxBlockTransactions
        self.maxBlockDelay = maxBlockDelay
        self.proposer = proposer
        self.synchronous = synchronous
    }
}

/// Where an admitted record batch stands: rejections and receipts known now, and
/// transactions that get their receipt when the block holding them is committed.
public struct PendingAnswer: Sendable {
    /// The device's receipt topic.
    public var topic: String
    public var receipts: [Receipt] = []
    public var rejections: [Rejection] = []
    /// Indexes into the ledger's pending transactions whose receipts are still due.
    var waiting: [Int] = []

    /// Whether the answer can go out without waiting for a block.
    public var isReady: Bool { waiting.isEmpty }

    public init(topic: String) { self.topic = topic }
}

/// A committed block and the receipts it answers.
public struct CommittedBlock: Sendable {
    public var block: StoredBlock
    /// The answers completed by this block, ready to sign and publish.
    public var answers: [PendingAnswer]
}

/// The ledger's writer: admits transactions, cuts them into signed blocks over one
/// append-only RFC 9162 log, applies the contracts, and produces receipts, all in one
/// SQLite transaction per block (durable before any receipt is released).
///
/// Not `Sendable`: owned by one actor (the ingest service) or one test.
public final class Ledger {
    public let store: LedgerStore
    public let configuration: LedgerConfiguration
    let authority: Curve25519.Signing.PrivateKey
    /// The authority's public key.
    public let authorityKey: Curve25519.Signing.PublicKey

    /// The log's right edge after the last committed block.
    public private(set) var frontier: LogFrontier
    /// The last committed block.
    public private(set) var latestBlock: StoredBlock?
    /// The registry including the effect of pending transactions.
    public private(set) var registry: RegistryState

    struct PendingTransaction {
        var entry: LogEntry
        var bytes: [UInt8]
        var leafHash: Digest32
        var recordID: RecordID?
        var submissionID: Int64?
    }

    var pending: [PendingTransaction] = []
    var pendingRecords: [RecordID: Int] = [:]
    var pendingAnswers: [PendingAnswer] = []
    var oldestPending: ContinuousClock.Instant?
    /// Counters not yet written to the store.
    public private(set) var counters: [String: Int] = [:]

    /// Opens (or creates) the store at `path` and recovers the log's state from it.
    public init(path: String, authority: Curve25519.Signing.PrivateKey, configuration: LedgerConfiguration = .init()) throws {
        let store = try LedgerStore(path: path, synchronous: configuration.synchronous)
        self.store = store
        self.configuration = configuration
        self.authority = authority
        self.authorityKey = authority.publicKey
        try store.db.transaction { try store.claimAuthority(authority.publicKey) }
        latestBlock = try store.latestBlock()
        var reader = store.nodeReader
        frontier = try LogFrontier(size: latestBlock?.header.value.logSize ?? 0, reader: &reader)
        registry = try Contracts.loadRegistry(from: store.db)
    }

    /// The number of transactions waiting for the next block.
    public var pendingCount: Int { pending.count }

    /// Whether a block is due: enough pending transactions, or the oldest waited long enough.
    public func isBlockDue(now: ContinuousClock.Instant = .now) -> Bool {
        guard let oldestPending else { return false }
        return pending.count >= configuration.maxBlockTransactions || now - oldestPending >= configuration.maxBlockDelay
    }

    func count(_ name: String, _ amount: Int = 1) { counters[name, default: 0] += amount }

    // MARK: Admission

    /// Admits one MQTT message from a device's record topic.
    ///
    /// Checks, in order: the payload decodes as a `Signed<RecordBatch>`; the topic names the
    /// batch's enterprise and device; the device is registered and active; the batch
    /// signature verifies under its key; then per record: it belongs to the device, its id
    /// is derived from its sequence, and a record id already on the ledger with the same
    /// content gets its original receipt again (with other content it is refused).
    /// - Returns: the answer; if ``PendingAnswer/isReady`` it can be published at once,
    ///   otherwise it is completed by a later ``cutBlock(now:)``.
    public func admit(topic: String, payload: [UInt8]) -> PendingAnswer? {
        count("batches-received")
        guard let (enterprise, device) = Wire.parseDeviceTopic(topic) else {
            count("rejected.bad-topic")
            return nil  // nowhere to answer
        }
        var answer = PendingAnswer(topic: Wire.receiptTopic(enterprise: enterprise, device: device))
        func refuse(_ code: String, _ reason: String, record: RecordID? = nil) {
            count("rejected.\(code)")
            answer.rejections.append(Rejection(recordID: record, code: code, reason: reason))
        }
        let batch: BatchPayload
        do {
            batch = try BatchPayload(payload)
        } catch {
            refuse("malformed", "the payload is not a canonical signed record batch (\(error)); publish Signed<RecordBatch> canonical bytes")
            return answer
        }
        guard batch.enterprise == enterprise, batch.device == device else {
            refuse("topic-mismatch", "the batch is from \(batch.enterprise)/\(batch.device) but was published on \(topic)")
            return answer
        }
        guard let registered = registry.device(enterprise: enterprise, device: device) else {
            refuse("unknown-device", "device \(enterprise)/\(device) is not registered; register it with `agritrace devices add`")
            return answer
        }
        guard registered.status == .active else {
            refuse("revoked-device", "device \(enterprise)/\(device) is revoked")
            return answer
        }
        guard batch.isValid(key: registered.publicKey) else {
            refuse("bad-signature", "the batch signature does not verify under the registered key of \(enterprise)/\(device)")
            return answer
        }
        for (position, record) in batch.records.enumerated() {
            guard record.enterprise == enterprise, record.device == device else {
                refuse("record-mismatch", "record \(record.id) names \(record.enterprise)/\(record.device), not the batch's device", record: record.id)
                continue
            }
            let entry = LogEntry.record(record)
            if let violation = Contracts.check(entry, registry: registry, authority: authorityKey) {
                refuse(violation.code, violation.reason, record: record.id)
                continue
            }
            let bytes = batch.entryBytes(position)
            let leafHash = MerkleTree.leafHash(bytes)
            if let index = pendingRecords[record.id] {
                guard pending[index].leafHash == leafHash else {
                    refuse("conflicting-duplicate", "record id \(record.id) is already pending with other content", record: record.id)
                    continue
                }
                count("duplicates")
                answer.waiting.append(index)
                continue
            }
            do {
                if let location = try store.location(of: record.id) {
                    guard let stored = try store.entry(leafIndex: location.leafIndex), stored.leafHash == leafHash else {
                        refuse("conflicting-duplicate", "record id \(record.id) is on the ledger with other content", record: record.id)
                        continue
                    }
                    count("duplicates")
                    answer.receipts.append(try receipt(for: record.id, at: location))
                    continue
                }
            } catch {
                refuse("internal", "the ledger could not look up record \(record.id): \(error); resend later", record: record.id)
                continue
            }
            pendingRecords[record.id] = pending.count
            answer.waiting.append(pending.count)
            appendPending(PendingTransaction(entry: entry, bytes: bytes, leafHash: leafHash, recordID: record.id))
        }
        count("records-received", batch.records.count)
        if !answer.isReady { pendingAnswers.append(answer) }
        return answer
    }

    func appendPending(_ transaction: PendingTransaction) {
        if pending.isEmpty { oldestPending = .now }
        pending.append(transaction)
    }

    /// Admits a registry transaction (from the CLI's submission queue or a test).
    /// - Throws: ``ContractViolation`` if the registry contract refuses it now.
    public func admit(registry signed: Signed<RegistryTransaction>, submissionID: Int64? = nil) throws {
        let entry = LogEntry.registry(signed)
        if let violation = Contracts.check(entry, registry: registry, authority: authorityKey) { throw violation }
        Contracts.apply(entry, to: &registry)
        let bytes = entry.canonicalBytes
        appendPending(PendingTransaction(entry: entry, bytes: bytes, leafHash: MerkleTree.leafHash(bytes), submissionID: submissionID))
    }

    /// Admits the registry transactions waiting in the store's submission queue
    /// (written by `agritrace devices add|revoke`); refused ones are marked with the reason.
    /// - Returns: how many were admitted.
    @discardableResult
    public func admitSubmissions() throws -> Int {
        let select = try store.db.cachedStatement("SELECT id, body FROM submissions WHERE status = 'pending' ORDER BY id")
        var rows: [(Int64, [UInt8])] = []
        let already = Set(pending.compactMap(\.submissionID))
        while try select.step() {
            let id = select.int64(at: 0)
            if !already.contains(id) { rows.append((id, select.bytes(at: 1) ?? [])) }
        }
        var admitted = 0
        for (id, body) in rows {
            do {
                let signed = try Canonical.decode(Signed<RegistryTransaction>.self, from: body)
                try admit(registry: signed, submissionID: id)
                admitted += 1
            } catch {
                let refuse = try store.db.cachedStatement("UPDATE submissions SET status = 'refused', reason = ? WHERE id = ?")
                try refuse.bind("\(error)", at: 1)
                try refuse.bind(id, at: 2)
                try refuse.run()
            }
        }
        return admitted
    }

    // MARK: Blocks

    /// Writes the pending transactions as the next block, signs its header, commits, and
    /// returns the receipts it completes. Nothing is released before the commit; if the
    /// commit fails the transactions stay pending and the error is thrown.
    /// - Returns: nil when nothing is pending.
    @discardableResult
    public func cutBlock(now: Timestamp = .now()) throws -> CommittedBlock? {
        guard !pending.isEmpty else {
            if !counters.isEmpty {
                try store.db.transaction { try store.addCounters(counters) }
                counters = [:]
            }
            return nil
        }
        let height = (latestBlock?.header.value.height ?? 0) + 1
        let firstLeaf = frontier.size
        var frontier = self.frontier
        var nodes = InMemoryLogNodes()
        for subtree in frontier.subtrees { nodes.nodes[subtree.position] = subtree.hash }
        let time = Timestamp(milliseconds: max(now.milliseconds, latestBlock?.header.value.time.milliseconds ?? 0))
        let db = store.db
        let block: StoredBlock = try db.transaction {
            var newNodes: [(LogNodePosition, Digest32)] = []
            for transaction in pending {
                let leafIndex = frontier.size
                frontier.append(transaction.leafHash) { position, hash in
                    nodes.nodes[position] = hash
                    if position.level > 0 { newNodes.append((position, hash)) }
                }
                let kind: UInt8 = if case .record = transaction.entry { 1 } else { 2 }
                try store.insertEntry(leafIndex: leafIndex, height: height, kind: kind, entry: transaction.bytes, leafHash: transaction.leafHash)
                try Contracts.write(transaction.entry, leafIndex: leafIndex, height: height, to: db)
                if let submission = transaction.submissionID {
                    let applied = try db.cachedStatement("UPDATE submissions SET status = 'applied', leaf_index = ? WHERE id = ?")
                    try applied.bind(Int64(leafIndex), at: 1)
                    try applied.bind(submission, at: 2)
                    try applied.run()
                }
            }
            for (position, hash) in newNodes { try store.insertNode(position, hash) }
            let header = BlockHeader(
                height: height, previousHash: latestBlock?.hash ?? .zero,
                transactionRoot: MerkleTree.root(leafHashes: pending.map(\.leafHash)),
                transactionCount: UInt32(pending.count), logSize: frontier.size, logRoot: frontier.root,
                time: time, proposer: configuration.proposer)
            let signed = try Signed(header, domain: .blockHeader, key: authority)
            let block = StoredBlock(header: signed, hash: StoredBlock.hash(of: signed), firstLeaf: firstLeaf)
            try store.insertBlock(block)
            try store.addCounters(counters)
            return block
        }
        // Committed: now the receipts may be computed and released.
        counters = [:]
        self.frontier = frontier
        latestBlock = block
        let size = frontier.size
        var receipts: [Receipt?] = Array(repeating: nil, count: pending.count)
        func receiptFor(_ index: Int) throws -> Receipt {
            if let receipt = receipts[index] { return receipt }
            let leafIndex = firstLeaf + UInt64(index)
            let receipt = Receipt(
                recordID: pending[index].recordID!, height: height, leafIndex: leafIndex,
                inclusionProof: try LogProofs.inclusionProof(index: leafIndex, size: size, &nodes),
                treeHead: block.header)
            receipts[index] = receipt
            return receipt
        }
        var answers: [PendingAnswer] = []
        for var answer in pendingAnswers {
            for index in answer.waiting { answer.receipts.append(try receiptFor(index)) }
            answer.waiting = []
            answers.append(answer)
        }
        pending = []
        pendingRecords = [:]
        pendingAnswers = []
        oldestPending = nil
        return CommittedBlock(block: block, answers: answers)
    }

    // MARK: Receipts and proofs

    /// The original receipt of a record already on the ledger: the proof against the
    /// tree head of the block that holds it.
    public func receipt(for id: RecordID, at location: LedgerStore.RecordLocation) throws -> Receipt {
        guard let block = try store.block(height: location.height) else { throw LedgerStoreError.missing("block \(location.height)") }
        var reader = store.nodeReader
        let proof = try LogProofs.inclusionProof(index: location.leafIndex, size: block.header.value.logSize, &reader)
        return Receipt(recordID: id, height: location.height, leafIndex: location.leafIndex, inclusionProof: proof, treeHead: block.header)
    }

    /// Signs an answer for publication on its topic (``SignatureDomain/receiptBatch``).
    public func sign(_ answer: PendingAnswer) throws -> [UInt8] { try answer.signed(by: authority) }

    /// Something that signs answers, usable from any task (the authority key is `Sendable`).
    public var answerSigner: AnswerSigner { AnswerSigner(authority: authority) }
}

/// Signs receipt batches with the authority key off the ledger's actor.
public struct AnswerSigner: Sendable {
    let authority: Curve25519.Signing.PrivateKey

    public func sign(_ answer: PendingAnswer) throws -> [UInt8] { try answer.signed(by: authority) }
}

extension PendingAnswer {
    func signed(by authority: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        Canonical.encode(try Signed(ReceiptBatch(receipts: receipts, rejections: rejections), domain: .receiptBatch, key: authority))
    }
}
