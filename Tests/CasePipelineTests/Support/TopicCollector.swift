import CaseContract
import JSON
import CaseDomain
import CasePipeline
import Foundation
import Kafka
import Synchronization

/// Reads everything the pipeline publishes (every task topic and the
/// dead-letter topic of one test's topic set) on a thread of its own, so
/// tests can assert on the messages downstream services would receive.
final class TopicCollector: Sendable {
    struct Received: Sendable {
        var topic: String
        var key: String
        var value: [UInt8]
        var headers: [KafkaHeader]

        var json: JSONValue? { try? JSONValue.parse(value) }
        func header(_ name: String) -> String? {
            headers.last { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) }
        }
    }

    /// A published task, decoded from its wire envelope.
    struct PublishedTask: Sendable, Hashable {
        var id: String
        var type: String
        var caseId: String
        var action: String
        var dueBy: String
        var causationId: String
        var data: JSONValue
        var bytes: [UInt8]
    }

    let topics: PipelineTopics
    private let consumer: KafkaConsumer
    private let received = Mutex<[Received]>([])
    private let stopped = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    init(topics: PipelineTopics) throws {
        self.topics = topics
        var configuration = try Services.consumerConfiguration(group: "collector-\(Services.uniqueLabel())")
        configuration.autoOffsetReset = .earliest
        // Tansu holds a JoinGroup up to the rebalance timeout (max.poll.interval);
        // the collector polls every 100 ms, so a short one lets it join sooner
        // when the whole target's tests crowd the broker.
        configuration.maxPollInterval = .seconds(10)
        consumer = try KafkaConsumer(configuration: configuration, logger: Services.logger)
        try consumer.subscribe(topics.allTasks + [topics.deadLetter])
        Thread { [self] in
            while !stopped.withLock({ $0 }) {
                guard let batch = try? consumer.pollBatch(maxMessages: 1000, timeout: .milliseconds(100)) else { continue }
                let items = batch.map {
                    Received(
                        topic: $0.topic, key: String(decoding: $0.key ?? [], as: UTF8.self), value: $0.value ?? [],
                        headers: $0.headers)
                }
                if !items.isEmpty { received.withLock { $0 += items } }
            }
            try? consumer.close()
            done.signal()
        }.start()
    }

    func stop() {
        stopped.withLock { $0 = true }
        done.wait()
    }

    var all: [Received] { received.withLock { $0 } }

    var deadLetters: [Received] { all.filter { $0.topic == topics.deadLetter } }

    var tasks: [PublishedTask] {
        all.filter { $0.topic != topics.deadLetter }.compactMap { message in
            guard case .object(let envelope)? = message.json, case .string(let id)? = envelope["id"],
                case .string(let type)? = envelope["type"], case .string(let caseId)? = envelope["caseId"],
                case .string(let dueBy)? = envelope["dueBy"], case .string(let causation)? = envelope["causationId"],
                case .object(let data)? = envelope["data"], case .string(let action)? = data["action"]
            else { return nil }
            return PublishedTask(
                id: id, type: type, caseId: caseId, action: action, dueBy: dueBy, causationId: causation,
                data: .object(data), bytes: message.value)
        }
    }

    func tasks(for caseId: String) -> [PublishedTask] { tasks.filter { $0.caseId == caseId } }
}
