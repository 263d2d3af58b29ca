import AgriTraceCore
import Crypto
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP with a renewed device certificate: the running agent reconnects with the new
/// certificate and key, in the same process, and every reading reaches the ledger once.
extension AgentIntegration {
    @Suite struct ReloadTests {
        /// A device fixture, its test CA, a broker requiring client certificates from it (on
        /// `tlsPort`), and the device's certificate and key in `tls.crt` and `tls.key`, first
        /// issued with the organizational unit `issue-1`. The subject (with the OU) becomes the
        /// MQTT username: the broker log shows which certificate each connection presented.
        struct TLSRig {
            let fixture: DeviceFixture
            let certificates: TestCertificates
            let broker: TestBroker
            let tlsPort: Int32
            var certificateFile: String { fixture.directory.file("tls.crt") }
            var keyFile: String { fixture.directory.file("tls.key") }
            /// The `[broker]` lines that make the agent present `tls.crt` and `tls.key`.
            var brokerSettings: String {
                """
                ca_file = "\(certificates.caFile)"
                certificate_file = "tls.crt"
                key_file = "tls.key"
                """
            }

            init() async throws {
                fixture = try DeviceFixture()
                certificates = try TestCertificates.generate(
                    in: fixture.directory.path, clientCommonName: "\(fixture.enterprise).\(fixture.device)")
                broker = try await TestBroker.start(
                    tls: .init(certificates: certificates, requireCertificate: true),
                    extraConfiguration: "use_subject_as_username true")
                do {
                    tlsPort = try #require(broker.tlsPort, "a broker started with TLS has a TLS port")
                    try issue(unit: "issue-1")
                } catch {
                    broker.kill()
                    throw error
                }
            }

            /// Issues the device a new certificate and key signed by the test CA, with the
            /// organizational unit `unit` that tells renewals apart in the broker's log.
            func issue(unit: String) throws {
                let configFile = certificates.directory + "/openssl-test.cnf"
                let request = certificateFile + ".csr"
                try runCommand(
                    "openssl",
                    [
                        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", keyFile + ".new", "-out", request, "-subj",
                        "/OU=\(unit)/CN=\(fixture.enterprise).\(fixture.device)", "-config", configFile,
                    ])
                try runCommand(
                    "openssl",
                    [
                        "x509", "-req", "-in", request, "-CA", certificates.caFile, "-CAkey", certificates.caKeyFile,
                        "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2",
                        "-out", certificateFile + ".new", "-extfile", configFile, "-extensions", "client",
                    ])
                // Renewal tools replace the files whole (rename), as the agent may read them at any time.
                chmod(keyFile + ".new", 0o600)
                rename(keyFile + ".new", keyFile)
                rename(certificateFile + ".new", certificateFile)
            }
        }

        /// With `[sharing]` the blob uploader has its own MQTT client (`…/blobs`): SIGHUP with a
        /// renewed certificate reconnects it too, not only the record publisher's.
        @Test func sighupReconnectsTheBlobUploaderWithTheRenewedCertificate() async throws {
            let executable = try agentExecutable()
            let rig = try await TLSRig()
            let (fixture, broker) = (rig.fixture, rig.broker)
            defer { broker.kill() }
            FileManager.default.createFile(atPath: fixture.inputPath, contents: nil)
            _ = try fixture.writeConfiguration(
                brokerPort: rig.tlsPort, authorityHex: Curve25519.Signing.PrivateKey().publicKey.hex,
                brokerExtra: rig.brokerSettings, logLevel: "info")
            let owner = Curve25519.KeyAgreement.PrivateKey().publicKey
            let sharing = "\n[sharing]\nowner_key = \"\(Array(owner.rawRepresentation).hexString)\"\n"
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: fixture.configPath))
            handle.seekToEndOfFile()
            handle.write(Data(sharing.utf8))
            try handle.close()
            let agent = try BackgroundProcess(
                executable, ["run", "--config", fixture.configPath], logFile: fixture.directory.file("agent.log"))
            defer { agent.kill() }

            /// Whether the broker logged a connection of the client whose id ends in `suffix`
            /// presenting the certificate of organizational unit `unit`.
            func connected(_ suffix: String, _ unit: String) -> Bool {
                broker.log.split(separator: "\n").contains {
                    $0.contains("New client connected") && $0.contains("/\(fixture.device)\(suffix) (")
                        && $0.contains(unit)
                }
            }
            let first = await waitUntil(timeout: .seconds(30)) {
                connected("/blobs", "issue-1") && connected("", "issue-1")
            }
            #expect(first, "both clients should connect; broker log: \(broker.log.suffix(2000))")

            try rig.issue(unit: "renewal-2")
            kill(agent.process.processIdentifier, SIGHUP)
            let renewed = await waitUntil(timeout: .seconds(30)) {
                connected("/blobs", "renewal-2") && connected("", "renewal-2")
            }
            #expect(
                renewed,
                "the publisher and the blob uploader should reconnect with the renewed certificate; broker log: \(broker.log.suffix(3000)); agent log: \(agent.log.suffix(2000))"
            )
            #expect(!agent.log.contains("cannot reconnect the blob uploader"))
            agent.terminate()
            #expect(!agent.isRunning)
        }

        @Test func sighupReloadsARenewedCertificateAndLosesOrDuplicatesNothing() async throws {
            let executable = try agentExecutable()
            let rig = try await TLSRig()
            let (fixture, broker) = (rig.fixture, rig.broker)
            defer { broker.kill() }
            let receiver = try TestReceiver(port: broker.port, deviceKeys: fixture.deviceKeys)
            try await receiver.start()
            defer { receiver.stop() }
            FileManager.default.createFile(atPath: fixture.inputPath, contents: nil)
            try fixture.writeConfiguration(
                brokerPort: rig.tlsPort, authorityHex: receiver.authorityHex, batchSize: 50, resendTimeoutMs: 3000,
                brokerExtra: rig.brokerSettings, logLevel: "info")
            let agent = try BackgroundProcess(
                executable, ["run", "--config", fixture.configPath, "--log-format", "json"],
                logFile: fixture.directory.file("agent.log"))
            defer { agent.kill() }
            let pid = agent.process.processIdentifier

            let lines = simulatedLines(3_000, seed: 31)
            try fixture.appendLines(Array(lines[0..<1_000]))
            let flowing = try await waitUntil(timeout: .seconds(60)) { try fixture.storeCounts().receipted >= 500 }
            #expect(flowing, "no receipts before the renewal; agent log: \(agent.log.suffix(2000))")

            // Renew while readings keep coming, then SIGHUP.
            try fixture.appendLines(Array(lines[1_000..<1_500]))
            try rig.issue(unit: "renewal-2")
            kill(pid, SIGHUP)
            try fixture.appendLines(Array(lines[1_500..<2_000]))
            let reconnected = await waitUntil(timeout: .seconds(30)) { broker.log.contains("renewal-2") }
            #expect(reconnected, "no connection with the renewed certificate; broker log: \(broker.log.suffix(2000))")
            try fixture.appendLines(Array(lines[2_000..<3_000]))

            let drained = try await waitUntil(timeout: .seconds(90)) {
                let counts = try fixture.storeCounts()
                return counts.receipted == 3_000 && counts.outbox == 0
            }
            let counts = try fixture.storeCounts()
            #expect(drained, "receipted \(counts.receipted), outbox \(counts.outbox); log: \(agent.log.suffix(2000))")
            // Same process all along: never restarted, still running.
            #expect(agent.isRunning && agent.process.processIdentifier == pid)
            #expect(agent.log.components(separatedBy: "agent started").count == 2)
            #expect(agent.log.contains("reconnecting to the broker with the reloaded broker settings and TLS files"))
            // --log-format json: every line is one JSON object with a UTC ISO 8601 time.
            for line in agent.log.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                let time = object?["time"] as? String ?? ""
                #expect(time.count == 24 && time.hasSuffix("Z") && object?["message"] != nil, "\(line)")
            }
            // Every reading accepted once and on the ledger once.
            let receipted = try fixture.receiptedIDs()
            let snapshot = receiver.snapshot
            #expect(receipted.count == 3_000)
            #expect(Set(receipted).count == 3_000)
            #expect(Set(receipted) == Set(snapshot.ledger))
            #expect(snapshot.ledger.count == 3_000)
            #expect(snapshot.conflicts == 0)
            #expect(snapshot.badSignatures == 0)
            #expect(
                snapshot.ledgerSequences.map(\.1).sorted() == (0..<UInt64(3_000)).map { $0 }, "a sequence is missing")
            #expect(counts.rejects == 0)
            // After the renewal, connections present the new certificate only.
            let connections = broker.log.split(separator: "\n").filter {
                $0.contains("New client connected") && $0.contains("agritrace-agent/")
            }
            let renewedAt = try #require(connections.firstIndex { $0.contains("renewal-2") })
            #expect(connections[renewedAt...].allSatisfy { $0.contains("renewal-2") })
            #expect(connections[..<renewedAt].allSatisfy { $0.contains("issue-1") })

            // A renewal whose key does not match its certificate is refused before the working
            // connection is dropped: the agent names the files and keeps publishing.
            try rig.issue(unit: "mismatch-3")
            try runCommand(
                "openssl",
                [
                    "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out",
                    rig.keyFile + ".other",
                ])
            chmod(rig.keyFile + ".other", 0o600)
            rename(rig.keyFile + ".other", rig.keyFile)
            kill(pid, SIGHUP)
            let refused = await waitUntil(timeout: .seconds(20)) {
                agent.log.contains("tls.key does not match the certificate") && agent.log.contains("tls.crt")
            }
            #expect(refused, "the mismatched key was not named; log: \(agent.log.suffix(2000))")
            try fixture.appendLines(simulatedLines(200, seed: 97))
            let afterRefusal = try await waitUntil(timeout: .seconds(60)) {
                let counts = try fixture.storeCounts()
                return counts.receipted == 3_200 && counts.outbox == 0
            }
            #expect(afterRefusal, "readings after the refused reload were not all receipted")
            #expect(!broker.log.contains("mismatch-3"), "a connection presented the mismatched renewal")
            #expect(agent.isRunning && agent.process.processIdentifier == pid)
            agent.terminate()
            #expect(!agent.isRunning)
        }
    }
}
