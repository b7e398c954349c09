import ArgumentParser
import CaseStorage
import Foundation
import Kafka
import Logging
import Postgres
import TimeUnits

/// Proves the service can reach and use both of its services through the real
/// layers: a keyed round trip through a consumer group on a probe topic, and a
/// transaction on the database. It never writes to the contract's topics.
struct SelfCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selfcheck",
        abstract: "Check the broker and the database: produce and consume a sample, run a transaction."
    )

    static let probeTopic = "csworker.selfcheck.v1"

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "How many sample messages to send through the broker.")
    var messages: Int = 60

    @Option(help: "Seconds to wait for the sample to come back.")
    var timeout: Int = 60

    func validate() throws {
        guard messages >= 1 else { throw ValidationError("--messages must be at least 1") }
    }

    func run() async throws {
        let brokers = try kafka.brokers()
        let databaseURL = try database.url()
        let overrides = try kafka.properties()
        try await reportingFailures {
            try checkDatabase(url: databaseURL)
            try await checkBroker(brokers: brokers, overrides: overrides)
        }
    }

    private func checkBroker(brokers: [String], overrides: [String: String]) async throws {
        let logger = Logger(label: "csworker.selfcheck")
        let started = ContinuousClock.now

        var adminConfiguration = KafkaAdminConfiguration(bootstrapServers: brokers)
        adminConfiguration.properties = overrides
        let admin = try KafkaAdmin(configuration: adminConfiguration, logger: logger)
        try admin.checkReachable()
        _ = try await admin.createTopics([KafkaTopicSpec(name: Self.probeTopic, partitions: 6, replicationFactor: 1)])

        // A run id in a header tells this run's sample apart from earlier runs'.
        let run = UUID().uuidString.lowercased()
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
        producerConfiguration.properties = overrides
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        let sample = (0..<messages).map { index in
            KafkaOutgoingMessage(
                topic: Self.probeTopic,
                key: Array("SELFCHECK-\(index)".utf8),
                value: Array(#"{"probe":\#(index)}"#.utf8),
                headers: [KafkaHeader("selfcheck-run", run)]
            )
        }
        let reports = try await producer.sendAll(sample)
        let delivered = try reports.map { try $0.get() }
        producer.close()
        let produced = ContinuousClock.now

        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupId: "csworker-selfcheck-\(run)")
        consumerConfiguration.maxPollInterval = .seconds(6)
        consumerConfiguration.sessionTimeout = .seconds(6)
        consumerConfiguration.properties = overrides
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        try consumer.subscribe([Self.probeTopic])
        var received: [String: Int] = [:]
        var partitions = Set<Int32>()
        let deadline = ContinuousClock.now + .seconds(timeout)
        while received.count < messages, ContinuousClock.now < deadline {
            let batch = try consumer.pollBatch(maxMessages: 500, timeout: .milliseconds(200))
            for message in batch where message.header("selfcheck-run") == Array(run.utf8) {
                received[String(decoding: message.key ?? [], as: UTF8.self), default: 0] += 1
                partitions.insert(message.partition)
            }
            if !batch.isEmpty { try consumer.commit(processed: batch) }
        }
        try consumer.close()
        guard received.count == messages, received.values.allSatisfy({ $0 == 1 }) else {
            throw SelfCheckFailure("broker round trip: sent \(messages) messages, got back \(received.count) distinct within \(timeout)s")
        }
        let elapsed = ContinuousClock.now - started
        print("broker \(brokers.joined(separator: ",")): produced \(delivered.count) keyed messages to \(Self.probeTopic) "
            + "(acknowledged in \((produced - started).inMilliseconds) ms), consumed each exactly once from "
            + "\(partitions.count) partitions through a consumer group, offsets committed; \(elapsed.inMilliseconds) ms in all")
    }

    private func checkDatabase(url: String) throws {
        let started = ContinuousClock.now
        let connection = try PostgresConnection(connectionString: url, connectTimeout: .seconds(10))
        defer { connection.close() }
        let rows = try DatabaseProbe.roundTrip(connection: connection, rows: messages)
        guard rows == Int64(messages) else {
            throw SelfCheckFailure("database round trip: wrote \(messages) rows, read back \(rows)")
        }
        print("database \(connection.maskedConnectionString): PostgreSQL \(connection.serverVersion), "
            + "a transaction wrote and read back \(rows) rows in \((ContinuousClock.now - started).inMilliseconds) ms")
    }
}

struct SelfCheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}


