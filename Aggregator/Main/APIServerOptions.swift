import AgriTraceCore
import ArgumentParser
import Foundation
import LedgerAPI
import LedgerClient
import Logging
import ServiceLifecycle

/// The HTTPS API's options, shared by `serve` and `api`.
struct APIServerOptions: ParsableArguments {
    @Option(name: .long, help: "Serve the read-only HTTPS API on this port (off when not given).")
    var httpPort: Int?

    @Option(name: .long, help: "Address the API listens on.")
    var httpHost: String = "127.0.0.1"

    @Option(name: .long, help: "The API's server certificate (PEM chain, from the deployment CA).")
    var apiCert: String?

    @Option(name: .long, help: "The API's server private key (PEM).")
    var apiKey: String?

    @Option(name: .long, help: "Require API clients to present a certificate from this CA (PEM): mutual TLS.")
    var apiClientCA: String?

    @Option(
        name: .long,
        help:
            "Refuse API clients whose certificate is on this revocation list (PEM, the CA's crl.pem; re-read when it changes)."
    )
    var apiClientCRL: String?

    @Flag(name: .long, help: "Serve the API over plain HTTP instead of HTTPS (loopback only).")
    var insecureHTTP = false

    @Option(name: .long, help: "GS1 site file naming lots and locations in EPCIS answers (docs/exports.md).")
    var gs1Site: String?

    @Option(
        name: .long,
        help:
            "A reverse proxy (IP address) whose X-Forwarded-For names the client the access gateway punishes (repeat for several; none by default: the TCP peer is the client). docs/governance.md"
    )
    var trustedProxy: [String] = []

    /// The site's GS1 keys for `/epcis/events` (URNs without --gs1-site).
    func identifiers() throws -> GS1Identifiers {
        guard let gs1Site else { return GS1Identifiers() }
        return try GS1Identifiers.load(
            json: try ExportOptions.contents(of: gs1Site, "the GS1 site file"), file: gs1Site)
    }

    /// The TLS files, read now and re-read on SIGHUP (nil for --insecure-http).
    func tls() throws -> ReloadableTLS? {
        let files = apiCert.flatMap { cert in
            apiKey.map {
                LedgerAPI.TLSFiles(
                    certificateChainFile: cert, privateKeyFile: $0, clientCAFile: apiClientCA,
                    clientRevocationListFile: apiClientCRL)
            }
        }
        guard let files else { return nil }
        // Fail at start, not at the first connection, on an unreadable certificate, key or list.
        do { return try ReloadableTLS(files: files) } catch {
            throw UserError("API certificate, key or revocation list: \(error)")
        }
    }

    /// The API over the store when --http-port is given (its address logged), or nil.
    func service(storePath: String, tls: ReloadableTLS?, logger: Logger) throws -> (any Service)? {
        guard let httpPort else { return nil }
        let application = try LedgerAPI.application(
            storePath: storePath, host: httpHost, port: httpPort, tls: tls, identifiers: try identifiers(),
            gateway: AccessGateway(trustedProxies: Set(trustedProxy)))
        logger.notice("API on \(endpointDescription(tls: tls))")
        return application
    }

    /// `https://host:port/v1/ (client certificates required)`, for the log.
    func endpointDescription(tls: ReloadableTLS?) -> String {
        let clients = tls?.files.clientCAFile == nil ? "" : " (client certificates required)"
        return "\(tls == nil ? "http" : "https")://\(httpHost):\(httpPort ?? 0)/v1/\(clients)"
    }

    func validate() throws {
        guard httpPort != nil else { return }
        for proxy in trustedProxy where !AccessGateway.isIPAddress(proxy) {
            throw ValidationError(
                "--trusted-proxy '\(proxy)' is not an IP address: give the reverse proxy's address as the API sees it, e.g. --trusted-proxy 10.0.0.2"
            )
        }
        if insecureHTTP {
            guard apiCert == nil, apiKey == nil, apiClientCA == nil, apiClientCRL == nil else {
                throw ValidationError(
                    "--insecure-http serves plain HTTP: drop --api-cert, --api-key, --api-client-ca, --api-client-crl")
            }
            guard APITransport.isLoopback(httpHost) else {
                throw ValidationError("--insecure-http is allowed on loopback only (--http-host 127.0.0.1)")
            }
        } else if apiClientCRL != nil && apiClientCA == nil {
            throw ValidationError("--api-client-crl needs --api-client-ca (the CA whose list it is)")
        } else if apiCert == nil || apiKey == nil {
            throw ValidationError(
                "the API is served over HTTPS: give --api-cert and --api-key (or --insecure-http on loopback)")
        }
    }

}

/// `agritrace api`: the HTTPS API alone over a ledger store that another process writes
/// (`serve` without --http-port, or a replica): privilege separation, or an API on its own host.
struct API: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Serve only the HTTPS API over a ledger store (its writer runs elsewhere, e.g. `serve` without --http-port)."
    )

    @Option(name: .long, help: "Path of the ledger store.") var store: String = "agritrace.sqlite"
    @Option(name: .long, help: "A file of settings SIGHUP reloads (here: log-level), as 'name = value' lines.")
    var settings: String?
    @OptionGroup var api: APIServerOptions
    @OptionGroup var logging: LogOptions
    @OptionGroup var operations: OperationsOptions

    func run() async throws {
        let process = try ServerProcess(
            label: "agritrace.api", logging: logging, operations: operations, settings: settings)
        guard api.httpPort != nil else { throw UserError("give --http-port") }
        _ = try openReadOnly(store)
        let store = self.store
        try await process.run(
            [], storePath: store, api: api, operations: operations,
            ready: { FileManager.default.isReadableFile(atPath: store) ? nil : "the ledger store is not readable" },
            blobs: nil,
            readAtStart: [
                "--store", "--http-host", "--http-port", "--metrics-host", "--metrics-port",
                "--log-level (put it in --settings to reload it)", "--log-format", "--gs1-site", "--trusted-proxy",
            ])
    }
}
