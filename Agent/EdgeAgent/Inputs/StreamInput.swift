import PosixThreads

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

/// Reads JSON lines from a file descriptor (standard input or one socket connection) and
/// commits them in groups; optionally answers each group with one acknowledgement line.
///
/// The reader polls so it notices its gate's stop signal; while the store is at its budget it
/// stops reading, so the writer blocks once the pipe or socket buffer is full.
public struct StreamInput: Sendable {
    let descriptor: Int32
    let source: String
    let gate: IntakeGate
    let maxLineBytes: Int
    /// Write `{"accepted":N,"rejected":M,"line":L}` back after each durable group.
    let acknowledge: Bool

    /// Reads until end of stream or the stop signal.
    public func run() {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var ended = false
        while !gate.stopSignal.isStopped && !ended {
            var descriptorSet = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptorSet, 1, 200)
            if ready == 0 { continue }
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            var lines: [InputLine] = []
            var total = 0
            // Drain what is available now (up to 256 KiB) into one group commit.
            repeat {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    ended = true
                    lines += framer.finish()
                    break
                }
                total += count
                lines += framer.append(buffer[0..<count])
                var again = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                if poll(&again, 1, 0) <= 0 { break }
            } while total < 256 * 1024
            guard !lines.isEmpty else { continue }
            guard let result = gate.submit(lines, source: source) else { break }
            if acknowledge {
                let ack = Array(
                    "{\"accepted\":\(result.accepted),\"rejected\":\(result.rejected),\"line\":\(framer.lineNumber)}\n"
                        .utf8)
                _ = ack.withUnsafeBytes {
                    send(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
            }
        }
    }
}

/// Listens on a local Unix socket; each connection is a stream of JSON lines.
public final class SocketListener: Sendable {
    let path: String
    let gate: IntakeGate
    let maxLineBytes: Int
    let listener: Int32

    /// Binds the socket (replacing a stale one) with mode 0660.
    public init(path: String, gate: IntakeGate, maxLineBytes: Int) throws {
        self.path = path
        self.gate = gate
        self.maxLineBytes = maxLineBytes
        unlink(path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        listener = try ListeningSocket.open(family: AF_UNIX, address: address, fallback: .EIO)
        chmod(path, 0o660)
    }

    /// Accepts connections until the stop signal; each is read on its own thread.
    public func run() {
        var connection = 0
        while !gate.stopSignal.isStopped {
            var descriptorSet = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptorSet, 1, 200) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            connection += 1
            let input = StreamInput(
                descriptor: client, source: "socket:\(path)#\(connection)", gate: gate, maxLineBytes: maxLineBytes,
                acknowledge: true)
            PosixThread.detach(name: "agent-socket-\(connection)") {
                input.run()
                close(client)
            }
        }
        close(listener)
        unlink(path)
    }
}
