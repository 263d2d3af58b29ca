import ArgumentParser
import Foundation
import Hummingbird
import Ingest
import Ledger
import LedgerClient
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `--metrics-port` of `serve`: Prometheus metrics and health checks over plain HTTP on a
/// loopback port (as the agent's), for a local Prometheus or node exporter and for systemd
/// or a load balancer's probes. Nothing private is served there.
struct OperationsOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Serve /metrics, /healthz and /readyz over plain HTTP on this loopback port (off when not given).")
    var metricsPort: Int?

    @Option(name: .long, help: "Loopback address of the metrics port.")
    var metricsHost: String = "127.0.0.1"

    /// The metrics and health server when --metrics-port is given (its address logged), or nil.
    /// - Parameter ready: nil when the process is ready for traffic, else why not (`/readyz`).
    func service(
        registry: PrometheusCollectorRegistry?, ready: @escaping @Sendable () -> String?, logger: Logger
    ) -> (any Service)? {
        guard let registry, let metricsPort else { return nil }
        logger.notice("metrics and health on http://\(metricsHost):\(metricsPort)/metrics, /healthz, /readyz")
        return OperationsServer.application(host: metricsHost, port: metricsPort, registry: registry, ready: ready)
    }

    func validate() throws {
        guard metricsPort != nil else { return }
        guard APITransport.isLoopback(metricsHost) else {
            throw ValidationError(
                "--metrics-host \(metricsHost): the metrics port is plain HTTP and allowed on loopback only (127.0.0.1 or ::1)"
            )
        }
    }
}

/// The metrics registry and the operations endpoints.
enum OperationsServer {
    /// Bootstraps swift-metrics with a Prometheus registry (once per process, before the
    /// services create their metrics). Hummingbird's `hb.requests` style names become
    /// `hb_requests`, as Prometheus needs.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.sanitize(name), labels.map { (Self.sanitize($0.0), $0.1) })
        }
        factory.valueHistogramBuckets["agritrace_block_transactions"] = [
            1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 20_000,
        ]
        factory.durationHistogramBuckets["agritrace_block_commit_seconds"] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    static func sanitize(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }

    /// `/metrics` (Prometheus text format), `/healthz` (the process answers) and `/readyz`
    /// (200 when `ready` returns nil, else 503 with its reason).
    static func application(
        host: String, port: Int, registry: PrometheusCollectorRegistry, ready: @escaping @Sendable () -> String?
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ in
            guard let reason = ready() else {
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            }
            return Response(
                status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "not ready: \(reason)\n")))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "agritrace-metrics"))
    }

    /// Readiness of `serve`: the ingest runs (its store is open) and the broker connection is up.
    static func readiness(of ingest: IngestService) -> @Sendable () -> String? {
        {
            if !ingest.observer.isRunning {
                return "the ingest service is not running (store not open yet, or stopping)"
            }
            if !ingest.isBrokerConnected { return "not connected to the broker" }
            return nil
        }
    }
}
