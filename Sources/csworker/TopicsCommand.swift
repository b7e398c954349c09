import ArgumentParser
import CasePipeline
import Kafka
import JSON
import Logging

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Manage the contract's Kafka topics.",
        subcommands: [Ensure.self]
    )

    struct Ensure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the input, task and dead-letter topics that are missing.",
            discussion: """
                Input and task topics get max.message.bytes 1048588 (Kafka's default), the dead-letter topic 4194304,
                so any record an input topic accepted can be dead-lettered byte for byte. Topics already present are
                left as they are: give an existing dead-letter topic the larger limit with your cluster's tools.
                """
        )

        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var logging: LoggingOptions

        @Option(help: "Partitions for topics created now: the ceiling on how many worker processes share the load (env CSE_TOPIC_PARTITIONS, default 12).")
        var partitions: Int?

        @Option(help: "Replication factor for topics created now (env CSE_TOPIC_REPLICATION_FACTOR, default 3, as production clusters need; 1 only on a one-broker development setup).")
        var replicationFactor: Int?

        @Flag(help: "Print the outcome as one JSON object.")
        var json = false

        func run() async throws {
            let partitions = try Setting.topicPartitions.integer(flag: partitions, minimum: 1)
            let replicationFactor = try Setting.topicReplicationFactor.integer(flag: replicationFactor, minimum: 1)
            var configuration = KafkaAdminConfiguration(bootstrapServers: try kafka.brokers())
            configuration.properties = try kafka.properties()
            try await reportingFailures {
                let admin = try KafkaAdmin(configuration: configuration, logger: Logger(label: "csworker.topics"))
                try admin.checkReachable()
                let topics = topicOptions.topics
                let specs = topics.all.map {
                    KafkaTopicSpec(
                        name: $0, partitions: partitions, replicationFactor: replicationFactor, config: topics.creationConfig($0))
                }
                let outcome = try await admin.createTopics(specs)
                if json {
                    print(JSONValue.object([
                        "created": .array(outcome.created.sorted().map { .string($0) }),
                        "alreadyPresent": .array(outcome.alreadyExisted.sorted().map { .string($0) }),
                        "partitions": .int(Int64(partitions)), "replicationFactor": .int(Int64(replicationFactor)),
                    ]).serializedString())
                    return
                }
                for name in outcome.created.sorted() {
                    print("created \(name) (\(partitions) partitions, replication factor \(replicationFactor))")
                }
                print("\(outcome.created.count) created, \(outcome.alreadyExisted.count) already present")
            }
        }
    }
}
