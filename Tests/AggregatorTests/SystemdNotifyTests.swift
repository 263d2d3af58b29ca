import Foundation
import TestSupport
import Testing

/// `Type=notify`: `agritrace api` tells systemd it is ready only once SIGHUP is trapped, so a
/// `systemctl reload` held back until then cannot end it (the chaos run found that a SIGHUP in
/// the first half second after exec ended the process).
@Suite("agritrace and systemd's readiness protocol", .serialized, .timeLimit(.minutes(2)))
struct SystemdNotifyTests {
    /// A datagram socket bound to `path`, as systemd's `NOTIFY_SOCKET`.
    final class NotifySocket {
        let descriptor: Int32
        init(path: String) throws {
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            let bound = UnixSocket.withAddress(path) { bind(descriptor, $0, $1) }
            guard descriptor >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        }
        deinit { close(descriptor) }

        /// The next datagram, or nil after `seconds`.
        func receive(seconds: Int) -> String? {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(seconds * 1000)) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
        }
    }

    @Test func readyIsSentOnceSIGHUPIsTrappedAndAReloadThenKeepsItRunning() async throws {
        let fixture = try LedgerFixture()
        let socketPath = fixture.directory.file("notify.sock")
        let notify = try NotifySocket(path: socketPath)
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = socketPath
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            ["api", "--store", fixture.path, "--http-port", "\(try freeLoopbackPort())", "--insecure-http"],
            logFile: fixture.directory.file("api.log"), environment: environment)
        defer { server.terminate() }
        let message = notify.receive(seconds: 60)
        #expect(message == "READY=1", "no readiness from agritrace api: \(server.log)")
        // What systemd does for `systemctl reload` as soon as the unit is ready.
        for _ in 0..<3 { server.process.send(SIGHUP) }
        try await Task.sleep(for: .seconds(1))
        #expect(server.isRunning, "api ended on a SIGHUP after READY=1: \(server.log)")
        #expect(server.log.contains("SIGHUP: reloading"), "\(server.log)")
    }
}
