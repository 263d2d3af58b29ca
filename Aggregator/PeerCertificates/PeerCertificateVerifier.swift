import COpenSSL
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Checks a TLS peer's certificate chain against the deployment CA and the CA's certificate
/// revocation list (RFC 5280), with the system's OpenSSL.
///
/// swift-nio-ssl's BoringSSL has no way to load a revocation list, so a TLS endpoint that must
/// refuse revoked peers installs this verifier as its custom verification callback: the whole
/// chain check (signatures, validity periods, CA constraints, the `clientAuth` or `serverAuth`
/// purpose and revocation of the leaf) happens here. The API server checks its clients with it
/// (`--api-client-crl`), the CLI checks the API server with it (`--tls-crl`); a server's host
/// name is still checked by swift-nio-ssl after the handshake.
///
/// The list is checked when it is loaded: it must parse, be signed by a certificate of the CA
/// file, and be current (`thisUpdate` passed, `nextUpdate` not yet). The files are re-read
/// when they change (inode, size or modification time), so a list renewed by
/// `agritrace enroll crl` or extended by a revocation takes effect at the next connection
/// without a restart. A list that cannot be read, parsed or trusted, or that has expired,
/// refuses every peer: fail closed, as mosquitto's `crlfile` does.
public final class PeerCertificateVerifier: Sendable {
    /// Which side of the connection the verified peer is.
    public enum Peer: Sendable {
        /// A TLS client (purpose `sslclient`): the API server verifying its clients.
        case client
        /// A TLS server (purpose `sslserver`): the CLI verifying the API server.
        case server
    }

    /// Why a chain was refused (or why the CA or list files could not be loaded).
    public struct Rejection: Error, CustomStringConvertible, Sendable {
        /// A sentence naming the cause, e.g. `certificate revoked`.
        public let reason: String
        /// The peer's certificate is on the revocation list.
        public let isRevoked: Bool
        public var description: String { reason }

        public init(reason: String, isRevoked: Bool = false) {
            self.reason = reason
            self.isRevoked = isRevoked
        }
    }

    /// The PEM file with the CA certificate(s) peers must chain to.
    public let certificateAuthorityFile: String
    /// The PEM file with the CA's current revocation list.
    public let revocationListFile: String
    /// The side of the connection whose certificates this verifier checks.
    public let peer: Peer

    private let loaded: Mutex<Loaded>

    /// Loads both files now; throws a ``Rejection`` naming the file and the fix when either is
    /// unusable (unreadable, not a list, not signed by the CA, expired).
    public init(peer: Peer = .client, certificateAuthorityFile: String, revocationListFile: String) throws(Rejection) {
        self.peer = peer
        self.certificateAuthorityFile = certificateAuthorityFile
        self.revocationListFile = revocationListFile
        let stamp = Self.stamp(certificateAuthorityFile, revocationListFile)
        let store = try Self.load(certificateAuthorityFile, revocationListFile)
        loaded = Mutex(Loaded(stamp: stamp, store: .success(store)))
    }

    /// Verifies `chain` (DER certificates, the peer's leaf first, then any intermediates it
    /// sent) at the current time.
    public func verify(chain: [[UInt8]]) -> Result<Void, Rejection> {
        guard !chain.isEmpty else {
            return .failure(Rejection(reason: "the \(peer == .client ? "client" : "server") sent no certificate"))
        }
        let store: X509Store
        switch currentStore() {
        case .success(let current): store = current
        case .failure(let rejection): return .failure(rejection)
        }
        // One contiguous buffer with every certificate, and a pointer and length per certificate.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chain.reduce(0) { $0 + $1.count })
        var offsets: [Int] = []
        for certificate in chain {
            offsets.append(bytes.count)
            bytes.append(contentsOf: certificate)
        }
        let lengths = chain.map { Int($0.count) }
        var error: Int32 = 0
        let server: Int32 = peer == .server ? 1 : 0
        let result = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            let base = buffer.baseAddress!
            let pointers: [UnsafePointer<UInt8>?] = offsets.map { base + $0 }
            return pointers.withUnsafeBufferPointer { pointerBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    agritrace_verify_peer_chain(
                        store.pointer, pointerBuffer.baseAddress, lengthBuffer.baseAddress, chain.count, server, &error)
                }
            }
        }
        switch result {
        case 1: return .success(())
        case 0:
            return .failure(
                Rejection(
                    reason: String(cString: X509_verify_cert_error_string(Int(error))),
                    isRevoked: error == X509_V_ERR_CERT_REVOKED))
        default:
            return .failure(
                Rejection(
                    reason: "the \(peer == .client ? "client" : "server")'s certificate does not parse as DER X.509"))
        }
    }

    /// The serial (upper-case hex, as `openssl x509 -serial` and `agritrace enroll list` print
    /// it) and subject (`/O=AgriTrace/OU=server/CN=agritrace-api`) of a DER certificate, nil
    /// when it does not parse.
    public static func describe(certificate der: [UInt8]) -> (serial: String, subject: String)? {
        var serial = [CChar](repeating: 0, count: 80)
        var subject = [CChar](repeating: 0, count: 512)
        let status = der.withUnsafeBufferPointer { buffer in
            serial.withUnsafeMutableBufferPointer { serialBuffer in
                subject.withUnsafeMutableBufferPointer { subjectBuffer in
                    agritrace_describe_certificate(
                        buffer.baseAddress, buffer.count, serialBuffer.baseAddress, serialBuffer.count,
                        subjectBuffer.baseAddress, Int32(subjectBuffer.count))
                }
            }
        }
        guard status == 0 else { return nil }
        return (
            String(decoding: serial.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            String(decoding: subject.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        )
    }

    // MARK: Loading

    /// The loaded store (or why it could not be loaded) and the file stamps it was loaded from.
    private struct Loaded {
        var stamp: [Int]
        var store: Result<X509Store, Rejection>
    }

    /// The store for the files as they are now, re-read if either file changed since the
    /// last load (a failed load is kept, and retried when the files change again). A list that
    /// expires while loaded fails the chain check itself (`CRL has expired`).
    private func currentStore() -> Result<X509Store, Rejection> {
        let stamp = Self.stamp(certificateAuthorityFile, revocationListFile)
        return loaded.withLock { loaded in
            if loaded.stamp != stamp {
                loaded.stamp = stamp
                do throws(Rejection) {
                    loaded.store = .success(try Self.load(certificateAuthorityFile, revocationListFile))
                } catch {
                    loaded.store = .failure(error)
                }
            }
            return loaded.store
        }
    }

    /// Inode, size and modification time of both files (zeros for a missing file).
    private static func stamp(_ files: String...) -> [Int] {
        files.flatMap { file -> [Int] in
            var status = stat()
            guard stat(file, &status) == 0 else { return [0, 0, 0, 0] }
            return [
                Int(status.st_ino), Int(status.st_size), Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec),
            ]
        }
    }

    private static let renewal =
        "copy a fresh crl.pem from the CA (`agritrace enroll crl --ca DIR` renews it; agritrace-crl.timer does so daily)"

    /// Checks the list against the CA file, then loads both into a store that checks the
    /// leaf's revocation.
    private static func load(_ caFile: String, _ crlFile: String) throws(Rejection) -> X509Store {
        var nextUpdate: Int64 = 0
        switch agritrace_check_revocation_list(caFile, crlFile, &nextUpdate) {
        case 0: break
        case 1:
            throw Rejection(
                reason: "\(crlFile): cannot read the revocation list (\(String(cString: strerror(errno)))); \(renewal)")
        case 2:
            throw Rejection(
                reason: "\(crlFile): no PEM revocation list could be read (give the CA's crl.pem, "
                    + "renewed by `agritrace enroll crl`)")
        case 3:
            throw Rejection(reason: "\(caFile): no PEM CA certificate could be read (give the deployment's ca.crt)")
        case 4:
            throw Rejection(
                reason: "\(crlFile): the revocation list is not signed by the CA in \(caFile) "
                    + "(give the crl.pem of the CA that issued the certificates, from the same CA directory as ca.crt)")
        case 5:
            let date = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(nextUpdate)))
            throw Rejection(reason: "\(crlFile): CRL has expired (nextUpdate \(date) has passed); \(renewal)")
        default:
            throw Rejection(
                reason: "\(crlFile): the revocation list is not valid yet (its thisUpdate is in the future): "
                    + "check this machine's clock")
        }
        guard let pointer = X509_STORE_new() else { throw Rejection(reason: "out of memory") }
        let store = X509Store(pointer: pointer)
        guard let lookup = X509_STORE_add_lookup(pointer, X509_LOOKUP_file()) else {
            throw Rejection(reason: "out of memory")
        }
        defer { ERR_clear_error() }
        guard X509_load_cert_file(lookup, caFile, X509_FILETYPE_PEM) > 0 else {
            throw Rejection(reason: "\(caFile): no PEM CA certificate could be read (give the deployment's ca.crt)")
        }
        guard X509_load_crl_file(lookup, crlFile, X509_FILETYPE_PEM) > 0 else {
            throw Rejection(
                reason: "\(crlFile): no PEM revocation list could be read (give the CA's crl.pem, "
                    + "renewed by `agritrace enroll crl`)")
        }
        X509_STORE_set_flags(pointer, UInt(X509_V_FLAG_CRL_CHECK))
        return store
    }
}

/// An OpenSSL `X509_STORE`, freed with its last reference. OpenSSL locks a store internally,
/// so one store verifies chains from several threads at once.
private final class X509Store: @unchecked Sendable {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_STORE_free(pointer) }
}
