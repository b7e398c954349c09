import CaseContract
import CaseDomain
import Foundation
import Kafka

/// One consumed input message, in the pipeline's own terms so the processor
/// can be driven (and tested) without a broker.
public struct InboundRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    /// Milliseconds since the Unix epoch, as the broker stamped it (diagnostics only;
    /// business time comes from the event's `occurredAt`).
    public var timestampMilliseconds: Int64?
    /// The record's headers (trace context, a replay's provenance); dead letters keep them.
    public var headers: [KafkaHeader] = []
    /// `value` decoded, when whoever made the record needed the event already
    /// (the worker's fetch buffer orders batches by business time); nil: the
    /// processor decodes `value`.
    public var decoded: Result<Event, EventDecodingError>?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8], timestampMilliseconds: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// When the event was reported: the broker's timestamp (the same on every
    /// redelivery, so the future-`occurredAt` check decides the same each time),
    /// or now when the record carries none.
    public var reportedAt: Date {
        guard let milliseconds = timestampMilliseconds, milliseconds > 0 else { return Date() }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    public var position: TopicPartitionOffset { TopicPartitionOffset(topic: topic, partition: partition, offset: offset) }

    public init(_ message: KafkaMessage) {
        self.init(
            topic: message.topic, partition: message.partition, offset: message.offset, key: message.key,
            value: message.value ?? [], timestampMilliseconds: message.timestampMilliseconds)
        headers = message.headers
    }
}
