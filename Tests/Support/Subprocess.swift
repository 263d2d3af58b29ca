import Foundation

/// A command-line tool failed.
public struct CommandError: Error, CustomStringConvertible {
    /// The command line that ran.
    public var command: String
    /// Its exit status.
    public var status: Int32
    /// What it wrote to standard error.
    public var standardError: String

    public var description: String { "`\(command)` exited with \(status): \(standardError)" }
}

/// Runs `executable` (looked up on `PATH`) with `arguments` and waits for it.
/// - Returns: its standard output.
/// - Throws: ``CommandError`` on a non-zero exit.
@discardableResult
public func runCommand(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let (output, errors) = try runToEnd(process, errorsApart: true)
    guard process.terminationStatus == 0 else {
        throw CommandError(
            command: ([executable] + arguments).joined(separator: " "), status: process.terminationStatus,
            standardError: errors)
    }
    return output
}

/// Runs the program at `path` with `arguments` and waits for it, whatever its exit status.
/// - Returns: its exit status and what it wrote to standard output and standard error, in
///   the order written.
public func runCombiningOutput(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let (output, _) = try runToEnd(process, errorsApart: false)
    return (process.terminationStatus, output)
}

/// Runs `process` to its end with standard input empty; what it wrote to standard output and
/// (with `errorsApart`, else in the same pipe as the output) to standard error.
private func runToEnd(_ process: Process, errorsApart: Bool) throws -> (output: String, errors: String) {
    let output = Pipe()
    let errors = errorsApart ? Pipe() : output
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = errorsApart ? errors.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Starts `executable` with `arguments` under Foundation's `Process`, standard output and
/// error appended to `log`, standard input empty: a child the crash tests SIGKILL and
/// restart (it inherits the test thread's signal mask; see ``SpawnedProcess`` for one that
/// must receive SIGTERM or SIGHUP).
public func startLoggedProcess(_ executable: String, _ arguments: [String], log: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    handle.seekToEndOfFile()
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}
