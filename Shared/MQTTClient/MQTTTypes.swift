import CMosquitto

/// MQTT quality of service.
public enum MQTTQoS: Int32, Sendable, Hashable {
    /// At most once: no acknowledgement.
    case atMostOnce = 0
    /// At least once: the broker answers with PUBACK; duplicates are possible.
    case atLeastOnce = 1
    /// Exactly once (four-way handshake).
    case exactlyOnce = 2
}

/// One message received on a subscription.
public struct MQTTMessage: Sendable, Hashable {
    /// The topic it was published to (for shared subscriptions, the real topic, not `$share/...`).
    public var topic: String
    /// The payload bytes, exactly as published.
    public var payload: [UInt8]
    /// The QoS it was delivered with.
    public var qos: MQTTQoS
    /// `true` if it is a retained message delivered at subscription time.
    public var retain: Bool
}

/// The end of one publish: the broker's PUBACK (QoS 1), PUBCOMP (QoS 2), or, for QoS 0,
/// the moment the message was written to the socket.
public struct MQTTDelivery: Sendable, Hashable {
    /// The id ``MQTTClient/publish(topic:payload:qos:retain:)`` returned.
    public var messageID: Int32
    /// The MQTT v5 reason code from the broker: below 0x80 is success (0x10 means "no
    /// matching subscribers", still accepted); 0x80 and above means the broker refused
    /// the message (0x87 "not authorized" when an ACL denies the topic).
    public var reasonCode: Int32

    /// `true` if the broker accepted the message (reason code below 0x80).
    public var isAccepted: Bool { reasonCode < 0x80 }
}

/// A change in the connection, in the order libmosquitto reported it.
public enum MQTTConnectionEvent: Sendable, Hashable {
    /// The broker accepted the connection (CONNACK success). Emitted on the first
    /// connect and on every automatic reconnect: count these to count reconnects.
    /// Subscriptions have already been re-sent when this is delivered.
    case connected(sessionPresent: Bool)
    /// The broker answered CONNACK with a failure (bad credentials, not authorized, ...).
    /// `reason` is libmosquitto's text for the code.
    case connectionRefused(reasonCode: Int32, reason: String)
    /// The connection closed. `reasonCode` 0 means ``MQTTClient/disconnect()`` was called;
    /// anything else is unexpected and libmosquitto reconnects by itself.
    case disconnected(reasonCode: Int32, reason: String)
    /// The broker answered a SUBSCRIBE. A granted QoS of 0x80 or above means that topic
    /// filter was refused (for example by an ACL).
    case subscribed(messageID: Int32, grantedQoS: [Int32])
}

/// An error from libmosquitto, one case per `MOSQ_ERR_*` code callers act on.
public enum MQTTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `MOSQ_ERR_NO_CONN`: not connected (QoS 0 publish, or before ``MQTTClient/connect()``).
    case notConnected
    /// `MOSQ_ERR_CONN_LOST`: the connection dropped during the call.
    case connectionLost
    /// `MOSQ_ERR_INVAL`: an argument was invalid (empty host, bad port, bad topic, ...).
    case invalidArgument
    /// `MOSQ_ERR_MALFORMED_UTF8` or `MOSQ_ERR_TOPIC`-like failures: the topic is not valid UTF-8 / not a valid topic.
    case invalidTopic
    /// `MOSQ_ERR_PAYLOAD_SIZE` or `MOSQ_ERR_OVERSIZE_PACKET`: the payload is too large.
    case payloadTooLarge
    /// `MOSQ_ERR_QOS_NOT_SUPPORTED`: the broker does not support the requested QoS.
    case qosNotSupported
    /// `MOSQ_ERR_TLS` / `MOSQ_ERR_TLS_HANDSHAKE`: TLS setup or handshake failed (bad CA / certificate / key file).
    case tls
    /// `MOSQ_ERR_NOMEM`: out of memory.
    case outOfMemory
    /// `MOSQ_ERR_ERRNO`: a system call failed; `errno` holds the cause.
    case system(errno: Int32)
    /// Any other `MOSQ_ERR_*` code, with `mosquitto_strerror` text.
    case other(code: Int32, message: String)

    /// Maps a `MOSQ_ERR_*` code (not `MOSQ_ERR_SUCCESS`) to an error.
    public init(code: Int32, errno: Int32 = 0) {
        switch code {
        case MOSQ_ERR_NO_CONN.rawValue: self = .notConnected
        case MOSQ_ERR_CONN_LOST.rawValue: self = .connectionLost
        case MOSQ_ERR_INVAL.rawValue: self = .invalidArgument
        case MOSQ_ERR_MALFORMED_UTF8.rawValue: self = .invalidTopic
        case MOSQ_ERR_PAYLOAD_SIZE.rawValue, MOSQ_ERR_OVERSIZE_PACKET.rawValue: self = .payloadTooLarge
        case MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue: self = .qosNotSupported
        case MOSQ_ERR_TLS.rawValue, MOSQ_ERR_TLS_HANDSHAKE.rawValue: self = .tls
        case MOSQ_ERR_NOMEM.rawValue: self = .outOfMemory
        case MOSQ_ERR_ERRNO.rawValue: self = .system(errno: errno)
        default: self = .other(code: code, message: String(cString: mosquitto_strerror(code)))
        }
    }

    /// The `MOSQ_ERR_*` code.
    public var code: Int32 {
        switch self {
        case .notConnected: MOSQ_ERR_NO_CONN.rawValue
        case .connectionLost: MOSQ_ERR_CONN_LOST.rawValue
        case .invalidArgument: MOSQ_ERR_INVAL.rawValue
        case .invalidTopic: MOSQ_ERR_MALFORMED_UTF8.rawValue
        case .payloadTooLarge: MOSQ_ERR_PAYLOAD_SIZE.rawValue
        case .qosNotSupported: MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue
        case .tls: MOSQ_ERR_TLS.rawValue
        case .outOfMemory: MOSQ_ERR_NOMEM.rawValue
        case .system: MOSQ_ERR_ERRNO.rawValue
        case .other(let code, _): code
        }
    }

    public var description: String {
        switch self {
        case .system(let errno):
            return "mosquitto: \(String(cString: mosquitto_strerror(code))) (errno \(errno))"
        case .other(let code, let message):
            return "mosquitto error \(code): \(message)"
        default:
            return "mosquitto: \(String(cString: mosquitto_strerror(code)))"
        }
    }
}

/// Text for a CONNACK reason code: `mosquitto_connack_string` for the MQTT 3 codes 1-5,
/// `mosquitto_reason_string` for MQTT v5 codes.
func connackText(_ code: Int32) -> String {
    if code == 0 { return "success" }
    if code <= 5 { return String(cString: mosquitto_connack_string(code)) }
    return String(cString: mosquitto_reason_string(code))
}

/// Text for the code libmosquitto passes to its disconnect callback: a `MOSQ_ERR_*`
/// code (`mosquitto_strerror`), or an MQTT v5 DISCONNECT reason code (0x80 and above).
func disconnectText(_ code: Int32) -> String {
    if code == 0 { return "disconnected by the client" }
    if code >= 0x80 { return String(cString: mosquitto_reason_string(code)) }
    return String(cString: mosquitto_strerror(code))
}
