import Foundation

/// A fresh directory under the system temporary folder, removed by ``remove()`` or when
/// the value is released.
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates a new empty directory whose name starts with `prefix`.
    public init(prefix: String = "agritrace-test") throws {
        let pattern = NSTemporaryDirectory() + "/\(prefix)-XXXXXX"
        var template = Array(pattern.utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: pattern])
        }
        path = String(cString: created)
    }

    /// The directory as a file URL.
    public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// The absolute path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Deletes the directory and everything in it. Safe to call twice.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { remove() }
}

/// Writes a secret (a key or token in hex) as the product does: mode 0600, so the CLI's
/// check that refuses world-readable secrets passes.
public func writeSecretFile(_ text: String, to path: String) throws {
    guard
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
    else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
}
