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

/// A tiny loopback HTTP/1.1 responder for `GET /healthz` and `GET /metrics`.
///
/// One request per connection, answered on the accepting thread; it binds 127.0.0.1 only.
public final class HealthServer: Sendable {
    /// What a path answers: status code, content type, body.
    public typealias Responder = @Sendable (_ path: String) -> (status: Int, contentType: String, body: String)

    let listener: Int32
    let stopSignal: StopSignal
    let respond: Responder
    /// The bound port (useful when 0 was asked for).
    public let port: Int

    /// Binds 127.0.0.1:`port` (0 picks a free port).
    public init(port: Int, stopSignal: StopSignal, respond: @escaping Responder) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let descriptor = try ListeningSocket.open(
            family: AF_INET, address: address, reusingAddress: true, fallback: .EADDRINUSE)
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.listener = descriptor
        self.stopSignal = stopSignal
        self.respond = respond
    }

    /// Serves until the stop signal (call on a dedicated thread).
    public func run() {
        while !stopSignal.isStopped {
            var descriptorSet = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptorSet, 1, 200) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            serve(client)
            close(client)
        }
        close(listener)
    }

    func serve(_ client: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192 {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            request += buffer[0..<count]
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
            if request.contains(10) && String(decoding: request, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let firstLine = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        let answer: (status: Int, contentType: String, body: String)
        if firstLine.count >= 2, firstLine[0] == "GET" || firstLine[0] == "HEAD" {
            let path = String(firstLine[1].split(separator: "?", maxSplits: 1).first ?? "")
            answer = respond(path)
        } else {
            answer = (405, "text/plain", "only GET /healthz and GET /metrics\n")
        }
        let reason =
            [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][answer.status] ?? "OK"
        let body = Array(answer.body.utf8)
        let head =
            "HTTP/1.1 \(answer.status) \(reason)\r\nContent-Type: \(answer.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + (firstLine.first == "HEAD" ? [] : body)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
    }
}
