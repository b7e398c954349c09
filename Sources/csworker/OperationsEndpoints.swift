import ArgumentParser
import CaseDomain
import CasePipeline
import Foundation
import Logging
import Kafka
import Metrics
import Postgres
import OperationsServer
import Prometheus
import ServiceLifecycle

/// `csworker run`'s operator settings: the HTTP port with /metrics and the
/// health endpoints, and how often the database-derived metrics are read.
struct OperationsOptions: ParsableArguments {
    @Option(name: .customLong("http-port"), help: ArgumentHelp(
        "Port for /metrics, /health/live and /health/ready (env CSE_HTTP_PORT, default 8080); 0 = any free port, off = no HTTP.",
        valueName: "port|off"))
    var portFlag: String?

    @Option(name: .customLong("http-host"), help: "Address to listen on (env CSE_HTTP_HOST, default 0.0.0.0).")
    var hostFlag: String?

    @Option(name: .customLong("metrics-db-interval-seconds"), help: "Seconds between reads of the database-derived metrics (env CSE_METRICS_DB_INTERVAL_SECONDS, default 15).")
    var databaseIntervalFlag: Int?

    @Option(name: .customLong("ready-max-retry-seconds"), help: "Seconds a batch may keep failing transiently before /health/ready says not ready (env CSE_READY_MAX_RETRY_SECONDS, default 30).")
    var retryLimitFlag: Int?

    struct Settings: Equatable {
        /// nil = HTTP off.
        var port: Int?
        var host: String
        var databaseInterval: Int
        var retryLimit: Int
    }

    /// The settings, flags over environment; a usage error (exit 64) names a bad one.
    func settings(environment: [String: String]) throws -> Settings {
        let portText = Setting.httpPort.text(flag: portFlag, environment: environment)
        let port: Int?
        if portText.lowercased() == "off" {
            port = nil
        } else {
            guard let number = Int(portText), (0...65535).contains(number) else {
                throw ValidationError("CSE_HTTP_PORT must be a port number (0 = any free port) or off, not '\(portText)'")
            }
            port = number
        }
        let host = Setting.httpHost.text(flag: hostFlag, environment: environment)
        return Settings(
            port: port, host: host,
            databaseInterval: try Setting.metricsInterval.integer(flag: databaseIntervalFlag, minimum: 1, environment: environment),
            retryLimit: try Setting.readyRetryLimit.integer(flag: retryLimitFlag, minimum: 1, environment: environment))
    }
}

/// The operator's endpoints of one worker process and what feeds them: the
/// database watch and the HTTP server, as services of `csworker run`'s group.
final class OperationsEndpoints: Sendable {
    private let watch: DatabaseWatch?
    private let server: OperationsServer?

    /// Bootstraps swift-metrics with the Prometheus backend; once per process,
    /// before any metric handle is made.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets[PipelineMetrics.Name.batchRecords] = PipelineMetrics.batchRecordBuckets
        factory.durationHistogramBuckets[PipelineMetrics.Name.eventToTaskSeconds] = PipelineMetrics.eventToTaskBuckets
        MetricsSystem.bootstrap(factory)
        Gauge(label: PipelineMetrics.Name.buildInfo, dimensions: [
            ("version", CSWorker.version), ("librdkafka", librdkafkaVersion), ("libpq", PostgresConnection.libpqVersion),
        ]).record(1)
        return registry
    }

    init(
        settings: OperationsOptions.Settings, databaseURL: String, calendar: BusinessCalendar, registry: PrometheusCollectorRegistry,
        metrics: PipelineMetrics, worker: Worker, logger: Logger
    ) {
        guard let port = settings.port else {
            watch = nil
            server = nil
            return
        }
        var watchConfiguration = DatabaseWatch.Configuration(
            databaseURL: databaseURL, timeZone: calendar.timeZoneIdentifier)
        watchConfiguration.readingsInterval = .seconds(settings.databaseInterval)
        let watch = DatabaseWatch(configuration: watchConfiguration, metrics: metrics, logger: logger)
        var configured = HealthConditions()
        configured.retryLimit = .seconds(settings.retryLimit)
        let conditions = configured
        self.watch = watch
        server = OperationsServer(
            configuration: OperationsServer.Configuration(host: settings.host, port: port), registry: registry, logger: logger,
            isLive: { conditions.isLive(worker: worker.health) },
            readiness: { Readiness(failing: conditions.failing(worker: worker.health, databaseReachable: watch.isReachable)) },
            onListening: { port in
                logger.info("operations endpoints listening", metadata: ["port": "\(port)", "paths": "/metrics,/health/live,/health/ready"])
            })
    }

    /// The services to run (none with CSE_HTTP_PORT=off).
    var services: [any Service] {
        guard let server, let watch else { return [] }
        return [watch, server]
    }
}
