import AgriTraceCore
import Blobs
import Crypto
import EdgeAgent
import Foundation
import Ingest
import Ledger
import Logging
import MQTTClient
import SQLiteStorage
import TestSupport
import Testing

/// The agent's uploader and the aggregator's blob service over a real mosquitto: uploads stay
/// `pending` while the blob service is away and are sent again, then acknowledged.
@Suite("Blob upload over a real mosquitto", .serialized, .timeLimit(.minutes(2)))
struct UploadTests {
    @Test("a pending upload is re-sent after the aggregator's blob service was away, then acknowledged")
    func pendingUploadIsResent() async throws {
        let broker = try await TestBroker.start()
        defer { broker.kill() }
        let directory = try TemporaryDirectory(prefix: "transfer-upload")
        defer { directory.remove() }
        let storePath = directory.file("ledger.sqlite")
        let authority = Curve25519.Signing.PrivateKey()
        let owner = Curve25519.KeyAgreement.PrivateKey()
        let deviceKey = try DeviceKey.create(path: directory.file("device.key"))
        do {
            let ledger = try Ledger(path: storePath, authority: authority)
            try ledger.admit(
                registry: try SignedRegistry.addDevice(
                    enterprise: "PLANT1", device: "farm-box", key: deviceKey.publicKey, stage: .planting,
                    authority: authority, nonce: 1))
            try ledger.cutBlock()
        }
        let ingest = try IngestService(
            storePath: storePath, authority: authority,
            ledger: .init(maxBlockTransactions: 1000, maxBlockDelay: .milliseconds(30), synchronous: .normal),
            ingest: .init(
                broker: .init(port: broker.port), clientID: "aggregator-test", submissionPollInterval: .milliseconds(50)
            ))
        let serving = Task { try await ingest.run() }
        defer { serving.cancel() }

        let secrets = (0..<3).map { _ in "weeding-\(UUID().uuidString)" }
        let lines = secrets.enumerated().map { index, secret in
            """
            {"stage":"planting","lot":"PL-UP-1","product":"fresh corn","time":"2026-07-28T08:3\(index):00+08:00","fields":{"variety":"Jingke 968","weeding_records":"\(secret)","personnel":"farmer \(index)"}}
            """
        }
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: directory.file("readings.jsonl"), atomically: true, encoding: .utf8)
        let text = """
            [device]
            enterprise = "PLANT1"
            id = "farm-box"
            stage = "planting"
            key_file = "device.key"

            [broker]
            host = "127.0.0.1"
            port = \(broker.port)
            reconnect_initial_seconds = 1
            reconnect_maximum_seconds = 2

            [authority]
            public_key = "\(authority.publicKey.hex)"

            [inputs]
            files = ["readings.jsonl"]
            poll_ms = 50

            [storage]
            path = "agent.sqlite"

            [delivery]
            resend_timeout_ms = 1000

            [operations]
            metrics_port = 0
            log_level = "critical"

            [sharing]
            owner_key = "\(Array(owner.publicKey.rawRepresentation).hexString)"
            resend_timeout_ms = 500
            """
        try text.write(toFile: directory.file("agent.toml"), atomically: true, encoding: .utf8)
        let configuration = try AgentConfiguration.load(path: directory.file("agent.toml"))
        #expect(configuration.sharing?.ownerKeyHex == Array(owner.publicKey.rawRepresentation).hexString)
        let agent = try AgentRuntime(
            configuration: configuration, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try agent.start()
        defer { agent.shutdown() }
        let uploader = try #require(agent.uploader)

        // The records are receipted; their 6 blobs (level-2 and level-1 of 3 records) are
        // sealed and sent, but nobody receives them: they stay pending.
        #expect(await eventually(timeout: .seconds(20)) { ((try? uploader.counts()) ?? [:])[.pending] == 6 })
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try uploader.counts()[.pending] == 6)
        #expect(try uploader.counts()[.uploaded] == nil)

        // The blob service comes up: the pending uploads are sent again and acknowledged.
        let blobs = try BlobService(
            storePath: storePath, authority: authority, broker: .init(port: broker.port), clientID: "aggregator-blobs")
        let blobServing = Task { try await blobs.run() }
        defer { blobServing.cancel() }
        #expect(await eventually(timeout: .seconds(30)) { ((try? uploader.counts()) ?? [:])[.uploaded] == 6 })
        let reader = LedgerQueries(store: try LedgerStore(path: storePath, readOnly: true))
        let level2 = try reader.blobs(lot: "PL-UP-1", level: .level2)
        #expect(level2.count == 3)
        #expect(try reader.blobs(lot: "PL-UP-1", level: .level1).count == 3)
        let store = BlobStore(storePath: storePath)
        for blob in level2 {
            #expect(store.contains(blob.blobID))
            // The owner (and only the owner) opens it, and it matches the record on the ledger.
            let record = try #require(try reader.record(blob.recordID))
            let fields = try SealedPrivateFields(
                recordID: blob.recordID, level: .level2, blob: try store.get(blob.blobID)
            )
            .open(dataKey: try blob.wrappedKey.unwrap(with: owner), record: record, expectedBlobID: blob.blobID)
            #expect(fields.entries.contains { secrets.contains($0.value.display) })
        }
        // Every upload was sent at least twice (once unheard, once acknowledged).
        let agentDB = try LedgerStoreFreeReader(path: directory.file("agent.sqlite"))
        #expect(try agentDB.minimumAttempts() >= 2)
    }
}

/// Reads the agent store's upload table.
struct LedgerStoreFreeReader {
    let path: String

    init(path: String) throws { self.path = path }

    func minimumAttempts() throws -> Int64 {
        let db = try SQLiteStorage.SQLiteConnection(path: path, options: .init(readOnly: true, create: false))
        let select = try db.prepare("SELECT min(attempts) FROM blob_uploads WHERE status = 'uploaded'")
        _ = try select.step()
        return select.int64(at: 0)
    }
}
