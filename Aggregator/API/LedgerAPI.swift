import AgriTraceCore
import Blobs
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Ledger
import NIOSSL
import PeerCertificates

/// The read-only HTTP API over a ledger store (described in `docs/api/openapi.yaml`).
///
/// Serves JSON: status, tree heads, traces, inclusion and consistency proofs, devices.
/// It opens the store read-only; every answer can be checked offline with the authority
/// public key (`agritrace verify-proof`), so the API itself need not be trusted.
/// Served over HTTPS with a certificate from the deployment CA (``TLSFiles``), optionally
/// requiring client certificates (mutual TLS); plain HTTP only when asked, for loopback.
public enum LedgerAPI {
    /// The server's TLS files.
    public struct TLSFiles: Sendable {
        /// PEM certificate chain of the server (leaf first), issued by the deployment CA.
        public var certificateChainFile: String
        /// PEM private key of the server certificate.
        public var privateKeyFile: String
        /// PEM CA file: when set, every client must present a certificate that chains to it (mutual TLS).
        public var clientCAFile: String?
        /// PEM revocation list of that CA: when set (with ``clientCAFile``), a client whose
        /// certificate is on it is refused at the handshake (see ``PeerCertificateVerifier``).
        public var clientRevocationListFile: String?

        public init(
            certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil,
            clientRevocationListFile: String? = nil
        ) {
            self.certificateChainFile = certificateChainFile
            self.privateKeyFile = privateKeyFile
            self.clientCAFile = clientCAFile
            self.clientRevocationListFile = clientRevocationListFile
        }

        /// TLS 1.2 or later with the server certificate; with ``clientCAFile``, a client
        /// certificate is required and verified against that CA (no host-name check on clients).
        public func configuration() throws -> TLSConfiguration {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificateChainFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)))
            configuration.minimumTLSVersion = .tlsv12
            if let clientCAFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCAFile))
                configuration.certificateVerification = .noHostnameVerification
            }
            return configuration
        }

        /// The channel configuration: ``configuration()``, plus, with a revocation list, a
        /// verification callback that checks each client's chain against the CA and the list
        /// (it replaces BoringSSL's own check, which cannot load a list).
        public func channelConfiguration() throws -> TLSChannelConfiguration {
            let configuration = try configuration()
            guard let clientCAFile, let clientRevocationListFile else {
                return TLSChannelConfiguration(tlsConfiguration: configuration)
            }
            let verifier = try PeerCertificateVerifier(
                peer: .client, certificateAuthorityFile: clientCAFile, revocationListFile: clientRevocationListFile)
            return TLSChannelConfiguration(tlsConfiguration: configuration) { certificates, promise in
                let result: Result<Void, PeerCertificateVerifier.Rejection>
                do {
                    result = verifier.verify(chain: try certificates.map { try $0.toDERBytes() })
                } catch {
                    result = .failure(.init(reason: "the client's certificate could not be read: \(error)"))
                }
                switch result {
                case .success:
                    promise.succeed(.certificateVerified)
                case .failure(let rejection):
                    let subject = certificates.first.flatMap { $0.description } ?? "no certificate"
                    standardError("agritrace api: client refused at the TLS handshake: \(rejection) (\(subject))")
                    promise.succeed(.failed)
                }
            }
        }
    }

    /// Builds the application serving `storePath` on `host:port`: over TLS with `tls` (its
    /// files re-read by ``ReloadableTLS/reload()``), plain HTTP when `tls` is nil (the caller
    /// keeps that to loopback). `identifiers` names lots, locations and read points in EPCIS
    /// answers (URNs by default).
    public static func application(
        storePath: String, host: String, port: Int, tls: ReloadableTLS? = nil, identifiers: GS1Identifiers = .init(),
        gateway: AccessGateway = AccessGateway()
    ) throws -> some ApplicationProtocol {
        let reader = try StoreReader(path: storePath)
        Task { await reader.prime(storePath: storePath) }
        let router = Router(context: GatewayRequestContext.self)
        // Requests by route, method and status (`hb_requests` under `serve --metrics-port`).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: AccessGateMiddleware(gateway: gateway, reader: reader))
        addLedgerRoutes(to: router, reader: reader)
        let submissions = try SubmissionQueue(path: storePath)
        AccessRoutes.add(to: router, reader: reader, submissions: submissions, gateway: gateway)
        TransferRoutes.add(
            to: router, reader: reader, blobs: BlobStore(storePath: storePath), submissions: submissions)
        GraphRoutes.add(to: router, reader: reader)
        EPCISRoutes.add(to: router, reader: reader, identifiers: identifiers)
        EPCISRoutes.addExports(to: router, reader: reader, identifiers: identifiers)
        ConsoleDataRoutes.add(to: router, reader: reader)
        ConsoleRoutes.add(to: router, reader: reader, submissions: submissions, scheme: tls == nil ? "http" : "https")
        return Application(
            router: router,
            server: tls.map { HTTPServerBuilder.http1(tls: $0) } ?? .http1(),
            configuration: .init(address: .hostname(host, port: port), serverName: "agritrace"))
    }

    /// The ledger's own reads: status, signed tree heads, traces, proofs, consistency, devices,
    /// and the records (``addRecordsRoute(to:reader:)``).
    static func addLedgerRoutes(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/status") { _, _ in try JSON(try await reader.status()) }
        router.get("/v1/tree-head") { request, _ in
            let size = try QueryParameter.integer(
                "tree-size", of: request.uri.queryParameters, in: 1...QueryParameter.largest)
            return try await reader.read { try JSON(SavedTreeHead(LedgerQueries(store: $0).treeHead(size: size))) }
        }
        router.get("/v1/trace/:lot") { request, context in
            let lot = try context.parameters.require("lot")
            let direction = try QueryParameter.direction(of: request.uri.queryParameters)
            return try await reader.read { store in
                try JSON(LedgerQueries(store: store).traceRows(lot: lot, direction: direction))
            }
        }
        router.get("/v1/proof/:record") { request, context in
            guard let id = RecordID(hex: try context.parameters.require("record")) else {
                throw HTTPError(.badRequest, message: "the record id is 32 hex characters")
            }
            let size = try QueryParameter.integer(
                "tree-size", of: request.uri.queryParameters, in: 1...QueryParameter.largest)
            return try await reader.read { try JSON(LedgerQueries(store: $0).inclusionProof(of: id, treeSize: size)) }
        }
        router.get("/v1/consistency") { request, _ in
            let old = try QueryParameter.requiredInteger(
                "old", of: request.uri.queryParameters, in: 1...QueryParameter.largest,
                usage: "give ?old=<size>[&new=<size>]")
            let new = try QueryParameter.integer("new", of: request.uri.queryParameters, in: 1...QueryParameter.largest)
            return try await reader.read { try JSON(LedgerQueries(store: $0).consistency(oldSize: old, newSize: new)) }
        }
        router.get("/v1/devices") { _, _ in try await reader.read { try JSON(LedgerQueries(store: $0).devices()) } }
        addRecordsRoute(to: router, reader: reader)
    }

    /// `GET /v1/records`: the records a filter selects, a page at a time (``ListPaging``).
    static func addRecordsRoute(to router: Router<GatewayRequestContext>, reader: StoreReader) {
        router.get("/v1/records") { request, _ in
            let query = request.uri.queryParameters
            let filter = try recordFilter(query)
            let after = try ListPaging.recordCursor(query)
            return try await reader.read { store in
                let found = try ListPaging.records(filter, after: after, queries: LedgerQueries(store: store))
                var page = try JSON(found.map(TraceRow.init))
                if found.count == filter.limit, let last = found.last {
                    page.headers[HTTPField.Name(ListPaging.nextCursorHeader)!] = ListPaging.RecordPosition(last).cursor
                }
                return page
            }
        }
    }

    /// The records filter of a `/v1/records` query.
    /// - Throws: a 400 naming `since`, `until` or `stage` when it is not a time or a stage.
    static func recordFilter(_ query: Parameters) throws -> LedgerQueries.RecordFilter {
        LedgerQueries.RecordFilter(
            enterprise: query.get("enterprise"), stage: try QueryParameter.stage(of: query),
            product: query.get("product"), since: try QueryParameter.time("since", of: query),
            until: try QueryParameter.time("until", of: query), limit: try ListPaging.limit(query))
    }
}

/// A JSON response body (sorted keys, the same encoding as the CLI's `--json`).
struct JSON: ResponseGenerator {
    let data: Data
    /// Extra response headers (the next page's cursor).
    var headers: HTTPFields = [:]

    init<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        data = try encoder.encode(value)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Owns the read-only store connection; requests take turns on it.
actor StoreReader {
    let store: LedgerStore
    /// Records counted so far and the last leaf counted (``status()``).
    var counted: (records: Int, lastLeaf: Int64) = (0, -1)

    init(path: String) throws { store = try LedgerStore(path: path, readOnly: true) }

    func read<T: Sendable>(_ body: (LedgerStore) throws -> T) throws -> T {
        do {
            return try body(store)
        } catch let error as LedgerStoreError {
            if case .missing(let what) = error { throw HTTPError(.notFound, message: "no \(what)") }
            throw HTTPError(.internalServerError, message: "\(error)")
        } catch let error as MerkleTree.ProofError {
            throw HTTPError(.badRequest, message: "\(error)")
        }
    }
}

/// Writes one line to standard error (the server's log under systemd).
func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
