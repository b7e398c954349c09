internal import CRdkafka

public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A partition and an offset in it. What the offset means depends on the
/// call: for `KafkaConsumer.commit(nextOffsets:)` it is the next offset to
/// read (last processed + 1), as Kafka stores it.
public struct TopicPartitionOffset: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

public struct KafkaHeader: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]

    public init(_ name: String, _ value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(name, Array(value.utf8))
    }
}

/// A message to produce. Without an explicit partition the key decides it
/// (murmur2, as the Java client does), so one key stays in order.
public struct KafkaOutgoingMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// The broker's acknowledgement of one produced message.
public struct KafkaDeliveryReport: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// A consumed message. `key`/`value` are nil when the record has none
/// (a null value is a tombstone).
public struct KafkaMessage: Sendable, Hashable {
    public enum TimestampType: Sendable, Hashable {
        case createTime, logAppendTime
    }

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the Unix epoch, if the record carries a timestamp.
    public var timestampMilliseconds: Int64?
    public var timestampType: TimestampType?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestampMilliseconds: Int64? = nil, timestampType: TimestampType? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
        self.timestampType = timestampType
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// Where this message is: its own offset.
    public var position: TopicPartitionOffset { TopicPartitionOffset(topic: topic, partition: partition, offset: offset) }

    /// The offset to commit once this message is fully processed.
    public var nextOffset: TopicPartitionOffset {
        TopicPartitionOffset(topic: topic, partition: partition, offset: offset + 1)
    }

    public func header(_ name: String) -> [UInt8]? {
        headers.last { $0.name == name }?.value
    }

    /// Copies everything out of a librdkafka message (which the caller destroys).
    init(_ msg: UnsafePointer<rd_kafka_message_t>) {
        let m = msg.pointee
        topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        partition = m.partition
        offset = m.offset
        key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }

        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(msg, &tsType)
        switch tsType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: (timestampMilliseconds, timestampType) = (ts, .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: (timestampMilliseconds, timestampType) = (ts, .logAppendTime)
        default: (timestampMilliseconds, timestampType) = (nil, nil)
        }

        var result: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePtr: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, index, &name, &valuePtr, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = valuePtr.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                result.append(KafkaHeader(name.map { String(cString: $0) } ?? "", bytes))
                index += 1
            }
        }
        headers = result
    }
}
