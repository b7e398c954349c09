import CaseContract
import CaseDomain

/// The topic names the pipeline reads and writes: the contract's names,
/// optionally behind a prefix so tests (or a staging environment sharing a
/// cluster) get topics of their own.
public struct PipelineTopics: Sendable, Hashable {
    /// Prepended to every contract topic name; empty in production.
    public var prefix: String

    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// The contract's own names.
    public static let contract = PipelineTopics()

    public var intake: String { prefix + EventTopic.intake.rawValue }
    public var employerReports: String { prefix + EventTopic.employerReports.rawValue }
    public var courtOutcomes: String { prefix + EventTopic.courtOutcomes.rawValue }
    public var deadLetter: String { prefix + DeadLetterTopic.name }

    public var input: [String] { EventTopic.allCases.map { prefix + $0.rawValue } }
    public func tasks(_ type: TaskType) -> String { prefix + type.topic }
    public var allTasks: [String] { TaskType.allCases.map(tasks) }
    public var all: [String] { input + allTasks + [deadLetter] }

    /// `max.message.bytes` `topics ensure` gives input and task topics: Kafka's default.
    public static let maxMessageBytes = 1_048_588
    /// ...and the dead-letter topic: above the input topics', so a record any
    /// input topic accepted goes to the dead letters byte for byte with the
    /// headers a dead letter adds (source, reason: a few hundred bytes).
    public static let deadLetterMaxMessageBytes = 4 * 1_048_576
    /// librdkafka's `message.max.bytes` for the service's producers: the
    /// largest topic limit, so the client never refuses a dead letter the
    /// broker would take (its default, 1,000,000, refused ~1 MB dead letters).
    /// Tansu, the development broker, takes `max.message.bytes` at creation
    /// but does not enforce it (a 2 MB record went onto a 1 MiB topic): there
    /// the client's limit is the only one.
    public static let producerMaxMessageBytes = deadLetterMaxMessageBytes

    /// The topic-level configuration `topics ensure` creates `topic` with.
    public func creationConfig(_ topic: String) -> [String: String] {
        ["max.message.bytes": String(topic == deadLetter ? Self.deadLetterMaxMessageBytes : Self.maxMessageBytes)]
    }

    /// The input topic an event type belongs on.
    public func input(for type: EventType) -> String { prefix + type.topic.rawValue }
}
