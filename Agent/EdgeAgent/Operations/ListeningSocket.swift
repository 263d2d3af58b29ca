#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A stream socket bound to an address and listening: the Unix-socket input's
/// (``SocketListener``) and the health server's (``HealthServer``).
enum ListeningSocket {
    /// A new close-on-exec `SOCK_STREAM` socket of `family`, bound to `address` (a
    /// `sockaddr_in` or a `sockaddr_un`) and listening with a backlog of 16.
    /// - Parameters:
    ///   - reusingAddress: set `SO_REUSEADDR` before binding.
    ///   - fallback: the error thrown when a failed bind or listen leaves no errno.
    /// - Returns: the socket's descriptor (closed again when binding or listening fails).
    static func open<Address>(
        family: Int32, address: Address, reusingAddress: Bool = false, fallback: POSIXErrorCode
    ) throws -> Int32 {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        if reusingAddress {
            var reuse: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = address
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<Address>.size))
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            let code = errno
            close(descriptor)
            throw POSIXError(.init(rawValue: code) ?? fallback)
        }
        return descriptor
    }
}
