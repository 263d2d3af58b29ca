import AgriTraceCore
import Crypto

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

/// The agent's configuration, read from a TOML file (reference in `docs/agent.md`).
public struct AgentConfiguration: Sendable, Equatable {
    /// Who this box is.
    public struct Device: Sendable, Equatable {
        /// The enterprise id that owns the records (`ZS123`).
        public var enterprise: String
        /// The device id, unique within the enterprise (`farm-7`).
        public var id: String
        /// The stage this box records (used by `simulate` and as documentation; readings carry their own stage).
        public var stage: Stage?
        /// Wall times before this are flagged `clockTrusted = false`.
        public var enrolledAt: Timestamp
        /// The Ed25519 device key file (created by `agritrace-agent init`).
        public var keyFile: String
    }

    /// Where the broker is and how to reach it.
    public struct Broker: Sendable, Equatable {
        public var host: String
        public var port: Int32
        /// PEM CA file; TLS is on when set.
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        public var keepAliveSeconds: Int32
        /// Publishes awaiting PUBACK before the agent waits (MQTT receive maximum).
        public var maxInflightMessages: Int32
        public var reconnectInitialSeconds: UInt32
        public var reconnectMaximumSeconds: UInt32
    }

    /// The aggregator whose receipts the agent trusts.
    public struct Authority: Sendable, Equatable {
        /// The aggregator's Ed25519 authority public key, 64 hex characters.
        public var publicKeyHex: String

        /// The parsed key.
        public func publicKey() throws -> Curve25519.Signing.PublicKey {
            guard let bytes = [UInt8](hexString: publicKeyHex) else {
                throw ConfigurationError.invalid(key: "authority.public_key", reason: "not hex")
            }
            return try Curve25519.Signing.PublicKey(rawBytes: bytes)
        }
    }

    /// Where readings come from.
    public struct Inputs: Sendable, Equatable {
        /// Files to tail (JSON lines), surviving rotation and restart.
        public var files: [String]
        /// Read JSON lines from standard input.
        public var stdin: Bool
        /// A Unix socket path that local programs write JSON lines to.
        public var socket: String?
        /// Lines longer than this are rejected as oversize.
        public var maxLineBytes: Int
        /// How often a tailed file is checked for new data, in milliseconds.
        public var pollMilliseconds: Int
    }

    /// Storage, budget and retention.
    public struct Storage: Sendable, Equatable {
        /// The SQLite database (vault, outbox, receipts, rejects).
        public var path: String
        /// The largest size of the database in bytes; intake pauses before it.
        public var maxBytes: Int64
        /// Intake pauses while the store's filesystem has less free than this, so delivery and
        /// receipts can always write, whatever fills the disk. 0 turns the check off.
        public var minFreeBytes: Int64 = 32 << 20
        /// Receipted records, their receipts and vault entries older than this are deleted. 0 keeps forever.
        /// The default, 731 days, keeps the two years of records FDA FSMA 204 requires.
        public var retentionDays: Int
        /// `normal` (WAL, survives crashes; a power cut may lose the last commits) or `full` (fsync per commit).
        public var synchronous: String
    }

    /// Delivery tuning.
    public struct Delivery: Sendable, Equatable {
        /// Records per MQTT message (one signature per batch).
        public var batchSize: Int
        /// A sent record with no receipt after this is sent again.
        public var resendTimeoutMilliseconds: Int
        /// At most this many records sent but not yet receipted at once.
        public var maxUnreceipted: Int
        /// On SIGTERM, how long to keep delivering before exiting.
        public var drainTimeoutMilliseconds: Int
    }

    /// Operations.
    public struct Operations: Sendable, Equatable {
        /// Loopback port of `/healthz` and `/metrics`; 0 disables the endpoint.
        public var metricsPort: Int
        /// `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`.
        public var logLevel: String
        /// Whether `run` gives the pages only start-up used back to the kernel a few seconds
        /// after starting (``StartupPages``); the idle resident set drops by about 10 MB.
        public var releaseStartupPages: Bool = true
        /// `/healthz` answers `degraded` (503) once the oldest record without a receipt is
        /// older than this many seconds (the ledger is not reachable or not answering); 0: never.
        public var degradedAfterSeconds: Int = 3600
    }

    public var device: Device
    public var broker: Broker
    public var authority: Authority
    public var inputs: Inputs
    public var storage: Storage
    public var delivery: Delivery
    public var operations: Operations
    /// Site-specific fields added to the standard catalog.
    public var siteFields: [FieldDefinition]
    /// `[sharing]`: upload sealed private values for the owner (docs/transfer.md); nil: off.
    public var sharing: Sharing? = nil

    /// The catalog: the standard one plus site fields.
    public func catalog() throws -> FieldCatalog {
        try FieldCatalog.standard.extended(with: siteFields)
    }

    /// The device identity used by the classifier.
    public var identity: DeviceIdentity {
        DeviceIdentity(enterprise: device.enterprise, device: device.id, enrolledAt: device.enrolledAt)
    }
}

/// A configuration problem, naming the key and the fix.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case syntax(String)
    case missing(key: String)
    case invalid(key: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read configuration \(path): \(reason)"
        case .syntax(let detail): "configuration syntax error at \(detail)"
        case .missing(let key): "configuration key \(key) is required"
        case .invalid(let key, let reason): "configuration key \(key): \(reason)"
        }
    }
}

extension AgentConfiguration {
    /// Reads and validates a configuration file. Relative paths in it are taken relative to the file's folder.
    public static func load(path: String) throws -> AgentConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError.unreadable(path: path, reason: Self.unreadableReason(path))
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text, baseDirectory: base)
    }

    /// Why `path` could not be read as text: the system's reason for failing to open it, or
    /// that it is not UTF-8.
    static func unreadableReason(_ path: String) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        close(descriptor)
        return "not a readable UTF-8 text file"
    }

    /// Parses and validates configuration text.
    public static func parse(_ text: String, baseDirectory: String = FileManager.default.currentDirectoryPath) throws
        -> AgentConfiguration
    {
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: text)
        } catch let error as TOMLDocument.SyntaxError {
            throw ConfigurationError.syntax(error.description)
        }
        let reader = Reader(document: document, baseDirectory: baseDirectory)
        var configuration = AgentConfiguration(
            device: try reader.device(), broker: try reader.broker(),
            authority: Authority(publicKeyHex: try reader.requiredString("authority.public_key")),
            inputs: try reader.inputs(), storage: try reader.storage(), delivery: try reader.delivery(),
            operations: try reader.operations(), siteFields: try reader.siteFields())
        configuration.sharing = try reader.sharing()
        try configuration.validate()
        return configuration
    }

    /// Cross-field checks (the authority key parses, the catalog extends, TLS files exist).
    public func validate() throws {
        _ = try authority.publicKey()
        do {
            _ = try catalog()
        } catch {
            throw ConfigurationError.invalid(key: "fields", reason: "\(error)")
        }
        if (broker.certificateFile == nil) != (broker.keyFile == nil) {
            throw ConfigurationError.invalid(
                key: "broker.certificate_file",
                reason: "give both certificate_file and key_file for mutual TLS, or neither")
        }
        for (key, file) in [
            ("broker.ca_file", broker.caFile), ("broker.certificate_file", broker.certificateFile),
            ("broker.key_file", broker.keyFile),
        ] {
            if let file, !FileManager.default.fileExists(atPath: file) {
                throw ConfigurationError.invalid(key: key, reason: "\(file) does not exist")
            }
        }
        if broker.caFile == nil, broker.certificateFile != nil {
            throw ConfigurationError.invalid(
                key: "broker.ca_file", reason: "TLS needs the CA file that signed the broker's certificate")
        }
    }

    struct Reader {
        var document: TOMLDocument
        var baseDirectory: String

        func resolve(_ path: String) -> String {
            path.hasPrefix("/")
                ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardizedFileURL.path
        }

        func optionalString(_ key: String) throws -> String? {
            switch document.value(key) {
            case nil: return nil
            case .string(let text)?: return text
            case let other?: throw ConfigurationError.invalid(key: key, reason: "expected a string, found \(other)")
            }
        }
        func requiredString(_ key: String) throws -> String {
            guard let text = try optionalString(key) else { throw ConfigurationError.missing(key: key) }
            return text
        }
        func string(_ key: String, default fallback: String) throws -> String { try optionalString(key) ?? fallback }
        func choice(_ key: String, default fallback: String, among choices: [String]) throws -> String {
            let value = try string(key, default: fallback)
            guard choices.contains(value) else {
                throw ConfigurationError.invalid(key: key, reason: "use one of \(choices.joined(separator: ", "))")
            }
            return value
        }
        func path(_ key: String, default fallback: String) throws -> String {
            resolve(try string(key, default: fallback))
        }
        func optionalPath(_ key: String) throws -> String? { try optionalString(key).map(resolve) }
        func integer(_ key: String, default fallback: Int64, range: ClosedRange<Int64>) throws -> Int64 {
            let value: Int64
            switch document.value(key) {
            case nil: value = fallback
            case .integer(let number)?: value = number
            case let other?: throw ConfigurationError.invalid(key: key, reason: "expected an integer, found \(other)")
            }
            guard range.contains(value) else {
                throw ConfigurationError.invalid(
                    key: key, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        func bool(_ key: String, default fallback: Bool) throws -> Bool {
            switch document.value(key) {
            case nil: return fallback
            case .bool(let flag)?: return flag
            case let other?:
                throw ConfigurationError.invalid(key: key, reason: "expected true or false, found \(other)")
            }
        }
        func stringArray(_ key: String) throws -> [String] {
            switch document.value(key) {
            case nil: return []
            case .array(let items)?:
                return try items.map {
                    guard case .string(let text) = $0 else {
                        throw ConfigurationError.invalid(key: key, reason: "expected an array of strings")
                    }
                    return text
                }
            case let other?:
                throw ConfigurationError.invalid(key: key, reason: "expected an array of strings, found \(other)")
            }
        }
        func siteFields() throws -> [FieldDefinition] {
            guard let value = document.value("fields") else { return [] }
            guard case .tableArray(let tables) = value else {
                throw ConfigurationError.invalid(
                    key: "fields", reason: "declare site fields as [[fields]] tables with stage, name, level and kind")
            }
            return try tables.enumerated().map { index, table in
                func text(_ name: String) throws -> String {
                    guard case .string(let value)? = table[name] else {
                        throw ConfigurationError.missing(key: "fields[\(index)].\(name)")
                    }
                    return value
                }
                guard let stage = Stage(name: try text("stage")) else {
                    throw ConfigurationError.invalid(key: "fields[\(index)].stage", reason: "not a stage")
                }
                guard let level = PrivacyLevel(name: try text("level")) else {
                    throw ConfigurationError.invalid(
                        key: "fields[\(index)].level", reason: "use public, level-2 or level-1")
                }
                guard let kind = FieldKind(rawValue: try text("kind")) else {
                    throw ConfigurationError.invalid(
                        key: "fields[\(index)].kind",
                        reason: "use one of \(FieldKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let name = try text("name")
                let label = (try? text("label")) ?? name
                return FieldDefinition(stage: stage, name: name, label: label, level: level, kind: kind)
            }
        }
    }
}
