import AgriTraceCore
import Crypto
import Dispatch
import Ledger
import MQTTClient
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What `agritrace serve` runs: MQTT ingest into the ledger, blocks cut by size or time,
/// receipts published after each commit.
public struct IngestConfiguration: Sendable {
    /// The broker connection (host, port, TLS).
    public var broker: MQTTClient.Options
    /// The MQTT client id of this aggregator node.
    public var clientID: String
    /// The shared-subscription group (`$share/<group>/...`), so several nodes split the load.
    public var shareGroup: String
    /// How often registry submissions from the CLI are picked up. Default 250 ms.
    public var submissionPollInterval: Duration
    /// Record batches (MQTT messages) held between libmosquitto's network thread and the
    /// ledger. When this many wait, the network thread waits too, so the broker holds the
    /// rest (QoS 1). Used as ``broker``'s `maxQueuedMessages` unless that is set. Default 64.
    public var maxQueuedBatches: Int
    /// While a block is being written, ingest stops taking batches once this many
    /// transactions wait for the next block (so memory stays bounded when the disk is
    /// slower than the network). Default 20,000.
    public var maxPendingTransactions: Int
    /// Keep 16 MiB of freed memory at the top of each malloc heap instead of handing it back
    /// to the kernel (glibc `mallopt(M_TOP_PAD)`). Every block allocates and frees some MiB;
    /// returned, they came back as page faults and zeroed pages (16 % of the CPU of a
    /// throughput run). Process-wide; skipped when `MALLOC_TOP_PAD_` is set in the
    /// environment. Default `true`.
    public var keepsFreedMemory: Bool
    /// How this node claims its share group before it subscribes (``ShareGroupClaim``): a
    /// second single-node ledger in the same group is refused. Default on.
    public var shareGroupClaim: ShareGroupClaim.Settings?

    public init(
        broker: MQTTClient.Options = .init(), clientID: String = "agritrace-aggregator",
        shareGroup: String = "agritrace", submissionPollInterval: Duration = .milliseconds(250),
        maxQueuedBatches: Int = 64, maxPendingTransactions: Int = 20_000, keepsFreedMemory: Bool = true,
        shareGroupClaim: ShareGroupClaim.Settings? = ShareGroupClaim.Settings()
    ) {
        self.keepsFreedMemory = keepsFreedMemory
        self.shareGroupClaim = shareGroupClaim
        self.broker = broker
        self.clientID = clientID
        self.shareGroup = shareGroup
        self.submissionPollInterval = submissionPollInterval
        self.maxQueuedBatches = max(1, maxQueuedBatches)
        self.maxPendingTransactions = max(1, maxPendingTransactions)
    }

    /// The subscription filter: `$share/<group>/agritrace/v1/+/+/records`.
    public var subscription: String { "$share/\(shareGroup)/\(Wire.allRecordsFilter)" }
}

/// A one-line event for the operator's log (never payloads or secrets).
public typealias IngestLog = @Sendable (String) -> Void

/// The aggregator's ingest loop. An actor: the ledger (and its SQLite connection) is used
/// only from here.
public actor IngestService {
    let ledger: Ledger
    let configuration: IngestConfiguration
    let client: MQTTClient
    /// The claim on the share group, taken before subscribing (nil when configured off).
    let claim: ShareGroupClaim?
    let log: IngestLog
    let writer: BlockWriter
    var lastSubmissionPoll: ContinuousClock.Instant = .now - .seconds(3600)
    var failures = 0
    var cutScheduled = false
    /// Blocks committed since start.
    public private(set) var blocksCommitted = 0
    /// Transactions committed since start.
    public private(set) var transactionsCommitted = 0
    /// Admission waiting for the block being written (``IngestConfiguration/maxPendingTransactions``).
    var writeWaiters: [CheckedContinuation<Void, Never>] = []
    /// Checked batches handed from the checking task to this actor.
    let checked = HandOver<CheckedBatch>(capacity: 2)
    var lastQueueReport: ContinuousClock.Instant = .now
    var queueWaitsReported = 0
    /// Receipt batches published and acknowledged, so a graceful stop sends them all.
    let receipts = ReceiptDelivery()
    /// The device keys batches were last verified under, for ``CheckedBatch/init(topic:payload:keys:)``
    /// on the checking task.
    let deviceKeys = DeviceKeys()
    /// Metrics and readiness (see ``IngestObserver``).
    public nonisolated let observer = IngestObserver()

    /// Record batches waiting between the network thread and the ledger now: the MQTT
    /// queue (at most ``IngestConfiguration/maxQueuedBatches``) plus the checked batches
    /// handed to the ledger (at most 2). A gauge.
    public nonisolated var queueDepth: Int { client.messageQueueDepth + checked.count }
    /// The largest depth of the MQTT message queue seen since start.
    public nonisolated var queueHighWater: Int { client.messageQueueHighWater }
    /// How many times the MQTT message queue was full and the network thread waited.
    public nonisolated var queueFullWaits: Int { client.messageQueueWaits }

    /// Opens the ledger and prepares the MQTT client (nothing connects until ``run()``).
    public init(
        storePath: String, authority: Curve25519.Signing.PrivateKey, ledger ledgerConfiguration: LedgerConfiguration,
        ingest configuration: IngestConfiguration, log: @escaping IngestLog = { _ in }
    ) throws {
        let ledger = try Ledger(path: storePath, authority: authority, configuration: ledgerConfiguration)
        self.ledger = ledger
        self.writer = BlockWriter(store: ledger.store)
        self.configuration = configuration
        if configuration.keepsFreedMemory { _ = allocatorTuning }
        var broker = configuration.broker
        broker.maxQueuedMessages = broker.maxQueuedMessages ?? configuration.maxQueuedBatches
        self.client = try MQTTClient(clientID: configuration.clientID, options: broker)
        self.claim = try configuration.shareGroupClaim.map {
            try ShareGroupClaim(
                group: configuration.shareGroup, node: ledgerConfiguration.proposer,
                clientID: configuration.clientID, broker: broker, settings: $0)
        }
        self.log = log
    }

    /// Connects, subscribes, and ingests until the task is cancelled.
    public func run() async throws {
        let client = self.client
        let log = self.log
        let events = Self.logEvents(client.events, log)
        let receipts = self.receipts
        let deliveries = Task { for await _ in client.deliveries { receipts.acknowledged() } }
        defer {
            events.cancel()
            deliveries.cancel()
        }
        // A second single-node ledger in this share group would split the records: claim it first.
        try await claim?.claim(log: log)
        let holding = claim.map { claim in Task { await claim.hold(log: log) } }
        defer { holding?.cancel() }
        try client.subscribe(topic: configuration.subscription, qos: .atLeastOnce)
        try client.connect()
        observer.started()
        defer { observer.stopped() }
        let interval = min(configuration.submissionPollInterval, ledger.configuration.maxBlockDelay / 4)
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await self?.tick()
            }
        }
        defer { ticker.cancel() }
        log(
            "ingesting \(configuration.subscription) into \(ledger.store.path) at height \(ledger.latestBlock?.header.value.height ?? 0), log size \(ledger.frontier.size)"
        )
        // Parsing, hashing and the signature check of the next batch run on another task
        // while this actor admits the current one; `HandOver` keeps them in order and bounded.
        let handOver = self.checked
        let keys = deviceKeys
        let checking = Task.detached {
            for await message in client.messages {
                await handOver.send(CheckedBatch(topic: message.topic, payload: message.payload, keys: keys))
            }
            handOver.finish()
        }
        await withTaskCancellationHandler {
            while let batch = await handOver.receive() {
                if Task.isCancelled { break }
                await handle(batch)
            }
        } onCancel: {
            // Stop taking batches; what is queued still goes into the last block.
            handOver.finish()
            try? client.unsubscribe(topic: configuration.subscription)
        }
        checking.cancel()
        await tick(force: true)
        await receipts.drain(log: log)
        client.disconnect()
        try? await claim?.release()
    }

    /// Logs a broker connection's events: connected, refused, lost, a refused subscription.
    /// Holds the stream, not the client, so the task ends when the client is freed.
    static func logEvents(_ events: AsyncStream<MQTTConnectionEvent>, _ log: @escaping IngestLog) -> Task<Void, Never> {
        Task {
            for await event in events {
                switch event {
                case .connected: log("connected to the broker")
                case .connectionRefused(_, let reason): log("broker refused the connection: \(reason)")
                case .disconnected(let code, let reason) where code != 0: log("disconnected from the broker: \(reason)")
                case .subscribed(_, let granted) where granted.contains(where: { $0 >= 0x80 }):
                    log("the broker refused the subscription (granted \(granted))")
                default: break
                }
            }
        }
    }

    func handle(_ batch: CheckedBatch) async {
        // Back-pressure: with a block being written and the next one full enough, wait for
        // the write (the queues behind this fill up and the broker holds the rest).
        while ledger.isWriting && ledger.pendingCount >= configuration.maxPendingTransactions {
            await withCheckedContinuation { writeWaiters.append($0) }
        }
        guard let answer = ledger.admit(batch, keys: deviceKeys) else { return }
        if answer.isReady { publish(answer) }
        if ledger.isBlockDue() && !ledger.isWriting && !cutScheduled {
            cutScheduled = true
            Task { await self.cut() }
        }
    }

    /// Picks up registry submissions and cuts a block if one is due.
    func tick(force: Bool = false) async {
        if force {
            while ledger.isWriting { try? await Task.sleep(for: .milliseconds(5)) }
        }
        if !ledger.isWriting && ContinuousClock.now - lastSubmissionPoll >= configuration.submissionPollInterval {
            lastSubmissionPoll = .now
            do {
                let admitted = try ledger.admitSubmissions()
                if admitted > 0 { log("admitted \(admitted) registry submission(s)") }
            } catch {
                log("could not read registry submissions: \(error)")
            }
        }
        if force || ledger.isBlockDue() { await cut() }
        observer.observe(counters: ledger.counters, queueDepth: queueDepth)
        if !ledger.isWriting && ledger.pendingCount == 0 {
            do {
                try ledger.flushCounters()
                observer.flushed()
            } catch { log("could not write the ingest counters: \(error)") }
        }
        reportQueue()
    }

    /// Logs, at most every 10 seconds, that the queue was full and the broker held back.
    func reportQueue() {
        let waits = client.messageQueueWaits
        guard waits > queueWaitsReported, ContinuousClock.now - lastQueueReport >= .seconds(10) else { return }
        log(
            "ingest queue full \(waits - queueWaitsReported) time(s) since the last report (bound \(configuration.maxQueuedBatches) batches, depth now \(queueDepth)): the broker holds the rest"
        )
        queueWaitsReported = waits
        lastQueueReport = .now
    }

    func resumeWriteWaiters() {
        let waiters = writeWaiters
        writeWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Writes blocks while one is due. The SQLite commit runs on the writer's own thread;
    /// meanwhile this actor goes on admitting into the next block.
    func cut() async {
        cutScheduled = false
        while !ledger.isWriting, let prepared = prepareBlock() {
            let started = ContinuousClock.now
            let result = await writer.write(prepared)
            defer { resumeWriteWaiters() }
            switch result {
            case .success:
                observer.committed(
                    transactions: Int(prepared.block.header.value.transactionCount), duration: .now - started)
                finish(prepared)
            case .failure(let error):
                observer.commitFailed(restoring: prepared.counters)
                ledger.abandonBlock(prepared)
                failures += 1
                // The transactions stay pending; devices resend what is not receipted.
                log("block commit failed (attempt \(failures)): \(error)")
                return
            }
            if !ledger.isBlockDue() { return }
        }
    }

    func prepareBlock() -> PreparedBlock? {
        // The block takes the ledger's counters: report them first.
        observer.observe(counters: ledger.counters, queueDepth: queueDepth)
        do {
            let prepared = try ledger.prepareBlock()
            if prepared != nil { observer.flushed() }
            return prepared
        } catch {
            log("could not prepare a block: \(error)")
            return nil
        }
    }

    func finish(_ prepared: PreparedBlock) {
        let written = ledger.finishBlockDeferringReceipts(prepared)
        failures = 0
        blocksCommitted += 1
        transactionsCommitted += Int(written.block.header.value.transactionCount)
        // Proofs, signing and publishing happen off the ledger's actor, after the commit.
        let signer = ledger.answerSigner
        let client = self.client
        let log = self.log
        let receipts = self.receipts
        receipts.track(
            Task.detached {
                do {
                    for answer in try written.resolve().answers {
                        Self.publish(answer, signer: signer, client: client, log: log)
                        receipts.published()
                    }
                } catch {
                    log("could not build receipts for block \(written.block.header.value.height): \(error)")
                }
            })
    }

    func publish(_ answer: PendingAnswer) {
        Self.publish(answer, signer: ledger.answerSigner, client: client, log: log)
        receipts.published()
    }

    static func publish(_ answer: PendingAnswer, signer: AnswerSigner, client: MQTTClient, log: IngestLog) {
        do {
            try client.publish(topic: answer.topic, payload: try signer.sign(answer), qos: .atLeastOnce)
        } catch {
            log("could not publish receipts to \(answer.topic): \(error)")
        }
    }
}

/// Writes prepared blocks with the ledger's writer connection on a thread of its own, so
/// the fsync of a commit does not stop admission.
///
/// `@unchecked Sendable`: the connection is used only on `queue`, and the ingest service
/// never touches the writer connection while a write is in flight (`Ledger.isWriting`).
final class BlockWriter: @unchecked Sendable {
    let store: LedgerStore
    let queue = DispatchQueue(label: "agritrace.ledger.writer")

    init(store: LedgerStore) { self.store = store }

    func write(_ prepared: PreparedBlock) async -> Result<Void, Error> {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { try Ledger.write(prepared, to: self.store) })
            }
        }
    }
}

/// A bounded first-in first-out hand-over from one producing task to one consuming task:
/// `send` waits while `capacity` elements wait for `receive`.
final class HandOver<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var receiver: CheckedContinuation<Element?, Never>?
        var sender: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = capacity }

    /// Elements waiting now.
    var count: Int { state.withLock { $0.items.count } }

    /// Hands `element` over, waiting for room. Dropped after ``finish()``.
    func send(_ element: Element) async {
        while true {
            let (done, receiver): (Bool, CheckedContinuation<Element?, Never>?) = state.withLock { state in
                if state.finished { return (true, nil) }
                if let receiver = state.receiver {
                    state.receiver = nil
                    return (true, receiver)
                }
                guard state.items.count < capacity else { return (false, nil) }
                state.items.append(element)
                return (true, nil)
            }
            if done {
                receiver?.resume(returning: element)
                return
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let roomNow = state.withLock { state in
                    if state.finished || state.items.count < capacity { return true }
                    state.sender = continuation
                    return false
                }
                if roomNow { continuation.resume() }
            }
        }
    }

    /// The next element, or nil once finished and empty.
    func receive() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let (ready, element, sender): (Bool, Element?, CheckedContinuation<Void, Never>?) = state.withLock {
                state in
                if !state.items.isEmpty {
                    let sender = state.sender
                    state.sender = nil
                    return (true, state.items.removeFirst(), sender)
                }
                if state.finished { return (true, nil, nil) }
                state.receiver = continuation
                return (false, nil, nil)
            }
            sender?.resume()
            if ready { continuation.resume(returning: element) }
        }
    }

    /// Ends the hand-over: waiting calls return, later sends are dropped, `receive` drains
    /// what is left and then returns nil.
    func finish() {
        let (receiver, sender) = state.withLock { state in
            state.finished = true
            defer {
                state.receiver = nil
                state.sender = nil
            }
            return (state.receiver, state.sender)
        }
        receiver?.resume(returning: nil)
        sender?.resume()
    }
}

/// See ``IngestConfiguration/keepsFreedMemory``; applied once per process.
private let allocatorTuning: Void = {
    #if canImport(Glibc)
        guard getenv("MALLOC_TOP_PAD_") == nil else { return }
        // <malloc.h> is not part of the Glibc module: M_TOP_PAD is -2.
        _ = glibcMallopt(-2, 16 << 20)
    #endif
}()

#if canImport(Glibc)
    /// glibc's `int mallopt(int param, int value)`.
    @_silgen_name("mallopt")
    private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
