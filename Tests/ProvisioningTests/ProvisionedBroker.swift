import AgriTraceCore
import Foundation
import MQTTClient
import Provisioning
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A deployment made by `EnrollmentAuthority` in a temporary directory, and a real
/// mosquitto started with the configuration Provisioning generates (TLS listener only,
/// client certificates, CRL, ACL), on a free loopback port.
final class ProvisionedBroker: @unchecked Sendable {
    let directory: TemporaryDirectory
    let authority: EnrollmentAuthority
    let port: Int32
    var configFile: String { directory.file("mosquitto.conf") }
    var logFile: String { directory.file("mosquitto.log") }
    var pidFile: String { directory.file("mosquitto.pid") }
    private let lock = NSLock()
    private var process: SpawnedProcess?

    /// Creates the CA and broker files and starts mosquitto.
    static func start() async throws -> ProvisionedBroker {
        let directory = try TemporaryDirectory(prefix: "agritrace-prov")
        let port = try freeLoopbackPort()
        var settings = EnrollmentAuthority.Settings()
        settings.brokerPidFile = directory.file("mosquitto.pid")
        let authority = try EnrollmentAuthority.create(at: directory.file("ca"), settings: settings)
        let broker = ProvisionedBroker(directory: directory, authority: authority, port: port)
        var configuration = authority.brokerConfiguration(port: Int(port), bindAddress: "127.0.0.1")
        configuration.logFile = broker.logFile
        configuration.debugLogging = true
        configuration.runAsUser = "root"  // tests run as root in temporary directories (platform-notes)
        try configuration.write(to: broker.configFile)
        try await broker.launch()
        return broker
    }

    private init(directory: TemporaryDirectory, authority: EnrollmentAuthority, port: Int32) {
        self.directory = directory
        self.authority = authority
        self.port = port
    }

    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// How many lines of the log contain `text`.
    func logCount(_ text: String) -> Int { log.components(separatedBy: "\n").filter { $0.contains(text) }.count }

    private func launch() async throws {
        let process = try SpawnedProcess("/usr/sbin/mosquitto", ["-c", configFile])
        lock.withLock { self.process = process }
        try "\(process.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                lock.withLock { self.process = nil }
                throw TestBrokerError.exited(status: process.terminationStatus, log: log)
            }
            if log.contains("running") { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        // A starved test pool can wake this task only after the deadline: look once more.
        if process.isRunning, log.contains("running") { return }
        throw TestBrokerError.notReady(log: log)
    }

    /// Sends SIGHUP and waits until mosquitto has reloaded: after this, the broker uses the
    /// ACL and CRL as they are on disk now. (Enrollment sends SIGHUP too, but the reload is
    /// asynchronous and signals sent close together coalesce into one reload.)
    func settle() async throws {
        let before = logCount("Reloading config.")
        // Re-send until a reload is logged: mosquitto logs "Reloading config." when a reload
        // starts, and a SIGHUP that arrives before that reload ends is absorbed by it
        // (seen about once in 50 runs).
        for _ in 0..<20 {
            try authority.reloadBroker()
            if await eventually(timeout: .milliseconds(500), { logCount("Reloading config.") > before }) { return }
        }
        Issue.record("the broker did not reload:\n\(log)")
    }

    /// Waits until mosquitto has logged `Reloading config.` `count` times.
    func waitForReload(count: Int) async -> Bool {
        await eventually { logCount("Reloading config.") >= count }
    }

    func kill() {
        lock.withLock { self.process }?.kill()
        lock.withLock { self.process = nil }
    }

    /// Kills the broker with SIGKILL (a crash: no TLS close_notify) and starts it again.
    func crashAndRestart() async throws {
        let starts = logCount("running")
        kill()
        try await launch()
        #expect(await eventually { logCount("running") > starts })
    }

    /// Stops the broker with SIGTERM (clients get a clean TLS close), waits for it to exit,
    /// and starts it again on the same port and files: what `systemctl restart` does.
    func restart() async throws {
        if let process = lock.withLock({ self.process }) {
            process.terminate()
            process.waitUntilExit()
            lock.withLock { self.process = nil }
        }
        let starts = logCount("running")
        try await launch()
        #expect(await eventually { logCount("running") > starts })
    }

    deinit { kill() }

    // MARK: Principals

    /// Key, request and certificate files of one enrolled (or not) party.
    struct Credentials: Sendable {
        var id: String
        var keyFile: String
        var requestFile: String
        var certificateFile: String
    }

    /// Makes a key and CSR for `id` the way a box does (locally, only the CSR leaves).
    func makeKey(_ id: String) throws -> Credentials {
        let base = directory.file("principal-\(id)")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let credentials = Credentials(
            id: id, keyFile: base + "/\(id).key", requestFile: base + "/\(id).csr", certificateFile: base + "/\(id).crt"
        )
        try CertificateAuthority.makeKeyAndRequest(
            commonName: id, keyFile: credentials.keyFile, requestFile: credentials.requestFile)
        return credentials
    }

    /// Renews `device`'s certificate for the same key from a new CSR (what the agent does when
    /// 30 days are left), presenting its current certificate.
    func renewWithSameKey(_ device: Credentials) throws -> Enrollment {
        let request = directory.file("renew.csr")
        try runCommand(
            "openssl", ["req", "-new", "-key", device.keyFile, "-subj", "/CN=\(device.id)", "-out", request])
        return try authority.renew(
            id: device.id, certificateRequestFile: request, presentedCertificateFile: device.certificateFile)
    }

    /// Enrolls a device and writes its certificate next to its key.
    func enrollDevice(
        _ id: String, enterprise: String = "FARM1", stage: Stage = .planting,
        validity: CertificateAuthority.Validity? = nil
    ) async throws -> (Credentials, Enrollment) {
        let credentials = try makeKey(id)
        let enrollment = try authority.enrollDevice(
            id: id, enterprise: enterprise, stage: stage, certificateRequestFile: credentials.requestFile,
            validity: validity)
        try enrollment.certificatePEM.write(toFile: credentials.certificateFile, atomically: true, encoding: .utf8)
        try await settle()
        return (credentials, enrollment)
    }

    /// Enrolls the aggregator identity.
    func enrollAggregator() async throws -> Credentials {
        let credentials = try makeKey("aggregator")
        let enrollment = try authority.enrollAggregator(certificateRequestFile: credentials.requestFile)
        try enrollment.certificatePEM.write(toFile: credentials.certificateFile, atomically: true, encoding: .utf8)
        try await settle()
        return credentials
    }

    /// An MQTT client for `credentials` (or no certificate at all), reconnecting quickly.
    func client(
        _ clientID: String, certificateFile: String?, keyFile: String?, caFile: String? = nil
    ) throws -> ClientHarness {
        try ClientHarness(
            clientID,
            options: MQTTClient.Options(
                host: "127.0.0.1", port: port,
                tls: .init(
                    caFile: caFile ?? authority.certificateAuthority.certificateFile,
                    certificateFile: certificateFile, keyFile: keyFile),
                reconnectDelay: .init(initialSeconds: 1, maximumSeconds: 1, exponentialBackoff: false)))
    }

    /// The aggregator enrolled and subscribed to every device's records, and the device `id`
    /// of FARM1 enrolled and connected (as `clientID`): where the renewal tests start. The
    /// caller disconnects both clients.
    func connectedAggregatorAndDevice(_ id: String, clientID: String? = nil) async throws -> (
        aggregator: ClientHarness, device: Credentials, enrollment: Enrollment, client: ClientHarness
    ) {
        let aggregatorKey = try await enrollAggregator()
        let (device, enrollment) = try await enrollDevice(id)
        let aggregator = try client(aggregatorKey)
        let box = try client(device, clientID: clientID)
        #expect(try await aggregator.subscribeAndConnect(Wire.allRecordsFilter))
        #expect(try await box.connect())
        return (aggregator, device, enrollment, box)
    }

    /// Asks the enrollment authority to renew `id` with the CSR and the certificate of
    /// `credentials` (its own, or another principal's).
    @discardableResult
    func renew(_ id: String, presenting credentials: Credentials) throws -> Enrollment {
        try authority.renew(
            id: id, certificateRequestFile: credentials.requestFile,
            presentedCertificateFile: credentials.certificateFile)
    }

    /// Expects `client`, which presents the certificate in `certificateFile` (key in `keyFile`),
    /// to be refused at the TLS handshake: it connects, the broker logs a failed certificate
    /// verification, and a handshake with the same files ends with the TLS alert `alert`.
    func expectCertificateRefused(
        _ client: ClientHarness, certificateFile: String, keyFile: String, alert: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let failuresBefore = logCount("certificate verify failed")
        try client.client.connect()
        #expect(
            await eventually { logCount("certificate verify failed") > failuresBefore }, "\(log)",
            sourceLocation: sourceLocation)
        #expect(
            try tlsAlert(certificateFile: certificateFile, keyFile: keyFile) == alert, sourceLocation: sourceLocation)
    }

    /// Expects the enrollment authority to refuse renewing `id` with the CSR and the
    /// certificate of `credentials`, with an error that says `reason`.
    func expectRenewalRefused(
        _ id: String, presenting credentials: Credentials, saying reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: ProvisioningError.self, sourceLocation: sourceLocation) {
            try renew(id, presenting: credentials)
        }
        #expect(
            error?.description.contains(reason) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    /// The per-device ACL on one kind of device topic, on this broker: with the aggregator and
    /// two devices of FARM1 (`farm-box-01` is A, `farm-box-02` is B) enrolled and connected,
    /// A writes its own `up` topic, which the aggregator reads through `aggregatorFilter`, and
    /// reads its own `down` topic, which only the aggregator writes. B, with its own valid
    /// certificate and subscribed to everything under the prefix, can neither write A's `up`
    /// topic nor write or read A's `down` topic; the aggregator cannot write A's `up` topic.
    /// `up(device)` and `down(device)` name a FARM1 device's topics.
    func expectPerDeviceTopics(
        aggregatorFilter: String, up: (String) -> String, down: (String) -> String
    ) async throws {
        let (upA, upB, downA) = (up("farm-box-01"), up("farm-box-02"), down("farm-box-01"))
        let aggregatorKey = try await enrollAggregator()
        let (deviceA, _) = try await enrollDevice("farm-box-01")
        let (deviceB, _) = try await enrollDevice("farm-box-02")
        let (aggregator, a, b) = (try client(aggregatorKey), try client(deviceA), try client(deviceB))
        defer { [aggregator, a, b].forEach { $0.client.disconnect() } }
        #expect(try await aggregator.subscribeAndConnect(aggregatorFilter))
        #expect(aggregator.grantedQoS.allSatisfy { $0 < 0x80 })
        #expect(try await a.subscribeAndConnect(downA))
        #expect(try await b.subscribeAndConnect("agritrace/#"))

        // B forges a message on A's topic: the broker denies it (MQTT v5 reason 0x87).
        #expect(try await b.publishAndWait(upA, "forged-by-b") == 0x87)
        // A's own message goes through.
        #expect(try await a.publishAndWait(upA, "from-a") == 0, "\(log)")
        // B's own message also goes through: B's publishes were ordered after the forgery, so
        // once this arrives the forgery would have arrived before it if it had been let in.
        #expect(try await b.publishAndWait(upB, "from-b") == 0)
        #expect(await eventually { aggregator.payloads(on: upB) == ["from-b"] })
        #expect(aggregator.payloads(on: upA) == ["from-a"], "the forged message reached the aggregator")

        // A device may not write A's answers (only the aggregator may). The aggregator answers A;
        // only A receives it, B (subscribed to agritrace/#) does not.
        #expect(try await b.publishAndWait(downA, "fake-answer") == 0x87)
        #expect(try await aggregator.publishAndWait(downA, "answer-for-a") == 0)
        #expect(await eventually { a.payloads(on: downA) == ["answer-for-a"] })
        #expect(try await aggregator.publishAndWait(upA, "aggregator-may-not-write") == 0x87)
        try await Task.sleep(for: .milliseconds(200))
        #expect(a.payloads(on: downA) == ["answer-for-a"], "a device's fake answer reached the device")
        #expect(aggregator.payloads(on: upA) == ["from-a"], "a forged message reached the aggregator")
        #expect(b.messages.values.isEmpty, "device B read another device's messages: \(b.messages.values)")
        #expect(logCount("Denied PUBLISH") == 3)
    }

    func client(_ credentials: Credentials, clientID: String? = nil) throws -> ClientHarness {
        try client(
            clientID ?? credentials.id, certificateFile: credentials.certificateFile, keyFile: credentials.keyFile)
    }

    /// What an `openssl s_client` TLS 1.2 handshake with these files learns from the
    /// broker: the TLS alert text (for example `certificate expired`), or `nil` if the
    /// handshake succeeded.
    func tlsAlert(certificateFile: String?, keyFile: String?) throws -> String? {
        var arguments = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", authority.certificateAuthority.certificateFile,
            "-tls1_2", "-verify_return_error",
        ]
        if let certificateFile, let keyFile { arguments += ["-cert", certificateFile, "-key", keyFile] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = Pipe()  // closed below: s_client exits after the handshake
        try process.run()
        (process.standardInput as! Pipe).fileHandleForWriting.closeFile()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in text.split(separator: "\n") {
            if let range = line.range(of: "alert ") {
                let rest = line[range.upperBound...]
                return String(rest.prefix { $0 != ":" })
            }
        }
        return nil
    }
}

/// A client and collectors draining its three streams.
typealias ClientHarness = MQTTClientHarness

extension MQTTClientHarness {
    func payloads(on topic: String) -> [String] {
        messages.values.filter { $0.topic == topic }.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    /// Connects and waits for CONNACK success.
    func connect() async throws -> Bool {
        try client.connect()
        return await eventually { connectedCount >= 1 }
    }

    /// Subscribes, connects and waits for the SUBACK.
    func subscribeAndConnect(_ topic: String) async throws -> Bool {
        try client.subscribe(topic: topic, qos: .atLeastOnce)
        try client.connect()
        return await eventually { !grantedQoS.isEmpty }
    }

    /// Publishes and waits for the broker's PUBACK; returns its reason code.
    func publishAndWait(_ topic: String, _ text: String) async throws -> Int32? {
        let id = try client.publish(topic: topic, payload: Array(text.utf8), qos: .atLeastOnce)
        guard await eventually({ deliveries.values.contains { $0.messageID == id } }) else { return nil }
        return deliveries.values.first { $0.messageID == id }?.reasonCode
    }
}
