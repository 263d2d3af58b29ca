import ArgumentParser
import Foundation
import Logging
import Synchronization

/// The log options of `serve` and `api`: level and line format (text for a terminal,
/// JSON lines for a log collector). The log goes to standard error (the journal under systemd).
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Log line format: text, or json (one JSON object a line).")
    var logFormat: String = "text"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level \(logLevel): use trace, debug, info, notice, warning, error or critical")
        }
        guard ServerLog.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format \(logFormat): use text or json")
        }
    }

    /// Sets up swift-log for the process (once) and returns the command's logger.
    func bootstrap(label: String) -> Logger { bootstrapReloadable(label: label).logger }

    /// Sets up swift-log for the process (once); every logger of the process follows the
    /// returned level, which a reload may change.
    func bootstrapReloadable(label: String) -> (logger: Logger, level: SharedLogLevel) {
        let format = ServerLog.Format(rawValue: logFormat) ?? .text
        let level = SharedLogLevel(Logger.Level(rawValue: logLevel) ?? .info)
        LoggingSystem.bootstrap { label in ServerLog(label: label, format: format, level: level) }
        return (Logger(label: label), level)
    }
}

/// The process's log level, shared by every ``ServerLog`` handler so that a reload changes
/// the level of loggers made earlier (the services keep theirs for the process's life).
final class SharedLogLevel: Sendable {
    private let level: Mutex<Logger.Level>

    init(_ level: Logger.Level) { self.level = Mutex(level) }

    /// The level in force.
    func get() -> Logger.Level { level.withLock { $0 } }

    /// Changes the level of every logger that has not set its own.
    func set(_ newLevel: Logger.Level) { level.withLock { $0 = newLevel } }
}

/// A log handler writing one line per event to standard error: `<time> <level> <label>:
/// <message> key=value...` as text, or a JSON object with `time`, `level`, `label`,
/// `message` and the metadata.
struct ServerLog: LogHandler {
    /// The line format.
    enum Format: String, Sendable { case text, json }

    let label: String
    let format: Format
    /// The process's level, followed unless this handler's logger set its own.
    let processLevel: SharedLogLevel
    /// A level this handler's logger set for itself; nil follows ``processLevel``.
    var ownLevel: Logger.Level?
    var metadata: Logger.Metadata = [:]

    var logLevel: Logger.Level {
        get { ownLevel ?? processLevel.get() }
        set { ownLevel = newValue }
    }

    init(label: String, format: Format, level: SharedLogLevel) {
        self.label = label
        self.format = format
        processLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let line =
            switch format {
            case .text: textLine(time: time, level: event.level, message: "\(event.message)", metadata: merged)
            case .json: jsonLine(time: time, level: event.level, message: "\(event.message)", metadata: merged)
            }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func textLine(time: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let pairs = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        return "\(time) \(level) \(label): \(message)\(pairs)"
    }

    func jsonLine(time: String, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var object: [String: String] = metadata.mapValues { "\($0)" }
        object["time"] = time
        object["level"] = level.rawValue
        object["label"] = label
        object["message"] = message
        return (try? Output.json(object, pretty: false)) ?? "{}"
    }
}
