import AgriTraceCore
import Crypto
import Foundation
import Ledger
import MQTTClient
import TestSupport
import Testing

/// The built `agritrace` executable next to the test bundle (``builtProduct(named:)``).
func agritraceExecutable() throws -> String { try builtProduct(named: "agritrace") }

/// A running `agritrace serve` process.
final class ServeProcess {
    let process: Process

    init(executable: String, arguments: [String], log: String) throws {
        process = try startLoggedProcess(executable, arguments, log: log)
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() {
        process.terminate()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }
}

@Suite("Aggregator killed under load", .serialized, .timeLimit(.minutes(3)))
struct CrashTests {
    @Test func sigkillTenTimesLosesNoReceiptedRecordAndDuplicatesNone() async throws {
        let executable = try agritraceExecutable()
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let directory = try TemporaryDirectory(prefix: "agritrace-crash")
        let store = directory.file("ledger.sqlite")
        let keyFile = directory.file("authority.key")
        _ = try runCommand(executable, ["keygen", "--output", keyFile])
        let authorityText = try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let authority = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](hexString: authorityText)!)
        var device = TestDevice()
        _ = try runCommand(
            executable,
            [
                "devices", "add", "--store", store, "--authority-key", keyFile, "--enterprise", device.enterprise,
                "--device", device.device, "--public-key", device.key.publicKey.hex, "--wait", "0",
            ])
        let serveArguments = [
            "serve", "--store", store, "--authority-key", keyFile, "--broker-port", String(broker.port),
            "--block-max-delay-ms", "20", "--block-max-transactions", "500", "--client-id", "aggregator-crash",
        ]
        let listener = try await ReceiptListener("box-1", port: broker.port, topics: [device.receiptTopic])
        defer { listener.client.disconnect() }

        var book = ReceiptBook()
        func collect() throws { try book.collect(listener, authority: authority.publicKey) }
        func resendUnreceipted() throws {
            let missing = book.unreceipted
            for start in stride(from: 0, to: missing.count, by: 100) {
                try listener.client.publish(
                    topic: device.recordTopic,
                    payload: device.payload(Array(missing[start..<min(start + 100, missing.count)])))
            }
        }

        for cycle in 0..<10 {
            let server = try ServeProcess(
                executable: executable, arguments: serveArguments, log: directory.file("serve.log"))
            try await Task.sleep(for: .milliseconds(150))
            try collect()
            try resendUnreceipted()
            // Load: a random 3 to 10 batches of 100 new records, 10 ms apart, then SIGKILL. A count rather than a
            // time, so a loaded machine (slow sleeps, slow signing) neither starves the run of load nor floods it
            // with more than the last run can receipt in time.
            for _ in 0..<Int.random(in: 3...10) {
                let records = device.records(100, lot: "PL-\(cycle)")
                book.add(records)
                try listener.client.publish(topic: device.recordTopic, payload: device.payload(records))
                try await Task.sleep(for: .milliseconds(10))
            }
            server.kill()
            try collect()
        }
        // Last run: resend until everything is receipted, then stop cleanly.
        let server = try ServeProcess(
            executable: executable, arguments: serveArguments, log: directory.file("serve.log"))
        let deadline = ContinuousClock.now + .seconds(60)
        try await Task.sleep(for: .milliseconds(300))
        while book.receipts.count < book.published.count && ContinuousClock.now < deadline {
            try resendUnreceipted()
            try await Task.sleep(for: .milliseconds(700))
            try collect()
        }
        server.terminate()
        #expect(
            book.receipts.count == book.published.count,
            "all \(book.published.count) records receipted in the end (got \(book.receipts.count))")

        let reader = try LedgerStore(path: store, readOnly: true)
        let queries = LedgerQueries(store: reader)
        // Every receipted record is on the ledger exactly where its receipt says, under a tree head the ledger still has.
        for (id, receipt) in book.receipts {
            let location = try #require(try reader.location(of: id), "receipted record \(id) is missing")
            #expect(location.leafIndex == receipt.leafIndex)
            #expect(
                try reader.block(height: receipt.height)?.header == receipt.treeHead,
                "the receipt's tree head was rolled back")
            try receipt.verify(
                leafEntry: LogEntry.record(book.published[id]!).canonicalBytes, authority: authority.publicKey)
        }
        // None duplicated: one row per record id, one leaf per record.
        let status = try queries.status()
        #expect(status.records == book.published.count)
        #expect(status.logSize == UInt64(book.published.count) + 1)
        let report = try LedgerVerifier.verify(store: reader, authority: authority.publicKey)
        #expect(report.ok, "\(report.fault ?? "")")
        #expect(try StateReplay.replay(store: reader, authority: authority.publicKey).ok)
        #expect(book.published.count >= 2000, "the load was real: \(book.published.count) records")
    }
}
