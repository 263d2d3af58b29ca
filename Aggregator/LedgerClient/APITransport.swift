import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PeerCertificates
import Synchronization

/// How the CLI reaches the server's API: the CA that must have signed the server's
/// certificate, the CA's revocation list, the client certificate for mutual TLS, and whether
/// plain HTTP is allowed.
public struct APIConnection: Sendable {
    /// PEM file of the CA the server's certificate must chain to (nil: the system's roots).
    public var caFile: String?
    /// PEM revocation list of ``caFile``'s CA (`crl.pem`): when set, the server's certificate
    /// is checked against it during the handshake (``PeerCertificateVerifier``).
    public var revocationListFile: String? = nil
    /// PEM client certificate (chain) presented when the server asks for one.
    public var certificateFile: String?
    /// PEM private key of ``certificateFile``.
    public var keyFile: String?
    /// Allows `http://` URLs on loopback.
    public var insecureHTTP = false

    public init(
        caFile: String? = nil, revocationListFile: String? = nil, certificateFile: String? = nil,
        keyFile: String? = nil, insecureHTTP: Bool = false
    ) {
        self.caFile = caFile
        self.revocationListFile = revocationListFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.insecureHTTP = insecureHTTP
    }

    /// The connection settings of this process, set once from the command line (the CLI's `--tls-*`
    /// and `--insecure-http` options).
    public static var current: APIConnection {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stored = APIConnection()

    /// The client TLS configuration: TLS 1.2 or later, the server verified against
    /// ``caFile`` only (chain and host name or IP address), the client certificate if given.
    func tlsConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw UserError("--tls-ca \(caFile): not a readable PEM certificate file (\(error))")
            }
        }
        switch (certificateFile, keyFile) {
        case (nil, nil): break
        case (let certificate?, let key?):
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw UserError("--tls-cert / --tls-key: cannot read \(certificate) or \(key) (\(error))")
            }
        default: throw UserError("--tls-cert and --tls-key go together")
        }
        return configuration
    }

    /// The verifier of the server's certificate against ``caFile`` and ``revocationListFile``,
    /// nil without a list; the list is checked now (readable, signed by the CA, current).
    func serverVerifier() throws -> PeerCertificateVerifier? {
        guard let revocationListFile else { return nil }
        guard let caFile else {
            throw UserError("--tls-crl \(revocationListFile) needs --tls-ca (the CA whose list it is)")
        }
        do {
            return try PeerCertificateVerifier(
                peer: .server, certificateAuthorityFile: caFile, revocationListFile: revocationListFile)
        } catch {
            throw UserError("--tls-crl / --tls-ca: \(error)")
        }
    }
}

/// The reason the revocation check refused a server during a handshake, kept for the error
/// message (the TLS library only reports a failed verification).
private final class ServerRefusal: Sendable {
    private let stored = Mutex<String?>(nil)

    var reason: String? { stored.withLock { $0 } }

    func record(_ reason: String) { stored.withLock { $0 = reason } }
}

/// A minimal HTTP/1.1 client on SwiftNIO and NIOSSL. The connection to a server is kept
/// open and reused by every request of the command (``KeptConnections``).
///
/// URLSession on Linux can neither trust a private CA alone nor present a client
/// certificate, which the deployment's API needs (server certificates from the deployment
/// CA, firms and regulators enrolled with client certificates).
public enum APITransport {
    /// A whole HTTP response.
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
        /// The server closes the connection after this response.
        public var closes = false
    }

    /// Sends one request and reads the whole response, on the server's kept connection.
    /// - Parameters:
    ///   - url: an `https://` URL (or `http://` on loopback with ``APIConnection/insecureHTTP``).
    ///   - body: the request body (sent with `Content-Type: application/json`), nil for none.
    ///   - headers: more header fields (a reverse proxy's `X-Forwarded-For`, in tests).
    public static func send(
        method: HTTPMethod, url: URL, body: Data?, connection: APIConnection, timeout: TimeAmount = .seconds(30),
        headers extra: [(name: String, value: String)] = []
    ) async throws -> Response {
        guard let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw UserError("\(url) is not an http(s) URL")
        }
        let secure = try isSecure(scheme: scheme, host: host, url: url, connection: connection)
        let port = url.port ?? (secure ? 443 : 80)
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "User-Agent", value: "agritrace-cli")
        headers.add(name: "Accept", value: "application/json")
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
        }
        for field in extra { headers.add(name: field.name, value: field.value) }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: headers)
        let refusal = ServerRefusal()
        let key = [
            "\(scheme)://\(host):\(port)", connection.caFile ?? "", connection.revocationListFile ?? "",
            connection.certificateFile ?? "", connection.keyFile ?? "",
        ].joined(separator: "\n")
        // Kept per server and per identity: a request without a client certificate never rides
        // on a connection another caller opened with one.
        let outcome = try await KeptConnections.shared.send(head, body: body, to: key, timeout: timeout) {
            try await connect(
                host: host, port: port, secure: secure, connection: connection, refusal: refusal, url: url)
        }
        switch outcome {
        case .response(let response): return response
        case .failed(let error), .notSent(let error):
            if let reason = refusal.reason { throw UserError("\(url): TLS failed: \(reason)") }
            throw Self.describe(error, url: url, clientCertificate: secure && connection.certificateFile != nil)
        case .closedBeforeAnswer:
            if let reason = refusal.reason { throw UserError("\(url): TLS failed: \(reason)") }
            throw UserError(
                "\(url): the connection closed before a complete response (or no answer within \(timeout.nanoseconds / 1_000_000_000) s)"
            )
        }
    }

    /// Whether `scheme` is https; plain http only with --insecure-http on loopback.
    private static func isSecure(scheme: String, host: String, url: URL, connection: APIConnection) throws -> Bool {
        switch scheme {
        case "https": return true
        case "http":
            guard connection.insecureHTTP else {
                throw UserError("\(url): the API is served over HTTPS; plain http only with --insecure-http (loopback)")
            }
            guard isLoopback(host) else {
                throw UserError("\(url): --insecure-http is allowed on loopback only (localhost, 127.0.0.1, ::1)")
            }
            return false
        default: throw UserError("\(url): the scheme must be https")
        }
    }

    /// A new connection to the server, TLS handshake done when `secure`.
    private static func connect(
        host: String, port: Int, secure: Bool, connection: APIConnection, refusal: ServerRefusal, url: URL
    ) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let sslContext = secure ? try NIOSSLContext(configuration: connection.tlsConfiguration()) : nil
        let verifier = secure ? try connection.serverVerifier() : nil
        // SNI and host-name checks take a name; for an IP address NIOSSL checks the
        // certificate's IP subject alternative names against the connected address.
        let serverName = isIPAddress(bareHost) ? nil : bareHost
        do {
            return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: bareHost, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext, let verifier {
                            // The chain and its revocation are checked by OpenSSL against the CA
                            // and its list; NIOSSL still checks the host name afterwards.
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(
                                    context: sslContext, serverHostname: serverName,
                                    customVerificationCallback: { certificates, promise in
                                        promise.succeed(
                                            Self.verifyServer(certificates, verifier: verifier, refusal: refusal))
                                    }))
                        } else if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            if let reason = refusal.reason { throw UserError("\(url): TLS failed: \(reason)") }
            throw UserError("cannot connect to \(host):\(port): \(error)")
        }
    }

    /// The revocation check of the server's certificate chain (leaf first), with the reason of
    /// a refusal kept in `refusal`.
    private static func verifyServer(
        _ certificates: [NIOSSLCertificate], verifier: PeerCertificateVerifier, refusal: ServerRefusal
    ) -> NIOSSLVerificationResult {
        let chain: [[UInt8]]
        do {
            chain = try certificates.map { try $0.toDERBytes() }
        } catch {
            refusal.record("the server's certificate could not be read: \(error)")
            return .failed
        }
        switch verifier.verify(chain: chain) {
        case .success:
            return .certificateVerified
        case .failure(let rejection):
            let named =
                chain.first.flatMap(PeerCertificateVerifier.describe).map {
                    "the server's certificate (serial \($0.serial), subject \($0.subject))"
                } ?? "the server's certificate"
            if rejection.isRevoked {
                refusal.record(
                    "\(named) is revoked: it is on the revocation list \(verifier.revocationListFile). "
                        + "Do not trust this server (its key may be stolen) until it has a new certificate "
                        + "(`agritrace enroll server`)")
            } else {
                refusal.record(
                    "\(named) did not verify against --tls-ca \(verifier.certificateAuthorityFile) "
                        + "and --tls-crl \(verifier.revocationListFile): \(rejection)")
            }
            return .failed
        }
    }

    /// The user-facing error for a failed exchange.
    ///
    /// With TLS 1.3 the client's side of the handshake completes before the server has checked
    /// the client's certificate; a server that refuses it (revoked, expired, another CA) sends
    /// an alert and closes. When the alert arrives first its reason is the error; when the
    /// request's write meets the closed connection first, only "closed channel" is left, and
    /// with a client certificate the likely cause is said.
    private static func describe(_ error: any Error, url: URL, clientCertificate: Bool = false) -> UserError {
        switch error {
        case let error as UserError: error
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            UserError("\(url): TLS failed: \(error)\(hint(for: error))")
        case ChannelError.ioOnClosedChannel where clientCertificate, ChannelError.eof where clientCertificate:
            UserError(
                "\(url): TLS failed: the server closed the connection right after the TLS handshake, as a server does when it refuses the client's certificate (revoked, expired, or not from its CA): check --tls-cert and the server's log"
            )
        default: UserError("\(url): \(error)")
        }
    }

    /// What to check, from the TLS error's text.
    private static func hint(for error: any Error) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("uncleanShutdown") {
            return " (the server requires a client certificate: give --tls-cert and --tls-key)"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("UNKNOWN_CA") || text.contains("BAD_CERTIFICATE")
        {
            return
                " (a certificate did not verify: is --tls-ca the CA of the server's certificate, and is the client certificate from the CA the server trusts?)"
        }
        if text.contains("failedToValidateHostname") {
            return " (the server's certificate does not name this host)"
        }
        return ""
    }

    /// Whether `host` names this machine (`localhost`, `::1`, `127.x.y.z`).
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
