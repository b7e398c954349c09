import CasePipeline
import Foundation
import Kafka
import Logging
import Postgres
import Synchronization
import Testing
import TestSupport

/// The local services from `eval "$(scripts/services.sh env)"`. These tests
/// need the real PostgreSQL and broker and fail (never skip) without them.
enum Services {
    struct NotConfigured: Error, CustomStringConvertible {
        let variable: String
        var description: String {
            "\(variable) is not set: start services with scripts/services.sh start, then eval \"$(scripts/services.sh env)\""
        }
    }

    static func setting(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw NotConfigured(variable: name) }
        return value
    }

    static func brokers() throws -> [String] {
        try setting("CSE_KAFKA_BROKERS").split(separator: ",").map(String.init)
    }

    static func serverURL() throws -> String { try setting("CSE_DATABASE_URL") }

    /// Quiet unless PIPELINE_TEST_LOG_LEVEL says otherwise.
    static let logger: Logger = {
        var logger = Logger(label: "pipeline-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["PIPELINE_TEST_LOG_LEVEL"]
            .flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    static func uniqueLabel() -> String { UUID().uuidString.prefix(8).lowercased() }

    /// A database of its own for one test (advisory locks, shards and counts
    /// stay private to it); its connection string.
    static func freshDatabase() throws -> String {
        let name = "pipeline_\(uniqueLabel())"
        let admin = try PostgresConnection(connectionString: try serverURL(), connectTimeout: .seconds(5))
        defer { admin.close() }
        try admin.executeScript("CREATE DATABASE \(name)")
        return try databaseURL(replacingNameWith: name)
    }

    /// Drops a database `freshDatabase` made, closing whatever still uses it.
    static func dropDatabase(_ url: String) {
        guard let name = url.split(separator: "/").last?.split(separator: "?").first, name.hasPrefix("pipeline_") else { return }
        do {
            let admin = try PostgresConnection(connectionString: try serverURL(), connectTimeout: .seconds(5))
            defer { admin.close() }
            try admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        } catch {
            Issue.record("could not drop test database \(name): \(error)")
        }
    }

    /// The server's connection string pointed at another database: a URI's
    /// path is replaced, a keyword string gets a later `dbname` (the last wins).
    static func databaseURL(replacingNameWith name: String) throws -> String {
        let url = try serverURL()
        guard let scheme = url.range(of: "://") else { return url + " dbname=\(name)" }
        let afterScheme = url[scheme.upperBound...]
        let query = afterScheme.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        return String(url[..<scheme.upperBound]) + authority + "/" + name + query
    }

    /// Topics of its own for one test: the contract's names behind a unique prefix.
    static func freshTopics(partitions: Int = 3) async throws -> PipelineTopics {
        let topics = PipelineTopics(prefix: "t\(uniqueLabel()).")
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: try brokers()), logger: logger)
        // With the limits `topics ensure` sets.
        _ = try await admin.createTopics(topics.all.map {
            KafkaTopicSpec(name: $0, partitions: partitions, replicationFactor: 1, config: topics.creationConfig($0))
        })
        return topics
    }

    /// Group timings that keep Tansu's joins to a few seconds.
    static func consumerConfiguration(group: String) throws -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: try brokers(), groupId: group)
        configuration.maxPollInterval = .seconds(30)
        configuration.sessionTimeout = .seconds(6)
        return configuration
    }

    static func producer() throws -> KafkaProducer {
        var configuration = KafkaProducerConfiguration(bootstrapServers: try brokers())
        configuration.linger = .milliseconds(2)
        return try KafkaProducer(configuration: configuration, logger: logger)
    }
}


/// Waits (polling every 100 ms) until `condition` holds or `timeout` passes.
func eventually(
    timeout: Duration, _ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out after \(timeout) waiting until \(what())", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
