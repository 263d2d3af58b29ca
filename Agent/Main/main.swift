import AgriTraceCore
import ArgumentParser
import BuildInfo
import EdgeAgent
import Logging
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

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agritrace-agent",
        abstract:
            "AgriTrace edge agent: classify readings, keep private values in the vault, deliver signed records, keep receipts.",
        version: BuildInfo.description,
        subcommands: [Run.self, Initialize.self, Rejects.self, Status.self, Simulate.self, Catalog.self],
        defaultSubcommand: Run.self)
}

func makeLogger(level: String) -> Logger {
    var logger = Logger(label: "agritrace.agent")
    logger.logLevel = Logger.Level(rawValue: level) ?? .info
    return logger
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the agent (the default command).")

    @Option(name: .shortAndLong, help: "The TOML configuration file.")
    var config: String = "/etc/agritrace-agent/agent.toml"

    @Flag(name: .customLong("check-config"), help: "Validate the configuration and the device key, then exit.")
    var checkConfig = false

    @Option(name: .long, help: "Log line format: text, or json (one JSON object a line); timestamps in UTC.")
    var logFormat: String = "text"

    func validate() throws {
        guard AgentLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format \(logFormat): use text or json")
        }
    }

    func run() throws {
        let format = AgentLogHandler.Format(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { AgentLogHandler(label: $0, format: format) }
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration.load(path: config)
        } catch {
            writeAll("error: \(error)\n", to: STDERR_FILENO)
            throw ExitCode(78)
        }
        if checkConfig { return try printCheck(configuration) }
        let logger = makeLogger(level: configuration.operations.logLevel)
        // Before any thread starts, so every thread inherits the unblocked mask.
        installSignalHandlers()
        let agent: AgentRuntime
        do {
            agent = try AgentRuntime(configuration: configuration, logger: logger)
            try agent.start()
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        superviseUntilTerminated(agent, configuration: configuration, logger: logger)
        agent.shutdown()
    }

    /// `--check-config`: the device key loads; prints what the agent would run with.
    /// - Throws: exit code 78 (configuration error) with the reason on standard error.
    func printCheck(_ configuration: AgentConfiguration) throws {
        do {
            let key = try DeviceKey.load(path: configuration.device.keyFile)
            print("configuration OK: \(config)")
            print(
                "device \(configuration.device.enterprise)/\(configuration.device.id), public key \(key.publicKey.hex)"
            )
            print(
                "broker \(configuration.broker.host):\(configuration.broker.port) tls=\(configuration.broker.caFile != nil)"
            )
            print(
                "inputs files=\(configuration.inputs.files) stdin=\(configuration.inputs.stdin) socket=\(configuration.inputs.socket ?? "-")"
            )
            print("store \(configuration.storage.path) budget \(configuration.storage.maxBytes) bytes")
        } catch {
            writeAll("error: \(error)\n", to: STDERR_FILENO)
            throw ExitCode(78)
        }
    }

    /// Watches the signals until SIGTERM or SIGINT: SIGHUP reloads the configuration, and the
    /// start-up pages are released once the agent has settled.
    func superviseUntilTerminated(_ agent: AgentRuntime, configuration: AgentConfiguration, logger: Logger) {
        // Start-up only pages (parsing, TLS and SQLite set-up, runtime scans) go back to the
        // kernel once the agent has settled: most of the idle resident set (docs/agent.md).
        var ticksUntilRelease = configuration.operations.releaseStartupPages ? 30 : -1
        while true {
            usleep(100_000)
            if ticksUntilRelease >= 0 {
                ticksUntilRelease -= 1
                if ticksUntilRelease < 0 { releaseStartupPages(logger: logger) }
            }
            let signals = pendingSignals.exchange(0, ordering: .relaxed)
            if signals & SignalBits.reload != 0 {
                do {
                    agent.reload(try AgentConfiguration.load(path: config))
                } catch {
                    logger.error("reload refused; keeping the running configuration", metadata: ["error": "\(error)"])
                }
            }
            if signals & SignalBits.terminate != 0 { return }
        }
    }

    /// Gives the start-up pages back to the kernel and logs how much.
    func releaseStartupPages(logger: Logger) {
        let before = StartupPages.residentBytes()
        let advised = StartupPages.release()
        logger.info(
            "released start-up pages",
            metadata: [
                "advised_bytes": "\(advised)", "resident_bytes_before": "\(before)",
                "resident_bytes_after": "\(StartupPages.residentBytes())",
            ])
    }
}

struct Initialize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create the device's Ed25519 key (mode 0600) and print its public key.")

    @Option(name: .shortAndLong, help: "The configuration whose device.key_file to create.")
    var config: String?

    @Option(name: .long, help: "The key file to create (instead of --config).")
    var key: String?

    func run() throws {
        var path = key
        if path == nil, let config {
            let text = (try? String(contentsOfFile: config, encoding: .utf8)) ?? ""
            let document = try? TOMLDocument(parsing: text)
            let base = URL(fileURLWithPath: config).deletingLastPathComponent().path
            if case .string(let file)? = document?.value("device.key_file") {
                path = file.hasPrefix("/") ? file : base + "/" + file
            } else {
                path = base + "/device.key"
            }
        }
        guard let path else {
            throw ValidationError("give --config FILE or --key FILE")
        }
        do {
            let created = try DeviceKey.create(path: path)
            print(created.publicKey.hex)
            writeAll(
                "created \(path) (mode 0600); register the public key above with the aggregator\n", to: STDERR_FILENO)
        } catch let error as DeviceKey.KeyError {
            if case .exists = error, let existing = try? DeviceKey.load(path: path) {
                writeAll("\(path) already exists; its public key is:\n", to: STDERR_FILENO)
                print(existing.publicKey.hex)
                return
            }
            writeAll("error: \(error)\n", to: STDERR_FILENO)
            throw ExitCode(1)
        }
    }
}

struct Rejects: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List rejected input lines and records the aggregator refused.")

    @Option(name: .shortAndLong, help: "The TOML configuration file.")
    var config: String = "/etc/agritrace-agent/agent.toml"

    @Flag(help: "Print JSON (one object with `rejects` and `refused`).")
    var json = false

    @Option(help: "At most this many, newest.")
    var limit: Int = 100

    func run() throws {
        let store = try openStore(config)
        let rejects = try store.rejects(limit: limit)
        let refused = try store.refusedRecords(limit: limit)
        let batches = try store.deliveryRefusals()
        if json {
            struct Output: Encodable {
                var rejects: [RejectedLine]
                var refused: [RefusedRecord]
                var deliveryRefusals: [DeliveryRefusal]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let output = Output(rejects: rejects, refused: refused, deliveryRefusals: batches)
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
            return
        }
        if rejects.isEmpty && refused.isEmpty && batches.isEmpty {
            print("no rejects")
            return
        }
        for refusal in batches { printRefusal(refusal) }
        for reject in rejects {
            var subject: [String] = []
            if let field = reject.field { subject.append("field \(field)") }
            if let stage = reject.stage { subject.append("stage \(stage)") }
            print(
                "\(reject.at)  \(reject.source):\(reject.line)  [\(reject.kind.rawValue)] \(subject.isEmpty ? "" : subject.joined(separator: ", ") + ": ")\(reject.reason)"
            )
            print("    fix: \(reject.fix)")
        }
        for record in refused {
            print(
                "\(record.at)  record \(record.recordID) (sequence \(record.sequence)) refused by the aggregator [\(record.code.rawValue)]: \(record.reason)"
            )
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the store's counts (outbox, receipts, rejects).")

    @Option(name: .shortAndLong, help: "The TOML configuration file.")
    var config: String = "/etc/agritrace-agent/agent.toml"

    @Flag(
        help:
            "Print one JSON object (outboxDepth, oldestUnreceiptedSeconds, receipted, rejects, refused, usedBytes, nextSequence)."
    )
    var json = false

    func run() throws {
        let store = try openStore(config)
        let statistics = try store.statistics()
        let refusals = try store.deliveryRefusals()
        // Sealed uploads for the owner (docs/transfer.md): pending until the aggregator acknowledges.
        let uploads = BlobUploader.counts(storePath: try AgentConfiguration.load(path: config).storage.path)
        if json {
            let oldest = statistics.oldestUnreceiptedMillis.map { "\(Double($0) / 1000)" } ?? "null"
            let blobs = [BlobUploadStatus.pending, .uploaded, .refused].map { "\"\($0.rawValue)\":\(uploads[$0] ?? 0)" }
                .joined(
                    separator: ",")
            let codes = refusals.map { "\"\($0.code.rawValue)\"" }.joined(separator: ",")
            print(
                "{\"outboxDepth\":\(statistics.outboxDepth),\"oldestUnreceiptedSeconds\":\(oldest),\"receipted\":\(statistics.receipted),\"rejects\":\(statistics.rejects),\"refused\":\(statistics.refused),\"usedBytes\":\(statistics.usedBytes),\"nextSequence\":\(statistics.nextSequence),\"blobUploads\":{\(blobs)},\"deliveryRefusedCodes\":[\(codes)]}"
            )
            return
        }
        for refusal in refusals { printRefusal(refusal) }
        print("next sequence      \(statistics.nextSequence)")
        print("outbox depth       \(statistics.outboxDepth)")
        print("oldest unreceipted \(statistics.oldestUnreceiptedMillis.map { "\(Double($0) / 1000) s" } ?? "-")")
        print("receipted          \(statistics.receipted)")
        print("rejected lines     \(statistics.rejects)")
        print("refused records    \(statistics.refused)")
        print("store used bytes   \(statistics.usedBytes)")
        if !uploads.isEmpty {
            print(
                "blob uploads       pending \(uploads[.pending] ?? 0), uploaded \(uploads[.uploaded] ?? 0), refused \(uploads[.refused] ?? 0)"
            )
        }
    }
}

/// Prints a standing whole-batch refusal with its fix (`status`, `rejects`).
func printRefusal(_ refusal: DeliveryRefusal) {
    print(
        "DELIVERY REFUSED [\(refusal.code.rawValue)] \(refusal.reason) (\(refusal.count) times, \(refusal.firstAt) to \(refusal.lastAt)); the records stay in the outbox and are offered again with back-off"
    )
    print("    fix: \(refusal.fix)")
}

func openStore(_ config: String) throws -> AgentStore {
    let configuration = try AgentConfiguration.load(path: config)
    let key = try DeviceKey.load(path: configuration.device.keyFile)
    return try AgentStore(
        path: configuration.storage.path,
        cipher: VaultCipher(
            key: key.vaultKey(enterprise: configuration.device.enterprise, device: configuration.device.id)),
        budgetBytes: configuration.storage.maxBytes)
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print realistic JSON-lines readings for a stage (pipe them into the agent).")

    @Option(help: "breeding, planting, processing, warehousing, transport or sales.")
    var stage: String

    @Option(help: "Readings per second (0: as fast as possible).")
    var rate: Double = 10

    @Option(help: "How many lots to rotate through.")
    var lots: Int = 5

    @Option(help: "Stop after this many readings (default: run until interrupted).")
    var count: Int?

    @Option(help: "Seed, for reproducible output.")
    var seed: UInt64 = 1

    func run() throws {
        guard let stage = Stage(name: stage) else {
            throw ValidationError(
                "unknown stage \(self.stage); use one of \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        signal(SIGPIPE, SIG_DFL)
        var simulator = ReadingSimulator(stage: stage, lots: lots, seed: seed)
        let start = Date()
        var produced = 0
        var output = ""
        while count.map({ produced < $0 }) ?? true {
            output += simulator.next() + "\n"
            produced += 1
            if rate > 0 {
                writeAll(output, to: STDOUT_FILENO)
                output = ""
                let due = start.addingTimeInterval(Double(produced) / rate)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { PosixThread.sleep(seconds: wait) }
            } else if output.utf8.count > 64 * 1024 {
                writeAll(output, to: STDOUT_FILENO)
                output = ""
            }
        }
        writeAll(output, to: STDOUT_FILENO)
    }
}

struct Catalog: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the catalog fields with their privacy level and kind.")

    @Option(help: "Only this stage.")
    var stage: String?

    @Option(name: .shortAndLong, help: "Include the site fields of this configuration.")
    var config: String?

    func run() throws {
        var catalog = FieldCatalog.standard
        if let config { catalog = try AgentConfiguration.load(path: config).catalog() }
        let stages =
            try stage.map { name -> [Stage] in
                guard let stage = Stage(name: name) else { throw ValidationError("unknown stage \(name)") }
                return [stage]
            } ?? Stage.allCases
        for stage in stages {
            print("\(stage.rawValue):")
            for field in catalog.fields(of: stage) {
                print(
                    "  \(padded(field.name, 28)) \(padded(field.level.rawValue, 8)) \(padded(field.kind.rawValue, 7)) \(field.label)"
                )
            }
        }
    }
}

AgentCommand.main()

/// Writes all of `text` to `descriptor`, resuming after short writes and interrupts (stops on
/// any other error, as when standard output was closed).
func writeAll(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

/// `text` cut or padded with spaces to `width` characters, for the catalog's columns.
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
}
