import Foundation

/// Locates an executable product that `swift build` / `swift test` built next to the tests.
///
/// Looks next to the running test binary and a few levels up (the `.xctest` bundle sits in the
/// products directory); `AGRITRACE_<NAME>_BINARY` (upper-cased, `-` as `_`) overrides.
/// - Throws: when the product is not built, naming what to run.
public func builtProduct(named name: String) throws -> String {
    let variable = "AGRITRACE_" + name.uppercased().replacingOccurrences(of: "-", with: "_") + "_BINARY"
    if let path = ProcessInfo.processInfo.environment[variable] { return path }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw MissingProduct(name: name)
}

/// A product the tests need was not built.
public struct MissingProduct: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "\(name) is not built next to the tests; run `swift build --build-tests` first" }
}

/// Runs the built `agritrace keygen` into `directory`: the authority key file (for
/// `serve --authority-key`) and its public key in hex (for the agents' `[authority]`).
public func generateAuthorityKey(cli: String, in directory: TemporaryDirectory) throws -> (
    file: String, publicKey: String
) {
    let file = directory.file("authority.key")
    _ = try runCommand(cli, ["keygen", "--output", file])
    let publicKey = try String(contentsOfFile: file + ".pub", encoding: .utf8)
    return (file, publicKey.trimmingCharacters(in: .whitespacesAndNewlines))
}
