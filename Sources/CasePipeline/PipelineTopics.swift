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

    /// The input topic an event type belongs on.
    public func input(for type: EventType) -> String { prefix + type.topic.rawValue }
}
