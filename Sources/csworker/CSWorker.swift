import ArgumentParser
import Kafka
import Postgres

@main
struct CSWorker: AsyncParsableCommand {
    static let version = "0.1.0"

    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "csworker",
            abstract: "Processes child support enforcement case events and publishes the tasks the rules require.",
            version: versionText,
            subcommands: [
                MigrateCommand.self, RunCommand.self, CaseCommand.self, TopicsCommand.self, FeedCommand.self,
                StatusCommand.self, SelfCheckCommand.self,
                SweepCommand.self, DeadLettersCommand.self, OutboxCommand.self,
                PolicyCommand.self, ConfigCommand.self, EventsCommand.self, ConsoleCommand.self, BenchCommand.self,
            ]
        )
    }

    /// The versions of the C libraries actually loaded, not the headers compiled against.
    static var versionText: String {
        "csworker \(version) (librdkafka \(librdkafkaVersion), libpq \(PostgresConnection.libpqVersion))"
    }
}
