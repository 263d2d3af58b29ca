import Blobs
import Logging
import Prometheus
import ServiceLifecycle

/// What `serve` and `api` share around their own services: the process's logger and its
/// reloadable level, the settings of the command line and of `--settings`, and the metrics
/// registry; then the metrics and API services, the reload of `--settings` on SIGHUP, and the
/// run of the group (``ServerLifecycle``).
struct ServerProcess {
    let logger: Logger
    let logLevel: SharedLogLevel
    /// The command line's settings, which `--settings` is read over at start and on each reload.
    let base: ServerSettings
    /// The settings in force at start: the file's over the command line's.
    let initial: ServerSettings
    /// The `--settings` file, if any.
    let settingsFile: String?
    /// The Prometheus registry when `--metrics-port` is given.
    let registry: PrometheusCollectorRegistry?

    /// Starts the process: SIGHUP ignored until the reload service traps it, logging
    /// bootstrapped, the settings read, and the metrics registry made before any service
    /// makes its metrics.
    /// - Parameter blobLimits: the command line's upload limits (the defaults where there is
    ///   no blob service).
    init(
        label: String, logging: LogOptions, operations: OperationsOptions, settings: String?,
        blobLimits: BlobService.Limits = .init()
    ) throws {
        ServerLifecycle.ignoreHangUpUntilTrapped()
        (logger, logLevel) = logging.bootstrapReloadable(label: label)
        let base = ServerSettings(logLevel: logLevel.get(), blobLimits: blobLimits)
        self.base = base
        initial = try settings.map { try ServerSettings.read(file: $0, over: base) } ?? base
        settingsFile = settings
        logLevel.set(initial.logLevel)
        registry = operations.metricsPort.map { _ in OperationsServer.bootstrapMetrics() }
    }

    /// Runs `services`, then the metrics server (with `--metrics-port`) and the API over
    /// `storePath` (with `--http-port`), with the reload service, until they stop.
    /// - Parameters:
    ///   - ready: nil when the process is ready for traffic, else why not (`/readyz`).
    ///   - blobs: the blob service whose upload limits a reload updates, if there is one.
    ///   - readAtStart: the settings a reload does not change (named in its log line).
    func run(
        _ services: [(name: String, service: any Service)], storePath: String, api: APIServerOptions,
        operations: OperationsOptions, ready: @escaping @Sendable () -> String?, blobs: BlobService?,
        readAtStart: [String]
    ) async throws {
        var services = services
        let tls = try api.tls()
        if let metrics = operations.service(registry: registry, ready: ready, logger: logger) {
            services.append(("metrics", metrics))
        }
        if let application = try api.service(storePath: storePath, tls: tls, logger: logger) {
            services.append(("api", application))
        }
        let reload = settingsFile.map { settingsReloader(file: $0, blobs: blobs) }
        try await ServerLifecycle.run(
            services, reloadable: .init(apiTLS: tls, readAtStart: readAtStart, settings: reload), logger: logger)
    }

    /// What SIGHUP does with `--settings`: reads the file again over the command line's
    /// settings and applies it (the upload limits only where there is a blob service: not in
    /// `api`); a file that does not parse changes nothing.
    func settingsReloader(file: String, blobs: BlobService?) -> @Sendable () async -> Void {
        { [base, logLevel, logger] in
            do {
                let settings = try ServerSettings.read(file: file, over: base)
                logLevel.set(settings.logLevel)
                await blobs?.update(limits: settings.blobLimits)
                logger.notice(
                    "reloaded the settings", metadata: ["settings": "\(settings.summary)", "file": "\(file)"])
                logger.debug("log level is now \(settings.logLevel)")
            } catch {
                logger.error(
                    "could not reload the settings: \(error); the settings in force stay, fix the file and reload again"
                )
            }
        }
    }
}
