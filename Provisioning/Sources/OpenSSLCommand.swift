import Foundation

/// Runs the `openssl` command-line tool (OpenSSL 3) for the certificate authority.
///
/// Arguments carry file paths, never key material; standard input is closed, so
/// `openssl` can never prompt. Error messages carry `openssl`'s standard error, which names
/// files and reasons but never prints a private key.
struct OpenSSLCommand {
    /// The `openssl` executable.
    var executable: String

    /// Uses `$AGRITRACE_OPENSSL` if set, otherwise the first `openssl` found on the usual paths.
    init(executable: String? = nil) {
        if let executable {
            self.executable = executable
        } else if let configured = ProcessInfo.processInfo.environment["AGRITRACE_OPENSSL"] {
            self.executable = configured
        } else {
            self.executable =
                ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"]
                .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/openssl"
        }
    }

    /// Runs `openssl arguments...` and waits for it.
    /// - Returns: what it wrote to standard output.
    /// - Throws: ``ProvisioningError/openssl(command:status:message:)`` on a non-zero exit.
    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let result = try runAllowingFailure(arguments, environment: environment)
        guard result.status == 0 else {
            throw ProvisioningError.openssl(
                command: arguments.prefix(2).joined(separator: " "), status: result.status,
                message: result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.standardOutput
    }

    /// Runs `openssl arguments...`, waits for it, and returns its exit status and both outputs.
    func runAllowingFailure(_ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, standardOutput: String, standardError: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment.merge(environment) { _, new in new }
        process.environment = processEnvironment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ProvisioningError.openssl(
                command: arguments.first ?? "", status: -1, message: "cannot run \(executable): \(error)")
        }
        // Read both pipes concurrently enough for our small outputs: stderr first would
        // deadlock only if stdout filled its 64 KiB pipe buffer, which no command here does.
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }
}
