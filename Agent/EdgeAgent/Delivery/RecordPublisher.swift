import AgriTraceCore
import Crypto
import Logging
import MQTTClient
import PosixThreads
import SQLiteStorage
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends the outbox to the aggregator in signed batches and retires records when their
/// signed receipts arrive.
///
/// - Oldest first; at most `maxInflight` publishes await a PUBACK and at most
///   `maxUnreceipted` records are sent but not receipted at once.
/// - A PUBACK only means the broker has the message: a record stays in the outbox until a
///   receipt signed by the authority, with an inclusion proof that checks against the
///   record, arrives on the device's receipt topic.
/// - A record without a receipt after `resendTimeout` is sent again; after a (re)connect
///   every unreceipted record is sent again, oldest first.
/// - A rejection of a whole batch (no record named: `unknown-device`, `revoked-device`, ...)
///   is stored for `status` and `rejects` with its fix, and delivery backs off: one probe
///   batch after twice the resend timeout, doubling up to 64 times it, until a receipt
///   arrives (the records stay in the outbox).
/// - ``replaceClient(_:)`` swaps the MQTT client (new TLS files or broker address on
///   SIGHUP) without stopping delivery: what the old connection had in flight stays in the
///   outbox and goes again on the new one.
public final class RecordPublisher: Sendable {
    /// Tuning.
    public struct Settings: Sendable {
        public var batchSize: Int
        public var maxInflight: Int
        public var maxUnreceipted: Int
        public var resendTimeoutMilliseconds: Int64

        public init(
            batchSize: Int = 200, maxInflight: Int = 100, maxUnreceipted: Int = 20000,
            resendTimeoutMilliseconds: Int64 = 30000
        ) {
            self.batchSize = batchSize
            self.maxInflight = maxInflight
            self.maxUnreceipted = maxUnreceipted
            self.resendTimeoutMilliseconds = resendTimeoutMilliseconds
        }
    }

    struct State {
        var connected = false
        var everConnected = false
        var awaitingAck: Set<Int32> = []
        var earlyAcks: Set<Int32> = []
        var wakeups = 0
        var settings: Settings
        /// Whole-batch refusals since the last receipt (0: delivering normally).
        var refusalStreak = 0
        /// While refused, nothing is published before this (``monotonicMilliseconds()``: a step
        /// of the wall clock neither stalls nor ends a pause).
        var pausedUntil: Int64 = 0
        /// A probe batch was sent while refused and has had no answer yet.
        var awaitingProbe = false
        /// When "cannot read the outbox" was last logged, and how many since went unlogged.
        var outboxErrorLoggedAt: Int64 = 0
        var unloggedOutboxErrors = 0

        /// The pause after refusal number `refusalStreak`: twice the resend timeout, doubling, at most 64 times it.
        var refusalBackoffMilliseconds: Int64 {
            settings.resendTimeoutMilliseconds * (Int64(1) << Int64(min(max(refusalStreak, 1), 6)))
        }
    }

    let clientSlot: Mutex<MQTTClient>
    /// Bumped by each ``replaceClient(_:)``: events and PUBACKs of an older client are ignored.
    let generation = Atomic<Int>(0)
    /// Held while a batch is taken and published, and while the client is swapped, so no
    /// batch is marked sent on a client that is going away.
    let publishLock = PosixMutex()
    let store: AgentStore
    let key: DeviceKey
    let authority: Curve25519.Signing.PublicKey
    let enterprise: String
    let device: String
    let metrics: AgentMetrics
    let logger: Logger
    let stopSignal = StopSignal()
    let state: Mutex<State>
    let condition = PosixCondition()
    let loopFinished = PosixCondition()
    let finished = Atomic<Bool>(false)

    /// The topic records are published to.
    public var recordTopic: String { Wire.recordTopic(enterprise: enterprise, device: device) }
    /// The topic receipts arrive on.
    public var receiptTopic: String { Wire.receiptTopic(enterprise: enterprise, device: device) }

    public init(
        client: MQTTClient, store: AgentStore, key: DeviceKey, authority: Curve25519.Signing.PublicKey,
        enterprise: String, device: String, settings: Settings, metrics: AgentMetrics, logger: Logger
    ) {
        self.clientSlot = Mutex(client)
        self.store = store
        self.key = key
        self.authority = authority
        self.enterprise = enterprise
        self.device = device
        self.metrics = metrics
        self.logger = logger
        self.state = Mutex(State(settings: settings))
    }

    /// The current MQTT client.
    public var client: MQTTClient { clientSlot.withLock { $0 } }

    /// Changes the tuning (on reload).
    public func update(settings: Settings) {
        state.withLock { $0.settings = settings }
        wake()
    }

    /// Subscribes to the receipt topic, connects, and starts the delivery loop.
    public func start() throws {
        // Send everything unreceipted again at once. Not a reason to stay down: on a full
        // filesystem this write fails (the chaos run), and each connection retries it while
        // the resend timeout re-sends those records anyway.
        do {
            try store.markAllUnsent()
        } catch {
            logger.warning(
                "cannot reset the outbox send marks at start; unreceipted records go again after the resend timeout",
                metadata: ["error": "\(error)"])
        }
        try attach(client, generation: generation.load(ordering: .acquiring))
        PosixThread.detach(name: "agent-publisher") { [self] in
            loop()
            finished.store(true, ordering: .releasing)
            loopFinished.lock()
            loopFinished.broadcast()
            loopFinished.unlock()
        }
    }

    /// Subscribes `client` to the receipt topic, follows its streams and connects it.
    private func attach(_ client: MQTTClient, generation: Int) throws {
        try client.subscribe(topic: receiptTopic, qos: .atLeastOnce)
        let events = client.events, deliveries = client.deliveries, messages = client.messages
        Task.detached { [self] in
            for await event in events where self.generation.load(ordering: .acquiring) == generation {
                handle(event)
            }
        }
        Task.detached { [self] in
            for await delivery in deliveries where self.generation.load(ordering: .acquiring) == generation {
                handle(delivery)
            }
        }
        // Receipts that arrive on the old connection after a swap are still good receipts.
        Task.detached { [self] in
            for await message in messages { handle(message) }
        }
        try client.connect()
    }

    /// Disconnects the current client and goes on with `newClient` (reloaded TLS files or
    /// broker settings), in the same process and with the same outbox. Batches the old
    /// connection had not had acknowledged and receipted are sent again on the new one
    /// (every connect re-sends the unreceipted records, oldest first); the aggregator keeps
    /// one copy of each record id and the outbox retires each record once.
    /// - Throws: ``MQTTError`` if the new client cannot subscribe or start connecting; the
    ///   old client is then already disconnected and libmosquitto-style retries do not apply,
    ///   so the caller should report it (the next SIGHUP tries again).
    public func replaceClient(_ newClient: MQTTClient) throws {
        publishLock.lock()
        defer { publishLock.unlock() }
        let old = client
        let next = generation.add(1, ordering: .acquiringAndReleasing).newValue
        old.disconnect()
        state.withLock { state in
            state.connected = false
            state.awaitingAck.removeAll()
            state.earlyAcks.removeAll()
        }
        metrics.update { $0.connected = false }
        clientSlot.withLock { $0 = newClient }
        try attach(newClient, generation: next)
        wake()
    }

    /// Wakes the delivery loop (new records, a receipt, a PUBACK).
    public func wake() {
        condition.lock()
        state.withLock { $0.wakeups += 1 }
        condition.signal()
        condition.unlock()
    }

    /// Whether every publish so far has its PUBACK.
    public var allAcknowledged: Bool { state.withLock { $0.awaitingAck.isEmpty } }

    /// Whether the client is connected to the broker.
    public var isConnected: Bool { state.withLock { $0.connected } }

    /// Stops the loop and disconnects.
    public func stop() {
        stopSignal.stop()
        wake()
        loopFinished.lock()
        while !finished.load(ordering: .acquiring) {
            _ = loopFinished.wait(seconds: 0.5)
        }
        loopFinished.unlock()
        client.disconnect()
    }

    func handle(_ event: MQTTConnectionEvent) {
        switch event {
        case .connected:
            let reconnect = state.withLock { state -> Bool in
                let again = state.everConnected
                state.connected = true
                state.everConnected = true
                state.awaitingAck.removeAll()
                state.earlyAcks.removeAll()
                return again
            }
            metrics.update {
                $0.connected = true
                $0.connections += 1
                if reconnect { $0.reconnects += 1 }
            }
            do {
                try store.markAllUnsent()
            } catch {
                logger.error("cannot reset the outbox send marks", metadata: ["error": "\(error)"])
            }
            logger.info(
                reconnect ? "reconnected to the broker" : "connected to the broker",
                metadata: ["host": "\(client.options.host)", "port": "\(client.options.port)"])
            wake()
        case .connectionRefused(let code, let reason):
            logger.error("broker refused the connection", metadata: ["code": "\(code)", "reason": "\(reason)"])
        case .disconnected(let code, let reason):
            state.withLock { $0.connected = false }
            metrics.update { $0.connected = false }
            if code != 0 {
                logger.warning(
                    "disconnected from the broker; reconnecting with backoff", metadata: ["reason": "\(reason)"])
            }
        case .subscribed(_, let granted):
            if granted.contains(where: { $0 >= 0x80 }) {
                logger.error(
                    "the broker refused the receipt subscription (check the ACL)",
                    metadata: ["topic": "\(receiptTopic)"])
            }
        }
    }

    func handle(_ delivery: MQTTDelivery) {
        state.withLock { state in
            if state.awaitingAck.remove(delivery.messageID) == nil { state.earlyAcks.insert(delivery.messageID) }
        }
        if !delivery.isAccepted {
            logger.error(
                "the broker refused a record batch (check the ACL for the record topic)",
                metadata: ["reason": "\(delivery.reasonCode)"])
        }
        wake()
    }

    func handle(_ message: MQTTMessage) {
        guard message.topic == receiptTopic else { return }
        let signed: Signed<ReceiptBatch>
        do {
            signed = try Canonical.decode(Signed<ReceiptBatch>.self, from: message.payload)
            try signed.verify(domain: .receiptBatch, key: authority)
        } catch {
            metrics.update { $0.invalidReceipts += 1 }
            logger.error(
                "ignored a receipt batch that does not verify under the authority key", metadata: ["error": "\(error)"])
            return
        }
        for rejection in signed.value.rejections where rejection.recordID != nil {
            logger.warning(
                "the aggregator refused",
                metadata: [
                    "record": "\(rejection.recordID?.hex ?? "")", "code": "\(rejection.code.rawValue)",
                    "reason": "\(rejection.reason)",
                ])
        }
        for rejection in signed.value.rejections where rejection.recordID == nil { noteRefusal(rejection) }
        do {
            let outcome = try store.apply(signed.value, authority: authority)
            if outcome.receipted > 0 { deliveryWorks() }
            metrics.update {
                $0.receipted += Int64(outcome.receipted)
                $0.invalidReceipts += Int64(outcome.invalid)
                $0.refused += Int64(outcome.refused)
                $0.treeHeadForks += Int64(outcome.forkedHeights.count)
            }
            if !outcome.forkedHeights.isEmpty {
                logger.error(
                    "ALARM: the authority signed two different tree heads for the same height: the ledger forked (two stores signing with one key, or a rewritten ledger). Both signed heads are kept in the agent store's tree_head_forks table; hand them to the regulator. Receipts under the second head are not believed.",
                    metadata: ["heights": "\(outcome.forkedHeights)", "event": "tree-head-fork"])
            }
            for reason in outcome.invalidReasons.prefix(3) {
                logger.error(
                    "a receipt failed verification; the record stays in the outbox", metadata: ["detail": "\(reason)"])
            }
        } catch {
            metrics.update { $0.storeErrors += 1 }
            logger.error(
                "cannot store receipts; they will come again after the resend timeout", metadata: ["error": "\(error)"])
        }
        wake()
    }

    /// A whole batch was refused: stored with its fix for `status` / `rejects`, and delivery
    /// pauses (longer at each refusal after the pause before it ended).
    func noteRefusal(_ rejection: Rejection) {
        let now = Timestamp.now()
        let clock = monotonicMilliseconds()
        let (streak, pause) = state.withLock { state -> (Int, Int64) in
            if state.pausedUntil <= clock || state.awaitingProbe {
                state.refusalStreak += 1
                state.awaitingProbe = false
            }
            let pause = state.refusalBackoffMilliseconds
            state.pausedUntil = clock + pause
            return (state.refusalStreak, pause)
        }
        let fix = DeliveryRefusal.fix(
            code: rejection.code, enterprise: enterprise, device: device, publicKeyHex: key.publicKey.hex)
        do {
            try store.noteDeliveryRefusal(code: rejection.code, reason: rejection.reason, fix: fix, now: now)
        } catch {
            logger.error("cannot store a delivery refusal", metadata: ["error": "\(error)"])
        }
        logger.error(
            "the aggregator refused this box's batches; delivery backs off",
            metadata: [
                "code": "\(rejection.code.rawValue)", "reason": "\(rejection.reason)", "fix": "\(fix)",
                "retry_in_ms": "\(pause)", "refusals": "\(streak)",
            ])
    }

    /// A receipt arrived: any standing refusal is over.
    func deliveryWorks() {
        let wasRefused = state.withLock { state -> Bool in
            defer {
                state.refusalStreak = 0
                state.pausedUntil = 0
                state.awaitingProbe = false
            }
            return state.refusalStreak > 0
        }
        guard wasRefused else { return }
        do { try store.clearDeliveryRefusals() } catch {
            logger.error("cannot clear the delivery refusals", metadata: ["error": "\(error)"])
        }
        logger.notice("the aggregator receipts this box's records again; delivery resumed")
    }

    func loop() {
        var lastWakeups = -1
        while !stopSignal.isStopped {
            condition.lock()
            if state.withLock({ $0.wakeups }) == lastWakeups {
                _ = condition.wait(seconds: 0.1)
            }
            condition.unlock()
            lastWakeups = state.withLock { $0.wakeups }
            if stopSignal.isStopped { break }
            publishAvailable()
        }
    }

    /// Counts a failed outbox read and logs it at most every 30 s (the loop retries every 0.1 s).
    func outboxFailed(_ error: any Error, now: Int64) {
        metrics.update { $0.storeErrors += 1 }
        let unlogged = state.withLock { state -> Int? in
            guard now - state.outboxErrorLoggedAt >= 30_000 else {
                state.unloggedOutboxErrors += 1
                return nil
            }
            defer {
                state.outboxErrorLoggedAt = now
                state.unloggedOutboxErrors = 0
            }
            return state.unloggedOutboxErrors
        }
        guard let unlogged else { return }
        let full = (error as? SQLiteError)?.isDiskFull == true
        logger.error(
            full
                ? "cannot read the outbox: the store's filesystem is full; free space there" : "cannot read the outbox",
            metadata: ["error": "\(error)", "same_errors_since_last_log": "\(unlogged)"])
    }

    /// Whether delivery is backing off after a whole-batch refusal at `clock`
    /// (``monotonicMilliseconds()``).
    func isPaused(clock: Int64 = monotonicMilliseconds()) -> Bool { state.withLock { $0.pausedUntil > clock } }

    /// Publishes batches while the window allows.
    func publishAvailable() {
        while !stopSignal.isStopped {
            publishLock.lock()
            defer { publishLock.unlock() }
            let now = Timestamp.now().milliseconds
            let (connected, inflight, settings, refused) = state.withLock {
                ($0.connected, $0.awaitingAck.count, $0.settings, $0.refusalStreak > 0)
            }
            guard connected, inflight < settings.maxInflight, !isPaused() else { return }
            let cutoff = now - settings.resendTimeoutMilliseconds
            let rows: [(sequence: UInt64, body: [UInt8])]
            do {
                let outstanding = try store.outstandingCount(sentSince: cutoff)
                guard outstanding < settings.maxUnreceipted else { return }
                rows = try store.takeBatch(
                    limit: min(settings.batchSize, settings.maxUnreceipted - outstanding), resendCutoff: cutoff,
                    now: now)
            } catch {
                outboxFailed(error, now: now)
                return
            }
            guard !rows.isEmpty else { return }
            do {
                let records = try rows.map { try Canonical.decode(Record.self, from: $0.body) }
                let batch = RecordBatch(
                    enterprise: enterprise, device: device, sentAt: Timestamp(milliseconds: now), records: records)
                let payload = Canonical.encode(try Signed(batch, domain: .recordBatch, key: key.privateKey))
                let messageID = try client.publish(topic: recordTopic, payload: payload, qos: .atLeastOnce)
                state.withLock { state in
                    if state.earlyAcks.remove(messageID) == nil { state.awaitingAck.insert(messageID) }
                }
                metrics.update {
                    $0.publishedMessages += 1
                    $0.publishedRecords += Int64(records.count)
                    $0.publishedBytes += Int64(payload.count)
                }
                logger.trace(
                    "published a record batch",
                    metadata: ["first": "\(rows.first!.sequence)", "count": "\(rows.count)"])
                // While refused, one probe batch per pause: its answer decides what comes next.
                if refused {
                    state.withLock {
                        $0.pausedUntil = monotonicMilliseconds() + $0.refusalBackoffMilliseconds
                        $0.awaitingProbe = true
                    }
                }
            } catch {
                logger.error(
                    "publish failed; the records are sent again after the resend timeout",
                    metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
