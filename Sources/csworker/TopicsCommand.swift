import ArgumentParser
import CasePipeline
import Kafka
import Logging

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Manage the contract's Kafka topics.",
        subcommands: [Ensure.self]
    )

    struct Ensure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the input, task and dead-letter topics that are missing."
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var topicOptions: TopicOptions

        @Option(help: "Partitions for topics created now; the ceiling on how many worker processes share the load.")
        var partitions: Int = 12

        @Option(help: "Replication factor for topics created now (3 in production clusters).")
        var replicationFactor: Int = 1

        func validate() throws {
            guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
            guard replicationFactor >= 1 else { throw ValidationError("--replication-factor must be at least 1") }
        }

        func run() async throws {
            var configuration = KafkaAdminConfiguration(bootstrapServers: try connection.brokers())
            configuration.properties = KafkaConfigurationOverrides.fromEnvironment(connection.environment)
            try await reportingFailures {
                let admin = try KafkaAdmin(configuration: configuration, logger: Logger(label: "csworker.topics"))
                try admin.checkReachable()
                let specs = topicOptions.topics.all.map {
                    KafkaTopicSpec(name: $0, partitions: partitions, replicationFactor: replicationFactor)
                }
                let outcome = try await admin.createTopics(specs)
                for name in outcome.created.sorted() { print("created \(name) (\(partitions) partitions)") }
                print("\(outcome.created.count) created, \(outcome.alreadyExisted.count) already present")
            }
        }
    }
}
