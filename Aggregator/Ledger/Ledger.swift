import AgriTraceCore
import Crypto
import LedgerCore
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
    /// The key registry transactions must be signed with; nil (the default) for the key that
    /// signs the blocks. A consortium node signs its blocks with its own node key and admits
    /// the registry transactions of the consortium's one registry authority (docs/consortium.md).
    public var registryAuthority: Curve25519.Signing.PublicKey?

    public init(
        maxBlockTransactions: Int = 10_000, maxBlockDelay: Duration = .milliseconds(100),
        proposer: String = "aggregator-1", synchronous: SQLiteConnection.Options.Synchronous = .full,
        registryAuthority: Curve25519.Signing.PublicKey? = nil
    ) {
        self.maxBlockTransactions = maxBlockTransactions
        self.maxBlockDelay = maxBlockDelay
        self.proposer = proposer
        self.synchronous = synchronous
        self.registryAuthority = registryAuthority
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
    /// Indexes into the block being written whose receipts are still due.
    var waitingInFlight: [Int] = []

    /// Whether the answer can go out without waiting for a block.
    public var isReady: Bool { waiting.isEmpty && waitingInFlight.isEmpty }

    public init(topic: String) { self.topic = topic }
}

/// A device's signature over a record batch, kept so anyone can re-check later that the
/// device signed its records (`agritrace verify --signatures`): with the records' canonical
/// bytes from the log, it rebuilds the signed `RecordBatch` exactly.
public struct BatchSignature: Sendable, Hashable {
    public var enterprise: String
    public var device: String
    public var sentAt: Timestamp
    public var signature: [UInt8]
    /// The batch's records in batch order.
    public var recordIDs: [RecordID]

    public init(enterprise: String, device: String, sentAt: Timestamp, signature: [UInt8], recordIDs: [RecordID]) {
        self.enterprise = enterprise
        self.device = device
        self.sentAt = sentAt
        self.signature = signature
        self.recordIDs = recordIDs
    }

    /// The prefix of a record's log entry (the entry domain and tag 1): a record's entry is
    /// this followed by the record's canonical bytes as the device signed them.
    public static let recordEntryPrefix: [UInt8] = {
        var writer = CanonicalWriter()
        writer.write("agritrace/v1/log-entry")
        writer.write(UInt8(1))
        return writer.bytes
    }()
}

/// A complete subtree hash of the log, to store.
public struct LogNodeHash: Sendable {
    public var position: LogNodePosition
    public var hash: Digest32
}

/// A block built in memory and signed, not yet written (see ``Ledger/prepareBlock(now:)``).
public struct PreparedBlock: Sendable {
    public let block: StoredBlock
    let transactions: [Ledger.PendingTransaction]
    let newNodes: [LogNodeHash]
    /// The ingest counters the block takes with it (given back if it is abandoned).
    public let counters: [String: Int]
    let frontier: LogFrontier
    let nodes: BlockLogNodes
    let answers: [PendingAnswer]
    let signatures: [BatchSignature]
}

/// A written block whose receipts are yet to be computed (see ``Ledger/finishBlockDeferringReceipts(_:)``).
public struct WrittenBlock: Sendable {
    public let block: StoredBlock
    let recordIDs: [RecordID?]
    let nodes: BlockLogNodes
    /// Answers whose `waiting` indexes point into this block.
    var answers: [PendingAnswer]

    /// The receipts of some of the block's transactions.
    func receipts(_ indexes: [Int]) throws -> [Receipt] {
        var nodes = self.nodes
        var edge = LogProofs.RightEdge(size: block.header.value.logSize)
        return try indexes.map { index in
            let leafIndex = block.firstLeaf + UInt64(index)
            return Receipt(
                recordID: recordIDs[index]!, height: block.header.value.height, leafIndex: leafIndex,
                inclusionProof: try LogProofs.inclusionProof(index: leafIndex, &edge, &nodes),
                treeHead: block.header)
        }
    }

    /// Computes the inclusion proofs (from the block's nodes, no I/O) and completes the answers.
    public func resolve() throws -> CommittedBlock {
        var nodes = self.nodes
        var edge = LogProofs.RightEdge(size: block.header.value.logSize)
        var receipts: [Receipt?] = Array(repeating: nil, count: recordIDs.count)
        func receiptFor(_ index: Int) throws -> Receipt {
            if let receipt = receipts[index] { return receipt }
            let leafIndex = block.firstLeaf + UInt64(index)
            let receipt = Receipt(
                recordID: recordIDs[index]!, height: block.header.value.height, leafIndex: leafIndex,
                inclusionProof: try LogProofs.inclusionProof(index: leafIndex, &edge, &nodes),
                treeHead: block.header)
            receipts[index] = receipt
            return receipt
        }
        var completed: [PendingAnswer] = []
        completed.reserveCapacity(answers.count)
        for var answer in answers {
            answer.receipts.reserveCapacity(answer.receipts.count + answer.waiting.count)
            for index in answer.waiting { answer.receipts.append(try receiptFor(index)) }
            answer.waiting = []
            completed.append(answer)
        }
        return CommittedBlock(block: block, answers: completed)
    }
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
    /// The key registry transactions are admitted under (``LedgerConfiguration/registryAuthority``).
    public let registryAuthority: Curve25519.Signing.PublicKey

    /// The log's right edge after the last committed block.
    public private(set) var frontier: LogFrontier
    /// The last committed block.
    public private(set) var latestBlock: StoredBlock?
    /// The registry including the effect of pending transactions.
    public private(set) var registry: RegistryState

    struct PendingTransaction: Sendable {
        /// Boxed: a decoded record is a few hundred bytes, and blocks hold thousands.
        final class Box: Sendable {
            let entry: LogEntry
            init(_ entry: LogEntry) { self.entry = entry }
        }

        let box: Box
        var entry: LogEntry { box.entry }
        var bytes: [UInt8]
        var leafHash: Digest32
        var recordID: RecordID?
        var submissionID: Int64?

        init(entry: LogEntry, bytes: [UInt8], leafHash: Digest32, recordID: RecordID? = nil, submissionID: Int64? = nil)
        {
            self.box = Box(entry)
            self.bytes = bytes
            self.leafHash = leafHash
            self.recordID = recordID
            self.submissionID = submissionID
        }
    }

    var pending: [PendingTransaction] = []
    var pendingRecords: [RecordID: Int] = [:]
    /// The block being written (at most one), by record id.
    var inFlightRecords: [RecordID: Int] = [:]
    var inFlightLeafHashes: [Digest32] = []
    /// Per device, a sequence at or above every sequence on the ledger, pending or being
    /// written: a record above it cannot be a duplicate, so it needs no look-up.
    var sequenceWatermarks: [RegistryState.DeviceKey: UInt64] = [:]
    /// A read-only connection for look-ups while the writer connection commits a block.
    let reader: LedgerStore
    /// Whether a block is being written (the writer connection is busy).
    public private(set) var isWriting = false
    var pendingAnswers: [PendingAnswer] = []
    /// Signatures of the batches whose records are in the pending block.
    var pendingSignatures: [BatchSignature] = []
    var oldestPending: ContinuousClock.Instant?
    /// Counters not yet written to the store.
    public private(set) var counters: [String: Int] = [:]

    /// Opens (or creates) the store at `path` and recovers the log's state from it.
    public init(path: String, authority: Curve25519.Signing.PrivateKey, configuration: LedgerConfiguration = .init())
        throws
    {
        let store = try LedgerStore(path: path, synchronous: configuration.synchronous)
        self.store = store
        self.configuration = configuration
        self.authority = authority
        self.authorityKey = authority.publicKey
        self.registryAuthority = configuration.registryAuthority ?? authority.publicKey
        try store.db.transaction {
            try store.claimAuthority(authority.publicKey)
            if let registry = configuration.registryAuthority { try store.setRegistryAuthority(registry) }
        }
        latestBlock = try store.latestBlock()
        var nodes = store.nodeReader
        frontier = try LogFrontier(size: latestBlock?.header.value.logSize ?? 0, source: &nodes)
        registry = try Contracts.loadRegistry(from: store.db)
        sequenceWatermarks = try Contracts.loadSequences(from: store.db)
        reader = try LedgerStore(path: path, readOnly: true)
    }

    /// The number of transactions waiting for the next block.
    public var pendingCount: Int { pending.count }

    /// Whether a block is due: enough pending transactions, or the oldest waited long enough.
    public func isBlockDue(now: ContinuousClock.Instant = .now) -> Bool {
        guard let oldestPending else { return false }
        return pending.count >= configuration.maxBlockTransactions || now - oldestPending >= configuration.maxBlockDelay
    }

    /// Adds `amount` to the ingest counter `name` (`batches-received`, `rejected.<code>`, …),
    /// written to the store (`ingest_counters`) with the next block or ``flushCounters()``.
    public func count(_ name: String, _ amount: Int = 1) { counters[name, default: 0] += amount }

    // MARK: Admission

    func appendPending(_ transaction: PendingTransaction) {
        if pending.isEmpty {
            oldestPending = .now
            pending.reserveCapacity(min(configuration.maxBlockTransactions, 16_384))
        }
        pending.append(transaction)
    }

    /// Admits a registry transaction (from the CLI's submission queue or a test).
    /// - Throws: ``ContractViolation`` if the registry contract refuses it now.
    public func admit(registry signed: Signed<RegistryTransaction>, submissionID: Int64? = nil) throws {
        try admitEntry(.registry(signed), submissionID: submissionID)
    }

    /// Admits an access-control transaction (from the submission queue, the API or a test).
    /// - Throws: ``ContractViolation`` if it is not signed by an active registered principal
    ///   allowed to call the method.
    public func admit(access signed: Signed<AccessTransaction>, submissionID: Int64? = nil) throws {
        try admitEntry(.access(signed), submissionID: submissionID)
    }

    /// Admits an access transaction relayed by the access gateway with the address it
    /// observed (``AccessAdmission/checkRelayed(_:registry:)``).
    public func admit(relayed: GatewayAccess, submissionID: Int64? = nil) throws {
        try admitEntry(.gateway(relayed), submissionID: submissionID)
    }

    /// Admits a blob reference (queued by the blob service, or a test).
    /// - Throws: ``ContractViolation`` if the device is unknown, revoked, or did not sign it.
    public func admit(blob signed: Signed<BlobReference>, submissionID: Int64? = nil) throws {
        try admitEntry(.blob(signed), submissionID: submissionID)
    }

    /// Admission (``Admission/check(_:registry:authority:idChecked:)``), the registry contract
    /// applied at once (later transactions of the block see it), and the pending transaction.
    func admitEntry(_ entry: LogEntry, submissionID: Int64?) throws {
        if let violation = Admission.check(entry, registry: registry, authority: registryAuthority) { throw violation }
        registry.apply(entry)
        let bytes = entry.canonicalBytes
        appendPending(
            PendingTransaction(
                entry: entry, bytes: bytes, leafHash: MerkleTree.leafHash(bytes), submissionID: submissionID))
    }

    /// Admits the transactions waiting in the store's submission queue (written by the CLI,
    /// the API and the blob service), each decoded once as the kind it was queued as;
    /// refused ones are marked with the reason.
    /// - Returns: how many were admitted.
    @discardableResult
    public func admitSubmissions() throws -> Int {
        let select = try store.db.cachedStatement(
            "SELECT id, body, kind, observed_address FROM submissions WHERE status = 'pending' ORDER BY id")
        var rows: [(id: Int64, body: [UInt8], kind: SubmissionKind?, address: String?)] = []
        let already = Set(pending.compactMap(\.submissionID))
        while try select.step() {
            let id = select.int64(at: 0)
            guard !already.contains(id) else { continue }
            let body = select.bytes(at: 1) ?? []
            let kind =
                select.isNull(at: 2) ? SubmissionKind.ofLegacyBody(body) : SubmissionKind(rawValue: select.int64(at: 2))
            rows.append((id, body, kind, select.string(at: 3)))
        }
        var admitted = 0
        for row in rows {
            do {
                try admitSubmission(row.body, kind: row.kind, observedAddress: row.address, id: row.id)
                admitted += 1
            } catch {
                try store.db.cachedStatement("UPDATE submissions SET status = 'refused', reason = ? WHERE id = ?")
                    .run([.text("\(error)"), .integer(row.id)])
            }
        }
        return admitted
    }

    /// Decodes a queued body as its kind and admits it; an access transaction the gateway
    /// queued with the address it observed is admitted as a ``LogEntry/gateway(_:)`` leaf.
    func admitSubmission(_ body: [UInt8], kind: SubmissionKind?, observedAddress: String?, id: Int64) throws {
        switch kind {
        case .access:
            let signed = try Canonical.decode(Signed<AccessTransaction>.self, from: body)
            if let observedAddress {
                try admitEntry(
                    .gateway(GatewayAccess(observedAddress: observedAddress, transaction: signed)), submissionID: id)
            } else {
                try admit(access: signed, submissionID: id)
            }
        case .blob: try admit(blob: Canonical.decode(Signed<BlobReference>.self, from: body), submissionID: id)
        case .registry:
            try admit(registry: Canonical.decode(Signed<RegistryTransaction>.self, from: body), submissionID: id)
        case nil:
            throw LedgerStoreError.corrupt(
                "submission \(id) is not a canonical signed registry, access or blob transaction")
        }
    }

    // MARK: Blocks

    /// Writes the pending transactions as the next block, signs its header, commits, and
    /// returns the receipts it completes. Nothing is released before the commit; if the
    /// commit fails the transactions stay pending and the error is thrown.
    /// - Returns: nil when nothing is pending.
    @discardableResult
    public func cutBlock(now: Timestamp = .now()) throws -> CommittedBlock? {
        precondition(!isWriting, "cutBlock while a block is being written")
        guard let prepared = try prepareBlock(now: now) else {
            try flushCounters()
            return nil
        }
        do {
            try Self.write(prepared, to: store)
        } catch {
            abandonBlock(prepared)
            throw error
        }
        return try finishBlock(prepared)
    }

    /// Writes the ingest counters gathered since the last block (rejections can happen
    /// without any block). Only while no block is being written.
    public func flushCounters() throws {
        guard !counters.isEmpty, !isWriting else { return }
        try store.db.transaction { try store.addCounters(counters) }
        counters = [:]
    }

    /// Builds the next block from the pending transactions in memory: leaf indexes, new
    /// tree nodes, the signed header. The transactions move to the block being written;
    /// admission goes on into a new pending set. Write it with ``write(_:to:)`` (off this
    /// thread if you like), then call ``finishBlock(_:)`` or ``abandonBlock(_:)``.
    public func prepareBlock(now: Timestamp = .now()) throws -> PreparedBlock? {
        precondition(!isWriting, "one block is written at a time")
        guard !pending.isEmpty else { return nil }
        let height = (latestBlock?.header.value.height ?? 0) + 1
        let firstLeaf = frontier.size
        var frontier = self.frontier
        var nodes = BlockLogNodes(reservingFor: pending.count)
        for subtree in frontier.subtrees { nodes.insert(subtree.position, subtree.hash) }
        var newNodes: [LogNodeHash] = []
        newNodes.reserveCapacity(pending.count)
        for transaction in pending {
            frontier.append(transaction.leafHash) { position, hash in
                nodes.insert(position, hash)
                if position.level > 0 { newNodes.append(LogNodeHash(position: position, hash: hash)) }
            }
        }
        let time = Timestamp(milliseconds: max(now.milliseconds, latestBlock?.header.value.time.milliseconds ?? 0))
        let header = BlockHeader(
            height: height, previousHash: latestBlock?.hash ?? .zero,
            transactionRoot: MerkleTree.root(leafHashes: pending.map(\.leafHash)),
            transactionCount: UInt32(pending.count), logSize: frontier.size, logRoot: frontier.root,
            time: time, proposer: configuration.proposer)
        let signed = try Signed(header, domain: .blockHeader, key: authority)
        let prepared = PreparedBlock(
            block: StoredBlock(header: signed, hash: StoredBlock.hash(of: signed), firstLeaf: firstLeaf),
            transactions: pending, newNodes: newNodes, counters: counters, frontier: frontier, nodes: nodes,
            answers: pendingAnswers, signatures: pendingSignatures)
        inFlightRecords = pendingRecords
        inFlightLeafHashes = pending.map(\.leafHash)
        isWriting = true
        counters = [:]
        pending = []
        pendingRecords = [:]
        pendingAnswers = []
        pendingSignatures = []
        oldestPending = nil
        return prepared
    }

    /// Writes a prepared block in one SQLite transaction: log entries, tree nodes, world
    /// state (contracts), the signed header and the counters. Durable when it returns.
    /// Uses only `store` (the writer connection), so it may run on another thread while
    /// the ledger goes on admitting.
    public static func write(_ prepared: PreparedBlock, to store: LedgerStore) throws {
        let db = store.db
        let height = prepared.block.header.value.height
        try db.transaction {
            var leafIndex = prepared.block.firstLeaf
            let records = try Contracts.RecordRows(db)
            for transaction in prepared.transactions {
                try store.insertEntry(
                    leafIndex: leafIndex, height: height, kind: transaction.entry.tag, entry: transaction.bytes,
                    leafHash: transaction.leafHash)
                if case .record(let record) = transaction.entry {
                    try records.write(record, leafIndex: leafIndex, height: height)
                } else {
                    try Contracts.write(
                        transaction.entry, leafIndex: leafIndex, height: height,
                        time: prepared.block.header.value.time, to: db)
                }
                if let submission = transaction.submissionID {
                    let applied = try db.cachedStatement(
                        "UPDATE submissions SET status = 'applied', leaf_index = ? WHERE id = ?")
                    try applied.run([.int(leafIndex), .integer(submission)])
                }
                leafIndex += 1
            }
            let recordEntries = prepared.transactions.compactMap {
                if case .record(let record) = $0.entry { record } else { nil }
            }
            try Contracts.raiseSequences(recordEntries, in: db)
            try Contracts.finishBlock(
                carriedTransactions: recordEntries.count < prepared.transactions.count, in: db)
            for node in prepared.newNodes { try store.insertNode(node.position, node.hash) }
            for signature in prepared.signatures { try store.insertBatchSignature(signature, height: height) }
            try store.insertBlock(prepared.block)
            try store.addCounters(prepared.counters)
        }
    }

    /// The block was written: advance the log and compute the receipts it completes
    /// (including answers admitted while it was being written that wait on it).
    public func finishBlock(_ prepared: PreparedBlock) throws -> CommittedBlock {
        try finishBlockDeferringReceipts(prepared).resolve()
    }

    /// Like ``finishBlock(_:)``, but leaves computing the inclusion proofs to the caller
    /// (``WrittenBlock/resolve()`` is `Sendable` work that can run on another task).
    public func finishBlockDeferringReceipts(_ prepared: PreparedBlock) -> WrittenBlock {
        frontier = prepared.frontier
        latestBlock = prepared.block
        isWriting = false
        inFlightRecords = [:]
        inFlightLeafHashes = []
        var written = WrittenBlock(
            block: prepared.block, recordIDs: prepared.transactions.map(\.recordID), nodes: prepared.nodes,
            answers: prepared.answers)
        var stillPending: [PendingAnswer] = []
        for var answer in pendingAnswers {
            // Answers admitted during the write wait on this block through `waitingInFlight`.
            if answer.waiting.isEmpty {
                answer.waiting = answer.waitingInFlight
                answer.waitingInFlight = []
                written.answers.append(answer)
            } else {
                // Also waiting on the next block: take this block's receipts now (rare: a
                // resend mixed with new records while a block was being written).
                if let receipts = try? written.receipts(answer.waitingInFlight) {
                    answer.receipts += receipts
                } else {
                    answer.rejections += answer.waitingInFlight.compactMap { index in
                        written.recordIDs[index].map {
                            Rejection(
                                recordID: $0, code: .internal,
                                reason: "no receipt could be built; resend")
                        }
                    }
                }
                answer.waitingInFlight = []
                stillPending.append(answer)
            }
        }
        pendingAnswers = stillPending
        return written
    }

    /// The block could not be written: its transactions go back in front of the pending
    /// ones (nothing was released), to be written again with the next block.
    public func abandonBlock(_ prepared: PreparedBlock) {
        isWriting = false
        inFlightRecords = [:]
        inFlightLeafHashes = []
        let shift = prepared.transactions.count
        for (name, value) in prepared.counters { counters[name, default: 0] += value }
        var answers = prepared.answers
        for var answer in pendingAnswers {
            answer.waiting = answer.waitingInFlight + answer.waiting.map { $0 + shift }
            answer.waitingInFlight = []
            answers.append(answer)
        }
        pendingAnswers = answers
        pendingSignatures = prepared.signatures + pendingSignatures
        pending = prepared.transactions + pending
        pendingRecords = [:]
        for (index, transaction) in pending.enumerated() {
            if let id = transaction.recordID { pendingRecords[id] = index }
        }
        if !pending.isEmpty { oldestPending = oldestPending ?? .now }
    }

    // MARK: Receipts and proofs

    /// The original receipt of a record already on the ledger: the proof against the
    /// tree head of the block that holds it.
    public func receipt(for id: RecordID, at location: LedgerStore.RecordLocation) throws -> Receipt {
        guard let block = try reader.block(height: location.height) else {
            throw LedgerStoreError.missing("block \(location.height)")
        }
        var nodes = reader.nodeReader
        let proof = try LogProofs.inclusionProof(index: location.leafIndex, size: block.header.value.logSize, &nodes)
        return Receipt(
            recordID: id, height: location.height, leafIndex: location.leafIndex, inclusionProof: proof,
            treeHead: block.header)
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
    /// `Canonical.encode(Signed(ReceiptBatch(...), domain: .receiptBatch, key: authority))`,
    /// encoding the batch once: its bytes after the domain tag are the signed message, and
    /// the same bytes followed by the signature are the payload.
    func signed(by authority: Curve25519.Signing.PrivateKey) throws -> [UInt8] {
        var writer = CanonicalWriter(capacity: 256 + receipts.count * 1024)
        writer.write(SignatureDomain.receiptBatch.rawValue)
        let start = writer.bytes.count
        ReceiptBatch(receipts: receipts, rejections: rejections).encode(to: &writer)
        let signature = try authority.signature(for: writer.bytes)
        writer.writeBytes(signature)
        writer.bytes.removeFirst(start)
        return writer.bytes
    }
}
