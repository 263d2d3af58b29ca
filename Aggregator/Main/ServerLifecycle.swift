import Foundation
import LedgerAPI
import Logging
import ServiceLifecycle
import UnixSignals

/// How `serve` and `api` run: their parts as services of one swift-service-lifecycle
/// `ServiceGroup`. SIGTERM and SIGINT shut them down gracefully in reverse order (the API
/// stops accepting, then ingest stops taking batches, finishes the block, sends its receipts
/// and closes); SIGHUP reloads what can be reloaded and never stops the process.
enum ServerLifecycle {
    /// What SIGHUP reloads, and what it only names as needing a restart.
    struct Reloadable: Sendable {
        /// The API's certificate, key, client CA and revocation list (nil without HTTPS).
        var apiTLS: ReloadableTLS?
        /// Settings read only at start (named in the reload's log line).
        var readAtStart: [String]
        /// Re-reads the settings file (`serve --settings`) and applies it; nil without one.
        var settings: (@Sendable () async -> Void)? = nil
    }

    /// Ignores SIGHUP until the reload service traps it: call first thing, so that a reload
    /// sent while the process starts cannot kill it (the default action of SIGHUP).
    static func ignoreHangUpUntilTrapped() { signal(SIGHUP, SIG_IGN) }

    /// Runs `services` (started in this order, stopped in the reverse order) with the reload
    /// service, until they finish or SIGTERM/SIGINT.
    static func run(
        _ services: [(name: String, service: any Service)], reloadable: Reloadable, logger: Logger
    ) async throws {
        let configurations =
            services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0.service, serviceName: $0.name) }
            + [.init(service: ReloadService(reloadable: reloadable, logger: logger), serviceName: "reload")]
        var configuration = ServiceGroupConfiguration(
            services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.logging.keys.serviceKey = "service"
        try await ServiceGroup(configuration: configuration).run()
    }

    /// A service whose work is `body`, cancelled when the group shuts down gracefully (the
    /// ingest and blob services treat cancellation as "drain and stop").
    static func service(_ body: @escaping @Sendable () async throws -> Void) -> any Service {
        ClosureService { try await cancelWhenGracefulShutdown { try await body() } }
    }
}

/// Reloads on each SIGHUP until graceful shutdown.
struct ReloadService: Service {
    let reloadable: ServerLifecycle.Reloadable
    let logger: Logger

    func run() async throws {
        let hangUps = await UnixSignalsSequence(trapping: .sighup)
        // SIGHUP is trapped from here on: tell systemd (Type=notify) that reloads are safe.
        SystemdNotify.send("READY=1")
        for await _ in hangUps.cancelOnGracefulShutdown() { await reload() }
    }

    /// Re-reads the settings file and the API's TLS files; a file that cannot be used is
    /// logged and the previous settings or certificate stay in use.
    func reload() async {
        logger.notice("SIGHUP: reloading")
        if let settings = reloadable.settings { await settings() }
        if let tls = reloadable.apiTLS {
            do {
                let serial = try tls.reload()
                logger.notice(
                    "reloaded the API certificate, key, client CA and revocation list",
                    metadata: ["certificate_serial": "\(serial)", "certificate": "\(tls.files.certificateChainFile)"])
            } catch {
                logger.error(
                    "could not reload the API's TLS files: \(error); the previous certificate stays in use, fix the files and reload again"
                )
            }
        }
        if !reloadable.readAtStart.isEmpty {
            logger.notice(
                "read only at start, restart to change them (systemctl restart agritrace): \(reloadable.readAtStart.joined(separator: ", "))"
            )
        }
    }
}
