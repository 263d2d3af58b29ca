import AgriTraceCore
import Crypto
import Foundation
import Ledger
import MQTTClient
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A store with an authority key and one registered device, a broker, and the receipts the
/// device gets: what the tests of the `agritrace serve` process share.
struct ServeSetup {
    let executable: String
    let directory: TemporaryDirectory
    let broker: TestBroker
    let keyFile: String
    let authority: Curve25519.Signing.PrivateKey
    var device = TestDevice()
    var store: String { directory.file("ledger.sqlite") }

    init(prefix: String) async throws {
        executable = try agritraceExecutable()
        directory = try TemporaryDirectory(prefix: prefix)
        broker = try await TestBroker.start()
        keyFile = directory.file("authority.key")
        try runCommand(executable, ["keygen", "--output", keyFile])
        let text = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        authority = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](hexString: text)!)
        try runCommand(
            executable,
            [
                "devices", "add", "--store", store, "--authority-key", keyFile, "--enterprise", device.enterprise,
                "--device", device.device, "--public-key", device.key.publicKey.hex, "--wait", "0",
            ])
    }

    /// `serve` on the store and broker with small blocks, plus `extra` arguments.
    func serveArguments(_ extra: [String] = []) -> [String] {
        [
            "serve", "--store", store, "--authority-key", keyFile, "--broker-port", String(broker.port),
            "--block-max-delay-ms", "20", "--block-max-transactions", "500", "--client-id", "aggregator-under-test",
        ] + extra
    }

    func startServe(_ extra: [String] = [], log: String = "serve.log") throws -> BackgroundProcess {
        try BackgroundProcess(executable, serveArguments(extra), logFile: directory.file(log))
    }
}

/// Expects `serve` to log within `timeout` that it is ingesting; the issue carries its log.
func expectIngesting(
    _ server: BackgroundProcess, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation
) async {
    #expect(
        await eventually(timeout: timeout) { server.log.contains("ingesting") }, "\(server.log)",
        sourceLocation: sourceLocation)
}

/// What a device published and the receipts it got back, checked as they arrive.
struct ReceiptBook {
    var published: [RecordID: Record] = [:]
    var order: [RecordID] = []
    var receipts: [RecordID: Receipt] = [:]
    var seen = 0

    mutating func add(_ records: [Record]) {
        for record in records {
            published[record.id] = record
            order.append(record.id)
        }
    }

    /// Reads new receipt batches; a record receipted twice must get the same receipt.
    mutating func collect(_ listener: ReceiptListener, authority: Curve25519.Signing.PublicKey) throws {
        let messages = listener.messages.values
        while seen < messages.count {
            let batch = try decodeReceipts(messages[seen].payload, authority: authority)
            #expect(batch.rejections.isEmpty, "\(batch.rejections)")
            for receipt in batch.receipts {
                if let earlier = receipts[receipt.recordID] {
                    #expect(earlier == receipt, "a record was receipted twice with different receipts")
                }
                receipts[receipt.recordID] = receipt
            }
            seen += 1
        }
    }

    var unreceipted: [Record] { order.filter { receipts[$0] == nil }.map { published[$0]! } }
}

@Suite("agritrace serve and api as services: SIGHUP reload, graceful stop", .serialized, .timeLimit(.minutes(3)))
struct LifecycleTests {
    /// The serial number of the certificate a new TLS connection to `port` gets.
    func servedSerial(port: Int32, certificates: TestCertificates) throws -> String {
        let output = try runCommand(
            "sh",
            [
                "-c",
                "openssl s_client -connect 127.0.0.1:\(port) -CAfile '\(certificates.caFile)' -cert '\(certificates.clientCertificateFile)' -key '\(certificates.clientKeyFile)' </dev/null 2>/dev/null | openssl x509 -noout -serial",
            ])
        return String(output.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("serial=".count))
    }

    func waitForAPI(port: Int32, certificates: TestCertificates) async -> String {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let serial = try? servedSerial(port: port, certificates: certificates), !serial.isEmpty { return serial }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return ""
    }

    /// SIGHUP five times while a device sends batches: the process stays up, a renewed API
    /// certificate is what new connections get after the reload, the settings file's new log
    /// level and upload limit are applied (and a broken file changes nothing), every record is
    /// receipted and on the ledger exactly once, and the log says what needs a restart.
    @Test func sighupUnderLoadReloadsTheAPICertificateAndLosesNothing() async throws {
        var setup = try await ServeSetup(prefix: "agritrace-reload")
        defer { setup.broker.kill() }
        let certificates = try TestCertificates.generate(in: setup.directory.path, clientCommonName: "firm-alice")
        let crl = setup.directory.file("crl.pem")
        try certificates.writeRevocationList(revoking: [], to: crl)
        let port = try freeLoopbackPort()
        let settings = setup.directory.file("settings.conf")
        try "log-level = info\n".write(toFile: settings, atomically: true, encoding: .utf8)
        let server = try setup.startServe([
            "--http-port", "\(port)", "--api-cert", certificates.serverCertificateFile, "--api-key",
            certificates.serverKeyFile, "--api-client-ca", certificates.caFile, "--api-client-crl", crl,
            "--settings", settings,
        ])
        defer { server.kill() }
        let firstSerial = try TestCertificates.serial(ofCertificate: certificates.serverCertificateFile)
        #expect(await waitForAPI(port: port, certificates: certificates) == firstSerial, "\(server.log)")

        let listener = try await ReceiptListener("box-1", port: setup.broker.port, topics: [setup.device.receiptTopic])
        defer { listener.client.disconnect() }
        var book = ReceiptBook()
        var renewedSerial = ""
        for round in 0..<5 {
            // A fixed count, not a time window: on a loaded machine a window sends too little.
            for _ in 0..<5 {
                let records = setup.device.records(50, lot: "PL-\(round)")
                book.add(records)
                try listener.client.publish(topic: setup.device.recordTopic, payload: setup.device.payload(records))
                try await Task.sleep(for: .milliseconds(10))
            }
            if round == 2 { renewedSerial = try certificates.renewServerCertificate() }
            if round == 3 {
                try "# reloaded\nlog-level = debug\nmax-blob-bytes = 1000\n".write(
                    toFile: settings, atomically: true, encoding: .utf8)
            }
            if round == 4 {
                #expect(await eventually { server.log.contains("max-blob-bytes=1000") }, "\(server.log)")
                try "log-level = info\nmax-blob-bytes = lots\n".write(
                    toFile: settings, atomically: true, encoding: .utf8)
            }
            server.process.send(SIGHUP)
            try book.collect(listener, authority: setup.authority.publicKey)
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(server.isRunning, "serve exited on SIGHUP (status \(server.process.terminationStatus)): \(server.log)")
        #expect(renewedSerial != firstSerial)
        #expect(try servedSerial(port: port, certificates: certificates) == renewedSerial, "\(server.log)")
        #expect(server.log.contains("reloaded the API certificate"), "\(server.log)")
        #expect(server.log.contains("certificate_serial=\(renewedSerial)"), "\(server.log)")
        #expect(server.log.contains("restart to change them"), "\(server.log)")
        // The blob service applied the new limit; the debug line shows the new level is in force.
        #expect(server.log.contains("upload limits now:"), "\(server.log)")
        #expect(server.log.contains("log level is now debug"), "\(server.log)")
        #expect(!server.log.contains("log level is now info"), "debug lines before the level was debug: \(server.log)")
        // The broken file is refused with its line and the fix; the settings in force stay.
        #expect(
            await eventually { server.log.contains("line 2: max-blob-bytes = lots: give a whole number") },
            "\(server.log)")
        #expect(server.log.contains("the settings in force stay"), "\(server.log)")

        try await receiptEverything(&book, listener: listener, setup: setup)
        server.terminate()
        #expect(server.process.terminationStatus == 0, "\(server.log)")
        try checkLedger(setup: setup, book: book)
        #expect(book.published.count >= 1000, "the load was real: \(book.published.count) records")
    }

    /// SIGTERM while a device sends: serve stops taking batches, writes the last block and
    /// publishes its receipts before it closes, so every record on the ledger has reached
    /// the device's receipt topic without any resend; it exits with status 0.
    @Test func sigtermUnderLoadReceiptsEveryCommittedRecordBeforeExiting() async throws {
        var setup = try await ServeSetup(prefix: "agritrace-drain")
        defer { setup.broker.kill() }
        let server = try setup.startServe(["--block-max-delay-ms", "2000", "--block-max-transactions", "100000"])
        defer { server.kill() }
        let listener = try await ReceiptListener("box-1", port: setup.broker.port, topics: [setup.device.receiptTopic])
        defer { listener.client.disconnect() }
        await expectIngesting(server)
        // The device's registration is in a block (cut after 2 s here) before it sends.
        #expect(
            await eventually {
                let store = try? LedgerStore(path: setup.store, readOnly: true)
                return ((try? store.map { try LedgerQueries(store: $0).status().devicesActive }) ?? 0) == 1
            })
        var book = ReceiptBook()
        let until = ContinuousClock.now + .milliseconds(800)
        while ContinuousClock.now < until {
            let records = setup.device.records(50, lot: "PL-drain")
            book.add(records)
            try listener.client.publish(topic: setup.device.recordTopic, payload: setup.device.payload(records))
            try await Task.sleep(for: .milliseconds(10))
        }
        // Blocks wait 2 s: what was sent is pending when the signal arrives.
        server.terminate()
        #expect(server.process.terminationStatus == 0, "\(server.log)")
        try await Task.sleep(for: .milliseconds(500))
        try book.collect(listener, authority: setup.authority.publicKey)
        let reader = try LedgerStore(path: setup.store, readOnly: true)
        let status = try LedgerQueries(store: reader).status()
        #expect(status.records > 0, "the last block was written at the stop: \(server.log)")
        #expect(book.receipts.count == status.records, "every committed record receipted: \(server.log)")
        for id in book.receipts.keys { #expect(try reader.location(of: id) != nil) }
    }

    /// Resends what is not receipted until everything is (as agents do).
    func receiptEverything(_ book: inout ReceiptBook, listener: ReceiptListener, setup: ServeSetup) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while book.receipts.count < book.published.count && ContinuousClock.now < deadline {
            let missing = book.unreceipted
            for start in stride(from: 0, to: missing.count, by: 100) {
                let slice = Array(missing[start..<min(start + 100, missing.count)])
                try listener.client.publish(topic: setup.device.recordTopic, payload: setup.device.payload(slice))
            }
            try await Task.sleep(for: .milliseconds(700))
            try book.collect(listener, authority: setup.authority.publicKey)
        }
        #expect(book.receipts.count == book.published.count, "all \(book.published.count) records receipted")
    }

    /// Every receipted record on the ledger where its receipt says, none twice, and the ledger verifies.
    func checkLedger(setup: ServeSetup, book: ReceiptBook) throws {
        let reader = try LedgerStore(path: setup.store, readOnly: true)
        for (id, receipt) in book.receipts {
            let location = try #require(try reader.location(of: id), "receipted record \(id) is missing")
            #expect(location.leafIndex == receipt.leafIndex)
        }
        let status = try LedgerQueries(store: reader).status()
        #expect(status.records == book.published.count, "no record lost or duplicated")
        #expect(status.logSize == UInt64(book.published.count) + 1)
        let report = try LedgerVerifier.verify(store: reader, authority: setup.authority.publicKey)
        #expect(report.ok, "\(report.fault ?? "")")
    }
}

@Suite("One writer per ledger store", .serialized, .timeLimit(.minutes(2)))
struct StoreLockTests {
    /// A second `serve` on the store is refused at once, naming the store and the first's
    /// PID, while read-only commands go on; after the first is killed with SIGKILL (its lock
    /// file left behind) a new `serve` starts.
    @Test func secondServeIsRefusedNamingTheHolderAndAStaleLockDoesNotBlock() async throws {
        let setup = try await ServeSetup(prefix: "agritrace-lock")
        defer { setup.broker.kill() }
        let first = try setup.startServe()
        defer { first.kill() }
        await expectIngesting(first)

        let started = ContinuousClock.now
        var result = try runAgritrace(setup.serveArguments(["--client-id", "second-writer"]))
        #expect(ContinuousClock.now - started < .seconds(5), "refused at once")
        #expect(result.status != 0)
        #expect(result.output.contains("the ledger store \(setup.store) is in use"), "\(result.output)")
        #expect(result.output.contains("pid \(first.process.processIdentifier), agritrace serve"), "\(result.output)")
        #expect(first.isRunning)

        result = try runAgritrace(["status", "--store", setup.store, "--json"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\"records\""))
        result = try runAgritrace(["verify", "--store", setup.store])
        #expect(result.status == 0, "\(result.output)")

        first.kill()
        #expect(FileManager.default.fileExists(atPath: setup.store + ".lock"))
        let next = try setup.startServe(["--client-id", "after-kill"], log: "serve-after-kill.log")
        defer { next.kill() }
        await expectIngesting(next)
        #expect(next.isRunning, "\(next.log)")
        next.terminate()
        #expect(next.process.terminationStatus == 0, "\(next.log)")
    }
}

@Suite("serve --metrics-port: Prometheus metrics, /healthz and /readyz", .serialized, .timeLimit(.minutes(2)))
struct OperationsEndpointTests {
    /// One sample of the exposition, as Python's `prometheus_client` parser read it.
    struct Sample: Decodable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Parses `text` with the reference parser (`prometheus_client`, installed by
    /// scripts/install-deps.sh); fails on a malformed line or a family without a TYPE.
    func parse(_ text: String, in directory: TemporaryDirectory) throws -> [Sample] {
        let file = directory.file("metrics.txt")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let program = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                assert family.type != "unknown", "no TYPE for " + family.name
                out += [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]
            print(json.dumps(out))
            """
        let json = try runCommand("python3", ["-c", program, file])
        return try JSONDecoder().decode([Sample].self, from: Data(json.utf8))
    }

    func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in
            sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
        }?.value
    }

    func body(_ response: String) -> String {
        response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    /// Records, a resent batch and a malformed one go in; the metrics say exactly that, in
    /// Prometheus text format; API requests are counted by route and status; `/readyz` is 503
    /// while the broker is down and 200 again once it is back.
    @Test func metricsCountWhatWasIngestedAndReadinessFollowsTheBroker() async throws {
        var setup = try await ServeSetup(prefix: "agritrace-metrics")
        defer { setup.broker.kill() }
        let metricsPort = Int(try freeLoopbackPort())
        let apiPort = try freeLoopbackPort()
        let server = try setup.startServe([
            "--metrics-port", "\(metricsPort)", "--http-port", "\(apiPort)", "--insecure-http", "--log-format", "json",
        ])
        defer { server.kill() }
        #expect(
            await eventually { (try? httpGet(port: metricsPort, path: "/readyz"))?.hasPrefix("HTTP/1.1 200") == true },
            "\(server.log)")
        #expect(try httpGet(port: metricsPort, path: "/healthz").hasPrefix("HTTP/1.1 200"))

        let listener = try await ReceiptListener("box-1", port: setup.broker.port, topics: [setup.device.receiptTopic])
        defer { listener.client.disconnect() }
        var book = ReceiptBook()
        var first: [UInt8] = []
        for _ in 0..<10 {
            let records = setup.device.records(50, lot: "PL-metrics")
            book.add(records)
            let payload = setup.device.payload(records)
            if first.isEmpty { first = payload }
            try listener.client.publish(topic: setup.device.recordTopic, payload: payload)
        }
        #expect(
            await eventually {
                (try? book.collect(listener, authority: setup.authority.publicKey)) != nil && book.receipts.count == 500
            })
        try listener.client.publish(topic: setup.device.recordTopic, payload: first)  // 50 duplicates
        try listener.client.publish(topic: Wire.recordTopic(enterprise: "farm-1", device: "box-9"), payload: [1, 2, 3])
        for _ in 0..<3 {
            #expect(
                try runAgritrace(["status", "--api", "http://127.0.0.1:\(apiPort)", "--insecure-http"]).status == 0)
        }

        var samples: [Sample] = []
        let counted = await eventually {
            samples = (try? parse(body(try httpGet(port: metricsPort, path: "/metrics")), in: setup.directory)) ?? []
            return value(samples, "agritrace_records_duplicate_total") == 50
                && value(samples, "agritrace_rejected_total", ["code": "malformed"]) == 1
        }
        #expect(counted, "\(samples.map { "\($0.name)\($0.labels) \($0.value)" })")
        #expect(value(samples, "agritrace_batches_received_total") == 12)
        #expect(value(samples, "agritrace_records_received_total") == 550)
        // 500 records and the device's registration.
        #expect(value(samples, "agritrace_transactions_committed_total") == 501)
        let blocks = try #require(value(samples, "agritrace_blocks_committed_total"))
        #expect(blocks >= 2)
        #expect(value(samples, "agritrace_block_transactions_count") == blocks)
        #expect(value(samples, "agritrace_block_transactions_sum") == 501)
        #expect(value(samples, "agritrace_block_commit_seconds_count") == blocks)
        #expect(value(samples, "agritrace_receipt_batches_sent_total") == 12)
        #expect(value(samples, "agritrace_ingest_queue_depth") == 0)
        // The parser may name the counter's sample with the `_total` suffix.
        let requests = ["http_route": "/v1/status", "http_response_status_code": "200"]
        #expect((value(samples, "hb_requests", requests) ?? value(samples, "hb_requests_total", requests)) == 3)
        #expect(server.log.contains("\"message\":\"ingesting"), "JSON log lines: \(server.log)")

        await setup.broker.stop()
        #expect(
            await eventually {
                let answer = (try? httpGet(port: metricsPort, path: "/readyz")) ?? ""
                return answer.hasPrefix("HTTP/1.1 503") && answer.contains("not connected to the broker")
            }, "\(server.log)")
        #expect(try httpGet(port: metricsPort, path: "/healthz").hasPrefix("HTTP/1.1 200"))
        try await setup.broker.restart()
        #expect(
            await eventually(timeout: .seconds(40)) {
                (try? httpGet(port: metricsPort, path: "/readyz"))?.hasPrefix("HTTP/1.1 200") == true
            }, "\(server.log)")
        server.terminate()
        #expect(server.process.terminationStatus == 0, "\(server.log)")
    }
}

@Suite("agritrace backup and restore", .serialized, .timeLimit(.minutes(2)))
struct BackupTests {
    /// A backup taken while a device sends holds every record receipted before it started;
    /// restored, it passes `verify` and `replay`. A damaged backup and an existing store are refused.
    @Test func backupDuringIngestRestoresWithEveryReceiptedRecord() async throws {
        var setup = try await ServeSetup(prefix: "agritrace-backup")
        defer { setup.broker.kill() }
        let server = try setup.startServe()
        defer { server.kill() }
        let listener = try await ReceiptListener("box-1", port: setup.broker.port, topics: [setup.device.receiptTopic])
        defer { listener.client.disconnect() }
        await expectIngesting(server)
        var book = ReceiptBook()
        func send(for duration: Duration) async throws {
            let until = ContinuousClock.now + duration
            while ContinuousClock.now < until {
                let records = setup.device.records(50, lot: "PL-backup")
                book.add(records)
                try listener.client.publish(topic: setup.device.recordTopic, payload: setup.device.payload(records))
                try await Task.sleep(for: .milliseconds(10))
            }
            try book.collect(listener, authority: setup.authority.publicKey)
        }
        try await send(for: .milliseconds(600))
        // Receipts follow the block's commit: on a loaded machine they come after the sending.
        let receiptsDeadline = ContinuousClock.now + .seconds(20)
        while book.receipts.count < book.published.count && ContinuousClock.now < receiptsDeadline {
            try await Task.sleep(for: .milliseconds(100))
            try book.collect(listener, authority: setup.authority.publicKey)
        }
        let receiptedBefore = Set(book.receipts.keys)
        let folder = setup.directory.file("backup")
        let store = setup.store
        let backup = Task.detached { try runAgritrace(["backup", "--store", store, "--to", folder]) }
        try await send(for: .milliseconds(400))  // ingest goes on during the backup
        let result = try await backup.value
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("verified"), "\(result.output)")
        #expect(!receiptedBefore.isEmpty)

        let restored = setup.directory.file("restored.sqlite")
        var answer = try runAgritrace(["restore", "--from", folder, "--store", restored])
        #expect(answer.status == 0, "\(answer.output)")
        for command in ["verify", "replay"] {
            answer = try runAgritrace([command, "--store", restored])
            #expect(answer.status == 0, "\(command): \(answer.output)")
        }
        let reader = try LedgerStore(path: restored, readOnly: true)
        let missing = try receiptedBefore.filter { try reader.location(of: $0) == nil }
        #expect(missing.isEmpty, "\(missing.count) receipted records missing from the restored store")

        // An existing store is not overwritten.
        answer = try runAgritrace(["restore", "--from", folder, "--store", restored])
        #expect(answer.status != 0)
        #expect(answer.output.contains("\(restored) exists"), "\(answer.output)")
        // A damaged backup is refused, naming what is wrong.
        try runCommand(
            "sqlite3", [folder + "/ledger.sqlite", "UPDATE log_entries SET entry = zeroblob(40) WHERE leaf_index = 1"])
        let other = setup.directory.file("other.sqlite")
        answer = try runAgritrace(["restore", "--from", folder, "--store", other])
        #expect(answer.status != 0)
        #expect(answer.output.contains("refusing the backup in \(folder)"), "\(answer.output)")
        #expect(!FileManager.default.fileExists(atPath: other))
        server.terminate()
    }
}
