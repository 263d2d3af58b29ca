import Crypto
import Foundation
import Ledger
import LedgerAPI
import TestSupport
import Testing

@testable import AgriTraceCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs `agritrace` and returns (exit status, standard output + standard error).
func runAgritrace(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try runCombiningOutput(try agritraceExecutable(), arguments)
}

@Suite("HTTP API and CLI", .serialized, .timeLimit(.minutes(2)))
struct APIAndCLITests {
    @Test func apiServesProofsThatVerifyOfflineAndTraces() async throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let port = Int(try freeLoopbackPort())
        let app = try LedgerAPI.application(storePath: fixture.path, host: "127.0.0.1", port: port)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        func get(_ path: String) async throws -> (Int, Data) {
            let deadline = ContinuousClock.now + .seconds(30)  // a whole-suite run on two loaded cores starts servers slowly
            while true {
                do {
                    let (data, response) = try await URLSession.shared.data(
                        from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
                    return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
                } catch  where ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))  // the server is still starting
                }
            }
        }
        let (traceStatus, traceData) = try await get("/v1/trace/PL-1")
        #expect(traceStatus == 200)
        let rows = try JSONDecoder().decode([TraceRow].self, from: traceData)
        #expect(rows.count == 10)
        #expect(
            rows.allSatisfy {
                $0.lot == "PL-1" && $0.commitments["level-1"] != nil
                    && $0.publicFields["planting.variety"] == "sweet corn"
            })
        let (proofStatus, proofData) = try await get("/v1/proof/\(rows[3].recordID)")
        #expect(proofStatus == 200)
        let proof = try JSONDecoder().decode(SavedInclusionProof.self, from: proofData)
        let (record, header) = try proof.verify(authority: fixture.authority.publicKey)
        #expect(record.id.hex == rows[3].recordID)
        #expect(header.logSize == 31)
        let (headStatus, headData) = try await get("/v1/tree-head?tree-size=11")
        #expect(headStatus == 200)
        let head = try JSONDecoder().decode(SavedTreeHead.self, from: headData)
        #expect(try head.verified(authority: fixture.authority.publicKey).value.height == 2)
        #expect(try await get("/v1/proof/00000000000000000000000000000000").0 == 404)
        #expect(try await get("/v1/proof/not-hex").0 == 400)
        #expect(try await get("/v1/consistency?old=11&new=31").0 == 200)
        #expect(try await get("/v1/consistency?old=40").0 == 400)
        let status = try JSONDecoder().decode(LedgerStatus.self, from: try await get("/v1/status").1)
        #expect(status.records == 30)
    }

    @Test func cliVerifyNamesATamperedNodeAndVerifyProofRefusesAForgery() throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let key = fixture.authority.publicKey.hex
        var result = try runAgritrace(["verify", "--store", fixture.path, "--authority", key, "--signatures"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK: 4 blocks, 31 leaves"))
        #expect(result.output.contains("OK: 3 device batch signatures verify over 30 of 30 records"))
        result = try runAgritrace(["replay", "--store", fixture.path])
        #expect(result.status == 0, "\(result.output)")

        let id = try LedgerQueries(store: fixture.ledger.store).trace(lot: "PL-2")[0].record.id.hex
        let proofFile = fixture.directory.file("proof.json")
        result = try runAgritrace(["proof", id, "--store", fixture.path, "--output", proofFile])
        #expect(result.status == 0, "\(result.output)")
        result = try runAgritrace(["verify-proof", proofFile, "--authority", key])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid: record \(id)"))
        var forged = try JSONDecoder().decode(
            SavedInclusionProof.self, from: Data(contentsOf: URL(fileURLWithPath: proofFile)))
        forged.proof.removeLast()
        try JSONEncoder().encode(forged).write(to: URL(fileURLWithPath: proofFile))
        result = try runAgritrace(["verify-proof", proofFile, "--authority", key])
        #expect(result.status != 0)
        #expect(result.output.contains("INVALID proof"))

        let update = try fixture.ledger.store.db.prepare("UPDATE log_nodes SET hash = ? WHERE key = ?")
        try update.bind(Digest32.zero.bytes, at: 1)
        try update.bind(LogNodePosition(level: 2, index: 3).storageKey, at: 2)
        try update.run()
        result = try runAgritrace(["verify", "--store", fixture.path, "--authority", key])
        #expect(result.status == 1)
        #expect(result.output.contains("FAILED: log node level 2 index 3"), "\(result.output)")
    }
}

/// The CLI's `--api` against `LedgerAPI` served over HTTPS with certificates from a test CA.
@Suite("HTTPS API and the CLI", .serialized, .timeLimit(.minutes(3)))
struct HTTPSAPITests {
    /// Starts the API over TLS on a free port; returns the base URL and the server task.
    /// Serves the fixture's store with `agritrace api` in its own process: an in-process server
    /// shares the test runner's few threads with CLI runs that block them, and timed out under a
    /// loaded parallel run.
    func serve(
        _ fixture: LedgerFixture, tls: LedgerAPI.TLSFiles?, host: String = "127.0.0.1", extra: [String] = []
    ) throws -> (String, BackgroundProcess) {
        let port = Int(try freeLoopbackPort())
        var arguments = ["api", "--store", fixture.path, "--http-port", "\(port)"] + extra
        if let tls {
            arguments += ["--api-cert", tls.certificateChainFile, "--api-key", tls.privateKeyFile]
            if let clientCA = tls.clientCAFile { arguments += ["--api-client-ca", clientCA] }
        } else {
            arguments.append("--insecure-http")
        }
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"), arguments,
            logFile: fixture.directory.file("api-\(port).log"))
        return ("\(tls == nil ? "http" : "https")://\(host):\(port)", server)
    }

    /// Runs the CLI until the server answers (it may still be starting), then returns that answer.
    func firstAnswer(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            let result = try runAgritrace(arguments)
            if !result.output.contains("cannot connect") || ContinuousClock.now > deadline { return result }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Split-view detection: the CLI keeps the last tree head it accepted from a log and takes a
    /// new one only with a consistency proof from it. Two servers with separate stores signed by
    /// the same authority key (the fork two `serve` processes once made) are caught as soon as the
    /// client has seen one and the other shows it a head that cannot be of the same log.
    @Test func theCLIRefusesAServerWhoseSignedHeadsForkFromTheOnesItAccepted() async throws {
        var honest = try populatedLedger(blocks: 3, perBlock: 10)
        let fork = try populatedLedger(blocks: 4, perBlock: 10, authority: honest.authority)
        let (honestAPI, honestServer) = try serve(honest, tls: nil)
        defer { honestServer.terminate() }
        let (forkAPI, forkServer) = try serve(fork, tls: nil)
        defer { forkServer.terminate() }
        let key = honest.authority.publicKey.hex
        let trusted = try TemporaryDirectory(prefix: "agritrace-trusted")
        func consistency(_ api: String, _ sizes: [String], trustedIn folder: String) async throws -> (
            status: Int32, output: String
        ) {
            try await firstAnswer(
                ["consistency"] + sizes + [
                    "--api", api, "--insecure-http", "--authority", key, "--trusted-heads", folder,
                ])
        }
        func acceptedSize(in folder: String) throws -> UInt64 {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + key + ".json"))
            return try JSONDecoder().decode(SavedTreeHead.self, from: data).logSize
        }

        /// Runs `consistency` and expects it to pass and leave the head of `size` accepted.
        func expectAccepted(_ api: String, _ sizes: [String], in folder: String, keeping size: UInt64) async throws {
            let result = try await consistency(api, sizes, trustedIn: folder)
            #expect(result.status == 0, "\(result.output)")
            #expect(try acceptedSize(in: folder) == size)
        }
        /// Runs `consistency` and expects a split view for `reason`, the accepted head unchanged.
        func expectSplitView(_ api: String, in folder: String, because reason: String, keeping size: UInt64)
            async throws
        {
            let result = try await consistency(api, ["11"], trustedIn: folder)
            #expect(result.status != 0)
            #expect(result.output.contains("SPLIT VIEW") && result.output.contains(reason), "\(result.output)")
            #expect(try acceptedSize(in: folder) == size)
        }

        // First use: the honest server's newest head (size 31) is accepted and kept.
        try await expectAccepted(honestAPI, ["11"], in: trusted.path, keeping: 31)
        // The log grows by a block: the larger head is taken with a consistency proof from 31.
        _ = honest.ledger.admit(
            topic: honest.device.recordTopic, payload: honest.device.payload(honest.device.records(10, lot: "PL-9")))
        try honest.ledger.cutBlock()
        try await expectAccepted(honestAPI, ["11"], in: trusted.path, keeping: 41)
        // An older head of the same log is proved a prefix of the accepted one; the accepted head stays.
        try await expectAccepted(honestAPI, ["11", "21"], in: trusted.path, keeping: 41)
        // The fork's newest head has the same size (41) and another root: refused, and not kept.
        try await expectSplitView(forkAPI, in: trusted.path, because: "same log size with another root", keeping: 41)

        // A client that accepted the honest log at 21 is shown the fork's larger log: the fork's own
        // consistency proof does not start from the accepted root, so it is refused too.
        let second = try TemporaryDirectory(prefix: "agritrace-trusted")
        try await expectAccepted(honestAPI, ["11", "21"], in: second.path, keeping: 21)
        try await expectSplitView(forkAPI, in: second.path, because: "no valid consistency proof", keeping: 21)

        // The kept head is checked again when read: a changed file is refused, naming it.
        let file = second.path + "/" + key + ".json"
        let changed = try String(contentsOfFile: file, encoding: .utf8).replacingOccurrences(
            of: "\"logSize\" : 21", with: "\"logSize\" : 41")
        #expect(changed.contains("\"logSize\" : 41"))
        try changed.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await consistency(honestAPI, ["11"], trustedIn: second.path)
        #expect(result.status != 0)
        #expect(result.output.contains(file), "\(result.output)")
    }

    @Test func cliTracesAndProvesOverMutualTLS() async throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let certificates = try TestCertificates.generate(in: fixture.directory.path, clientCommonName: "firm-alice")
        let (base, server) = try serve(
            fixture,
            tls: .init(
                certificateChainFile: certificates.serverCertificateFile,
                privateKeyFile: certificates.serverKeyFile, clientCAFile: certificates.caFile))
        defer { server.terminate() }
        let client = [
            "--tls-ca", certificates.caFile, "--tls-cert", certificates.clientCertificateFile, "--tls-key",
            certificates.clientKeyFile,
        ]
        var result = try await firstAnswer(["trace", "PL-1", "--api", base, "--json"] + client)
        #expect(result.status == 0, "\(result.output)")
        let rows = try JSONDecoder().decode([TraceRow].self, from: Data(result.output.utf8))
        #expect(rows.count == 10 && rows.allSatisfy { $0.lot == "PL-1" && $0.commitments["level-1"] != nil })

        // The server certificate names localhost too: host-name verification by DNS name.
        let byName = base.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        result = try runAgritrace(["status", "--api", byName, "--json"] + client)
        #expect(result.status == 0, "\(result.output)")
        #expect(try JSONDecoder().decode(LedgerStatus.self, from: Data(result.output.utf8)).records == 30)

        // A proof fetched over HTTPS verifies offline.
        let proofFile = fixture.directory.file("proof.json")
        result = try runAgritrace(["proof", rows[2].recordID, "--api", base, "--output", proofFile] + client)
        #expect(result.status == 0, "\(result.output)")
        result = try runAgritrace(["verify-proof", proofFile, "--authority", fixture.authority.publicKey.hex])
        #expect(result.status == 0 && result.output.contains("valid: record \(rows[2].recordID)"), "\(result.output)")

        // Without a client certificate the server refuses the connection.
        result = try runAgritrace(["status", "--api", base, "--tls-ca", certificates.caFile])
        #expect(result.status != 0)
        #expect(result.output.contains("TLS failed"), "\(result.output)")
        #expect(!result.output.contains("\"records\""))

        // A client certificate from another CA is refused too.
        let stranger = try TemporaryDirectory(prefix: "agritrace-stranger")
        let other = try TestCertificates.generate(in: stranger.path, clientCommonName: "mallory")
        result = try runAgritrace([
            "status", "--api", base, "--tls-ca", certificates.caFile, "--tls-cert", other.clientCertificateFile,
            "--tls-key", other.clientKeyFile,
        ])
        #expect(result.status != 0)
        #expect(result.output.contains("TLS failed"), "\(result.output)")
    }

    /// One CLI command makes one TLS connection for all its API calls: `consistency` makes
    /// three requests, and the API (`api --metrics-port`) counts one new connection for them.
    @Test func aCommandReusesOneTLSConnectionForAllItsCalls() async throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let certificates = try TestCertificates.generate(in: fixture.directory.path, clientCommonName: "firm-alice")
        let metricsPort = Int(try freeLoopbackPort())
        let settings = fixture.directory.file("settings.conf")
        try "log-level = info\n".write(toFile: settings, atomically: true, encoding: .utf8)
        let (base, server) = try serve(
            fixture,
            tls: .init(
                certificateChainFile: certificates.serverCertificateFile,
                privateKeyFile: certificates.serverKeyFile, clientCAFile: certificates.caFile),
            extra: ["--metrics-port", "\(metricsPort)", "--settings", settings])
        defer { server.terminate() }
        let client = [
            "--api", base, "--tls-ca", certificates.caFile, "--tls-cert", certificates.clientCertificateFile,
            "--tls-key", certificates.clientKeyFile,
        ]
        var result = try await firstAnswer(["status"] + client)
        #expect(result.status == 0, "\(result.output)")
        /// The sum of the samples of `name` (or `name_total`) whose line contains `filter`.
        func metric(_ name: String, _ filter: String = "") throws -> Double {
            try httpGet(port: metricsPort, path: "/metrics").split(separator: "\n")
                .filter { line in
                    [name, name + "_total"].contains { line.hasPrefix($0 + " ") || line.hasPrefix($0 + "{") }
                        && (filter.isEmpty || line.contains(filter))
                }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
        }
        let connectionsBefore = try metric("agritrace_api_connections_total")
        let requestsBefore = try metric("hb_requests", "/v1/")
        #expect(connectionsBefore >= 1, "the status call's connection is counted")
        result = try runAgritrace(
            ["consistency", "11", "--authority", fixture.authority.publicKey.hex] + client)
        #expect(result.status == 0 && result.output.contains("verified"), "\(result.output)")
        #expect(try metric("hb_requests", "/v1/") - requestsBefore == 3, "consistency's three calls")
        #expect(try metric("agritrace_api_connections_total") - connectionsBefore == 1, "one connection for them")
        // `api --settings`: SIGHUP applies the file's log level.
        try "log-level = debug\n".write(toFile: settings, atomically: true, encoding: .utf8)
        server.process.send(SIGHUP)
        #expect(await eventually { server.log.contains("log level is now debug") }, "\(server.log)")
    }

    /// `agritrace api --api-client-crl`: a client revoked after the server started is refused
    /// at its next connection (the list is re-read when the file changes), others are not, and
    /// an expired list refuses everyone (fail closed). The server runs as its own process.
    @Test func apiRefusesRevokedClientsFromARenewedRevocationList() async throws {
        let fixture = try populatedLedger(blocks: 1, perBlock: 4)
        let directory = fixture.directory.path
        let certificates = try TestCertificates.generate(in: directory, clientCommonName: "firm-alice")
        let bob = try certificates.issueClientCertificate(commonName: "firm-bob")
        let crl = directory + "/crl.pem"
        try certificates.writeRevocationList(revoking: [], to: crl)
        let port = try freeLoopbackPort()
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            [
                "api", "--store", fixture.path, "--http-port", "\(port)", "--api-cert",
                certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile, "--api-client-ca",
                certificates.caFile, "--api-client-crl", crl,
            ],
            logFile: directory + "/api.log")
        defer { server.terminate() }
        func status(_ certificate: String, _ key: String) async throws -> (status: Int32, output: String) {
            try await firstAnswer([
                "status", "--api", "https://127.0.0.1:\(port)", "--json", "--tls-ca", certificates.caFile,
                "--tls-cert", certificate, "--tls-key", key,
            ])
        }
        let alice = (certificates.clientCertificateFile, certificates.clientKeyFile)
        var result = try await status(alice.0, alice.1)
        #expect(result.status == 0, "\(result.output)\n\(server.log)")
        #expect(result.output.contains("\"records\""))

        // Alice's certificate is revoked and the list renewed on disk: no restart needed.
        try certificates.writeRevocationList(revoking: [alice.0], to: crl)
        result = try await status(alice.0, alice.1)
        #expect(result.status != 0)
        #expect(result.output.contains("TLS failed"), "\(result.output)")
        #expect(!result.output.contains("\"records\""))
        #expect(server.log.contains("certificate revoked"), "\(server.log)")
        result = try await status(bob.certificateFile, bob.keyFile)
        #expect(result.status == 0, "\(result.output)\n\(server.log)")

        // A list past its nextUpdate refuses every client until it is renewed.
        try certificates.writeRevocationList(revoking: [alice.0], to: crl, seconds: 1)
        try await Task.sleep(for: .seconds(2))
        result = try await status(bob.certificateFile, bob.keyFile)
        #expect(result.status != 0)
        #expect(server.log.contains("CRL has expired"), "\(server.log)")
        try certificates.writeRevocationList(revoking: [alice.0], to: crl)
        result = try await status(bob.certificateFile, bob.keyFile)
        #expect(result.status == 0, "\(result.output)\n\(server.log)")

        // Start-up refuses a file that is not a revocation list, naming it.
        let bad = try runAgritrace([
            "api", "--store", fixture.path, "--http-port", "\(try freeLoopbackPort())", "--api-cert",
            certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile, "--api-client-ca",
            certificates.caFile, "--api-client-crl", certificates.caFile,
        ])
        #expect(bad.status != 0)
        #expect(bad.output.contains("no PEM revocation list could be read"), "\(bad.output)")
        // ... and a list signed by another CA, naming it and the CA file.
        let stranger = try TemporaryDirectory(prefix: "agritrace-stranger")
        let other = try TestCertificates.generate(in: stranger.path)
        let foreign = stranger.file("crl.pem")
        try other.writeRevocationList(revoking: [], to: foreign)
        let wrong = try runAgritrace([
            "api", "--store", fixture.path, "--http-port", "\(try freeLoopbackPort())", "--api-cert",
            certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile, "--api-client-ca",
            certificates.caFile, "--api-client-crl", foreign,
        ])
        #expect(wrong.status != 0)
        #expect(
            wrong.output.contains("\(foreign): the revocation list is not signed by the CA in \(certificates.caFile)"),
            "\(wrong.output)")
    }

    @Test func cliRefusesAServerNotSignedByItsCAAndPlainHTTPUnlessAsked() async throws {
        let fixture = try populatedLedger(blocks: 1, perBlock: 5)
        let certificates = try TestCertificates.generate(in: fixture.directory.path)
        let stranger = try TemporaryDirectory(prefix: "agritrace-stranger")
        let other = try TestCertificates.generate(in: stranger.path)
        let (base, server) = try serve(
            fixture,
            tls: .init(
                certificateChainFile: certificates.serverCertificateFile,
                privateKeyFile: certificates.serverKeyFile))
        defer { server.terminate() }
        var result = try await firstAnswer(["status", "--api", base, "--tls-ca", certificates.caFile, "--json"])
        #expect(result.status == 0, "\(result.output)")  // no client certificate needed without --api-client-ca

        // The wrong CA: the server's certificate does not verify, nothing is read.
        result = try runAgritrace(["trace", "PL-0", "--api", base, "--tls-ca", other.caFile, "--json"])
        #expect(result.status != 0)
        #expect(result.output.contains("TLS failed"), "\(result.output)")
        #expect(!result.output.contains("recordID"))
        // No --tls-ca: the system's roots do not know the deployment CA either.
        result = try runAgritrace(["trace", "PL-0", "--api", base])
        #expect(result.status != 0)
        #expect(result.output.contains("TLS failed"), "\(result.output)")

        // Plain HTTP: refused by the client unless --insecure-http, and then on loopback only.
        let (plainBase, plain) = try serve(fixture, tls: nil)
        defer { plain.terminate() }
        result = try runAgritrace(["status", "--api", plainBase])
        #expect(result.status != 0 && result.output.contains("--insecure-http"), "\(result.output)")
        result = try await firstAnswer(["status", "--api", plainBase, "--insecure-http", "--json"])
        #expect(result.status == 0, "\(result.output)")
        result = try runAgritrace(["status", "--api", "http://192.0.2.1:8080", "--insecure-http"])
        #expect(result.status != 0 && result.output.contains("loopback only"), "\(result.output)")
    }
}
