import COpenSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Checks a TLS client's certificate chain against the deployment CA and the CA's certificate
/// revocation list (RFC 5280), with the system's OpenSSL.
///
/// swift-nio-ssl's BoringSSL has no way to load a revocation list, so a server that must refuse
/// revoked clients installs this verifier as its custom verification callback: the whole
/// chain check (signatures, validity periods, CA constraints, the `clientAuth` purpose and
/// revocation of the leaf) happens here.
///
/// The files are re-read when they change (inode, size or modification time), so a list
/// renewed by `agritrace-enroll crl` or extended by a revocation takes effect at the next
/// connection without a restart. A list that cannot be read or parsed, or that has expired
/// (`nextUpdate` passed), refuses every client: fail closed, as mosquitto's `crlfile` does.
public final class ClientCertificateVerifier: Sendable {
    /// Why a chain was refused (or why the CA files could not be loaded).
    public struct Rejection: Error, CustomStringConvertible, Sendable {
        /// A sentence naming the cause, e.g. `certificate revoked`.
        public let reason: String
        public var description: String { reason }

        public init(reason: String) { self.reason = reason }
    }

    /// The PEM file with the CA certificate(s) clients must chain to.
    public let certificateAuthorityFile: String
    /// The PEM file with the CA's current revocation list.
    public let revocationListFile: String

    private let loaded: Mutex<Loaded>

    /// Loads both files now; throws a ``Rejection`` naming the file when either is unusable.
    public init(certificateAuthorityFile: String, revocationListFile: String) throws(Rejection) {
        self.certificateAuthorityFile = certificateAuthorityFile
        self.revocationListFile = revocationListFile
        let stamp = Self.stamp(certificateAuthorityFile, revocationListFile)
        let store = try Self.load(certificateAuthorityFile, revocationListFile)
        loaded = Mutex(Loaded(stamp: stamp, store: .success(store)))
    }

    /// Verifies `chain` (DER certificates, the client's leaf first, then any intermediates it
    /// sent) for a TLS client at the current time.
    public func verify(chain: [[UInt8]]) -> Result<Void, Rejection> {
        guard !chain.isEmpty else { return .failure(Rejection(reason: "the client sent no certificate")) }
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
        let result = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            let base = buffer.baseAddress!
            let pointers: [UnsafePointer<UInt8>?] = offsets.map { base + $0 }
            return pointers.withUnsafeBufferPointer { pointerBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    agritrace_verify_client_chain(
                        store.pointer, pointerBuffer.baseAddress, lengthBuffer.baseAddress, chain.count, &error)
                }
            }
        }
        switch result {
        case 1: return .success(())
        case 0: return .failure(Rejection(reason: String(cString: X509_verify_cert_error_string(Int(error)))))
        default: return .failure(Rejection(reason: "the client's certificate does not parse as DER X.509"))
        }
    }

    // MARK: Loading

    /// The loaded store (or why it could not be loaded) and the file stamps it was loaded from.
    private struct Loaded {
        var stamp: [Int]
        var store: Result<X509Store, Rejection>
    }

    /// The store for the files as they are now, re-read if either file changed since the
    /// last load (a failed load is kept, and retried when the files change again).
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

    private static func load(_ caFile: String, _ crlFile: String) throws(Rejection) -> X509Store {
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
                    + "renewed by `agritrace-enroll crl`)")
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
