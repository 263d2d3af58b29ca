import AgriTraceCore

/// The sections of the agent's configuration file, each read and checked by its key
/// (``AgentConfiguration/parse(_:baseDirectory:)`` puts them together).
extension AgentConfiguration.Reader {
    /// `[device]`: the identity that names the box's MQTT topics.
    func device() throws -> AgentConfiguration.Device {
        let enrolledText = try string("device.enrolled_at", default: "2026-01-01T00:00:00Z")
        guard let enrolledAt = Timestamp(iso8601: enrolledText) else {
            throw ConfigurationError.invalid(
                key: "device.enrolled_at",
                reason: "\"\(enrolledText)\" is not an ISO 8601 date-time such as 2026-01-01T00:00:00Z")
        }
        var stage: Stage?
        if let stageName = try optionalString("device.stage") {
            guard let parsed = Stage(name: stageName) else {
                throw ConfigurationError.invalid(
                    key: "device.stage", reason: "use one of \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            stage = parsed
        }
        let enterprise = try requiredString("device.enterprise")
        let deviceID = try requiredString("device.id")
        for (key, value) in [("device.enterprise", enterprise), ("device.id", deviceID)] {
            guard !value.isEmpty, value.utf8.count <= 64,
                !value.contains(where: { "/+#".contains($0) || $0.isWhitespace })
            else {
                throw ConfigurationError.invalid(
                    key: key,
                    reason: "use 1-64 characters without spaces, '/', '+' or '#' (it is part of the MQTT topic)")
            }
        }
        return AgentConfiguration.Device(
            enterprise: enterprise, id: deviceID, stage: stage, enrolledAt: enrolledAt,
            keyFile: try path("device.key_file", default: "device.key"))
    }

    /// `[broker]`: where and how the agent connects.
    func broker() throws -> AgentConfiguration.Broker {
        AgentConfiguration.Broker(
            host: try string("broker.host", default: "127.0.0.1"),
            port: Int32(try integer("broker.port", default: 1883, range: 1...65535)),
            caFile: try optionalPath("broker.ca_file"),
            certificateFile: try optionalPath("broker.certificate_file"),
            keyFile: try optionalPath("broker.key_file"),
            keepAliveSeconds: Int32(try integer("broker.keepalive_seconds", default: 30, range: 5...3600)),
            maxInflightMessages: Int32(try integer("broker.max_inflight", default: 100, range: 1...65535)),
            reconnectInitialSeconds: UInt32(
                try integer("broker.reconnect_initial_seconds", default: 1, range: 1...3600)),
            reconnectMaximumSeconds: UInt32(
                try integer("broker.reconnect_maximum_seconds", default: 30, range: 1...86400)))
    }

    /// `[inputs]`: the tailed files, standard input and the socket.
    func inputs() throws -> AgentConfiguration.Inputs {
        AgentConfiguration.Inputs(
            files: try stringArray("inputs.files").map { resolve($0) },
            stdin: try bool("inputs.stdin", default: false),
            socket: try optionalPath("inputs.socket"),
            maxLineBytes: Int(try integer("inputs.max_line_bytes", default: 65536, range: 256...16_777_216)),
            pollMilliseconds: Int(try integer("inputs.poll_ms", default: 200, range: 10...60000)))
    }

    /// `[storage]`: the store, its budget and retention.
    func storage() throws -> AgentConfiguration.Storage {
        AgentConfiguration.Storage(
            path: try path("storage.path", default: "agent.sqlite"),
            maxBytes: try integer("storage.max_bytes", default: 1 << 30, range: 262_144...Int64.max),
            minFreeBytes: try integer("storage.min_free_bytes", default: 32 << 20, range: 0...Int64.max),
            retentionDays: Int(try integer("storage.retention_days", default: 731, range: 0...36500)),
            synchronous: try choice("storage.synchronous", default: "normal", among: ["normal", "full"]))
    }

    /// `[delivery]`: batches, resends and the drain at stop.
    func delivery() throws -> AgentConfiguration.Delivery {
        AgentConfiguration.Delivery(
            batchSize: Int(try integer("delivery.batch_size", default: 200, range: 1...5000)),
            resendTimeoutMilliseconds: Int(
                try integer("delivery.resend_timeout_ms", default: 30000, range: 100...86_400_000)),
            maxUnreceipted: Int(try integer("delivery.max_unreceipted", default: 20000, range: 1...10_000_000)),
            drainTimeoutMilliseconds: Int(
                try integer("delivery.drain_timeout_ms", default: 10000, range: 0...3_600_000)))
    }

    /// `[operations]`: metrics, logging, startup pages and the degraded threshold.
    func operations() throws -> AgentConfiguration.Operations {
        AgentConfiguration.Operations(
            metricsPort: Int(try integer("operations.metrics_port", default: 9464, range: 0...65535)),
            logLevel: try choice(
                "operations.log_level", default: "info",
                among: ["trace", "debug", "info", "notice", "warning", "error", "critical"]),
            releaseStartupPages: try bool("operations.release_startup_pages", default: true),
            degradedAfterSeconds: Int(
                try integer("operations.degraded_after_seconds", default: 3600, range: 0...31_536_000)))
    }
}
