import CaseContract
import ArgumentParser
import CasePipeline
import CaseScenarios
import Foundation
import Kafka
import Logging
import TimeUnits

/// Produces a generated, realistic event stream to the input topics: the
/// demo's (and a load test's) stand-in for the agency systems.
struct FeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Produce a generated scenario (intake, employer reports, court outcomes, a few poison messages) to the input topics.",
        discussion: """
            A development and test tool: it produces fake cases. It refuses to run when the input topics already
            hold records, unless --allow-existing-data says this is a test setup.
            """
    )

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var developmentGuard: DevelopmentGuardOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "How many cases the scenario covers.")
    var cases: Int = 1_000

    @Option(help: "Seed of the generator: the same seed produces the same events.")
    var seed: UInt64 = 1

    @Option(help: "Months of business time the scenario spans.")
    var months: Int = 12

    @Option(help: "Share of messages that are poison (meant for the dead-letter topic), 0...0.5.")
    var poisonShare: Double = 0.01

    @Option(help: ArgumentHelp(
        "Share of records that are mutants of valid ones (fields deleted, types swapped, overflowing numbers, NUL and control characters, 10 KB strings, deep nesting, 50,000-item arrays, dates past the range, duplicate keys, invalid UTF-8, 900 KB records), 0...0.9.",
        discussion: "Mutants name only FZ- cases and SSNs with serial 0000, so the valid part decides as it would without them."))
    var mutations: Double = 0

    @Option(help: "Case id prefix (give runs that share a database different prefixes).")
    var casePrefix: String = "CS"

    func validate() throws {
        guard cases >= 1 else { throw ValidationError("--cases must be at least 1") }
        guard months >= 1 else { throw ValidationError("--months must be at least 1") }
        guard (0...0.5).contains(poisonShare) else { throw ValidationError("--poison-share must be within 0...0.5") }
        guard (0...0.9).contains(mutations) else { throw ValidationError("--mutations must be within 0...0.9") }
    }

    func run() async throws {
        let brokers = try kafka.brokers()
        let properties = try kafka.properties()
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
        producerConfiguration.properties = properties
        producerConfiguration.linger = .milliseconds(20)
        let topics = topicOptions.topics
        var scenario = ScenarioConfiguration.demo(cases: cases, seed: seed, months: months)
        scenario.poisonShare = poisonShare
        scenario.caseIdPrefix = casePrefix

        try await reportingFailures {
            try developmentGuard.checkTopics(brokers: brokers, properties: properties, topics: topics.input)
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: Logger(label: "csworker.feed"))
            defer { producer.close() }
            var summary = ScenarioSummary(cases: cases)
            var chunk: [KafkaOutgoingMessage] = []
            let progress = ProgressLine(label: "feed")
            let started = ContinuousClock.now

            func flush() async throws {
                let reports = try await producer.sendAll(chunk)
                for report in reports { _ = try report.get() }
                chunk.removeAll(keepingCapacity: true)
                progress.update("\(summary.events) events produced (\(rate(summary.events, since: started)) events/s)")
            }
            var mixer = Mutations.Mixer(share: mutations, seed: seed)
            for event in ScenarioGenerator(scenario) {
                summary.record(event)
                chunk.append(KafkaOutgoingMessage(topic: topics.prefix + event.topic, key: event.key, value: event.value))
                for (mutant, kind) in mixer.mutants(after: event) {
                    summary.recordMutant(kind)
                    chunk.append(KafkaOutgoingMessage(topic: topics.prefix + mutant.topic, key: mutant.key, value: mutant.value))
                }
                // Small acknowledged chunks keep each partition's record batches short, so
                // consumers see the topics interleaved in business-time order, as a live feed
                // would deliver them, rather than months of one topic at a time.
                if chunk.count == 250 { try await flush() }
            }
            if !chunk.isEmpty { try await flush() }
            progress.finish("\(summary.events) events produced in \((ContinuousClock.now - started).inMilliseconds) ms")
            print(summary)
        }
    }
}

/// Names the topics the pipeline uses; a prefix gives a test or a shared
/// cluster its own set.
struct TopicOptions: ParsableArguments {
    @Option(name: .customLong("topic-prefix"), help: "Prefix for every topic name (env CSE_TOPIC_PREFIX; default none).")
    var prefixFlag: String?

    var topics: PipelineTopics {
        PipelineTopics(prefix: Setting.topicPrefix.text(flag: prefixFlag))
    }
}

/// One line on stderr rewritten in place while a command works (a plain line
/// per update when stderr is not a terminal, at most one a second).
final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastPrinted = ContinuousClock.now - .seconds(10)

    init(label: String) { self.label = label }

    func update(_ text: String) {
        let now = ContinuousClock.now
        guard now - lastPrinted >= (interactive ? .milliseconds(100) : .seconds(1)) else { return }
        lastPrinted = now
        write(interactive ? "\r\u{1B}[2K\(label): \(text)" : "\(label): \(text)\n")
    }

    func finish(_ text: String) {
        write(interactive ? "\r\u{1B}[2K\(label): \(text)\n" : "\(label): \(text)\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

func rate(_ count: Int, since start: ContinuousClock.Instant) -> Int {
    let elapsed = Double((ContinuousClock.now - start).inMilliseconds) / 1000
    return elapsed > 0 ? Int(Double(count) / elapsed) : 0
}
