import HummingbirdCore
import HummingbirdTLS
import Logging
import Metrics
import NIOCore
import NIOSSL
import Synchronization

/// The API's TLS context, replaced in place by ``reload()`` (on SIGHUP): connections made
/// after a reload use the new certificate, key, client CA and revocation list; open ones
/// keep what they started with. A reload that fails keeps the previous context.
public final class ReloadableTLS: Sendable {
    /// The files read at start and at each reload.
    public let files: LedgerAPI.TLSFiles

    struct Current: Sendable {
        var context: NIOSSLContext
        var verification: TLSChannelConfiguration.CustomVerificationCallback?
        var serial: String
    }

    private let current: Mutex<Current>

    /// Reads `files` now; throws naming the file that cannot be used.
    public init(files: LedgerAPI.TLSFiles) throws {
        self.files = files
        current = Mutex(try Self.load(files))
    }

    /// The serial number (upper-case hex) of the certificate new connections get.
    public var certificateSerial: String { current.withLock { $0.serial } }

    /// Reads the files again and uses them for new connections.
    /// - Returns: the new certificate's serial number (upper-case hex).
    /// - Throws: when a file cannot be read or used; the previous context stays in use.
    @discardableResult
    public func reload() throws -> String {
        let loaded = try Self.load(files)
        current.withLock { $0 = loaded }
        return loaded.serial
    }

    var snapshot: Current { current.withLock { $0 } }

    private static func load(_ files: LedgerAPI.TLSFiles) throws -> Current {
        let channel = try files.channelConfiguration()
        let leaf = try NIOSSLCertificate.fromPEMFile(files.certificateChainFile).first
        let serial = (leaf?.serialNumber ?? []).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return Current(
            context: try NIOSSLContext(configuration: channel.tlsConfiguration),
            verification: channel.customVerificationCallback, serial: serial)
    }
}

/// A child channel that puts TLS in front of `Base` with the context ``ReloadableTLS`` holds
/// when the connection arrives (HummingbirdTLS's `TLSChannel` fixes its context at start).
struct ReloadableTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let tls: ReloadableTLS
    /// Connections accepted (each one TLS handshake): `agritrace_api_connections_total`.
    let connections: Counter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        connections.increment()
        let current = tls.snapshot
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLServerHandler(
                    context: current.context, customVerificationCallback: current.verification, configuration: .init()))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS whose certificate, key, client CA and revocation list are re-read by
    /// ``ReloadableTLS/reload()`` without a restart.
    static func http1(tls: ReloadableTLS) -> HTTPServerBuilder {
        let connections = Counter(label: "agritrace_api_connections_total")
        return .init { responder in
            ReloadableTLSChannel(base: HTTP1Channel(responder: responder), tls: tls, connections: connections)
        }
    }
}
