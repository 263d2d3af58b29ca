import AgriTraceCore
import Crypto
import Dispatch
import MQTTClient

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

    public init(
        broker: MQTTClient.Options = .init(), clientID: String = "agritrace-aggregator",
        shareGroup: String = "agritrace", submissionPollInterval: Duration = .milliseconds(250)
    ) {
        self.broker = broker
        self.clientID = clientID
        self.shareGroup = shareGroup
        self.submissionPollInterval = submissionPollInterval
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
    let log: IngestLog
    let writer: BlockWriter
    var lastSubmissionPoll: ContinuousClock.Instant = .now - .seconds(3600)
    var failures = 0
    var cutScheduled = false
    /// Blocks committed since start.
    public private(set) var blocksCommitted = 0
    /// Transactions committed since start.
    public private(set) var transactionsCommitted = 0

    /// Opens the ledger and prepares the MQTT client (nothing connects until ``run()``).
    public init(
        storePath: String, authority: Curve25519.Signing.PrivateKey, ledger ledgerConfiguration: LedgerConfiguration,
        ingest configuration: IngestConfiguration, log: @escaping IngestLog = { _ in }
    ) throws {
        let ledger = try Ledger(path: storePath, authority: authority, configuration: ledgerConfiguration)
        self.ledger = ledger
        self.writer = BlockWriter(store: ledger.store)
        self.configuration = configuration
        self.client = try MQTTClient(clientID: configuration.clientID, options: configuration.broker)
        self.log = log
    }

    /// Connects, subscribes, and ingests until the task is cancelled.
    public func run() async throws {
        let client = self.client
        let log = self.log
        let events = Task {
            for await event in client.events {
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
        let deliveries = Task { for await _ in client.deliveries {} }
        defer {
            events.cancel()
            deliveries.cancel()
        }
        try client.subscribe(topic: configuration.subscription, qos: .atLeastOnce)
        try client.connect()
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
        await withTaskCancellationHandler {
            for await message in client.messages {
                if Task.isCancelled { break }
                handle(message)
            }
        } onCancel: {
            client.disconnect()
        }
        await tick(force: true)
        client.disconnect()
    }

    func handle(_ message: MQTTMessage) {
        guard let answer = ledger.admit(topic: message.topic, payload: message.payload) else { return }
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
    }

    /// Writes blocks while one is due. The SQLite commit runs on the writer's own thread;
    /// meanwhile this actor goes on admitting into the next block.
    func cut() async {
        cutScheduled = false
        while !ledger.isWriting, let prepared = prepareBlock() {
            let result = await writer.write(prepared)
            switch result {
            case .success:
                finish(prepared)
            case .failure(let error):
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
        do {
            return try ledger.prepareBlock()
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
        Task.detached {
            do {
                for answer in try written.resolve().answers {
                    Self.publish(answer, signer: signer, client: client, log: log)
                }
            } catch {
                log("could not build receipts for block \(written.block.header.value.height): \(error)")
            }
        }
    }

    func publish(_ answer: PendingAnswer) {
        Self.publish(answer, signer: ledger.answerSigner, client: client, log: log)
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
