import Foundation

/// systemd's readiness protocol (`sd_notify(3)`): with `Type=notify`, systemd holds back a
/// `systemctl reload` (and units ordered after this one) until the process sends `READY=1` to
/// the datagram socket named by `NOTIFY_SOCKET`. `serve` and `api` send it once SIGHUP is
/// trapped, so a reload can never reach them while SIGHUP would still end them.
enum SystemdNotify {
    /// Sends `state` (e.g. `READY=1`) to `$NOTIFY_SOCKET`; does nothing when it is not set.
    /// Returns whether the datagram went out.
    @discardableResult
    static func send(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < 108 else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // an abstract socket
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let sent = state.utf8CString.withUnsafeBufferPointer { message in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, message.baseAddress, message.count - 1, 0, $0, length)
                }
            }
        }
        return sent >= 0
    }
}
