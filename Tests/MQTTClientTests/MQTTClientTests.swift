import TestSupport
import Testing

@testable import MQTTClient

/// A client plus collectors draining its three streams.
private typealias Harness = MQTTClientHarness

extension MQTTClientHarness {
    /// Subscribes, connects, and waits for the SUBACK.
    func subscribeAndConnect(_ topic: String) async throws {
        try client.subscribe(topic: topic, qos: .atLeastOnce)
        try client.connect()
        #expect(await eventually { subscribedCount >= 1 }, "no SUBACK for \(topic)")
    }

    func connect() async throws {
        try client.connect()
        #expect(await eventually { client.isConnected }, "did not connect")
    }
}

private func fastReconnect(port: Int32) -> MQTTClient.Options {
    MQTTClient.Options(
        port: port,
        reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 1, exponentialBackoff: false))
}

@Suite("MQTTClient against a real mosquitto", .serialized, .timeLimit(.minutes(2)))
struct MQTTClientTests {
    /// A gate freed with places still taken (a client released while messages were queued)
    /// must not trap: libdispatch kills the process when a semaphore is freed below the value
    /// it was created with, which is how a full-suite run once died in an ingest service's
    /// deinit.
    @Test func aGateFreedWithMessagesStillQueuedDoesNotTrap() {
        var gate: MessageGate? = MessageGate(capacity: 3)
        gate?.enter()
        gate?.enter()
        gate?.leave()
        gate?.enter()
        #expect(gate?.depth.load(ordering: .relaxed) == 2)
        gate = nil
        #expect(gate == nil)
    }

    @Test func aBoundedMessageQueueHoldsTheNetworkThreadAndLosesNothing() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        var options = fastReconnect(port: broker.port)
        options.maxQueuedMessages = 3
        // No Harness: nothing reads `messages` until the queue has filled.
        let subscriber = try MQTTClient(clientID: "sub-bounded", options: options)
        let events = Collector(subscriber.events)
        try subscriber.subscribe(topic: "agritrace/test/bounded", qos: .atLeastOnce)
        try subscriber.connect()
        #expect(await eventually { events.values.contains { if case .subscribed = $0 { true } else { false } } })
        let publisher = try Harness("pub-bounded", options: .init(port: broker.port))
        defer {
            subscriber.disconnect()
            publisher.client.disconnect()
        }
        try await publisher.connect()
        for i in 0..<200 {
            try publisher.client.publish(topic: "agritrace/test/bounded", payload: Array("m-\(i)".utf8))
        }
        // The network thread fills the queue to its bound and waits there.
        #expect(await eventually { subscriber.messageQueueWaits >= 1 })
        #expect(subscriber.messageQueueDepth == 3)
        // The consumer drains all 200 in order; the depth never went past the bound.
        var received: [String] = []
        for await message in subscriber.messages {
            #expect(subscriber.messageQueueDepth <= 3)
            received.append(String(decoding: message.payload, as: UTF8.self))
            if received.count == 200 { break }
        }
        #expect(received == (0..<200).map { "m-\($0)" })
        #expect(subscriber.messageQueueHighWater == 3)
        #expect(subscriber.messageQueueDepth == 0)
    }

    @Test func qos1PublishDeliversExactBytesAndEveryPuback() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let subscriber = try Harness("sub-exact", options: .init(port: broker.port))
        let publisher = try Harness("pub-exact", options: .init(port: broker.port))
        defer {
            subscriber.client.disconnect()
            publisher.client.disconnect()
        }
        try await subscriber.subscribeAndConnect("agritrace/test/exact")
        try await publisher.connect()

        // Every byte value, including NUL, survives unchanged.
        let payload = (0...255).map { UInt8($0) } + [0, 0, 255]
        let firstID = try publisher.client.publish(topic: "agritrace/test/exact", payload: payload, qos: .atLeastOnce)
        #expect(await eventually { subscriber.messages.count == 1 })
        let first = try #require(subscriber.messages.values.first)
        #expect(first.payload == payload)
        #expect(first.topic == "agritrace/test/exact")
        #expect(first.qos == .atLeastOnce)

        // 1,000 more: all arrive, all acknowledged.
        var ids: Set<Int32> = [firstID]
        for i in 0..<1000 {
            let body = Array("record-\(i)".utf8)
            ids.insert(try publisher.client.publish(topic: "agritrace/test/exact", payload: body))
        }
        #expect(ids.count == 1001)
        #expect(await eventually { subscriber.messages.count == 1001 && publisher.deliveries.count == 1001 })
        let received = subscriber.messages.values.dropFirst().map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(received == (0..<1000).map { "record-\($0)" })
        let acknowledged = publisher.deliveries.values
        #expect(Set(acknowledged.map(\.messageID)) == ids)
        #expect(acknowledged.allSatisfy { $0.isAccepted })
        #expect(publisher.client.connectionCount == 1)
    }

    @Test func sharedSubscriptionSplitsMessagesWithoutDuplicates() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let first = try Harness("shared-a", options: .init(port: broker.port))
        let second = try Harness("shared-b", options: .init(port: broker.port))
        let publisher = try Harness("shared-pub", options: .init(port: broker.port))
        defer {
            first.client.disconnect()
            second.client.disconnect()
            publisher.client.disconnect()
        }
        try await first.subscribeAndConnect("$share/aggregators/agritrace/+/records")
        try await second.subscribeAndConnect("$share/aggregators/agritrace/+/records")
        try await publisher.connect()

        let total = 400
        for i in 0..<total {
            try publisher.client.publish(topic: "agritrace/farm-\(i % 3)/records", payload: Array("m\(i)".utf8))
        }
        #expect(await eventually { first.messages.count + second.messages.count >= total })
        try await Task.sleep(for: .milliseconds(200))  // anything extra (a duplicate) would show up now
        let a = first.messages.values.map { String(decoding: $0.payload, as: UTF8.self) }
        let b = second.messages.values.map { String(decoding: $0.payload, as: UTF8.self) }
        #expect(!a.isEmpty)
        #expect(!b.isEmpty)
        #expect(a.count + b.count == total)
        #expect(Set(a).isDisjoint(with: Set(b)))
        #expect(Set(a).union(b) == Set((0..<total).map { "m\($0)" }))
        #expect(first.messages.values.allSatisfy { $0.topic.hasPrefix("agritrace/farm-") } == true)
    }

    @Test func reconnectsAndResubscribesAfterBrokerRestart() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let subscriber = try Harness("sub-restart", options: fastReconnect(port: broker.port))
        let publisher = try Harness("pub-restart", options: fastReconnect(port: broker.port))
        defer {
            subscriber.client.disconnect()
            publisher.client.disconnect()
        }
        try await subscriber.subscribeAndConnect("agritrace/test/restart")
        try await publisher.connect()
        try publisher.client.publish(topic: "agritrace/test/restart", payload: [1])
        #expect(await eventually { subscriber.messages.count == 1 })

        broker.kill()  // like a crash: no clean DISCONNECT
        #expect(await eventually { !subscriber.client.isConnected && !publisher.client.isConnected })
        #expect(await eventually { subscriber.disconnectedCount >= 1 })
        // QoS 1 while the broker is down: queued in memory by libmosquitto, sent after reconnect.
        let queuedID = try publisher.client.publish(topic: "agritrace/test/restart", payload: [2])
        #expect(queuedID != 0)
        // QoS 0 cannot be queued.
        #expect(throws: MQTTError.notConnected) {
            try publisher.client.publish(topic: "agritrace/test/restart", payload: [9], qos: .atMostOnce)
        }
        // Stay down long enough for at least one failed reconnect attempt.
        try await Task.sleep(for: .milliseconds(2500))
        try await broker.restart()
        #expect(
            await eventually(timeout: .seconds(15)) {
                subscriber.client.connectionCount == 2 && publisher.client.connectionCount == 2
            })
        // The event stream is consumed by another task: wait for it to see the reconnect too.
        #expect(await eventually { subscriber.connectedCount == 2 })
        // The fresh broker has no session: only the automatic re-subscribe brings messages back.
        #expect(await eventually { subscriber.subscribedCount == 2 })

        let afterID = try publisher.client.publish(topic: "agritrace/test/restart", payload: [3])
        #expect(await eventually { subscriber.messages.values.contains { $0.payload == [3] } })
        #expect(await eventually { publisher.deliveries.values.contains { $0.messageID == afterID } })
        #expect(
            await eventually {
                publisher.deliveries.values.contains { $0.messageID == queuedID && $0.isAccepted }
            })
        #expect(!subscriber.messages.values.contains { $0.payload == [9] })
    }

    /// `disconnect()` while the broker is down and the client is deep in its reconnect
    /// back-off (default 1 s growing to 30 s) returns at once: `serve` and the agent stop on
    /// SIGTERM without waiting out the delay. (With `mosquitto_loop_forever` it waited for the
    /// back-off sleep, or forever when a reconnect attempt raced with the disconnect.)
    @Test func disconnectReturnsPromptlyWhileTheBrokerIsDown() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let client = try Harness(
            "down-stop",
            options: .init(
                port: broker.port,
                reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 30, exponentialBackoff: true)))
        try await client.connect()
        broker.kill()
        #expect(await eventually { !client.client.isConnected })
        // Failed attempts after about 1 s and 4 s more: the next wait is 9 s long.
        try await Task.sleep(for: .seconds(6))
        let started = ContinuousClock.now
        client.client.disconnect()
        let took = started.duration(to: .now)
        #expect(took < .seconds(3), "disconnect took \(took)")
    }

    @Test func startsBeforeTheBrokerAndConnectsWhenItAppears() async throws {
        let port = try freeLoopbackPort()
        let early = try Harness("early", options: fastReconnect(port: port))
        defer { early.client.disconnect() }
        try early.client.connect()  // nothing listens yet: must not throw, keeps retrying
        try await Task.sleep(for: .milliseconds(300))
        #expect(!early.client.isConnected)
        #expect(early.client.connectionCount == 0)

        let broker = try await TestBroker.start(port: port)
        defer { broker.kill() }
        #expect(await eventually { early.client.isConnected })
        #expect(await eventually { early.connectedCount == 1 })
        early.client.disconnect()
        #expect(
            await eventually {
                early.events.values.contains(.disconnected(reasonCode: 0, reason: "disconnected by the client"))
            })
        #expect(!early.client.isConnected)
    }

    @Test func mutualTLSAcceptsClientCertificateAndRefusesClientWithout() async throws {
        let directory = try TemporaryDirectory(prefix: "agritrace-tls")
        let certificates = try TestCertificates.generate(in: directory.path, clientCommonName: "device-42")
        let broker = try await TestBroker.start(
            tls: .init(certificates: certificates, requireCertificate: true, useIdentityAsUsername: true))
        defer { broker.kill() }
        let tlsPort = try #require(broker.tlsPort)

        let withCertificate = try Harness(
            "device-42",
            options: .init(
                host: "127.0.0.1", port: tlsPort,
                tls: .init(
                    caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile,
                    keyFile: certificates.clientKeyFile)))
        defer { withCertificate.client.disconnect() }
        try await withCertificate.subscribeAndConnect("agritrace/device-42/commands")
        #expect(withCertificate.client.isConnected)
        try withCertificate.client.publish(topic: "agritrace/device-42/commands", payload: [7, 7])
        #expect(await eventually { withCertificate.messages.values.map(\.payload) == [[7, 7]] })

        let withoutCertificate = try Harness(
            "no-cert",
            options: .init(
                host: "127.0.0.1", port: tlsPort, tls: .init(caFile: certificates.caFile),
                reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 1, exponentialBackoff: false)))
        defer { withoutCertificate.client.disconnect() }
        try withoutCertificate.client.connect()
        try await Task.sleep(for: .seconds(3))
        #expect(!withoutCertificate.client.isConnected)
        #expect(withoutCertificate.client.connectionCount == 0)
        #expect(withoutCertificate.connectedCount == 0)
        #expect(withCertificate.client.connectionCount == 1)
    }

    @Test func invalidArgumentsThrowMappedErrors() throws {
        let client = try MQTTClient(clientID: "errors", options: .init(port: 1))
        #expect(throws: MQTTError.invalidTopic) { try client.subscribe(topic: "bad/#/filter") }
        #expect(throws: MQTTError.notConnected) {
            try client.publish(topic: "agritrace/x", payload: [1], qos: .atMostOnce)
        }
        #expect(throws: MQTTError.self) { try client.publish(topic: "wild/+/card", payload: [1]) }
        #expect(MQTTError(code: 4) == .notConnected)
        #expect(MQTTError(code: 8).description.contains("TLS"))
        // libmosquitto checks that the CA file is readable and answers MOSQ_ERR_INVAL.
        #expect(throws: MQTTError.invalidArgument) {
            try MQTTClient(clientID: "tls-missing", options: .init(tls: .init(caFile: "/nonexistent/ca.crt")))
        }
    }
}
