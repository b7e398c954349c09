import Foundation
import Kafka
import Logging
import Synchronization
import Testing
import TestSupport

struct BrokerNotConfigured: Error, CustomStringConvertible {
    var description: String {
        "CSE_KAFKA_BROKERS is not set: start services with scripts/services.sh start, then eval \"$(scripts/services.sh env)\""
    }
}

enum TestKafka {
    /// The broker list from the environment; these tests need a real broker
    /// and fail (never skip) without one.
    static func brokers() throws -> [String] {
        guard let value = ProcessInfo.processInfo.environment["CSE_KAFKA_BROKERS"], !value.isEmpty else {
            throw BrokerNotConfigured()
        }
        return value.split(separator: ",").map(String.init)
    }

    /// Quiet by default; KAFKA_TEST_LOG_LEVEL=debug shows librdkafka's logs.
    static let logger: Logger = {
        var logger = Logger(label: "kafka-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG_LEVEL"]
            .flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    static func unique(_ base: String) -> String {
        "test.\(base).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Group timings that keep Tansu's joins short: it completes a join after
    /// about half the session timeout (here ~3 s). The poll interval is generous
    /// because the whole suite runs in parallel on two cores: a starved test
    /// must not be expelled from its group for polling late.
    static func consumerConfiguration(group: String) throws -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: try brokers(), groupId: group)
        configuration.maxPollInterval = .seconds(30)
        configuration.sessionTimeout = .seconds(6)
        if let debug = ProcessInfo.processInfo.environment["KAFKA_TEST_DEBUG"] {
            configuration.properties["debug"] = debug
        }
        return configuration
    }

    static func producer() throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: try brokers()), logger: logger)
    }

    static func admin() throws -> KafkaAdmin {
        try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrapServers: try brokers()), logger: logger)
    }

    static func createTopic(partitions: Int, base: String) async throws -> String {
        let topic = unique(base)
        let creation = try await admin().createTopics(
            [KafkaTopicSpec(name: topic, partitions: partitions, replicationFactor: 1)])
        #expect(creation.created == [topic])
        return topic
    }
}


/// Waits (polling every 50 ms) until `condition` holds or `timeout` passes.
func eventually(
    timeout: Duration, _ what: String, _ condition: @Sendable () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out after \(timeout) waiting until \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// A consumer's poll loop on a dedicated thread: polls batches, commits each
/// one after "processing" (recording) it, keeps every message and error.
final class PollLoop: Sendable {
    let consumer: KafkaConsumer
    private let state = Mutex<(messages: [KafkaMessage], errors: [KafkaError])>(([], []))
    private let running = Atomic<Bool>(true)
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let done = Atomic<Bool>(false)

    init(_ consumer: KafkaConsumer) {
        self.consumer = consumer
        Thread { [self] in
            while running.load(ordering: .acquiring) {
                do {
                    let batch = try consumer.pollBatch(maxMessages: 100, timeout: .milliseconds(100))
                    if !batch.isEmpty {
                        state.withLock { $0.messages += batch }
                        try consumer.commit(processed: batch)
                    }
                } catch let error as KafkaError {
                    state.withLock { $0.errors.append(error) }
                } catch {}
            }
            done.store(true, ordering: .releasing)
            finished.withLock { $0?.resume() }
        }.start()
    }

    var messages: [KafkaMessage] { state.withLock { $0.messages } }
    var errors: [KafkaError] { state.withLock { $0.errors } }

    func stop() async {
        running.store(false, ordering: .releasing)
        await withCheckedContinuation { continuation in
            let alreadyDone = finished.withLock { slot -> Bool in
                if done.load(ordering: .acquiring) { return true }
                slot = continuation
                return false
            }
            if alreadyDone { continuation.resume() }
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

extension KafkaMessage {
    var valueText: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}
