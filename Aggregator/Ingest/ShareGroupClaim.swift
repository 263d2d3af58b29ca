import AgriTraceCore
import Crypto
import MQTTClient
import Synchronization

/// One single-node ledger per share group on a broker.
///
/// Two `serve` processes with separate stores in the same `--share-group` would split the
/// devices' batches between two logs signed by the same key, and every agent would receipt
/// every record without noticing (issue #16, "no silent forks"). So before it subscribes to
/// the records, a node claims its share group: it announces itself on
/// `agritrace/v1/nodes/<group>` (retained, QoS 1) every ``Settings/heartbeat`` and listens
/// there for ``Settings/window``. A live announcement of another process in that window means
/// the group is served: the node refuses to start and names the other. A retained
/// announcement with no live heartbeat after it is a node that crashed (there is no MQTT will
/// in this client), and is overwritten. Once claimed, the node goes on announcing itself and
/// logs an alarm for any other announcement it hears (another node starting, which then
/// refuses; or an old version that does not claim). A graceful stop clears the retained
/// announcement.
///
/// The claim is the broker's word, not consensus: it keeps an operator from starting a second
/// single-node ledger by mistake. Several nodes on one log are the consortium's (#16), ordered
/// through etcd.
public final class ShareGroupClaim: Sendable {
    /// How often a node announces itself and how long a starting node listens first.
    public struct Settings: Sendable, Hashable {
        public var heartbeat: Duration
        public var window: Duration

        /// A heartbeat every 500 ms, and three of them heard before taking the group.
        public init(heartbeat: Duration = .milliseconds(500), window: Duration = .milliseconds(1_500)) {
            self.heartbeat = heartbeat
            self.window = max(window, heartbeat * 2)
        }
    }

    /// Another node serves the share group.
    public struct Taken: Error, CustomStringConvertible {
        public var group: String
        public var other: Announcement

        public var description: String {
            "share group \(group) is served by another aggregator node (\(other.node), process \(other.instance)) on this broker: a second single-node ledger would split the devices' records into two logs. Fix: stop the other node, or give this one its own --share-group and its own devices"
        }
    }

    /// What a node publishes: its name and a random id of this process, one per line.
    public struct Announcement: Sendable, Hashable {
        public var node: String
        public var instance: String

        public var payload: [UInt8] { Array("agritrace-node v1\nnode \(node)\ninstance \(instance)\n".utf8) }

        public init(node: String, instance: String) {
            self.node = node
            self.instance = instance
        }

        /// Parses a payload; nil for anything else (including the empty payload of a clear).
        public init?(payload: [UInt8]) {
            let lines = String(decoding: payload, as: UTF8.self).split(separator: "\n").map(String.init)
            guard lines.count == 3, lines[0] == "agritrace-node v1", lines[1].hasPrefix("node "),
                lines[2].hasPrefix("instance ")
            else { return nil }
            self.init(node: String(lines[1].dropFirst(5)), instance: String(lines[2].dropFirst(9)))
        }
    }

    public let group: String
    public let topic: String
    public let settings: Settings
    /// This process's announcement.
    public let own: Announcement
    let client: MQTTClient
    /// Live announcements of other processes heard and not yet reported.
    let heard = Mutex<[Announcement]>([])
    /// The task that announces this node while it holds the group.
    let announcing = Mutex<Task<Void, Never>?>(nil)

    /// Prepares the claim; nothing connects until ``claim(log:)``.
    public init(
        group: String, node: String, clientID: String, broker: MQTTClient.Options, settings: Settings = Settings()
    ) throws {
        self.group = group
        self.topic = Wire.nodeClaimTopic(group: group)
        self.settings = settings
        self.own = Announcement(node: node, instance: RandomPool.bytes(8).hexString)
        var options = broker
        options.maxQueuedMessages = 16
        self.client = try MQTTClient(clientID: clientID + "-claim", options: options)
    }

    /// Connects, announces and listens for ``Settings/window``.
    /// - Throws: ``Taken`` when another process announced itself live in the window.
    public func claim(log: @escaping IngestLog) async throws {
        try client.subscribe(topic: topic, qos: .atLeastOnce)
        try client.connect()
        // One reader per stream for the claim's life: each holds the stream, not the client, and
        // ends when the client is freed. (Cancelling a reader of an AsyncStream would end the
        // stream.) Undrained, the PUBACKs of two announcements a second would pile up forever;
        // a claim topic the broker's ACL refuses is logged, not silent.
        _ = IngestService.logEvents(client.events) { log("share-group claim: \($0)") }
        let deliveries = client.deliveries
        Task { for await _ in deliveries {} }
        let messages = client.messages
        Task { [weak self, own] in
            for await message in messages {
                guard !message.retain, let other = Announcement(payload: message.payload), other != own else {
                    continue
                }
                self?.heard.withLock { $0.append(other) }
            }
        }
        announcing.withLock { $0 = announce(every: settings.heartbeat) }
        try? await Task.sleep(for: settings.window)
        if let other = heard.withLock({ $0.first }) {
            try? await release()
            throw Taken(group: group, other: other)
        }
        log("claimed share group \(group) on the broker (node \(own.node), process \(own.instance))")
    }

    /// Until the task is cancelled: logs an alarm for every other process heard announcing
    /// itself in the group (once per process), while this node goes on announcing.
    public func hold(log: @escaping IngestLog) async {
        var reported: Set<String> = []
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.heartbeat)
            for other in heard.withLock({ heard in
                defer { heard = [] }; return heard
            })
            where reported.insert(other.instance).inserted {
                log(
                    "ALARM: another aggregator node (\(other.node), process \(other.instance)) announced itself in share group \(group); this node keeps the group"
                )
            }
        }
    }

    /// Stops announcing, clears the retained announcement and disconnects.
    public func release() async throws {
        announcing.withLock { task in
            task?.cancel()
            task = nil
        }
        try client.publish(topic: topic, payload: [], qos: .atLeastOnce, retain: true)
        try? await Task.sleep(for: .milliseconds(100))
        client.disconnect()
    }

    func announce(every interval: Duration) -> Task<Void, Never> {
        Task { [client, topic, own] in
            while !Task.isCancelled {
                try? client.publish(topic: topic, payload: own.payload, qos: .atLeastOnce, retain: true)
                try? await Task.sleep(for: interval)
            }
        }
    }
}
