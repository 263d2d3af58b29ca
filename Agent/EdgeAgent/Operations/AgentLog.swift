import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The agent's log handler: one line per event on standard error (the journal under
/// systemd), with a UTC ISO 8601 timestamp, as `text`
/// (`2026-12-07T02:10:00.123Z info agritrace.agent: message key=value`) or `json` (one
/// object a line: `time`, `level`, `label`, `message` and the metadata), like the
/// aggregator's `--log-format`. Written without Foundation, as the rest of the agent.
public struct AgentLogHandler: LogHandler {
    /// The line format.
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public let label: String
    public let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let line = Self.line(
            format: format, time: Self.timestamp(), level: event.level, label: label, message: "\(event.message)",
            metadata: merged)
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let result = write(2, buffer.baseAddress! + written, buffer.count - written)
                if result <= 0 { break }
                written += result
            }
        }
    }

    /// One log line (without its newline).
    public static func line(
        format: Format, time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let pairs = metadata.sorted { $0.key < $1.key }
        switch format {
        case .text:
            return "\(time) \(level) \(label): \(message)" + pairs.map { " \($0.key)=\($0.value)" }.joined()
        case .json:
            var fields = pairs.map { ($0.key, "\($0.value)") }.filter {
                !["time", "level", "label", "message"].contains($0.0)
            }
            fields += [("label", label), ("level", level.rawValue), ("message", message), ("time", time)]
            fields.sort { $0.0 < $1.0 }
            // JSON string literals as the simulator writes them (quotes, backslashes, control characters escaped).
            let quote = ReadingSimulator.quote
            return "{" + fields.map { "\(quote($0.0)):\(quote($0.1))" }.joined(separator: ",") + "}"
        }
    }

    /// Now, in UTC: `2026-12-07T02:10:00.123Z`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec / 1_000_000))
    }

    /// `seconds` since the epoch (plus `milliseconds`) in UTC, ISO 8601.
    public static func timestamp(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func padded(_ value: Int32, _ width: Int) -> String { ReadingSimulator.zeroPadded(Int(value), width: width) }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))T"
            + "\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))."
            + "\(padded(Int32(milliseconds), 3))Z"
    }
}
