import ArgumentParser
import CaseDomain
import CasePipeline
import CaseStorage
import Foundation
import JSON
import Kafka
import Logging

/// `csworker sweep`: the time-driven rules for every open case, as of a
/// business date.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Re-evaluate arrears referrals of every open case as of a date and enqueue what became due.",
        discussion: """
            Obligations accrue monthly without any event, so arrears thresholds are crossed by the calendar
            alone; run this daily. Tasks go to the outbox, which running workers publish; with --publish the
            command publishes them itself (no workers needed). Idempotent: a second sweep for the same date
            enqueues nothing, and a sweep for an earlier date than one already run does nothing.
            Needs CSE_SSN_KEY and CSE_DATABASE_URL (CSE_KAFKA_BROKERS with --publish).
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var ssnKeyOptions: SSNKeyOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Evaluate every open case and report what would be enqueued; change nothing.")
    var dryRun = false

    @Flag(help: "Print the report as one JSON object.")
    var json = false

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The business date to evaluate as of (YYYY-MM-DD; default today in the agency zone).", valueName: "date"))
    var asOfText: String?

    @Option(help: "Cases per transaction.")
    var batchSize: Int = 500

    @Flag(help: "Publish the sweep's tasks from this process and wait until the broker acknowledged them.")
    var publish = false

    @Option(help: "With --publish: seconds to wait for the tasks to be published before giving up (exit 69).")
    var publishTimeoutSeconds: Int = 120

    func validate() throws {
        if let asOfText, LocalDate(iso8601: asOfText) == nil {
            throw ValidationError("--as-of must be a date, YYYY-MM-DD")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard publishTimeoutSeconds >= 1 else { throw ValidationError("--publish-timeout-seconds must be at least 1") }
    }

    func run() async throws {
        guard !(dryRun && publish) else { throw ValidationError("--dry-run enqueues nothing, so there is nothing to --publish") }
        let databaseURL = try database.url()
        let brokers = publish ? try kafka.brokers() : []
        let key = try ssnKeyOptions.key()
        let policy = try policyOptions.load()
        // An operator's "today" is the wall clock's date in the agency zone; the rules never read the clock.
        let asOf = asOfText.flatMap { LocalDate(iso8601: $0) } ?? policy.calendar.businessDate(of: Date())
        let logger = Logger(label: "csworker.sweep")
        let protector = SSNProtector(key: key)
        let topics = topicOptions.topics

        try await reportingFailures {
            // A one-off command: blocking calls on this task are fine (nothing else runs).
            let report: ReferralSweep.Report
            do {
                let database = try connectDatabase(url: databaseURL, logger: logger)
                defer { database.close() }
                try requireCurrentSchema(database)
                let sweep = ReferralSweep(
                    store: CaseStore(
                        connection: database, protector: protector, calendar: policy.calendar, cachedStates: 0, logger: logger),
                    topics: topics, policy: policy, batchSize: batchSize, logger: logger)
                report = try sweep.run(asOf: asOf, dryRun: dryRun)
                // Workers with the in-process schedule then skip this date.
                if !dryRun {
                    try SweepRuns(connection: database).recordDone(
                        asOf: asOf, casesEvaluated: report.casesEvaluated, tasks: report.tasks)
                }
            }
            print(json ? Self.json(report, dryRun: dryRun) : Self.summary(report, dryRun: dryRun))
            if publish {
                try await publishTasks(
                    report.taskIds, brokers: brokers, databaseURL: databaseURL, calendar: policy.calendar, protector: protector,
                    logger: logger)
                print("published: \(report.taskIds.count) tasks")
            }
        }
    }

    /// Runs an outbox relay (as a worker would) until the sweep's own tasks are acknowledged.
    private func publishTasks(
        _ taskIds: [UUID], brokers: [String], databaseURL: String, calendar: BusinessCalendar, protector: SSNProtector,
        logger: Logger
    ) async throws {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
        producerConfiguration.properties = try kafka.properties()
        // The relay publishes dead letters up to the dead-letter topic's limit.
        producerConfiguration.maxMessageBytes = PipelineTopics.producerMaxMessageBytes
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        defer { producer.close() }
        let relayConnection = try connectDatabase(url: databaseURL, logger: logger)
        let watchConnection = try connectDatabase(url: databaseURL, logger: logger)
        defer {
            relayConnection.close()
            watchConnection.close()
        }
        let relay = OutboxRelay(
            source: OutboxStore(connection: relayConnection, protector: protector, logger: logger), producer: producer,
            configuration: OutboxRelay.Configuration(calendar: calendar), logger: logger)
        let watch = OutboxStore(connection: watchConnection, protector: protector, logger: logger)
        relay.start()
        defer { relay.stop(drain: .zero) }
        let deadline = ContinuousClock.now + .seconds(publishTimeoutSeconds)
        while try watch.unpublishedCount(messageIds: taskIds) > 0 {
            guard ContinuousClock.now < deadline else {
                printError("csworker: the sweep's tasks are enqueued but not all were published within \(publishTimeoutSeconds) s; running workers will publish them")
                throw ServiceExit.unavailable
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func summary(_ report: ReferralSweep.Report, dryRun: Bool = false) -> String {
        var lines = [
            dryRun
                ? "dry run as of \(report.asOf): \(report.casesEvaluated) open cases evaluated, \(report.casesChanged) would change, \(report.tasks) tasks would be enqueued (nothing written)"
                : "sweep as of \(report.asOf): \(report.casesEvaluated) open cases evaluated, \(report.casesChanged) changed, \(report.tasks) tasks enqueued"
        ]
        for (type, count) in report.tasksByType.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            lines.append("  \(type.rawValue): \(count)")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: ReferralSweep.Report, dryRun: Bool) -> String {
        JSONValue.object([
            "asOf": .string("\(report.asOf)"), "dryRun": .bool(dryRun),
            "casesEvaluated": .int(Int64(report.casesEvaluated)), "casesChanged": .int(Int64(report.casesChanged)),
            "tasks": .int(Int64(report.tasks)),
            "tasksByType": .object(Dictionary(uniqueKeysWithValues: report.tasksByType.map { ($0.key.rawValue, JSONValue.int(Int64($0.value))) })),
        ]).serializedString()
    }
}
