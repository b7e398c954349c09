internal import CRdkafka
import Dispatch
import Logging

public struct KafkaTopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    /// Topic-level configuration, e.g. `retention.ms`.
    public var config: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// What `createTopics` did: existing topics are left as they are.
public struct KafkaTopicCreation: Sendable, Hashable {
    public var created: [String]
    public var alreadyExisted: [String]
}

public struct KafkaBrokerMetadata: Sendable, Hashable {
    public var id: Int32
    public var host: String
    public var port: Int32
}

public struct KafkaTopicMetadata: Sendable, Hashable {
    public var name: String
    public var partitionCount: Int
}

public struct KafkaClusterMetadata: Sendable, Hashable {
    public var brokers: [KafkaBrokerMetadata]
    /// Topics sorted by name; topics the broker reports as failed are left out.
    public var topics: [KafkaTopicMetadata]
}

/// Cluster administration: topic creation and deletion, metadata, reachability checks.
/// Thread-safe; each call is bounded by `requestTimeout` (or its own timeout).
public final class KafkaAdmin: Sendable {
    private let client: RdKafkaClient
    private let pollThread: PollThread
    private let requestTimeout: Duration

    /// Does not contact the brokers; use `checkReachable` for that.
    public init(configuration: KafkaAdminConfiguration, logger: Logger) throws {
        let context = ClientContext(logger: logger, brokers: configuration.bootstrapServers)
        client = try RdKafkaClient(
            type: RD_KAFKA_PRODUCER, properties: try configuration.librdkafkaProperties(), context: context)
        // Serves the error callback, which records why brokers are unreachable.
        pollThread = PollThread(client: client, name: "kafka-admin-poll")
        requestTimeout = configuration.requestTimeout
    }

    deinit {
        pollThread.stop()
    }

    /// Fails with `.brokersUnreachable` unless a broker answers within `timeout`.
    public func checkReachable(timeout: Duration? = nil) throws {
        try client.checkReachable(timeout: timeout ?? requestTimeout)
    }

    public func metadata(timeout: Duration? = nil) throws -> KafkaClusterMetadata {
        let metadata = try client.fetchMetadata(
            allTopics: true, timeout: timeout ?? requestTimeout,
            operation: "read cluster metadata from \(client.context.brokers)")
        defer { rd_kafka_metadata_destroy(metadata) }
        let m = metadata.pointee
        let brokers = (0..<Int(m.broker_cnt)).map { index in
            let broker = m.brokers[index]
            return KafkaBrokerMetadata(id: broker.id, host: String(cString: broker.host), port: broker.port)
        }
        let topics = (0..<Int(m.topic_cnt)).compactMap { index -> KafkaTopicMetadata? in
            let topic = m.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            return KafkaTopicMetadata(name: String(cString: topic.topic), partitionCount: Int(topic.partition_cnt))
        }
        return KafkaClusterMetadata(brokers: brokers, topics: topics.sorted { $0.name < $1.name })
    }

    /// Topic name -> partition count.
    public func listTopics(timeout: Duration? = nil) throws -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try metadata(timeout: timeout).topics.map { ($0.name, $0.partitionCount) })
    }

    /// Creates the topics that do not exist yet. A topic that already exists
    /// is reported in `alreadyExisted`, not as an error (its partition count
    /// is not checked or changed).
    public func createTopics(_ specs: [KafkaTopicSpec], timeout: Duration? = nil) async throws -> KafkaTopicCreation {
        guard !specs.isEmpty else { return KafkaTopicCreation(created: [], alreadyExisted: []) }
        let (client, timeout) = (self.client, timeout ?? requestTimeout)
        return try await Self.offThePool { try Self.createTopics(specs, client: client, timeout: timeout) }
    }

    /// Deletes the topics and what they hold; a topic that does not exist is
    /// reported in `missing`, not as an error.
    public func deleteTopics(_ names: [String], timeout: Duration? = nil) async throws -> (deleted: [String], missing: [String]) {
        guard !names.isEmpty else { return ([], []) }
        let (client, timeout) = (self.client, timeout ?? requestTimeout)
        return try await Self.offThePool { try Self.deleteTopics(names, client: client, timeout: timeout) }
    }

    /// Admin requests block a thread until the broker answers: not one of the concurrency pool's.
    private static func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func createTopics(
        _ specs: [KafkaTopicSpec], client: RdKafkaClient, timeout: Duration
    ) throws -> KafkaTopicCreation {
        let operation = "create topics \(specs.map(\.name).joined(separator: ","))"
        // Without this the request would sit in librdkafka's queue until the
        // timeout and fail with a bare _TIMED_OUT.
        try client.checkReachable(timeout: timeout)

        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for spec in specs {
            guard
                let topic = rd_kafka_NewTopic_new(
                    spec.name, Int32(spec.partitions), Int32(spec.replicationFactor), &errstr, errstr.count)
            else {
                throw KafkaError(
                    kind: .failed, operation: "create topic \(spec.name)", code: .invalidArgument,
                    message: String(cBuffer: errstr), isRetriable: false)
            }
            newTopics.append(topic)
            for (name, value) in spec.config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(topic, name, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(operation: "create topic \(spec.name) with \(name)", err: err)
                }
            }
        }

        return try request(RD_KAFKA_ADMIN_OP_CREATETOPICS, client: client, timeout: timeout, operation: operation) { options, queue in
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(client.handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } result: { event in
            guard let result = rd_kafka_event_CreateTopics_result(event) else {
                throw KafkaError(operation: operation, err: RD_KAFKA_RESP_ERR__FAIL, message: "no CreateTopics result")
            }
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(result, &count)
            let (created, existing) = try topicOutcomes(
                results, count: count, harmless: RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, operation: "create topic")
            let creation = KafkaTopicCreation(created: created, alreadyExisted: existing)
            client.context.logger.info(
                "topics ensured", metadata: ["created": "\(creation.created)", "existing": "\(creation.alreadyExisted)"])
            return creation
        }
    }

    private static func deleteTopics(
        _ names: [String], client: RdKafkaClient, timeout: Duration
    ) throws -> (deleted: [String], missing: [String]) {
        let operation = "delete topics \(names.joined(separator: ","))"
        try client.checkReachable(timeout: timeout)
        var topics = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { topics.forEach { rd_kafka_DeleteTopic_destroy($0) } }
        return try request(RD_KAFKA_ADMIN_OP_DELETETOPICS, client: client, timeout: timeout, operation: operation) { options, queue in
            topics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DeleteTopics(client.handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } result: { event in
            guard let result = rd_kafka_event_DeleteTopics_result(event) else {
                throw KafkaError(operation: operation, err: RD_KAFKA_RESP_ERR__FAIL, message: "no DeleteTopics result")
            }
            var count = 0
            let results = rd_kafka_DeleteTopics_result_topics(result, &count)
            let (deleted, missing) = try topicOutcomes(
                results, count: count, harmless: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, operation: "delete topic")
            client.context.logger.info("topics deleted", metadata: ["deleted": "\(deleted)", "missing": "\(missing)"])
            return (deleted, missing)
        }
    }

    /// Per-topic results of a create or delete: the topics it succeeded for,
    /// and those that failed only with `harmless` (already there, already
    /// gone); any other failure is thrown, naming the topic.
    private static func topicOutcomes(
        _ results: UnsafeMutablePointer<OpaquePointer?>?, count: Int, harmless: rd_kafka_resp_err_t, operation: String
    ) throws -> (succeeded: [String], harmless: [String]) {
        var outcome: (succeeded: [String], harmless: [String]) = ([], [])
        for index in 0..<count {
            guard let topicResult = results?[index] else { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            switch rd_kafka_topic_result_error(topicResult) {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcome.succeeded.append(name)
            case harmless: outcome.harmless.append(name)
            case let err:
                throw KafkaError(
                    operation: "\(operation) \(name)", err: err,
                    message: rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) })
            }
        }
        return outcome
    }

    /// One admin request: options with `timeout`, `send` on a fresh queue,
    /// the answer's event checked for an error and handed to `result`.
    private static func request<T>(
        _ kind: rd_kafka_admin_op_t, client: RdKafkaClient, timeout: Duration, operation: String,
        send: (OpaquePointer?, OpaquePointer?) -> Void, result: (OpaquePointer) throws -> T
    ) throws -> T {
        var errstr = [CChar](repeating: 0, count: 512)
        let options = rd_kafka_AdminOptions_new(client.handle, kind)
        defer { rd_kafka_AdminOptions_destroy(options) }
        let ms = timeout.rdKafkaMilliseconds
        _ = rd_kafka_AdminOptions_set_request_timeout(options, ms, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, ms, &errstr, errstr.count)

        let queue = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(queue) }
        send(options, queue)
        // librdkafka enforces the request timeout itself; the margin only
        // guards against never hearing back.
        guard let event = rd_kafka_queue_poll(queue, ms + 5000) else {
            throw KafkaError(operation: operation, err: RD_KAFKA_RESP_ERR__TIMED_OUT)
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(
                operation: operation, err: eventError,
                message: rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        return try result(event)
    }
}
