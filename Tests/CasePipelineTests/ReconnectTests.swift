import CaseContract
import CaseDomain
import CasePipeline
@testable import CaseStorage
import Foundation
import Kafka
import Postgres
import Testing
import TestSupport

/// Every database session recovers by itself: the outbox relay and the
/// readiness probe after their backend is terminated, and after the server
/// is crash-restarted (a private cluster, so no other test is disturbed).
@Suite("Sessions reconnect: relay and probe", .timeLimit(.minutes(3)))
struct ReconnectTests {
    /// `count` outbox rows on the locate topic, keyed by case.
    static func enqueue(_ count: Int, from first: Int, url: String, protector: SSNProtector, topics: PipelineTopics) throws {
        let connection = try PostgresConnection(connectionString: url, connectTimeout: .seconds(5))
        defer { connection.close() }
        let store = CaseStore(connection: connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000, logger: Services.logger)
        let messages = (first..<(first + count)).map { n in
            OutboxMessage(
                messageId: UUID(), topic: topics.tasks(.locate), key: Array("RC-\(n)".utf8), value: Array(#"{"n":\#(n)}"#.utf8),
                headers: [], containsPersonalData: false)
        }
        try store.withBatch { try $0.enqueueOutbox(messages) }
    }

    static func relay(url: String, protector: SSNProtector, producer: KafkaProducer) throws -> (OutboxRelay, PostgresConnection) {
        let connection = try PostgresConnection(connectionString: url, connectTimeout: .seconds(5))
        var configuration = OutboxRelay.Configuration(calendar: BusinessCalendar())
        configuration.backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(500))
        let relay = OutboxRelay(
            source: OutboxStore(connection: connection, protector: protector, logger: Services.logger), producer: producer,
            configuration: configuration, logger: Services.logger)
        return (relay, connection)
    }

    @Test func theRelayReconnectsAfterItsBackendIsTerminated() async throws {
        let h = try await PipelineHarness.make()
        do {
            let (relay, connection) = try Self.relay(url: h.databaseURL, protector: h.protector, producer: h.producer)
            relay.start()
            try Self.enqueue(5, from: 0, url: h.databaseURL, protector: h.protector, topics: h.topics)
            try await eventually(timeout: .seconds(45), "the first rows are published") { h.collector.all.count >= 5 }
            _ = try h.connection.query("SELECT pg_terminate_backend($1)", connection.backendPID)
            try Self.enqueue(5, from: 5, url: h.databaseURL, protector: h.protector, topics: h.topics)
            try await eventually(timeout: .seconds(30), "rows enqueued after the termination are published") { h.collector.all.count >= 10 }
            try await eventually(timeout: .seconds(10), "and marked published") { try h.unpublished == 0 }
            relay.stop(drain: .seconds(1))
            connection.close()
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }

    @Test func theRelayAndTheProbeRecoverFromAServerRestart() async throws {
        let server = try PrivatePostgres.start()
        defer { server.destroy() }
        let h = try await PipelineHarness.make()
        do {
            let admin = try PostgresConnection(connectionString: server.url, connectTimeout: .seconds(5))
            try admin.executeScript("CREATE DATABASE restarts")
            admin.close()
            let url = server.url(database: "restarts")
            let migrating = try PostgresConnection(connectionString: url, connectTimeout: .seconds(5))
            try Migrator.migrate(migrating, logger: Services.logger)
            migrating.close()

            var watchConfiguration = DatabaseWatch.Configuration(databaseURL: url, timeZone: "America/Chicago")
            watchConfiguration.probeInterval = .milliseconds(200)
            watchConfiguration.probeTimeout = .seconds(2)
            let watch = DatabaseWatch(configuration: watchConfiguration, metrics: PipelineMetrics(), logger: Services.logger)
            watch.start()
            defer { watch.stop() }
            let (relay, connection) = try Self.relay(url: url, protector: h.protector, producer: h.producer)
            relay.start()
            defer {
                relay.stop(drain: .zero)
                connection.close()
            }

            try await eventually(timeout: .seconds(20), "the probe reaches the database") { watch.isReachable }
            try Self.enqueue(5, from: 0, url: url, protector: h.protector, topics: h.topics)
            try await eventually(timeout: .seconds(45), "the first rows are published") { h.collector.all.count >= 5 }

            try server.crash()
            try await eventually(timeout: .seconds(20), "the probe reports the database gone") { !watch.isReachable }
            try await Task.sleep(for: .seconds(1))  // the relay meets the outage too
            try server.startAgain()
            try await eventually(timeout: .seconds(30), "the probe reaches the database again") { watch.isReachable }
            try Self.enqueue(5, from: 5, url: url, protector: h.protector, topics: h.topics)
            try await eventually(timeout: .seconds(60), "rows enqueued after the restart are published") { h.collector.all.count >= 10 }

            // And once more with a crash restart while the relay is idle.
            try server.crashRestart()
            try Self.enqueue(5, from: 10, url: url, protector: h.protector, topics: h.topics)
            try await eventually(timeout: .seconds(60), "rows enqueued after the second restart are published") { h.collector.all.count >= 15 }
            try await eventually(timeout: .seconds(30), "the probe reaches the database after the second restart") { watch.isReachable }
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }
}
