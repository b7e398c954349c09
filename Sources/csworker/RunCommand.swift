import ArgumentParser
import CaseDomain
import CasePipeline
import CaseStorage
import Foundation
import Kafka
import OperationsServer
import Logging
import Postgres
import ServiceLifecycle

/// One worker process: a consumer-group member applying events to cases, and
/// an outbox relay publishing the tasks and dead letters they produce.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one worker process of the consumer group until SIGTERM or SIGINT.",
        discussion: """
            Needs CSE_SSN_KEY (at least 32 bytes, hex or base64) besides the connection settings.
            Group timings are Kafka's defaults (session.timeout.ms 45000, max.poll.interval.ms 300000);
            set CSE_KAFKA_SESSION_TIMEOUT_MS and CSE_KAFKA_MAX_POLL_INTERVAL_MS to change them (the local
            setup shortens both: Tansu waits out the rebalance timeout on every join). Each partition fetch is
            at most 16 KiB (CSE_KAFKA_MAX_PARTITION_FETCH_BYTES), so the three input topics are consumed
            side by side rather than one far ahead of another.
            Log level: CSE_LOG_LEVEL (trace, debug, info, notice, warning, error; default info).
            With --daily-sweep-at (CSE_DAILY_SWEEP_AT) the workers also run `csworker sweep` once a day, as of
            the agency's date (America/Chicago by default), on a third database session: one process per day
            (a lock and the sweep_runs table), and a process started later in the day catches up.
            Operator endpoints: GET /metrics (Prometheus text), /health/live and /health/ready on
            CSE_HTTP_HOST:CSE_HTTP_PORT (default 0.0.0.0:8080; port 0 = any free port, off = none).
            """
    )

    @OptionGroup var options: RunOptions

    func run() async throws {
        let options = try options.resolved()
        let brokers = options.brokers
        let databaseURL = options.databaseURL
        let horizon = options.unknownCaseHorizon
        let cachedCases = options.cachedCases
        let sweepAt = options.dailySweepAt
        let overrides = options.kafkaProperties
        // Its level is the bootstrapped handler's (CSE_LOG_LEVEL / --log-level).
        let logger = Logger(label: "csworker")
        let topics = options.topics
        let protector = SSNProtector(key: options.ssnKey)
        let operationsSettings = options.operations
        let policy = options.policy
        let maxBatch = options.maxBatch
        let caughtUpBatch = options.caughtUpBatch
        let drainSeconds = options.drainSeconds

        MemoryTuning.limitArenas()
        try await reportingFailures {
            // A taken port stops this process before it connects or joins the group.
            if let port = operationsSettings.port {
                try OperationsServer.checkAvailable(host: operationsSettings.host, port: port)
            }
            let workerConnection = try connectDatabase(url: databaseURL, logger: logger)
            let relayConnection = try connectDatabase(url: databaseURL, logger: logger)
            // The daily sweep's own session (and thread): a sweep of every open case never stalls the consumer.
            let sweepConnection = try sweepAt.map { _ in try connectDatabase(url: databaseURL, logger: logger) }
            // RunOptions.databaseSessions counts these (with the operations watch's): keep the two in step.
            defer {
                workerConnection.close()
                relayConnection.close()
                sweepConnection?.close()
            }
            try requireCurrentSchema(workerConnection)

            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
            producerConfiguration.properties = overrides
            // The relay publishes dead letters up to the dead-letter topic's limit.
            producerConfiguration.maxMessageBytes = PipelineTopics.producerMaxMessageBytes
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            defer { producer.close() }

            var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupId: options.group)
            // Group timings: Kafka's defaults (session 45 s, poll interval 300 s)
            // unless CSE_KAFKA_SESSION_TIMEOUT_MS / CSE_KAFKA_MAX_POLL_INTERVAL_MS say otherwise.
            // Small fetches per partition interleave the input topics, so events of one
            // topic do not run far ahead of the applications on another.
            consumerConfiguration.maxPartitionFetchBytes = 16 * 1024
            // A broker that holds an empty fetch for the whole wait even when
            // messages arrive meanwhile (Tansu 0.6, as measured by `csworker bench`)
            // adds up to this much to every event's latency; Kafka answers at once.
            consumerConfiguration.fetchWaitMax = .milliseconds(100)
            // In a backlog librdkafka fetches up to 64 MiB ahead, all of it in the
            // worker's memory; a few batches' worth (a batch of 2,000 is ~2 MiB)
            // keeps it as busy. The bench's whole input is ~20 MiB, so its peak RSS
            // barely moves (interleaved runs: no change beyond the noise); a real
            // backlog of millions of events would hold 64 MiB per worker.
            consumerConfiguration.prefetchKilobytes = 8 * 1024
            consumerConfiguration.properties = overrides
            var workerConfiguration = Worker.Configuration(consumer: consumerConfiguration, topics: topics)
            workerConfiguration.maxBatch = maxBatch
            workerConfiguration.caughtUpBatch = caughtUpBatch
            workerConfiguration.waitingHorizon = horizon

            let registry = OperationsEndpoints.bootstrapMetrics()
            let metrics = PipelineMetrics()
            var relayConfiguration = OutboxRelay.Configuration(calendar: policy.calendar)
            relayConfiguration.drainOnShutdown = .seconds(drainSeconds)
            let relay = OutboxRelay(
                source: OutboxStore(connection: relayConnection, protector: protector, logger: logger),
                producer: producer, configuration: relayConfiguration, logger: logger, metrics: metrics)
            let processor = BatchProcessor(
                store: CaseStore(
                    connection: workerConnection, protector: protector, calendar: policy.calendar, cachedStates: cachedCases,
                    logger: logger),
                protector: protector, topics: topics, policy: policy, logger: logger,
                consumerGroup: workerConfiguration.consumer.groupId)
            let worker = Worker(configuration: workerConfiguration, processor: processor, logger: logger, metrics: metrics) {
                relay.wake()
            }
            let endpoints = OperationsEndpoints(
                settings: operationsSettings, databaseURL: databaseURL, calendar: policy.calendar, registry: registry,
                metrics: metrics, worker: worker, logger: logger)
            if operationsSettings.port == nil { logger.info("operations endpoints off (CSE_HTTP_PORT=off)") }
            let dailySweep = sweepAt.map { time in
                Self.dailySweep(
                    at: time, policy: policy, connection: sweepConnection!, protector: protector, topics: topics, logger: logger
                ) {
                    relay.wake()
                }
            }
            let reporter = ClosureService {
                try? await cancelWhenGracefulShutdown { await Self.reportProgress(worker: worker, relay: relay, logger: logger) }
            }
            // One group, one SIGTERM/SIGINT handler. Services shut down in the
            // reverse of this order: the worker first (it finishes the batch in
            // hand, commits, leaves the group), then the sweep, the relay (it
            // publishes what that batch enqueued, up to its drain time), the
            // reporter, and the endpoints last, so readiness is served to the end.
            var services = endpoints.services.map { service in
                ServiceGroupConfiguration.ServiceConfiguration(
                    service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup)
            }
            services.append(.init(service: reporter, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
            services.append(.init(service: relay, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
            if let dailySweep {
                services.append(.init(service: dailySweep, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
            }
            services.append(.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
            var quietGroup = logger
            quietGroup.logLevel = max(logger.logLevel, .notice)
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: quietGroup))
            defer { Self.logTotals(worker: worker, relay: relay, logger: logger) }
            try await group.run()
        }
    }

    private static func dailySweep(
        at time: TimeOfDay, policy: Policy, connection: PostgresConnection, protector: SSNProtector, topics: PipelineTopics,
        logger: Logger, onSwept: @escaping @Sendable () -> Void
    ) -> DailySweep {
        let store = CaseStore(connection: connection, protector: protector, calendar: policy.calendar, cachedStates: 0, logger: logger)
        return DailySweep(
            at: time, calendar: policy.calendar,
            sweep: ReferralSweep(store: store, topics: topics, policy: policy, logger: logger),
            runs: SweepRuns(connection: connection), recover: { try? store.reconnectIfBroken() }, logger: logger,
            onSwept: onSwept)
    }

    /// One info line every 10 s while there is traffic, and freed memory
    /// handed back to the system then and as soon as the traffic stops (a
    /// backlog's batches leave ~50-90 MiB free in the heap; without this the
    /// worker sits at that high-water mark for up to 10 s, or until the next
    /// traffic). Off the worker's thread: a trim takes a few milliseconds.
    private static func reportProgress(worker: Worker, relay: OutboxRelay, logger: Logger) async {
        var reported = worker.statistics
        var aSecondAgo = reported
        var trimmedSinceTraffic = true
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            ticks += 1
            let now = worker.statistics
            let busy = now != aSecondAgo
            aSecondAgo = now
            let periodic = ticks % 10 == 0
            if periodic || (!busy && !trimmedSinceTraffic) { MemoryTuning.releaseFreeMemory() }
            trimmedSinceTraffic = !busy
            guard periodic, now != reported else { continue }
            logger.info("progress", metadata: [
                "records": "\(now.records)", "recordsPerSecond": "\((now.records - reported.records) / 10)",
                "applied": "\(now.applied)", "parked": "\(now.parked)", "deadLettered": "\(now.deadLettered)",
                "duplicates": "\(now.duplicates)", "tasks": "\(now.tasks)", "published": "\(relay.publishedCount)",
                "retries": "\(now.retries)",
            ])
            reported = now
        }
    }

    private static func logTotals(worker: Worker, relay: OutboxRelay, logger: Logger) {
        let totals = worker.statistics
        logger.info("worker stopped", metadata: [
            "batches": "\(totals.batches)", "records": "\(totals.records)", "applied": "\(totals.applied)",
            "parked": "\(totals.parked)", "deadLettered": "\(totals.deadLettered)", "duplicates": "\(totals.duplicates)",
            "tasks": "\(totals.tasks)", "published": "\(relay.publishedCount)",
        ])
    }


}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// Everything `csworker run` reads, as flags over environment over defaults
/// (`Setting`); `csworker config` shows the same values.
struct RunOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var groupOptions: GroupOptions
    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var ssnKeyOptions: SSNKeyOptions
    @OptionGroup var operations: OperationsOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Most records applied in one database transaction (env CSE_MAX_BATCH, default 2000).")
    var maxBatch: Int?

    @Option(help: "Most records in one transaction while everything fetched fits in one --max-batch (env CSE_CAUGHT_UP_BATCH, default 500): short transactions, low latency.")
    var caughtUpBatch: Int?

    @Option(name: .customLong("unknown-case-horizon"), help: ArgumentHelp(
        "How long an event waits in the database for the application that opens its case (or the order it names), from when it was parked, before it is dead-lettered (env CSE_UNKNOWN_CASE_HORIZON; default 48h; 90s, 30m, 2d...).",
        valueName: "duration"))
    var unknownCaseHorizonFlag: String?

    @Option(help: "Case states kept in memory between batches, so a batch loads only the versions of cases it has seen (env CSE_CACHED_CASES, default 2000; 0 = none). Bounds the worker's memory: about 30 KB a case.")
    var cachedCases: Int?

    @Option(help: "Seconds the outbox relay keeps publishing after the consumer stopped (env CSE_DRAIN_SECONDS, default 5).")
    var drainSeconds: Int?

    @Option(name: .customLong("daily-sweep-at"), help: ArgumentHelp(
        "Run the referral sweep once a day at this time in the agency's zone, one process of the group per day (env CSE_DAILY_SWEEP_AT; default off).",
        valueName: "HH:MM"))
    var dailySweepAtFlag: String?

    /// The flags given, by setting: what `csworker config` resolves against.
    var flags: [Setting: String] {
        var flags: [Setting: String] = [:]
        flags[.databaseURL] = database.databaseURLFlag
        flags[.brokers] = kafka.brokersFlag
        flags[.kafkaProperties] = kafka.propertyFlags.isEmpty ? nil : kafka.propertyFlags.joined(separator: " ")
        flags[.group] = groupOptions.groupFlag
        flags[.topicPrefix] = topicOptions.prefixFlag
        flags[.ssnKey] = ssnKeyOptions.keyFile
        flags[.policyFile] = policyOptions.policyFileFlag
        flags[.httpPort] = operations.portFlag
        flags[.httpHost] = operations.hostFlag
        flags[.metricsInterval] = operations.databaseIntervalFlag.map(String.init)
        flags[.readyRetryLimit] = operations.retryLimitFlag.map(String.init)
        flags[.maxBatch] = maxBatch.map(String.init)
        flags[.caughtUpBatch] = caughtUpBatch.map(String.init)
        flags[.cachedCases] = cachedCases.map(String.init)
        flags[.drainSeconds] = drainSeconds.map(String.init)
        flags[.unknownCaseHorizon] = unknownCaseHorizonFlag
        flags[.dailySweepAt] = dailySweepAtFlag
        flags[.logLevel] = logging.levelFlag
        flags[.logFormat] = logging.formatFlag
        return flags
    }

    /// The settings checked and typed: a usage error (exit 64) names the first bad one.
    struct Resolved {
        var brokers: [String]
        var databaseURL: String
        var group: String
        var topics: PipelineTopics
        var ssnKey: SSNKey
        var kafkaProperties: [String: String]
        var operations: OperationsOptions.Settings
        var policy: Policy
        var maxBatch: Int
        var caughtUpBatch: Int
        var cachedCases: Int
        var drainSeconds: Int
        var unknownCaseHorizon: Duration
        /// nil: no in-process schedule (the CronJob or timer runs `csworker sweep`).
        var dailySweepAt: TimeOfDay?
    }

    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Resolved {
        let horizonText = Setting.unknownCaseHorizon.text(flag: unknownCaseHorizonFlag, environment: environment)
        guard let horizon = DurationText.parse(horizonText) else {
            throw ValidationError("CSE_UNKNOWN_CASE_HORIZON / --unknown-case-horizon must be a duration such as 48h, 30m, 90s or 2d, not '\(horizonText)'")
        }
        var sweepAt: TimeOfDay?
        if let text = Setting.dailySweepAt.resolve(flag: dailySweepAtFlag, environment: environment).value {
            guard let time = TimeOfDay(text) else {
                throw ValidationError("--daily-sweep-at / CSE_DAILY_SWEEP_AT must be a time of day, HH:MM (24-hour), not '\(text)'")
            }
            sweepAt = time
        }
        return Resolved(
            brokers: try kafka.brokers(environment: environment), databaseURL: try database.url(environment: environment),
            group: groupOptions.group, topics: topicOptions.topics, ssnKey: try ssnKeyOptions.key(environment: environment),
            kafkaProperties: try kafka.properties(environment: environment),
            operations: try operations.settings(environment: environment), policy: try policyOptions.load(environment: environment),
            maxBatch: try Setting.maxBatch.integer(flag: maxBatch, minimum: 1, environment: environment),
            caughtUpBatch: try Setting.caughtUpBatch.integer(flag: caughtUpBatch, minimum: 1, environment: environment),
            cachedCases: try Setting.cachedCases.integer(flag: cachedCases, minimum: 0, environment: environment),
            drainSeconds: try Setting.drainSeconds.integer(flag: drainSeconds, minimum: 0, environment: environment),
            unknownCaseHorizon: horizon, dailySweepAt: sweepAt)
    }

    /// Database sessions one `run` process holds: the batch transaction, the
    /// outbox relay and the operations watch (readiness probe and metrics,
    /// one session), and the daily sweep's when it runs in process. The
    /// deploy/ budget (postgres-roles.sql, KEDA's ceiling) is counted from this.
    static func databaseSessions(dailySweep: Bool, httpOn: Bool) -> Int {
        2 + (httpOn ? 1 : 0) + (dailySweep ? 1 : 0)
    }
}
