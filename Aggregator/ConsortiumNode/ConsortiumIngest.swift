import AgriTraceCore
import Ledger
import MQTTClient

/// What a consortium node ingests and puts up for ordering (docs/consortium.md, "Bodies"):
/// the record batches published on its own site's broker, and the transactions queued in its
/// store's submission queue by the CLI (`devices add`, `principals add`, …). Nothing is
/// checked here beyond the size: every node admits each body in the order the sequencer
/// gives, with the same checks.
public struct ConsortiumIngest: Sendable {
    let node: ConsortiumNodeService
    let broker: MQTTClient.Options
    let clientID: String
    let subscription: String
    let log: @Sendable (String) -> Void

    /// - Parameter shareGroup: the shared-subscription group on this node's broker.
    public init(
        node: ConsortiumNodeService, broker: MQTTClient.Options, clientID: String, shareGroup: String,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.node = node
        self.broker = broker
        self.clientID = clientID
        subscription = "$share/\(shareGroup)/\(Wire.allRecordsFilter)"
        self.log = log
    }

    /// Subscribes and forwards record batches and queued submissions until cancelled.
    public func run() async throws {
        let client = try MQTTClient(clientID: clientID, options: broker)
        try client.subscribe(topic: subscription, qos: .atLeastOnce)
        try client.connect()
        log("consortium ingest: \(subscription) on \(broker.host):\(broker.port)")
        let submissions = Task { await forwardSubmissions() }
        defer {
            submissions.cancel()
            client.disconnect()
        }
        await withTaskCancellationHandler {
            for await message in client.messages {
                await forward(.recordBatch(topic: message.topic, payload: message.payload), what: message.topic)
            }
        } onCancel: {
            try? client.unsubscribe(topic: subscription)
        }
    }

    /// Puts one body up for ordering, retrying while etcd does not answer; a body too large
    /// is dropped with a log line.
    func forward(_ body: ConsortiumBody, what: String) async {
        while !Task.isCancelled {
            do {
                try await node.submit(body)
                return
            } catch let error as ConsortiumBodyTooLarge {
                log("refused a body from \(what): \(error)")
                return
            } catch {
                log("could not put a body from \(what) up for ordering: \(error); retrying")
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Forwards the store's queued submissions, each once (the last forwarded id is kept in
    /// the store); they stay `pending` in the queue, their outcome is on the ledger.
    func forwardSubmissions() async {
        while !Task.isCancelled {
            do {
                for row in try await node.queuedSubmissions() {
                    await forward(row.body, what: "submission \(row.id)")
                    try await node.forwarded(submission: row.id)
                }
            } catch {
                log("consortium ingest: the submission queue: \(error)")
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}
