import Foundation

/// Unix-domain sockets for tests that stand in for a socket's other end (systemd's
/// `NOTIFY_SOCKET`, the agent's `inputs.socket`).
public enum UnixSocket {
    /// Calls `body` with `path` as a `sockaddr_un` (NUL-terminated) and its length.
    /// - Returns: what `body` returns (e.g. the result of `bind` or `connect`).
    public static func withAddress<Result>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
