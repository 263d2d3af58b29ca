import AgriTraceCore
import COpenSSL
import Crypto
import Logging
import MQTTClient
import PosixThreads

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

/// A running agent: the store, the inputs, the publisher and the health endpoint.
///
/// ```swift
/// let agent = try AgentRuntime(configuration: configuration, logger: logger)
/// try agent.start()
/// // ... SIGTERM:
/// agent.shutdown()
/// ```
public final class AgentRuntime: @unchecked Sendable {
    public private(set) var configuration: AgentConfiguration
    public let store: AgentStore
    public let metrics = AgentMetrics()
    public let bootID: String
    let key: DeviceKey
    let logger: Logger
    let inputStop = StopSignal()
    let serviceStop = StopSignal()
    let publisher: RecordPublisher
    /// Uploads sealed private values when `[sharing]` is configured (docs/transfer.md).
    public let uploader: BlobUploader?
    let gate: IntakeGate
    var threads: [PosixThread] = []
    let threadsDone = PosixCondition()
    var runningThreads = 0
    /// The health endpoint's port once started (0 when disabled).
    public private(set) var metricsPort = 0
    /// SHA-256 of the CA, certificate and key files the current MQTT client was made with.
    var tlsFingerprint: Digest32?

    /// Loads the device key, opens the store and prepares the MQTT client (no I/O to the broker yet).
    public init(configuration: AgentConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        key = try DeviceKey.load(path: configuration.device.keyFile)
        let cipher = VaultCipher(
            key: key.vaultKey(enterprise: configuration.device.enterprise, device: configuration.device.id))
        store = try AgentStore(
            path: configuration.storage.path, cipher: cipher, budgetBytes: configuration.storage.maxBytes,
            fullSync: configuration.storage.synchronous == "full", minimumFreeBytes: configuration.storage.minFreeBytes)
        var bytes = [UInt8](repeating: 0, count: 8)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        bootID = bytes.hexString
        let client = try Self.makeClient(configuration)
        tlsFingerprint = Self.tlsFingerprint(configuration.broker)
        publisher = RecordPublisher(
            client: client, store: store, key: key, authority: try configuration.authority.publicKey(),
            enterprise: configuration.device.enterprise, device: configuration.device.id,
            settings: Self.publisherSettings(configuration), metrics: metrics, logger: logger)
        let publisher = self.publisher
        if let sharing = configuration.sharing {
            uploader = try BlobUploader(
                storePath: configuration.storage.path, store: store,
                client: try Self.makeClient(configuration, clientIDSuffix: "/blobs"),
                key: key.privateKey, authority: try configuration.authority.publicKey(), owner: try sharing.ownerKey(),
                enterprise: configuration.device.enterprise, device: configuration.device.id,
                resendTimeoutMilliseconds: sharing.resendTimeoutMilliseconds, logger: logger)
        } else {
            uploader = nil
        }
        gate = IntakeGate(
            store: store,
            classifier: Classifier(catalog: try configuration.catalog(), identity: configuration.identity),
            bootID: bootID, metrics: metrics, logger: logger, stopSignal: inputStop, onAccepted: { publisher.wake() })
    }

    /// The MQTT client for `configuration`'s broker settings (TLS files are read when it connects).
    static func makeClient(_ configuration: AgentConfiguration, clientIDSuffix: String = "") throws -> MQTTClient {
        let broker = configuration.broker
        let tls = broker.caFile.map {
            MQTTClient.TLS(caFile: $0, certificateFile: broker.certificateFile, keyFile: broker.keyFile)
        }
        // libmosquitto backs off as initial * n^2 up to the maximum; the initial delay gets
        // per-process jitter so a fleet does not reconnect in the same second.
        let jitteredMaximum =
            broker.reconnectMaximumSeconds + UInt32.random(in: 0...max(1, broker.reconnectMaximumSeconds / 5))
        let options = MQTTClient.Options(
            host: broker.host, port: broker.port, keepAliveSeconds: broker.keepAliveSeconds, credentials: nil, tls: tls,
            maxInflightMessages: broker.maxInflightMessages,
            reconnectDelay: .init(
                initialSeconds: broker.reconnectInitialSeconds, maximumSeconds: jitteredMaximum,
                exponentialBackoff: true))
        return try MQTTClient(
            clientID: "agritrace-agent/\(configuration.device.enterprise)/\(configuration.device.id)\(clientIDSuffix)",
            cleanStart: true,
            options: options)
    }

    /// A digest of the TLS files' contents (nil without TLS): a renewed certificate or key
    /// changes it even when the paths stay the same.
    static func tlsFingerprint(_ broker: AgentConfiguration.Broker) -> Digest32? {
        guard let caFile = broker.caFile else { return nil }
        var hasher = SHA256()
        for path in [caFile, broker.certificateFile, broker.keyFile] {
            let bytes = path.flatMap { FileManager.default.contents(atPath: $0) } ?? Data()
            withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: bytes)
        }
        return Digest32(hasher.finalize())
    }

    /// Checks that the TLS files of `broker` can be read and hold PEM certificates and a key,
    /// that the key (without a passphrase) matches the certificate, and that the certificate
    /// verifies against the CA file as a TLS client certificate valid now, so a half-written or
    /// mismatched renewal is refused before the working connection is dropped.
    static func checkTLSFiles(_ broker: AgentConfiguration.Broker) throws {
        guard let caFile = broker.caFile else { return }
        func check(_ path: String?, _ marker: String, _ what: String) throws {
            guard let path else { return }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ReloadError("cannot read the \(what) \(path)")
            }
            guard String(decoding: data, as: UTF8.self).contains(marker) else {
                throw ReloadError("the \(what) \(path) holds no PEM \(marker)")
            }
        }
        try check(caFile, "-----BEGIN CERTIFICATE-----", "CA file")
        try check(broker.certificateFile, "-----BEGIN CERTIFICATE-----", "certificate file")
        try check(broker.keyFile, "PRIVATE KEY-----", "key file")
        guard let certificateFile = broker.certificateFile, let keyFile = broker.keyFile else { return }
        var error: Int32 = 0
        switch agritrace_check_tls_identity(caFile, certificateFile, keyFile, &error) {
        case 0: return
        case 1: throw ReloadError("the certificate file \(certificateFile) does not parse as a PEM certificate")
        case 2: throw ReloadError("the key file \(keyFile) does not load (damaged, or protected by a passphrase)")
        case 3: throw ReloadError("the key file \(keyFile) does not match the certificate \(certificateFile)")
        case 4: throw ReloadError("the CA file \(caFile) gives no certificate")
        default:
            throw ReloadError(
                "the certificate \(certificateFile) does not verify against \(caFile): "
                    + String(cString: X509_verify_cert_error_string(Int(error))))
        }
    }

    struct ReloadError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func publisherSettings(_ configuration: AgentConfiguration) -> RecordPublisher.Settings {
        RecordPublisher.Settings(
            batchSize: configuration.delivery.batchSize, maxInflight: Int(configuration.broker.maxInflightMessages),
            maxUnreceipted: configuration.delivery.maxUnreceipted,
            resendTimeoutMilliseconds: Int64(configuration.delivery.resendTimeoutMilliseconds))
    }

    func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threadsDone.lock()
        runningThreads += 1
        threadsDone.unlock()
        let thread = PosixThread(name: name) { [self] in
            body()
            threadsDone.lock()
            runningThreads -= 1
            threadsDone.broadcast()
            threadsDone.unlock()
        }
        threads.append(thread)
    }

    /// Starts delivery, the inputs, the health endpoint and periodic retention.
    public func start() throws {
        let c = configuration
        if Timestamp.now() < c.device.enrolledAt {
            logger.warning(
                "the wall clock is before the enrollment date; records are flagged clockTrusted=false until it is set",
                metadata: ["enrolled_at": "\(c.device.enrolledAt.iso8601)"])
        }
        try publisher.start()
        try uploader?.start()
        if c.operations.metricsPort > 0 {
            let server = try HealthServer(port: c.operations.metricsPort, stopSignal: serviceStop) { [self] path in
                respond(path)
            }
            metricsPort = server.port
            spawn("agent-health") { server.run() }
        }
        try startInputs()
        startRetention()
        logger.info(
            "agent started",
            metadata: [
                "enterprise": "\(c.device.enterprise)", "device": "\(c.device.id)", "boot_id": "\(bootID)",
                "device_public_key": "\(key.publicKey.hex)", "next_sequence": "\(store.nextSequence)",
            ])
    }

    /// Starts a thread for each input of the configuration: the tailed files, standard input
    /// and the socket.
    func startInputs() throws {
        let c = configuration
        let gate = self.gate
        for file in c.inputs.files {
            let tailer = FileTailer(
                path: file, gate: gate, maxLineBytes: c.inputs.maxLineBytes,
                pollMilliseconds: c.inputs.pollMilliseconds, logger: logger)
            spawn("agent-tail") { tailer.run() }
        }
        if c.inputs.stdin {
            let input = StreamInput(
                descriptor: 0, source: "stdin", gate: gate, maxLineBytes: c.inputs.maxLineBytes, acknowledge: false)
            let logger = self.logger
            spawn("agent-stdin") {
                input.run()
                logger.info("standard input ended")
            }
        }
        if let socketPath = c.inputs.socket {
            let listener = try SocketListener(path: socketPath, gate: gate, maxLineBytes: c.inputs.maxLineBytes)
            spawn("agent-socket") { listener.run() }
        }
    }

    /// Starts the thread that applies retention to receipted records once an hour.
    func startRetention() {
        spawn("agent-retention") { [self] in
            var last = Date.distantPast
            while !serviceStop.isStopped {
                if Date().timeIntervalSince(last) > 3600 {
                    last = Date()
                    do {
                        let deleted = try store.applyRetention(days: configuration.storage.retentionDays)
                        if deleted > 0 {
                            logger.info("retention deleted old receipted records", metadata: ["count": "\(deleted)"])
                        }
                    } catch {
                        logger.error("retention failed", metadata: ["error": "\(error)"])
                    }
                }
                PosixThread.sleep(seconds: 0.5)
            }
        }
    }

    /// `ok`, `store-unavailable`, or `degraded` once the oldest unreceipted record is older
    /// than `degradedAfterSeconds` (0: never).
    static func health(_ statistics: StoreStatistics?, degradedAfterSeconds: Int) -> String {
        guard let statistics else { return "store-unavailable" }
        let age = statistics.oldestUnreceiptedMillis ?? 0
        return degradedAfterSeconds > 0 && age > Int64(degradedAfterSeconds) * 1000 ? "degraded" : "ok"
    }

    func respond(_ path: String) -> (status: Int, contentType: String, body: String) {
        switch path {
        case "/metrics":
            return (
                200, "text/plain; version=0.0.4",
                metrics.render(statistics: try? store.statistics(), budgetBytes: configuration.storage.maxBytes)
            )
        case "/healthz":
            let counters = metrics.counters
            let statistics = try? store.statistics()
            let status = Self.health(statistics, degradedAfterSeconds: configuration.operations.degradedAfterSeconds)
            let age = statistics?.oldestUnreceiptedMillis.map { $0 / 1000 } ?? 0
            let body =
                "{\"status\":\"\(status)\",\"connected\":\(counters.connected),\"disk_budget_reached\":\(counters.budgetReached),\"filesystem_full\":\(counters.filesystemFull),\"outbox_depth\":\(statistics?.outboxDepth ?? -1),\"oldest_unreceipted_seconds\":\(age)}\n"
            return (status == "ok" ? 200 : 503, "application/json", body)
        default:
            return (404, "text/plain", "try /healthz or /metrics\n")
        }
    }

    /// Applies what can change without a restart: limits, batch size, timeouts, log level
    /// (the caller swaps the log handler), and the broker settings: when they or the
    /// contents of the TLS files changed (a renewed certificate and key), the agent
    /// reconnects with a new MQTT client; records in flight on the old connection are sent
    /// again on the new one, none is lost and the aggregator keeps one copy of each. Other
    /// changes are logged as needing a restart.
    public func reload(_ new: AgentConfiguration) {
        let old = configuration
        var restartNeeded: [String] = []
        var brokerApplied = old.broker
        if new.device != old.device { restartNeeded.append("device") }
        let fingerprint = Self.tlsFingerprint(new.broker)
        if new.broker != old.broker || fingerprint != tlsFingerprint {
            do {
                try Self.checkTLSFiles(new.broker)
                var next = new
                next.device = old.device  // the client id follows the running identity
                try publisher.replaceClient(try Self.makeClient(next))
                if let uploader {
                    do {
                        try uploader.replaceClient(try Self.makeClient(next, clientIDSuffix: "/blobs"))
                    } catch {
                        logger.error(
                            "cannot reconnect the blob uploader with the new broker settings",
                            metadata: ["error": "\(error)"])
                    }
                }
                tlsFingerprint = fingerprint
                brokerApplied = new.broker
                logger.notice(
                    "reconnecting to the broker with the reloaded broker settings and TLS files",
                    metadata: [
                        "host": "\(new.broker.host)", "port": "\(new.broker.port)",
                        "certificate": "\(new.broker.certificateFile ?? "-")",
                    ])
            } catch {
                logger.error(
                    "cannot apply the new broker settings; keeping the current connection",
                    metadata: ["error": "\(error)"])
            }
        }
        if new.inputs != old.inputs { restartNeeded.append("inputs") }
        if new.storage.path != old.storage.path { restartNeeded.append("storage.path") }
        if new.authority != old.authority { restartNeeded.append("authority") }
        do {
            try store.setBudget(new.storage.maxBytes)
            store.setMinimumFree(new.storage.minFreeBytes)
        } catch {
            logger.error("cannot apply the new storage budget", metadata: ["error": "\(error)"])
        }
        publisher.update(settings: Self.publisherSettings(new))
        var applied = new
        applied.device = old.device
        applied.broker = brokerApplied
        applied.inputs = old.inputs
        applied.storage.path = old.storage.path
        applied.authority = old.authority
        configuration = applied
        logger.notice(
            "configuration reloaded",
            metadata: [
                "max_bytes": "\(new.storage.maxBytes)", "batch_size": "\(new.delivery.batchSize)",
                "needs_restart": "\(restartNeeded.isEmpty ? "none" : restartNeeded.joined(separator: ","))",
            ])
    }

    /// Stops the inputs (committing what was read), keeps delivering until the outbox is
    /// empty or the drain timeout passes, then disconnects and closes the store cleanly.
    public func shutdown() {
        logger.info("shutting down: inputs stopped, draining the outbox")
        inputStop.stop()
        let deadline = Date().addingTimeInterval(Double(configuration.delivery.drainTimeoutMilliseconds) / 1000)
        while Date() < deadline {
            guard let depth = try? store.statistics().outboxDepth, depth > 0, publisher.isConnected else { break }
            PosixThread.sleep(seconds: 0.05)
        }
        publisher.stop()
        uploader?.stop()
        serviceStop.stop()
        threadsDone.lock()
        let waitUntil = Date().addingTimeInterval(5)
        while runningThreads > 0 && Date() < waitUntil {
            // Standard input may be blocked in a writer that never closes: do not wait for it forever.
            _ = threadsDone.wait(seconds: 0.2)
        }
        threadsDone.unlock()
        store.checkpoint()
        let statistics = try? store.statistics()
        logger.info(
            "agent stopped",
            metadata: ["outbox_depth": "\(statistics?.outboxDepth ?? -1)", "next_sequence": "\(store.nextSequence)"])
    }
}
