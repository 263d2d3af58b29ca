import CMosquitto
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `mosquitto_lib_init`, run once per process on first use (global lets initialize lazily and thread-safely).
private let libraryInitialization: Int32 = mosquitto_lib_init()

/// An MQTT v5 client over libmosquitto, shared by the edge agent and the aggregator.
///
/// A network thread (``NetworkLoop``: passes of `mosquitto_loop`, with its own back-off and
/// reconnect, stoppable at any moment) does the I/O, keepalive and automatic reconnects. Results come back as three `AsyncStream`s:
/// ``messages`` (incoming publishes), ``deliveries`` (PUBACKs for your publishes) and
/// ``events`` (connected, refused, disconnected, subscribed). Each stream supports one
/// consumer and buffers without limit, so iterate every stream whose elements you may
/// produce (a publisher that ignores ``deliveries`` keeps them all in memory). The one
/// exception is ``messages`` with ``Options/maxQueuedMessages``: then the network thread
/// waits while that many messages are waiting for the consumer, so TCP and the broker's
/// flow control hold the senders back (``messageQueueDepth`` is the gauge).
///
/// The type is `Sendable`: publish and subscribe from any task or thread (libmosquitto
/// locks internally in threaded mode). Payloads are never logged.
///
/// ```swift
/// let client = try MQTTClient(clientID: "farm-7", options: .init(host: "broker", port: 8883, tls: tls))
/// try client.subscribe(topic: "$share/aggregators/agritrace/+/records", qos: .atLeastOnce)
/// try client.connect()
/// let id = try client.publish(topic: "agritrace/farm-7/records", payload: bytes, qos: .atLeastOnce)
/// for await delivery in client.deliveries where delivery.messageID == id { break }
/// ```
public final class MQTTClient: Sendable {
    /// How to reach and talk to the broker.
    public struct Options: Sendable {
        /// Broker host name or address. Default `"127.0.0.1"`.
        public var host: String
        /// Broker port. Default 1883 (use 8883 with ``tls``).
        public var port: Int32
        /// Keepalive interval in seconds. Default 30.
        public var keepAliveSeconds: Int32
        /// Username and password sent in CONNECT, if any.
        public var credentials: Credentials?
        /// TLS settings; `nil` for a plain TCP connection.
        public var tls: TLS?
        /// Outgoing QoS 1/2 messages in flight before libmosquitto queues the rest
        /// (MQTT v5 send maximum; the broker's receive maximum may lower it). Also used as
        /// this client's receive maximum. Default 100 (about 30k msg/s on loopback here;
        /// "unlimited" is much slower).
        public var maxInflightMessages: Int32
        /// Automatic reconnect delays; see ``ReconnectDelay``.
        public var reconnectDelay: ReconnectDelay
        /// The most incoming messages held for the consumer of ``MQTTClient/messages``, or
        /// `nil` (the default) for no limit. When the queue is full the network thread waits
        /// for the consumer: it stops reading the socket, so TCP flow control and the
        /// broker's in-flight window (``maxInflightMessages``) push back on the broker,
        /// which keeps QoS 1 messages queued for this client instead of sending them. While
        /// it waits, this client's own publishes also wait (the network thread writes them).
        public var maxQueuedMessages: Int?

        /// Creates options; every parameter has the default documented on its property.
        public init(
            host: String = "127.0.0.1",
            port: Int32 = 1883,
            keepAliveSeconds: Int32 = 30,
            credentials: Credentials? = nil,
            tls: TLS? = nil,
            maxInflightMessages: Int32 = 100,
            reconnectDelay: ReconnectDelay = ReconnectDelay(),
            maxQueuedMessages: Int? = nil
        ) {
            precondition(maxQueuedMessages.map { $0 > 0 } ?? true, "maxQueuedMessages must be at least 1")
            self.maxQueuedMessages = maxQueuedMessages
            self.host = host
            self.port = port
            self.keepAliveSeconds = keepAliveSeconds
            self.credentials = credentials
            self.tls = tls
            self.maxInflightMessages = maxInflightMessages
            self.reconnectDelay = reconnectDelay
        }
    }

    /// Username and password for the broker.
    public struct Credentials: Sendable {
        /// The username.
        public var username: String
        /// The password, or `nil` to send only the username.
        public var password: String?

        /// Creates credentials.
        public init(username: String, password: String?) {
            self.username = username
            self.password = password
        }
    }

    /// TLS settings. The server certificate is always verified against ``caFile`` and
    /// the host name (or IP address) in ``Options/host``; there is no insecure mode.
    public struct TLS: Sendable {
        /// PEM file of the CA(s) that signed the broker's certificate.
        public var caFile: String
        /// PEM client certificate for mutual TLS, or `nil`.
        public var certificateFile: String?
        /// PEM private key of ``certificateFile``. Must not be encrypted (libmosquitto
        /// would prompt on the terminal for a passphrase).
        public var keyFile: String?
        /// `"tlsv1.3"` or `"tlsv1.2"` to pin the version; `nil` lets OpenSSL negotiate.
        public var version: String?

        /// Creates TLS settings.
        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil, version: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.version = version
        }
    }

    /// How long libmosquitto waits before each automatic reconnect attempt
    /// (`mosquitto_reconnect_delay_set`).
    ///
    /// With `exponentialBackoff`, libmosquitto's formula is `initial * n * n` seconds for
    /// the n-th consecutive attempt (quadratic growth), capped at `maximumSeconds`;
    /// without it every wait is `initialSeconds`. There is no jitter: libmosquitto does
    /// not offer it. Give fleets of devices different `initialSeconds` if a broker
    /// restart must not be met by every device at the same second.
    public struct ReconnectDelay: Sendable {
        /// The first delay in seconds. Default 1.
        public var initialSeconds: UInt32
        /// The largest delay in seconds. Default 30.
        public var maximumSeconds: UInt32
        /// Grow the delay between consecutive failures. Default `true`.
        public var exponentialBackoff: Bool

        /// Creates a reconnect policy.
        public init(initialSeconds: UInt32 = 1, maximumSeconds: UInt32 = 30, exponentialBackoff: Bool = true) {
            self.initialSeconds = initialSeconds
            self.maximumSeconds = max(initialSeconds, maximumSeconds)
            self.exponentialBackoff = exponentialBackoff
        }
    }

    /// Incoming messages on every subscription, in arrival order.
    public let messages: AsyncStream<MQTTMessage>
    /// Broker acknowledgements of this client's publishes.
    public let deliveries: AsyncStream<MQTTDelivery>
    /// Connection and subscription events.
    public let events: AsyncStream<MQTTConnectionEvent>

    /// The client id given at creation.
    public let clientID: String
    /// The options given at creation.
    public let options: Options

    private let handle: MosquittoHandle
    private let context: CallbackContext

    /// Creates a disconnected client. Nothing touches the network until ``connect()``.
    /// - Parameters:
    ///   - clientID: the MQTT client id; must be unique per broker (a second client with
    ///     the same id disconnects the first).
    ///   - cleanStart: start without a stored session. Default `true`. With `false`,
    ///     note that this client sends no Session Expiry Interval, so under MQTT v5 the
    ///     broker still drops the session when the connection closes.
    ///   - options: broker address, TLS, credentials and tuning.
    /// - Throws: ``MQTTError`` if libmosquitto rejects an option or a TLS file.
    public init(clientID: String, cleanStart: Bool = true, options: Options = Options()) throws {
        _ = libraryInitialization
        self.clientID = clientID
        self.options = options
        let (inbox, messageSink) = AsyncStream.makeStream(of: MQTTMessage.self)
        let gate = MessageGate(capacity: options.maxQueuedMessages)
        let messages: AsyncStream<MQTTMessage>
        if options.maxQueuedMessages == nil {
            messages = inbox
        } else {
            // The consumer's `next()` opens a place in the queue for the network thread.
            let source = InboxIterator(inbox.makeAsyncIterator())
            messages = AsyncStream(unfolding: {
                guard let message = await source.next() else { return nil }
                gate.leave()
                return message
            })
        }
        let (deliveries, deliverySink) = AsyncStream.makeStream(of: MQTTDelivery.self)
        let (events, eventSink) = AsyncStream.makeStream(of: MQTTConnectionEvent.self)
        self.messages = messages
        self.deliveries = deliveries
        self.events = events
        let context = CallbackContext(
            messages: messageSink, gate: gate, deliveries: deliverySink, events: eventSink)
        self.context = context

        guard let mosq = mosquitto_new(clientID, cleanStart, Unmanaged.passUnretained(context).toOpaque()) else {
            throw MQTTError(code: errno == EINVAL ? MOSQ_ERR_INVAL.rawValue : MOSQ_ERR_NOMEM.rawValue)
        }
        self.handle = MosquittoHandle(pointer: mosq)
        context.handle = handle

        try check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5))
        try check(mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, options.maxInflightMessages))
        try check(mosquitto_int_option(mosq, MOSQ_OPT_RECEIVE_MAXIMUM, options.maxInflightMessages))
        try check(mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1))
        let delay = options.reconnectDelay
        try check(
            mosquitto_reconnect_delay_set(mosq, delay.initialSeconds, delay.maximumSeconds, delay.exponentialBackoff))
        if let credentials = options.credentials {
            try check(mosquitto_username_pw_set(mosq, credentials.username, credentials.password))
        }
        if let tls = options.tls {
            try check(mosquitto_tls_set(mosq, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil))
            try check(mosquitto_tls_opts_set(mosq, 1 /* SSL_VERIFY_PEER */, tls.version, nil))
            try check(mosquitto_tls_insecure_set(mosq, false))
        }
        mosquitto_connect_v5_callback_set(mosq, mqttOnConnect)
        mosquitto_disconnect_v5_callback_set(mosq, mqttOnDisconnect)
        mosquitto_publish_v5_callback_set(mosq, mqttOnPublish)
        mosquitto_message_v5_callback_set(mosq, mqttOnMessage)
        mosquitto_subscribe_v5_callback_set(mosq, mqttOnSubscribe)
    }

    deinit {
        context.gate.isClosing.store(true, ordering: .releasing)
        lifecycle.withLock { phase in
            if case .running(let loop) = phase { loop.stop() }
            phase = .idle
        }
        mosquitto_destroy(handle.pointer)
        context.finishStreams()
    }

    /// Where the client is in its life: connect/disconnect/retry transitions happen under
    /// the ``lifecycle`` lock, so a retry can never start the loop after `disconnect()`.
    enum Phase {
        case idle
        /// The first connection attempt failed; a task retries with this generation number.
        case retrying(generation: Int)
        /// The network thread runs and handles every later reconnect (see ``NetworkLoop``).
        case running(NetworkLoop)
    }

    private let lifecycle = Mutex<Phase>(.idle)
    private let retryGenerations = Atomic<Int>(0)

    /// Starts connecting in the background and returns at once
    /// (`mosquitto_connect_async` + the ``NetworkLoop`` thread). Watch ``events`` for
    /// ``MQTTConnectionEvent/connected(sessionPresent:)``.
    ///
    /// If the broker is unreachable now, connecting is retried in the background with
    /// ``Options/reconnectDelay`` until it succeeds or ``disconnect()`` is called: an edge
    /// box may start offline. (libmosquitto 2.0.11's network thread does not retry a
    /// first `connect_async` that failed, so this client does that part itself; once
    /// connected, libmosquitto handles every reconnect.)
    /// - Throws: ``MQTTError`` for invalid arguments or if the thread cannot start.
    public func connect() throws {
        try lifecycle.withLock { phase in
            guard case .idle = phase else { return }
            if let loop = try attemptConnection() {
                phase = .running(loop)
            } else {
                let generation = retryGenerations.add(1, ordering: .relaxed).newValue
                phase = .retrying(generation: generation)
                startRetrying(generation: generation)
            }
        }
    }

    /// One `connect_async`; on success starts the network thread.
    /// - Returns: the running loop, or nil for a network failure worth retrying.
    private func attemptConnection() throws -> NetworkLoop? {
        let rc = mosquitto_connect_async(handle.pointer, options.host, options.port, options.keepAliveSeconds)
        let errnoValue = errno
        switch rc {
        case MOSQ_ERR_SUCCESS.rawValue:
            let context = self.context
            let loop = NetworkLoop(handle: handle, delay: options.reconnectDelay) {
                context.state.withLock { $0.connectionCount }
            }
            loop.start()
            return loop
        case MOSQ_ERR_ERRNO.rawValue, MOSQ_ERR_EAI.rawValue, MOSQ_ERR_CONN_REFUSED.rawValue,
            MOSQ_ERR_NO_CONN.rawValue, MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_TLS.rawValue,
            MOSQ_ERR_TLS_HANDSHAKE.rawValue, MOSQ_ERR_LOOKUP.rawValue:
            return nil
        default:
            throw MQTTError(code: rc, errno: errnoValue)
        }
    }

    private func startRetrying(generation: Int) {
        let delay = options.reconnectDelay
        Task.detached { [weak self] in
            var attempt: UInt32 = 0
            while true {
                attempt += 1
                var seconds = delay.initialSeconds
                if delay.exponentialBackoff {
                    seconds = UInt32(
                        min(UInt64(delay.maximumSeconds), UInt64(seconds) * UInt64(attempt) * UInt64(attempt)))
                }
                try? await Task.sleep(for: .seconds(Int(max(seconds, 1))))
                guard let self else { return }
                let finished: Bool = self.lifecycle.withLock { phase in
                    guard case .retrying(let current) = phase, current == generation else { return true }
                    let attempt: NetworkLoop?
                    do {
                        attempt = try self.attemptConnection()
                    } catch {
                        phase = .idle  // a permanent error (bad option): give up
                        return true
                    }
                    guard let loop = attempt else { return false }
                    phase = .running(loop)
                    return true
                }
                if finished { return }
            }
        }
    }

    /// Sends DISCONNECT and stops the network thread, waiting for it to exit (or stops
    /// retrying a first connection). QoS 1 messages in flight stay in libmosquitto's
    /// queue and are resent if ``connect()`` is called again on this client. The streams
    /// stay open.
    public func disconnect() {
        // A network thread waiting for room in a full message queue must not hold up the stop.
        context.gate.isClosing.store(true, ordering: .releasing)
        defer { context.gate.isClosing.store(false, ordering: .releasing) }
        lifecycle.withLock { phase in
            if case .running(let loop) = phase { loop.stop() }
            phase = .idle
        }
    }

    /// Incoming messages waiting for the consumer of ``messages`` now (a gauge; at most
    /// ``Options/maxQueuedMessages`` when that is set).
    public var messageQueueDepth: Int { context.gate.depth.load(ordering: .relaxed) }

    /// The largest ``messageQueueDepth`` seen since the client was created.
    public var messageQueueHighWater: Int { context.gate.highWater.load(ordering: .relaxed) }

    /// How many times the network thread found the message queue full and waited.
    public var messageQueueWaits: Int { context.gate.waits.load(ordering: .relaxed) }

    /// `true` between a successful CONNACK and the next disconnect.
    public var isConnected: Bool { context.state.withLock { $0.connected } }

    /// Successful connections so far (1 after the first connect; each automatic
    /// reconnect adds one).
    public var connectionCount: Int { context.state.withLock { $0.connectionCount } }

    /// Publishes `payload` to `topic`. libmosquitto copies the bytes and returns at once.
    ///
    /// QoS 1/2 messages published while disconnected are queued by libmosquitto and sent
    /// after the next reconnect, so this returns their id normally (libmosquitto itself
    /// answers `MOSQ_ERR_NO_CONN` for them although they are queued; this wrapper hides
    /// that so callers do not resend a message that will go out anyway). The queue lives
    /// in memory only: keep messages in a durable outbox until their ``MQTTDelivery``.
    /// - Returns: the message id; the matching ``MQTTDelivery`` arrives on ``deliveries``.
    /// - Throws: ``MQTTError`` (for example ``MQTTError/notConnected`` for QoS 0 while
    ///   disconnected, ``MQTTError/payloadTooLarge``, ``MQTTError/invalidTopic``).
    @discardableResult
    public func publish(topic: String, payload: [UInt8], qos: MQTTQoS = .atLeastOnce, retain: Bool = false) throws
        -> Int32
    {
        try payload.withUnsafeBytes { try publish(topic: topic, bytes: $0, qos: qos, retain: retain) }
    }

    /// Publishes the bytes in `bytes` (any contiguous buffer); see
    /// ``publish(topic:payload:qos:retain:)``.
    @discardableResult
    public func publish(topic: String, bytes: UnsafeRawBufferPointer, qos: MQTTQoS = .atLeastOnce, retain: Bool = false)
        throws -> Int32
    {
        guard bytes.count <= Int(Int32.max) else { throw MQTTError.payloadTooLarge }
        var messageID: Int32 = 0
        let rc = mosquitto_publish_v5(
            handle.pointer, &messageID, topic, Int32(bytes.count), bytes.baseAddress, qos.rawValue, retain, nil)
        // For QoS > 0 libmosquitto queues the message before trying to send it; NO_CONN /
        // CONN_LOST then only say the send must wait for the reconnect.
        if qos != .atMostOnce, messageID != 0,
            rc == MOSQ_ERR_NO_CONN.rawValue || rc == MOSQ_ERR_CONN_LOST.rawValue
        {
            return messageID
        }
        try check(rc)
        return messageID
    }

    /// Subscribes to `topic` now if connected, and again after every reconnect.
    /// Shared subscriptions work as-is: `$share/<group>/<filter>` spreads the messages
    /// among the clients in the group. The broker's answer arrives on ``events`` as
    /// ``MQTTConnectionEvent/subscribed(messageID:grantedQoS:)``.
    /// - Throws: ``MQTTError/invalidTopic`` or ``MQTTError/invalidArgument`` for a bad filter.
    public func subscribe(topic: String, qos: MQTTQoS = .atLeastOnce) throws {
        guard mosquitto_sub_topic_check(topic) == MOSQ_ERR_SUCCESS.rawValue else { throw MQTTError.invalidTopic }
        context.state.withLock { $0.subscriptions[topic] = qos }
        let rc = mosquitto_subscribe_v5(handle.pointer, nil, topic, qos.rawValue, 0, nil)
        // Not connected yet: the connect callback subscribes.
        if rc != MOSQ_ERR_NO_CONN.rawValue { try check(rc) }
    }

    /// Removes `topic` from the subscriptions (now and on future reconnects).
    public func unsubscribe(topic: String) throws {
        context.state.withLock { _ = $0.subscriptions.removeValue(forKey: topic) }
        let rc = mosquitto_unsubscribe_v5(handle.pointer, nil, topic, nil)
        if rc != MOSQ_ERR_NO_CONN.rawValue { try check(rc) }
    }

    private func check(_ rc: Int32) throws {
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw MQTTError(code: rc, errno: errno) }
    }
}

/// The `struct mosquitto *`. libmosquitto serializes access internally in threaded mode.
struct MosquittoHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// What the C callbacks reach through libmosquitto's `obj` pointer. Owned (retained) by
/// the ``MQTTClient``, which destroys the mosquitto handle before releasing it.
final class CallbackContext: Sendable {
    struct State {
        var subscriptions: [String: MQTTQoS] = [:]
        var connected = false
        var connectionCount = 0
    }

    let state = Mutex(State())
    let messages: AsyncStream<MQTTMessage>.Continuation
    let gate: MessageGate
    let deliveries: AsyncStream<MQTTDelivery>.Continuation
    let events: AsyncStream<MQTTConnectionEvent>.Continuation
    private let handleStorage = Mutex<MosquittoHandle?>(nil)

    var handle: MosquittoHandle? {
        get { handleStorage.withLock { $0 } }
        set { handleStorage.withLock { $0 = newValue } }
    }

    init(
        messages: AsyncStream<MQTTMessage>.Continuation,
        gate: MessageGate,
        deliveries: AsyncStream<MQTTDelivery>.Continuation,
        events: AsyncStream<MQTTConnectionEvent>.Continuation
    ) {
        self.messages = messages
        self.gate = gate
        self.deliveries = deliveries
        self.events = events
    }

    func finishStreams() {
        messages.finish()
        deliveries.finish()
        events.finish()
    }

    static func from(_ obj: UnsafeMutableRawPointer?) -> CallbackContext? {
        obj.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

// MARK: C callbacks (nonisolated global functions, called on libmosquitto's network thread)

private func mqttOnConnect(
    _ mosq: OpaquePointer?, _ obj: UnsafeMutableRawPointer?, _ rc: Int32, _ flags: Int32, _ props: OpaquePointer?
) {
    guard let context = CallbackContext.from(obj) else { return }
    guard rc == 0 else {
        context.events.yield(.connectionRefused(reasonCode: rc, reason: connackText(rc)))
        return
    }
    let subscriptions = context.state.withLock { state in
        state.connected = true
        state.connectionCount += 1
        return state.subscriptions
    }
    for (topic, qos) in subscriptions.sorted(by: { $0.key < $1.key }) {
        _ = mosquitto_subscribe_v5(mosq, nil, topic, qos.rawValue, 0, nil)
    }
    context.events.yield(.connected(sessionPresent: flags & 1 != 0))
}

private func mqttOnDisconnect(
    _ mosq: OpaquePointer?, _ obj: UnsafeMutableRawPointer?, _ rc: Int32, _ props: OpaquePointer?
) {
    guard let context = CallbackContext.from(obj) else { return }
    context.state.withLock { $0.connected = false }
    context.events.yield(.disconnected(reasonCode: rc, reason: disconnectText(rc)))
}

private func mqttOnPublish(
    _ mosq: OpaquePointer?, _ obj: UnsafeMutableRawPointer?, _ mid: Int32, _ reasonCode: Int32,
    _ props: OpaquePointer?
) {
    guard let context = CallbackContext.from(obj) else { return }
    context.deliveries.yield(MQTTDelivery(messageID: mid, reasonCode: reasonCode))
}

private func mqttOnMessage(
    _ mosq: OpaquePointer?, _ obj: UnsafeMutableRawPointer?, _ message: UnsafePointer<mosquitto_message>?,
    _ props: OpaquePointer?
) {
    guard let context = CallbackContext.from(obj), let message = message?.pointee else { return }
    context.gate.enter()
    let topic = message.topic.map { String(cString: $0) } ?? ""
    let count = Int(message.payloadlen)
    let payload: [UInt8] =
        if let bytes = message.payload, count > 0 {
            Array(UnsafeRawBufferPointer(start: bytes, count: count))
        } else {
            []
        }
    context.messages.yield(
        MQTTMessage(
            topic: topic, payload: payload, qos: MQTTQoS(rawValue: message.qos) ?? .atMostOnce,
            retain: message.retain))
}

private func mqttOnSubscribe(
    _ mosq: OpaquePointer?, _ obj: UnsafeMutableRawPointer?, _ mid: Int32, _ count: Int32,
    _ granted: UnsafePointer<Int32>?, _ props: OpaquePointer?
) {
    guard let context = CallbackContext.from(obj) else { return }
    let grantedQoS = granted.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? []
    context.events.yield(.subscribed(messageID: mid, grantedQoS: grantedQoS))
}

// MARK: The bounded message queue

/// Bounds the messages between the network thread and the consumer of
/// ``MQTTClient/messages``: the network thread takes a place before it yields a message
/// (waiting while there is none) and the consumer's `next()` gives it back.
final class MessageGate: Sendable {
    /// Free places; `nil` without a bound.
    private let places: DispatchSemaphore?
    let depth = Atomic<Int>(0)
    let highWater = Atomic<Int>(0)
    let waits = Atomic<Int>(0)
    /// Messages yielded without a place while disconnecting (their `leave()` frees none).
    private let overdraft = Atomic<Int>(0)
    /// Set while disconnecting: the network thread then no longer waits for a place.
    let isClosing = Atomic<Bool>(false)

    /// The semaphore starts at zero and is signalled up to `capacity`: libdispatch traps when a
    /// semaphore is freed below the value it was created with, which a gate is whenever its
    /// client goes away with messages still queued (seen as a SIGILL when a stopped ingest
    /// service released its client).
    init(capacity: Int?) {
        places = capacity.map { capacity in
            let semaphore = DispatchSemaphore(value: 0)
            for _ in 0..<capacity { semaphore.signal() }
            return semaphore
        }
    }

    /// Takes a place for one message; on the network thread, waits while the queue is full.
    func enter() {
        if let places {
            if places.wait(timeout: .now()) == .timedOut {
                waits.add(1, ordering: .relaxed)
                while places.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
                    // Disconnecting: yield without a place (the consumer may be gone).
                    if isClosing.load(ordering: .acquiring) {
                        overdraft.add(1, ordering: .relaxed)
                        break
                    }
                }
            }
        }
        let now = depth.add(1, ordering: .relaxed).newValue
        var high = highWater.load(ordering: .relaxed)
        while now > high {
            let (exchanged, original) = highWater.compareExchange(
                expected: high, desired: now, ordering: .relaxed)
            if exchanged { break }
            high = original
        }
    }

    /// Gives back the place of a message the consumer took.
    func leave() {
        depth.subtract(1, ordering: .relaxed)
        var owed = overdraft.load(ordering: .relaxed)
        while owed > 0 {
            let (exchanged, original) = overdraft.compareExchange(
                expected: owed, desired: owed - 1, ordering: .relaxed)
            if exchanged { return }
            owed = original
        }
        places?.signal()
    }
}

/// The iterator of the unbounded inbox behind a bounded ``MQTTClient/messages``.
/// `@unchecked Sendable`: the stream has one consumer, so `next()` never runs concurrently.
private final class InboxIterator: @unchecked Sendable {
    private var iterator: AsyncStream<MQTTMessage>.Iterator
    init(_ iterator: AsyncStream<MQTTMessage>.Iterator) { self.iterator = iterator }
    func next() async -> MQTTMessage? { await iterator.next() }
}
