import Foundation

/// A child process that runs in the background with its output in a log file, stopped (or
/// killed) when the test is done.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    /// Where standard output and standard error go.
    public let logFile: String

    /// Starts `executable` with `arguments`; output is appended to `logFile`.
    public init(_ executable: String, _ arguments: [String], logFile: String, environment: [String: String]? = nil) throws {
        self.logFile = logFile
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// What the process has written so far.
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM, then wait for the exit.
    public func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// SIGKILL, then wait for the exit.
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }
}
