import AgriTraceCore
import ArgumentParser
import Blobs
import Foundation
import Ingest
import Ledger
import LedgerAPI
import LedgerClient
import Logging
import MQTTClient
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the aggregator: ingest record batches from MQTT into signed blocks and publish receipts.")

    @Option(name: .long, help: "Path of the ledger store (created if missing).")
    var store: String = "agritrace.sqlite"

    @Option(name: .long, help: "The authority private key file (from `agritrace keygen`).")
    var authorityKey: String = "authority.key"

    @Option(name: .long, help: "Broker host.")
    var brokerHost: String = "127.0.0.1"

    @Option(name: .long, help: "Broker port (8883 for TLS).")
    var brokerPort: Int32 = 1883

    @Option(name: .long, help: "CA file to verify the broker's TLS certificate (enables TLS).")
    var tlsCA: String?

    @Option(name: .long, help: "Client certificate for mutual TLS.")
    var tlsCert: String?

    @Option(name: .long, help: "Client key for mutual TLS.")
    var tlsKey: String?

    @Option(name: .long, help: "Broker username.")
    var username: String?

    @Option(name: .long, help: "File holding the broker password (never given on the command line).")
    var passwordFile: String?

    @Option(name: .long, help: "MQTT client id of this node.")
    var clientID: String = "agritrace-aggregator"

    @Option(
        name: .long,
        help:
            "Shared-subscription group on the broker. One single-node ledger per group: a second node in the group is refused (docs/operations.md)."
    )
    var shareGroup: String = "agritrace"

    @Option(name: .long, help: "Cut a block when this many transactions are pending.")
    var blockMaxTransactions: Int = 10_000

    @Option(name: .long, help: "Cut a block when the oldest pending transaction has waited this many milliseconds.")
    var blockMaxDelayMs: Int = 100

    @Option(name: .long, help: "Proposer id written in block headers.")
    var proposer: String = "aggregator-1"

    @Option(name: .long, help: "SQLite durability: full (fsync each block, the default) or normal.")
    var synchronous: String = "full"

    @Option(
        name: .long,
        help:
            "Record batches held between the MQTT network thread and the ledger; when full, the broker holds the rest.")
    var ingestQueueBatches: Int = 64

    @Option(
        name: .long,
        help: "While a block is being written, stop taking batches once this many transactions wait for the next block."
    )
    var maxPendingTransactions: Int = 20_000

    @Option(
        name: .long,
        help: "Uploads in pieces held unfinished at once; past it a new upload waits for the agent's re-send.")
    var maxUnfinishedUploads: Int = 64

    @Option(
        name: .long, help: "Unfinished uploads of one device; one more drops the device's least recently active one.")
    var maxUnfinishedUploadsPerDevice: Int = 4

    @Option(name: .long, help: "Seconds without a piece after which an unfinished upload is dropped.")
    var unfinishedUploadTimeout: Int = 120

    @Option(name: .long, help: "The largest blob accepted, in bytes; larger ones are refused with the reason.")
    var maxBlobBytes: UInt64 = 4 << 30

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A file of settings SIGHUP reloads: log-level and the upload limits, as 'name = value' lines.",
            discussion: "A value there wins over the command line's; see docs/operations.md."))
    var settings: String?

    @OptionGroup var consortium: ConsortiumOptions
    @OptionGroup var api: APIServerOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var operations: OperationsOptions

    func run() async throws {
        if consortium.isEnabled { return try await runConsortium() }
        let process = try ServerProcess(
            label: "agritrace.serve", logging: logging, operations: operations, settings: settings,
            blobLimits: blobLimits())
        let logger = process.logger
        let lock = try StoreLock(store: store, command: "agritrace serve")
        let authority = try Keys.readPrivateKey(file: authorityKey)
        let broker = try brokerOptions()
        let ledger = try ledgerConfiguration()
        try checkLimits()
        let log: IngestLog = { line in logger.info("\(line)") }
        let service = try IngestService(
            storePath: store, authority: authority, ledger: ledger,
            ingest: IngestConfiguration(
                broker: broker, clientID: clientID, shareGroup: shareGroup, maxQueuedBatches: ingestQueueBatches,
                maxPendingTransactions: maxPendingTransactions),
            log: log)
        let blobService = try BlobService(
            storePath: store, authority: authority, broker: broker, clientID: clientID + "-blobs",
            shareGroup: shareGroup, limits: process.initial.blobLimits, log: log)
        // The store exists once the ingest service has opened it (the API opens it after).
        try await process.run(
            [
                ("ingest", ServerLifecycle.service { try await service.run() }),
                ("blobs", ServerLifecycle.service { try await blobService.run() }),
            ], storePath: store, api: api, operations: operations, ready: OperationsServer.readiness(of: service),
            blobs: blobService, readAtStart: Self.readAtStart)
        logger.notice("stopped")
        withExtendedLifetime(lock) {}
    }

    /// The settings SIGHUP does not change (named in the reload's log line).
    static let readAtStart = [
        "--store", "--authority-key", "the broker options and their TLS files", "the block and ingest limits",
        "the upload limits and --log-level given on the command line (put them in --settings to reload them)",
        "--http-host", "--http-port", "--metrics-host", "--metrics-port", "--log-format", "--gs1-site",
        "--trusted-proxy",
    ]

    /// The upload limits of the command line.
    func blobLimits() -> BlobService.Limits {
        BlobService.Limits(
            maxUnfinishedUploads: maxUnfinishedUploads, maxUnfinishedUploadsPerDevice: maxUnfinishedUploadsPerDevice,
            unfinishedUploadTimeout: .seconds(unfinishedUploadTimeout), maxBlobBytes: maxBlobBytes)
    }

    func brokerOptions() throws -> MQTTClient.Options {
        var broker = MQTTClient.Options(host: brokerHost, port: brokerPort)
        if let tlsCA { broker.tls = .init(caFile: tlsCA, certificateFile: tlsCert, keyFile: tlsKey) }
        if let username {
            let password = try passwordFile.map {
                try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .newlines)
            }
            broker.credentials = .init(username: username, password: password)
        }
        return broker
    }

    func ledgerConfiguration() throws -> LedgerConfiguration {
        guard let sync = SQLiteConnectionSynchronous(synchronous) else {
            throw UserError("--synchronous must be full or normal")
        }
        return LedgerConfiguration(
            maxBlockTransactions: blockMaxTransactions, maxBlockDelay: .milliseconds(blockMaxDelayMs),
            proposer: proposer, synchronous: sync)
    }

    func checkLimits() throws {
        guard ingestQueueBatches >= 1 else { throw UserError("--ingest-queue-batches must be at least 1") }
        guard maxPendingTransactions >= 1 else { throw UserError("--max-pending-transactions must be at least 1") }
        guard maxUnfinishedUploads >= 1, maxUnfinishedUploadsPerDevice >= 1 else {
            throw UserError("--max-unfinished-uploads and --max-unfinished-uploads-per-device must be at least 1")
        }
        guard unfinishedUploadTimeout >= 1 else {
            throw UserError("--unfinished-upload-timeout must be at least 1 second")
        }
    }
}
