import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process that runs in the background with its output in a log file, stopped (or
/// killed) when the test is done. Started with a clean signal mask (``SpawnedProcess``).
public final class BackgroundProcess: Sendable {
    public let process: SpawnedProcess
    /// Where standard output and standard error go.
    public let logFile: String

    /// Starts `executable` with `arguments`; output is appended to `logFile`.
    public init(_ executable: String, _ arguments: [String], logFile: String, environment: [String: String]? = nil)
        throws
    {
        self.logFile = logFile
        process = try SpawnedProcess(executable, arguments, outputFile: logFile, environment: environment)
    }

    /// What the process has written so far.
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM, then wait for the exit (SIGKILL after `timeout`).
    public func terminate(timeout: Duration = .seconds(20)) {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        process.kill()
    }

    /// SIGKILL, then wait for the exit.
    public func kill() { process.kill() }
}
