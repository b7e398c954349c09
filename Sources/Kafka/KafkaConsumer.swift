internal import CRdkafka
import Logging
import Synchronization

/// A change of the partitions this group member owns.
public enum KafkaRebalanceEvent: Sendable, Hashable {
    /// Partitions added to this member. With an eager strategy this is the
    /// whole new assignment; with cooperative-sticky only the additions.
    case assigned([TopicPartition])
    /// Partitions being taken away in an orderly rebalance. Delivered before
    /// they are unassigned, so offsets for them can still be committed.
    case revoked([TopicPartition])
    /// Partitions already taken away (session timeout, max poll interval
    /// exceeded): commits for them will fail; their work will be redone.
    case lost([TopicPartition])
}

/// A consumer-group member with manual offset commits: librdkafka never
/// commits by itself; the application commits what it has finished with
/// `commit(nextOffsets:)` or `commit(processed:)`.
///
/// Poll from one thread at a time (the service's poll loop). Rebalances run
/// inside `poll`/`pollBatch`/`close` on that thread: the `onRebalance`
/// handler is called there synchronously (it may commit). Other calls (commit,
/// pause, assignment) are safe from any thread.
public final class KafkaConsumer: Sendable {
    private let client: RdKafkaClient
    private let gate = UseGate()
    private let logger: Logger
    private let unreachableTimeout: Duration
    /// An error met while a batch already held messages, raised on the next poll.
    private let deferredError = Mutex<KafkaError?>(nil)

    public init(
        configuration: KafkaConsumerConfiguration, logger: Logger,
        onRebalance: (@Sendable (KafkaRebalanceEvent) -> Void)? = nil
    ) throws {
        let context = ClientContext(
            logger: logger, brokers: configuration.bootstrapServers, rebalance: RebalanceDispatch(handler: onRebalance))
        client = try RdKafkaClient(
            type: RD_KAFKA_CONSUMER, properties: try configuration.librdkafkaProperties(), context: context
        ) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        // One queue for messages, rebalances and client errors: all are served
        // by the application's poll.
        rd_kafka_poll_set_consumer(client.handle)
        self.logger = logger
        self.unreachableTimeout = configuration.brokerUnreachableTimeout
    }

    /// Joins the group for `topics` once a broker has answered (within
    /// `brokerUnreachableTimeout`, else `.brokersUnreachable`). Partitions
    /// arrive through rebalances during later polls.
    public func subscribe(_ topics: [String]) throws {
        let operation = "subscribe to \(topics.joined(separator: ","))"
        try gate.with(operation) {
            try client.checkReachable(timeout: unreachableTimeout)
            let list = makePartitionList(topics.map { ($0, RD_KAFKA_PARTITION_UA, nil) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_subscribe(client.handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(operation: operation, err: err) }
        }
    }

    /// The next message, or nil if none arrived within `timeout`. Serves
    /// rebalances and client errors while waiting. Throws consumer errors
    /// (e.g. an unknown topic) and `.brokersUnreachable` once every broker has
    /// been down for longer than `brokerUnreachableTimeout`.
    public func poll(timeout: Duration) throws -> KafkaMessage? {
        try gate.with("poll") {
            if let error = deferredError.withLock({ $0.take() }) { throw error }
            return try next(timeout: timeout)
        }
    }

    /// Up to `maxMessages` messages: waits up to `timeout` for the first, then
    /// takes whatever else is already fetched without waiting. Empty if
    /// nothing arrived.
    public func pollBatch(maxMessages: Int, timeout: Duration) throws -> [KafkaMessage] {
        try gate.with("poll") {
            if let error = deferredError.withLock({ $0.take() }) { throw error }
            var batch: [KafkaMessage] = []
            guard maxMessages > 0, let first = try next(timeout: timeout) else { return batch }
            batch.reserveCapacity(maxMessages)
            batch.append(first)
            while batch.count < maxMessages {
                do {
                    guard let message = try next(timeout: .zero) else { break }
                    batch.append(message)
                } catch let error as KafkaError {
                    deferredError.withLock { $0 = error }
                    break
                }
            }
            return batch
        }
    }

    private func next(timeout: Duration) throws -> KafkaMessage? {
        guard let message = rd_kafka_consumer_poll(client.handle, timeout.rdKafkaMilliseconds) else {
            try checkBrokers()
            return nil
        }
        defer { rd_kafka_message_destroy(message) }
        let err = message.pointee.err
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
            let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) }
            let detail = rd_kafka_message_errstr(message).map { String(cString: $0) }
            if let fatal = client.fatalError(operation: "consume") { throw fatal }
            throw KafkaError(
                operation: topic.map { "consume from \($0)" } ?? "consume", err: err, message: detail)
        }
        return KafkaMessage(UnsafePointer(message))
    }

    /// librdkafka reconnects forever; after the configured bound, turn "all
    /// brokers down" into an error unless a broker answers a fresh request.
    private func checkBrokers() throws {
        if let fatal = client.fatalError(operation: "consume") { throw fatal }
        if client.context.brokersDown(longerThan: unreachableTimeout) {
            try client.checkReachable(timeout: .seconds(1))
        }
    }

    /// Commits, synchronously, the offsets the group resumes from: for each
    /// partition the NEXT offset to read, i.e. last processed offset + 1.
    public func commit(nextOffsets offsets: [TopicPartitionOffset]) throws {
        guard !offsets.isEmpty else { return }
        try gate.with("commit offsets") {
            let list = makePartitionList(offsets.map { ($0.topic, $0.partition, $0.offset) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_commit(client.handle, list, 0)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(operation: "commit offsets \(offsets)", err: err)
            }
            if let failed = readPartitionList(list).first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
                throw KafkaError(
                    operation: "commit offset for \(failed.topicPartition)", err: failed.error)
            }
        }
    }

    /// Commits past `messages`: per partition, the highest offset + 1.
    public func commit(processed messages: [KafkaMessage]) throws {
        try commit(nextOffsets: Self.nextOffsets(after: messages))
    }

    /// Per partition, the offset after the highest one in `messages`.
    public static func nextOffsets(after messages: [KafkaMessage]) -> [TopicPartitionOffset] {
        var highest: [TopicPartition: Int64] = [:]
        for message in messages {
            highest[message.topicPartition] = max(highest[message.topicPartition] ?? -1, message.offset)
        }
        return highest.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value + 1) }
            .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// The group's committed next-offset per partition (asks the broker);
    /// partitions without a commit are absent.
    public func committed(_ partitions: [TopicPartition], timeout: Duration) throws -> [TopicPartition: Int64] {
        try gate.with("fetch committed offsets") {
            let list = makePartitionList(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(client.handle, list, timeout.rdKafkaMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(operation: "fetch committed offsets", err: err)
            }
            return try offsets(in: list, operation: "fetch committed offset")
        }
    }

    /// Each partition's high watermark (the offset the next message written
    /// gets), asked of the partition leaders; needs no group membership.
    public func highWatermarks(_ partitions: [TopicPartition], timeout: Duration) throws -> [TopicPartition: Int64] {
        try gate.with("query watermarks") {
            var result: [TopicPartition: Int64] = [:]
            for partition in partitions {
                var low: Int64 = -1, high: Int64 = -1
                let err = rd_kafka_query_watermark_offsets(
                    client.handle, partition.topic, partition.partition, &low, &high, timeout.rdKafkaMilliseconds)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(operation: "query the watermarks of \(partition)", err: err)
                }
                result[partition] = high
            }
            return result
        }
    }

    /// This consumer's next fetch position per partition (local, no request);
    /// partitions not yet fetched are absent.
    public func position(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        try gate.with("read positions") {
            let list = makePartitionList(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_position(client.handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(operation: "read positions", err: err) }
            return try offsets(in: list, operation: "read position")
        }
    }

    /// Per assigned partition, the messages the application has not polled
    /// yet: the high watermark librdkafka cached from its last fetch response
    /// minus this consumer's position (last polled offset + 1). Local only (no
    /// broker round trip), so cheap to sample from the poll loop; partitions
    /// with no position or watermark yet are absent.
    public func lag() throws -> [TopicPartition: Int64] {
        let positions = try position(try assignment())
        return try gate.with("read watermarks") {
            var lags: [TopicPartition: Int64] = [:]
            for (partition, position) in positions {
                var low: Int64 = -1, high: Int64 = -1
                let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
                lags[partition] = max(0, high - position)
            }
            return lags
        }
    }

    private func offsets(in list: PartitionList, operation: String) throws -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for entry in readPartitionList(list) {
            if entry.error != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(operation: "\(operation) for \(entry.topicPartition)", err: entry.error)
            }
            if entry.offset >= 0 { result[entry.topicPartition] = entry.offset }
        }
        return result
    }

    /// Stops fetching from `partitions` (they stay assigned) until `resume`.
    public func pause(_ partitions: [TopicPartition]) throws {
        try changeFlow(partitions, operation: "pause \(partitions)", rd_kafka_pause_partitions)
    }

    public func resume(_ partitions: [TopicPartition]) throws {
        try changeFlow(partitions, operation: "resume \(partitions)", rd_kafka_resume_partitions)
    }

    private func changeFlow(
        _ partitions: [TopicPartition], operation: String,
        _ call: (OpaquePointer?, PartitionList?) -> rd_kafka_resp_err_t
    ) throws {
        guard !partitions.isEmpty else { return }
        try gate.with(operation) {
            let list = makePartitionList(partitions)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = call(client.handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(operation: operation, err: err) }
            if let failed = readPartitionList(list).first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) {
                throw KafkaError(operation: operation, err: failed.error)
            }
        }
    }

    /// The partitions currently assigned to this member.
    public func assignment() throws -> [TopicPartition] {
        try gate.with("read assignment") {
            var list: PartitionList?
            let err = rd_kafka_assignment(client.handle, &list)
            defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(operation: "read assignment", err: err) }
            return readPartitionList(list).map(\.topicPartition)
                .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        }
    }

    /// Leaves the group: revokes the assignment (the `onRebalance` handler
    /// sees `.revoked`, and may commit there) but commits nothing itself.
    /// Waits for a poll in progress on another thread; do not call it from
    /// inside the rebalance handler. Later calls fail with `.closed`.
    public func close() throws {
        guard gate.close() else { return }
        let err = rd_kafka_consumer_close(client.handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(operation: "leave consumer group", err: err) }
    }

    /// Messages as an async sequence, for simple consumers. Built on `poll`
    /// with short waits; ends when the consumer is closed or the task is
    /// cancelled, and throws what `poll` throws.
    public var messages: KafkaMessageSequence { KafkaMessageSequence(consumer: self) }
}

public struct KafkaMessageSequence: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let consumer: KafkaConsumer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer

        public mutating func next() async throws -> KafkaMessage? {
            while !Task.isCancelled {
                do {
                    if let message = try consumer.poll(timeout: .milliseconds(100)) { return message }
                } catch let error as KafkaError where error.kind == .closed {
                    return nil
                }
                await Task.yield()
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}

/// Where rebalance events go: the owner's synchronous handler. (No stream
/// beside it: one nobody read grew for the life of the process.)
final class RebalanceDispatch: Sendable {
    let handler: (@Sendable (KafkaRebalanceEvent) -> Void)?

    init(handler: (@Sendable (KafkaRebalanceEvent) -> Void)?) {
        self.handler = handler
    }

    func deliver(_ event: KafkaRebalanceEvent) {
        handler?(event)
    }
}

/// Applies each rebalance the way the group's protocol requires: eager
/// strategies replace the whole assignment, cooperative ones add or remove
/// only the partitions given.
private func rebalanceCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t, _ partitions: PartitionList?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let context = ClientContext.from(opaque) else { return }
    let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
    let changed = readPartitionList(partitions).map(\.topicPartition)
    context.noteBrokerAnswered()

    func check(_ error: OpaquePointer?, _ operation: String) {
        guard let error else { return }
        context.logger.error("\(KafkaError(operation: operation, error: error))")
        rd_kafka_error_destroy(error)
    }
    func check(_ err: rd_kafka_resp_err_t, _ operation: String) {
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        context.logger.error("\(KafkaError(operation: operation, err: err))")
    }

    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            check(rd_kafka_incremental_assign(rk, partitions), "assign partitions \(changed)")
        } else {
            check(rd_kafka_assign(rk, partitions), "assign partitions \(changed)")
        }
        context.logger.info(
            "partitions assigned", metadata: ["partitions": "\(changed)", "protocol": "\(cooperative ? "cooperative" : "eager")"])
        context.rebalance?.deliver(.assigned(changed))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        let lost = rd_kafka_assignment_lost(rk) != 0
        context.logger.info(
            lost ? "partitions lost" : "partitions revoked", metadata: ["partitions": "\(changed)"])
        context.rebalance?.deliver(lost ? .lost(changed) : .revoked(changed))
        if cooperative {
            check(rd_kafka_incremental_unassign(rk, partitions), "unassign partitions \(changed)")
        } else {
            check(rd_kafka_assign(rk, nil), "unassign partitions")
        }
    default:
        context.logger.error("rebalance failed: \(KafkaErrorCode(err).name)")
        let owned = readPartitionList(partitions).map(\.topicPartition)
        context.rebalance?.deliver(.lost(owned))
        check(rd_kafka_assign(rk, nil), "unassign partitions")
    }
}
