import JSON
import Kafka
import Logging

/// The consumer group's lag per input partition, as the broker sees it: the
/// partition's high watermark minus the group's committed offset. Read
/// without joining the group (a consumer that never subscribes), so asking
/// never triggers a rebalance. For `csworker status` and the console.
public struct GroupLag: Sendable, Hashable {
    public struct Partition: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        /// The group's committed next offset; nil when it never committed here.
        public var committed: Int64?
        /// The offset the next message written gets.
        public var end: Int64

        /// Messages not yet consumed by the group (all of them without a commit).
        public var lag: Int64 { max(0, end - (committed ?? 0)) }
    }

    public var group: String
    public var partitions: [Partition]

    public var total: Int64 { partitions.reduce(0) { $0 + $1.lag } }

    /// Asks the brokers: partition counts from the metadata, then watermarks and commits.
    public static func read(
        brokers: [String], properties: [String: String], group: String, topics: [String], timeout: Duration = .seconds(10),
        logger: Logger
    ) throws -> GroupLag {
        var adminConfiguration = KafkaAdminConfiguration(bootstrapServers: brokers)
        adminConfiguration.properties = properties
        let counts = try KafkaAdmin(configuration: adminConfiguration, logger: logger).listTopics(timeout: timeout)
        let partitions = topics.flatMap { topic in
            (0..<Int32(counts[topic] ?? 0)).map { TopicPartition(topic: topic, partition: $0) }
        }
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupId: group)
        // Only librdkafka's own properties: the consumer never joins, so group timings do not matter.
        configuration.properties = properties
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        defer { try? consumer.close() }
        let ends = try consumer.highWatermarks(partitions, timeout: timeout)
        let committed = try consumer.committed(partitions, timeout: timeout)
        return GroupLag(group: group, partitions: partitions.map { partition in
            Partition(topic: partition.topic, partition: partition.partition, committed: committed[partition], end: ends[partition] ?? 0)
        })
    }
}

extension GroupLag {
    /// `{group, total, partitions: [{topic, partition, committed, end, lag}]}`: `status --json` and the console's API.
    public var json: JSONValue {
        .object([
            "group": .string(group), "total": .int(total),
            "partitions": .array(partitions.map { partition in
                .object([
                    "topic": .string(partition.topic), "partition": .int(Int64(partition.partition)),
                    "committed": partition.committed.map { .int($0) } ?? .null, "end": .int(partition.end), "lag": .int(partition.lag),
                ])
            }),
        ])
    }
}
