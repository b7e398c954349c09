import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Kafka
import Logging
import Postgres
import Testing

/// One test's world: its own database (migrated) and topic set, a collector
/// reading everything published, and in-process workers (consumer + relay,
/// exactly as `csworker run` wires them) that can be started and stopped.
final class PipelineHarness: @unchecked Sendable {
    let databaseURL: String
    let topics: PipelineTopics
    /// The CSE_SSN_KEY of this test (hex), for worker processes.
    let keyHex: String
    let key: SSNKey
    let protector: SSNProtector
    let group: String
    let collector: TopicCollector
    let producer: KafkaProducer
    /// For assertions (counts, read model).
    let connection: PostgresConnection
    private var workers: [RunningWorker] = []
    var runningWorkers: [RunningWorker] { workers }

    static func make(partitions: Int = 3) async throws -> PipelineHarness {
        let url = try Services.freshDatabase()
        let topics = try await Services.freshTopics(partitions: partitions)
        return try PipelineHarness(databaseURL: url, topics: topics)
    }

    /// The same on a database the test owns (a private cluster it may restart); migrated here.
    static func make(databaseURL url: String, partitions: Int = 3) async throws -> PipelineHarness {
        let topics = try await Services.freshTopics(partitions: partitions)
        return try PipelineHarness(databaseURL: url, topics: topics)
    }

    private init(databaseURL: String, topics: PipelineTopics) throws {
        self.databaseURL = databaseURL
        self.topics = topics
        keyHex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        key = try SSNKey(encoded: keyHex)
        protector = SSNProtector(key: key)
        group = "workers-\(Services.uniqueLabel())"
        connection = try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5))
        try Migrator.migrate(connection, logger: Services.logger)
        collector = try TopicCollector(topics: topics)
        producer = try Services.producer()
    }

    /// Stops everything and drops the test's database.
    func shutDown() async {
        for worker in workers { await worker.stop() }
        workers.removeAll()
        collector.stop()
        producer.close()
        connection.close()
        Services.dropDatabase(databaseURL)
    }

    // MARK: workers

    struct RunningWorker: Sendable {
        let worker: Worker
        let relay: OutboxRelay
        let task: Task<Void, any Error>
        let connections: [PostgresConnection]

        func stop() async {
            worker.stop()
            _ = await task.result
            relay.stop(drain: .seconds(3))
            connections.forEach { $0.close() }
        }
    }

    /// Stops the running workers (and their relays) before the test ends.
    func stopWorkers() async {
        for worker in workers { await worker.stop() }
        workers.removeAll()
    }

    /// Starts one in-process worker in the test's consumer group.
    @discardableResult
    func startWorker(maxBatch: Int = 500, waitingHorizon: Duration = .seconds(3600)) throws -> RunningWorker {
        let workerConnection = try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5))
        let relayConnection = try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5))
        let relay = OutboxRelay(
            source: OutboxStore(connection: relayConnection, protector: protector, logger: Services.logger),
            producer: producer, configuration: OutboxRelay.Configuration(calendar: BusinessCalendar()), logger: Services.logger)
        let processor = BatchProcessor(
            store: CaseStore(connection: workerConnection, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000, logger: Services.logger),
            protector: protector, topics: topics, policy: Policy(), logger: Services.logger, consumerGroup: group)
        var consumer = try Services.consumerConfiguration(group: group)
        consumer.maxPartitionFetchBytes = 16 * 1024  // as `csworker run` sets it
        var configuration = Worker.Configuration(consumer: consumer, topics: topics)
        configuration.maxBatch = maxBatch
        configuration.waitingHorizon = waitingHorizon
        let worker = Worker(configuration: configuration, processor: processor, logger: Services.logger) { relay.wake() }
        relay.start()
        let task = Task { try await worker.run() }
        let running = RunningWorker(worker: worker, relay: relay, task: task, connections: [workerConnection, relayConnection])
        workers.append(running)
        return running
    }

    /// A processor on its own connection, for driving batches without a broker.
    func processor() throws -> BatchProcessor {
        let connection = try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5))
        return BatchProcessor(
            store: CaseStore(connection: connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000, logger: Services.logger),
            protector: protector, topics: topics, policy: Policy(), logger: Services.logger)
    }

    // MARK: input

    /// Produces the events, in order, to this test's input topics.
    func produce(_ events: [ScenarioEvent]) async throws {
        let messages = events.map { KafkaOutgoingMessage(topic: topics.prefix + $0.topic, key: $0.key, value: $0.value) }
        for report in try await producer.sendAll(messages) { _ = try report.get() }
    }

    /// The events as consumed records (offsets made up, in order), for the processor.
    func records(_ events: [ScenarioEvent], firstOffset: Int64 = 0) -> [InboundRecord] {
        events.enumerated().map { index, event in
            InboundRecord(
                topic: topics.prefix + event.topic, partition: 0, offset: firstOffset + Int64(index), key: event.key,
                value: event.value)
        }
    }

    // MARK: observations

    func count(_ sql: String, _ parameters: any PostgresEncodable...) throws -> Int {
        try connection.query(sql, parameters: parameters)[0].decode(Int.self, column: 0)
    }

    var processedEvents: Int { get throws { try count("SELECT count(*) FROM processed_events") } }
    var unpublished: Int { get throws { try count("SELECT count(*) FROM outbox WHERE published_at IS NULL") } }

    /// Waits until `events` event ids are recorded and the outbox is drained.
    func waitUntilProcessed(_ events: Int, timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await eventually(timeout: timeout, "\(events) events are recorded and the outbox is drained", sourceLocation: sourceLocation) {
            try processedEvents >= events && unpublished == 0
        }
    }

    /// Waits until the collector has seen at least `count` tasks for which `predicate` holds.
    @discardableResult
    func waitForTasks(
        _ count: Int = 1, timeout: Duration = .seconds(45), sourceLocation: SourceLocation = #_sourceLocation,
        where predicate: @escaping (TopicCollector.PublishedTask) -> Bool
    ) async throws -> [TopicCollector.PublishedTask] {
        try await eventually(timeout: timeout, "\(count) matching tasks are published", sourceLocation: sourceLocation) {
            collector.tasks.filter(predicate).count >= count
        }
        return collector.tasks.filter(predicate)
    }

    func show(_ caseId: String, asOf: LocalDate) throws -> CaseView? {
        try CaseReadModel(connection: connection).show(caseId: caseId, asOf: asOf)
    }
}
