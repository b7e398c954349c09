import CaseContract
import CaseDomain
import ArgumentParser
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Kafka
import Logging
import Postgres
import TimeUnits

/// The shipped benchmark: the worker on the realistic mix, side by side with
/// the one-transaction-per-event design and the database ceiling.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, latency, memory and database work of the worker on a generated realistic mix.",
        discussion: """
            Every run of every mode gets a fresh database (bench_<id>, dropped afterwards), a fresh topic prefix
            and consumer group. Worker modes load the whole mix into the input topics first (timed separately),
            then start --workers `csworker run` processes from an empty group and wait until every event is
            recorded and the outbox is drained. With --rate > 0 a second phase then offers a new mix at that
            rate to the caught-up workers and measures event-to-first-task latency. Modes: batched (the normal
            worker), per-event (--max-batch 1: one transaction and one offset commit per event), ceiling (the
            same decode/rules/storage writes in this process, batches of 2,000, no Kafka).
            Needs CSE_KAFKA_BROKERS, CSE_DATABASE_URL (a database on the server; the bench creates its own
            next to it) and CSE_SSN_KEY; build in release mode for meaningful figures.
            A development tool: it loads the server hard. It refuses to run when the database at CSE_DATABASE_URL
            holds cases, unless --allow-existing-data says this is a test setup.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var ssnKeyOptions: SSNKeyOptions
    @OptionGroup var developmentGuard: DevelopmentGuardOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var policyOptions: PolicyOptions

    @Option(help: "Cases in the generated mix for the batched and ceiling modes.")
    var cases: Int = 3_000

    @Option(help: "Cases for the per-event mode (slow; events/s is a rate, so fewer suffice). Default: cases / 10.")
    var perEventCases: Int?

    @Option(help: "Worker processes in the group; a comma-separated list (1,2,4) measures the worker modes with each count (the scaling table).")
    var workers: String = "2"

    @Option(help: "Offered events/s of the latency phase of the batched mode (0 skips it).")
    var rate: Int = 2_000

    @Option(help: "Seconds of offered load in the latency phase.")
    var latencySeconds: Int = 5

    @Option(help: "Comma-separated modes: batched, per-event, ceiling.")
    var modes: String = "batched,per-event,ceiling"

    @Option(help: "Runs per mode; medians are reported.")
    var runs: Int = 3

    @Option(help: "Partitions of each benchmark topic.")
    var partitions: Int = 6

    @Option(help: "Print the N statements that took the most server time in each mode's last run (needs pg_stat_statements).")
    var topStatements: Int = 0

    @Option(help: "The batched workers' --max-batch (default: csworker run's).")
    var maxBatch: Int?

    @Flag(help: "Keep the worker processes' logs (printed path) after a successful run too; with CSE_LOG_LEVEL=debug they time every batch and relay pass.")
    var keepLogs = false

    @Option(help: ArgumentHelp(
        "Run every worker under perf record (cpu-clock, call graphs) and write perf report by symbol into DIR, the top of each on stderr. Use --rate 0 to profile the throughput phase alone. Profiled figures carry perf's overhead.",
        valueName: "DIR"))
    var profile: String?

    @Option(help: "Seed of the generated mix.")
    var seed: UInt64 = 1

    @Option(help: "Seconds to wait for the workers to finish one phase before giving up.")
    var timeoutSeconds: Int = 600

    var perEventCaseCount: Int { perEventCases ?? max(1, cases / 10) }

    var workerCounts: [Int] {
        get throws {
            let counts = workers.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
                throw ValidationError("--workers must be worker counts of at least 1, e.g. 2 or 1,2,4")
            }
            return counts.compactMap { $0 }
        }
    }

    var selectedModes: [BenchMode] {
        get throws {
            try modes.split(separator: ",").map { name in
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                guard let mode = BenchMode(rawValue: trimmed) else {
                    throw ValidationError("unknown mode '\(trimmed)' (batched, per-event, ceiling)")
                }
                return mode
            }
        }
    }

    func validate() throws {
        guard cases >= 1, (perEventCases ?? 1) >= 1 else { throw ValidationError("case counts must be at least 1") }
        _ = try workerCounts
        guard rate >= 0, latencySeconds >= 1 else { throw ValidationError("--rate must be >= 0 and --latency-seconds >= 1") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
        guard (maxBatch ?? 1) >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard try !selectedModes.isEmpty else { throw ValidationError("--modes names no mode") }
    }

    func run() async throws {
        let brokers = try kafka.brokers()
        let baseURL = try database.url()
        let key = try ssnKeyOptions.key()
        let modes = try selectedModes
        let counts = try workerCounts
        let policy = try policyOptions.load()
        var environment = ProcessInfo.processInfo.environment
        // The workers get the key as the bench read it (from the environment or --ssn-key-file).
        environment[SSNKey.environmentVariable] = try ssnKeyOptions.encodedKey()
        // The workers read the same policy file.
        if let path = policyOptions.path(environment: environment) { environment["CSE_POLICY_FILE"] = path }
        try await reportingFailures {
            let probe = try connectDatabase(url: baseURL, logger: Logger(label: "csworker.bench"))
            defer { probe.close() }
            try developmentGuard.checkDatabase(probe)
            let bench = BenchRunner(
                brokers: brokers, baseURL: baseURL, key: key, environment: environment, policy: policy,
                partitions: partitions, timeout: .seconds(timeoutSeconds), topStatements: topStatements,
                keepLogs: keepLogs, maxBatch: maxBatch, profile: profile.map { URL(fileURLWithPath: $0) })
            var results: [(BenchColumn, [BenchFigures])] = []
            for mode in modes {
                let modeCases = mode == .perEvent ? perEventCaseCount : cases
                let events = Array(ScenarioGenerator(.benchmark(cases: modeCases, seed: seed)))
                // The ceiling runs in this process: worker counts do not apply.
                for workerCount in mode == .ceiling ? [counts[0]] : counts {
                    let column = BenchColumn(mode: mode, workers: counts.count > 1 && mode != .ceiling ? workerCount : nil)
                    var figures: [BenchFigures] = []
                    for run in 1...runs {
                        printError("bench: \(column.label) run \(run)/\(runs): \(events.count) events over \(modeCases) cases")
                        // Only the batched worker is offered a paced load: the per-event design falls far behind
                        // any realistic rate, so its "latency" would only be the length of its queue.
                        let latencyEvents = mode != .batched || rate == 0
                            ? [] : latencyMix(eventsPerCase: Double(events.count) / Double(modeCases), run: run)
                        let result = try await bench.run(
                            mode: mode, workers: workerCount, events: events, latencyEvents: latencyEvents, rate: rate)
                        printError("bench: \(column.label) run \(run): \(BenchReport.format(result.eventsPerSecond, digits: 0)) events/s")
                        figures.append(result)
                    }
                    results.append((column, figures))
                }
            }
            print(report(results))
        }
    }

    /// A different set of cases offered at `rate` for `latencySeconds`, sized
    /// from the throughput mix's events per case.
    func latencyMix(eventsPerCase: Double, run: Int) -> [ScenarioEvent] {
        let wanted = Double(rate * latencySeconds)
        var configuration = ScenarioConfiguration.benchmark(
            cases: max(1, Int((wanted / max(eventsPerCase, 1)).rounded(.up))), seed: seed &+ 1_000 &+ UInt64(run))
        configuration.caseIdPrefix = "LT"
        return Array(ScenarioGenerator(configuration).prefix(Int(wanted)))
    }

    func report(_ results: [(BenchColumn, [BenchFigures])]) -> String {
        var lines = [
            "csworker bench: \(CommandLine.arguments.joined(separator: " "))",
            "settings: cases=\(cases) per-event-cases=\(perEventCaseCount) workers=\(workers) rate=\(rate)/s "
                + "latency-seconds=\(latencySeconds) partitions=\(partitions) runs=\(runs) seed=\(seed)",
            "",
            BenchReport.table(results),
            "",
        ]
        lines += BenchReport.ratios(results)
        let statements = BenchReport.statements(results)
        if !statements.isEmpty { lines += [""] + statements }
        lines += [
            "",
            "notes:",
            "- events/s end to end = events / (last outbox publish - first event recorded), database timestamps;",
            "  ceiling = events / wall time of BatchProcessor.process over batches of 2,000 in one process (no Kafka, no publishing).",
            "- per-event runs use fewer cases (--per-event-cases); events/s is a rate, so the count only sets the sample size.",
            "- transactions/event and rows written/event are pg_stat_database deltas (xact_commit, tup_inserted+updated+deleted)",
            "  over the throughput phase; SQL statements/event counts pg_stat_statements calls in the bench database (BEGIN and",
            "  COMMIT included; '-' when the server does not load the module). Worker figures include the outbox relays' polls",
            "  and published marks; the bench's own polls are subtracted.",
            "- latency = first task published_at - the instant the bench handed the event to its producer, for events of the",
            "  paced phase that caused tasks (same machine, wall clock); offered rate is what the bench achieved.",
            "  Measured for the batched mode only; above the workers' throughput it is queueing time.",
            "- CPU µs/event = user+system time from /proc over the throughput phase (workers started to backlog drained;",
            "  loading excluded) / events: the worker processes, PostgreSQL (postmaster, backends, and exited backends via the",
            "  postmaster's children counters), the broker (tansu) and this bench process (its status polls). The ceiling",
            "  mode's run is all in the bench process (decode, rules, transaction) plus PostgreSQL.",
            "- peak RSS = max(VmRSS sampled every 200 ms, VmHWM) per worker process, read before SIGTERM; RSS caught up =",
            "  VmRSS 2.5 s after the backlog (and the latency phase) has been worked off, the workers idle.",
        ]
        return lines.joined(separator: "\n")
    }
}

/// Runs one mode once against the local services.
struct BenchRunner {
    let brokers: [String]
    let baseURL: String
    let key: SSNKey
    let environment: [String: String]
    let policy: Policy
    let partitions: Int
    let timeout: Duration
    let topStatements: Int
    let keepLogs: Bool
    let maxBatch: Int?
    /// Where `--profile` writes; nil = no profiling.
    let profile: URL?
    let logger: Logger = {
        var logger = Logger(label: "csworker.bench")
        logger.logLevel = .warning
        return logger
    }()

    func run(
        mode: BenchMode, workers: Int, events: [ScenarioEvent], latencyEvents: [ScenarioEvent], rate: Int
    ) async throws -> BenchFigures {
        let id = "\(mode == .perEvent ? "pe" : String(mode.rawValue.prefix(2)))_\(UInt32.random(in: 0...UInt32.max))"
        let database = "bench_\(id)"
        let admin = try connectDatabase(url: baseURL, logger: logger)
        defer { admin.close() }
        let databases = BenchmarkDatabases(connection: admin)
        try databases.create(database)
        defer { try? databases.drop(database) }
        let url = Self.databaseURL(baseURL, database: database)
        // Migrating on a session of its own that ends here gets its counters into
        // pg_stat_database before the baseline is read.
        do {
            let migrating = try connectDatabase(url: url, logger: logger)
            defer { migrating.close() }
            try Migrator.migrate(migrating, logger: logger)
        }
        try await Task.sleep(for: .milliseconds(300))
        let connection = try connectDatabase(url: url, logger: logger)
        defer { connection.close() }
        let topics = PipelineTopics(prefix: "bench.\(id).")

        if mode == .ceiling {
            return try await ceiling(events: events, topics: topics, url: url, databases: databases, database: database)
        }

        var adminConfiguration = KafkaAdminConfiguration(bootstrapServers: brokers)
        adminConfiguration.properties = KafkaConfigurationOverrides.fromEnvironment(environment)
        let kafkaAdmin = try KafkaAdmin(configuration: adminConfiguration, logger: logger)
        _ = try await kafkaAdmin.createTopics(
            topics.all.map { KafkaTopicSpec(name: $0, partitions: partitions, replicationFactor: 1) })

        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
        producerConfiguration.properties = KafkaConfigurationOverrides.fromEnvironment(environment)
        producerConfiguration.linger = .milliseconds(20)
        let loader = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        let loadStarted = ContinuousClock.now
        for chunk in stride(from: 0, to: events.count, by: 250) {
            let messages = events[chunk..<min(chunk + 250, events.count)].map {
                KafkaOutgoingMessage(topic: topics.prefix + $0.topic, key: $0.key, value: $0.value)
            }
            for report in try await loader.sendAll(messages) { _ = try report.get() }
        }
        let loadSeconds = (ContinuousClock.now - loadStarted).inSeconds
        loader.close()

        var workerEnvironment = environment
        workerEnvironment["CSE_KAFKA_BROKERS"] = brokers.joined(separator: ",")
        workerEnvironment["CSE_KAFKA_MAX_POLL_INTERVAL_MS"] = "30000"
        workerEnvironment["CSE_KAFKA_SESSION_TIMEOUT_MS"] = "6000"
        workerEnvironment["CSE_TOPIC_PREFIX"] = topics.prefix
        workerEnvironment["CSE_CONSUMER_GROUP"] = "bench-\(id)"
        workerEnvironment["CSE_DATABASE_URL"] = url
        workerEnvironment["CSE_HTTP_PORT"] = "0"  // several workers: no two on the same port
        let logDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("csworker-bench-\(id)")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)

        let before = try databases.activity(of: database)
        let profiler = profile.flatMap { BenchProfiler.make(directory: $0) }
        let group = try BenchWorkerGroup(
            count: workers,
            arguments: ["--drain-seconds", "2"] + (mode == .perEvent ? ["--max-batch", "1"] : maxBatch.map { ["--max-batch", "\($0)"] } ?? []),
            environment: workerEnvironment, logDirectory: logDirectory, profiler: profiler, label: id)
        group.startSampling()
        let cpuBefore = BenchCPU.now(workers: group.pids)
        do {
            let status = ProcessingStatusReader(connection: connection, deadLetterTopic: topics.deadLetter)
            var polls = try await waitUntilDrained(expecting: events.count, status: status, workers: group)
            let cpu = (BenchCPU.now(workers: group.pids) - cpuBefore).perEvent(events.count)
            let window = try BenchmarkReadings(connection: connection).window()
            polls += 1
            // Sessions report their counters to pg_stat_database within a second of going idle.
            try await Task.sleep(for: .milliseconds(1_500))
            let activity = try databases.activity(of: database) - before
            let transactions = Double(activity.transactionsCommitted - Int64(polls))
            guard let first = window.firstProcessedAt, let last = window.lastPublishedAt ?? window.lastProcessedAt else {
                throw BenchFailure("the workers recorded no events")
            }

            var figures = BenchFigures(
                events: events.count, loadSeconds: loadSeconds,
                eventsPerSecond: Double(events.count) / max(last.timeIntervalSince(first), 0.001),
                transactionsPerEvent: transactions / Double(events.count),
                rowsWrittenPerEvent: Double(activity.rowsWritten) / Double(events.count),
                statementsPerEvent: activity.statements.map { Double($0 - Int64(polls)) / Double(events.count) })
            figures.topStatements = try databases.topStatements(of: database, limit: topStatements)
            figures.cpuPerEvent = cpu
            if !latencyEvents.isEmpty {
                let produced = try await offer(latencyEvents, rate: rate, topics: topics)
                _ = try await waitUntilDrained(expecting: events.count + latencyEvents.count, status: status, workers: group)
                let readings = BenchmarkReadings(connection: connection)
                let published = try readings.firstTaskPublications()
                let recorded = try readings.recordedTimes()
                let latencies = produced.instants.compactMap { id, instant in
                    published[id].map { $0.timeIntervalSince(instant) * 1000 }
                }
                let split = produced.instants.compactMap { id, instant -> (Double, Double)? in
                    guard let publishedAt = published[id], let recordedAt = recorded[id] else { return nil }
                    return (recordedAt.timeIntervalSince(instant) * 1000, publishedAt.timeIntervalSince(recordedAt) * 1000)
                }
                let waited = try readings.eventsThatWaited()
                let onArrival = produced.instants.compactMap { id, instant in
                    waited.contains(id) ? nil : published[id].map { $0.timeIntervalSince(instant) * 1000 }
                }
                figures.onArrivalP95Ms = BenchStatistics.percentile(95, of: onArrival)
                figures.onArrivalP99Ms = BenchStatistics.percentile(99, of: onArrival)
                figures.waitedForCase = produced.instants.keys.filter { waited.contains($0) && published[$0] != nil }.count
                figures.untilBatchP50Ms = BenchStatistics.percentile(50, of: split.map(\.0))
                figures.batchToPublishP50Ms = BenchStatistics.percentile(50, of: split.map(\.1))
                figures.latencyP50Ms = BenchStatistics.percentile(50, of: latencies)
                figures.latencyP95Ms = BenchStatistics.percentile(95, of: latencies)
                figures.latencyP99Ms = BenchStatistics.percentile(99, of: latencies)
                figures.latencySamples = latencies.count
                figures.offeredEventsPerSecond = produced.achievedRate
            }
            figures.peakRSSMiB = group.peakRSSMiB()
            // A worker hands freed memory back within a second or two of going idle.
            try await Task.sleep(for: .milliseconds(2_500))
            figures.restingRSSMiB = group.currentRSSMiB()
            await group.stop()
            profiler?.report(labels: group.profileLabels)
            await dropTopics(topics, admin: kafkaAdmin)
            if keepLogs {
                printError("bench: worker logs in \(logDirectory.path)")
            } else {
                try? FileManager.default.removeItem(at: logDirectory)
            }
            return figures
        } catch {
            await group.stop()
            await dropTopics(topics, admin: kafkaAdmin)
            printError("bench: worker logs kept in \(logDirectory.path)")
            throw error
        }
    }

    /// A broker keeping every earlier run's messages measures itself (Tansu
    /// 0.6 holds them in memory, and its produce and fetch times grow with them).
    func dropTopics(_ topics: PipelineTopics, admin: KafkaAdmin) async {
        do {
            _ = try await admin.deleteTopics(topics.all)
        } catch {
            printError("bench: could not delete the run's topics (\(error)); later runs share the broker with them")
        }
    }

    /// The storage alone: decode, rules and the batch transaction in this
    /// process, 2,000 events a batch, nothing consumed or published.
    func ceiling(
        events: [ScenarioEvent], topics: PipelineTopics, url: String, databases: BenchmarkDatabases, database: String
    ) async throws -> BenchFigures {
        let connection = try connectDatabase(url: url, logger: logger)
        let protector = SSNProtector(key: key)
        let processor = BatchProcessor(
            store: CaseStore(
                connection: connection, protector: protector, calendar: policy.calendar,
                cachedStates: Int(Setting.cachedCases.defaultValue!)!, logger: logger),
            protector: protector, topics: topics, policy: policy, logger: logger)
        let records = events.enumerated().map { offset, event in
            InboundRecord(
                topic: topics.prefix + event.topic, partition: 0, offset: Int64(offset), key: event.key, value: event.value,
                timestampMilliseconds: Int64(event.occurredAt.timeIntervalSince1970 * 1000))
        }
        let before = try databases.activity(of: database)
        let cpuBefore = BenchCPU.now(workers: [])
        let started = ContinuousClock.now
        for chunk in stride(from: 0, to: records.count, by: 2_000) {
            _ = try processor.process(Array(records[chunk..<min(chunk + 2_000, records.count)]))
        }
        let elapsed = (ContinuousClock.now - started).inSeconds
        let cpu = (BenchCPU.now(workers: []) - cpuBefore).perEvent(events.count)
        // A session reports its counters to pg_stat_database when it ends.
        connection.close()
        try await Task.sleep(for: .milliseconds(500))
        let activity = try databases.activity(of: database) - before
        var figures = BenchFigures(
            events: events.count, loadSeconds: nil, eventsPerSecond: Double(events.count) / max(elapsed, 0.001),
            transactionsPerEvent: Double(activity.transactionsCommitted) / Double(events.count),
            rowsWrittenPerEvent: Double(activity.rowsWritten) / Double(events.count),
            statementsPerEvent: activity.statements.map { Double($0) / Double(events.count) })
        figures.topStatements = try databases.topStatements(of: database, limit: topStatements)
        figures.cpuPerEvent = cpu
        return figures
    }

    /// Polls until every event is accounted for and the outbox is empty;
    /// returns how many polls it made (each one transaction on the database).
    func waitUntilDrained(expecting count: Int, status: ProcessingStatusReader, workers: BenchWorkerGroup) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var polls = 0
        while true {
            let progress = try status.progress()
            polls += 1
            if progress.accounted >= count && progress.unpublished == 0 { return polls }
            if let (index, code) = workers.exited() {
                throw BenchFailure("worker \(index + 1) exited with status \(code); see \(workers.logFiles[index].path)")
            }
            guard ContinuousClock.now < deadline else {
                throw BenchFailure("timed out: \(progress.accounted) of \(count) events recorded, \(progress.unpublished) unpublished")
            }
            // The figures come from database timestamps, not from when this poll
            // notices; polling less leaves the server to the workers (each poll counts rows).
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    struct Offered {
        /// When each event was handed to the producer, by event id.
        var instants: [UUID: Date]
        var achievedRate: Double
    }

    /// Produces `events` paced by a token bucket at `rate` per second.
    func offer(_ events: [ScenarioEvent], rate: Int, topics: PipelineTopics) async throws -> Offered {
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.properties = KafkaConfigurationOverrides.fromEnvironment(environment)
        configuration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        defer { producer.close() }
        let clock = ContinuousClock()
        let origin = clock.now
        func now() -> Double { (clock.now - origin).inSeconds }
        var bucket = TokenBucket(rate: Double(rate), burst: max(1, Double(rate) / 10), start: 0)
        var instants: [UUID: Date] = [:]
        var deliveries: [Task<(Date, [Result<KafkaDeliveryReport, KafkaError>]), any Error>] = []
        var deliveryIds: [[UUID]] = []
        var next = 0
        while next < events.count {
            let granted = bucket.take(now: now(), limit: events.count - next)
            guard granted > 0 else {
                try await Task.sleep(for: .milliseconds(max(1, Int(bucket.wait() * 1000))))
                continue
            }
            let batch = events[next..<next + granted]
            next += granted
            deliveryIds.append(batch.compactMap { UUID(uuidString: $0.eventId) })
            let messages = batch.map { KafkaOutgoingMessage(topic: topics.prefix + $0.topic, key: $0.key, value: $0.value) }
            // Acknowledgements are awaited at the end: waiting for each would hold the pace to the broker's
            // round trip. The hand-over instant is taken where the messages reach librdkafka, not when the
            // task is created: a task can start late.
            deliveries.append(Task { (Date(), try await producer.sendAll(messages)) })
        }
        let achieved = Double(events.count) / max(now(), 0.001)
        for (delivery, ids) in zip(deliveries, deliveryIds) {
            let (handed, reports) = try await delivery.value
            for report in reports { _ = try report.get() }
            for id in ids { instants[id] = handed }
        }
        return Offered(instants: instants, achievedRate: achieved)
    }

    /// `base` pointed at another database of the same server.
    static func databaseURL(_ base: String, database: String) -> String {
        if base.contains("://"), var components = URLComponents(string: base) {
            components.path = "/" + database
            return components.string ?? base
        }
        // Keyword/value form: libpq takes the last occurrence of a keyword.
        return base + " dbname=" + database
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}


