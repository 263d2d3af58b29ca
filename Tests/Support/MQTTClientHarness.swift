import MQTTClient

/// An MQTT client and collectors draining its three streams (messages, deliveries,
/// connection events), for tests against a real broker.
public struct MQTTClientHarness: Sendable {
    /// The client.
    public let client: MQTTClient
    /// Every message received.
    public let messages: Collector<MQTTMessage>
    /// Every delivery acknowledged by the broker.
    public let deliveries: Collector<MQTTDelivery>
    /// Every connection event.
    public let events: Collector<MQTTConnectionEvent>

    /// Creates the client `id` with `options` (not connected yet).
    public init(_ id: String, options: MQTTClient.Options) throws {
        client = try MQTTClient(clientID: id, options: options)
        messages = Collector(client.messages)
        deliveries = Collector(client.deliveries)
        events = Collector(client.events)
    }

    /// How many times the client connected.
    public var connectedCount: Int {
        events.values.filter { if case .connected = $0 { true } else { false } }.count
    }

    /// How many times it was disconnected.
    public var disconnectedCount: Int {
        events.values.filter { if case .disconnected = $0 { true } else { false } }.count
    }

    /// How many SUBACKs it received.
    public var subscribedCount: Int {
        events.values.filter { if case .subscribed = $0 { true } else { false } }.count
    }

    /// The QoS levels the broker granted, SUBACK after SUBACK.
    public var grantedQoS: [Int32] {
        events.values.flatMap { event -> [Int32] in
            if case .subscribed(_, let granted) = event { return granted }
            return []
        }
    }
}
