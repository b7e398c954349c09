import CaseContract
import CaseDomain
import Foundation
import JSON

/// An inbound event as the dedupe table records it.
public struct ProcessedEvent: Sendable, Hashable {
    public var eventId: UUID
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(eventId: UUID, topic: String, partition: Int32, offset: Int64) {
        self.eventId = eventId
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// What became of a recorded event (`processed_events.outcome`).
public enum EventOutcome: String, Sendable, Hashable, CaseIterable {
    case applied = "applied"
    case deadLettered = "dead-lettered"
    case parked = "parked"
}

/// One event applied to one case, for `case_history`.
public struct HistoryEntry: Sendable, Hashable {
    public var eventId: UUID
    public var eventType: String
    public var occurredAt: Date
    /// The rules' human summaries (SSNs already masked by the rules).
    public var changes: [String]
    public var tasks: [CaseTask]
    /// The event's original bytes (stored sealed): a late event re-derives the
    /// case from them. Nil for a sweep's entry.
    public var event: [UInt8]?

    public init(eventId: UUID, eventType: String, occurredAt: Date, changes: [String], tasks: [CaseTask], event: [UInt8]? = nil) {
        self.eventId = eventId
        self.eventType = eventType
        self.occurredAt = occurredAt
        self.changes = changes
        self.tasks = tasks
        self.event = event
    }

    public init(event: Event, bytes: [UInt8], outcome: RuleOutcome) {
        self.init(
            eventId: event.id, eventType: event.type.rawValue, occurredAt: event.occurredAt,
            changes: outcome.changes, tasks: outcome.tasks, event: bytes)
    }

    /// Seal context: binds the sealed event to its case and id.
    static func sealContext(caseId: String, eventId: UUID) -> String { "history:\(caseId):\(eventId.lowercasedText)" }
}

/// A case's new state after the events a batch applied to it, oldest first.
public struct CaseChange: Sendable, Hashable {
    public var state: CaseState
    /// Must not be empty: every saved state change is explained by the events
    /// (or sweeps) that caused it.
    public var history: [HistoryEntry]

    public init(state: CaseState, history: [HistoryEntry]) {
        self.state = state
        self.history = history
    }

    public var caseId: String { state.caseId }
}

/// An event waiting for its case: an employer report whose SSN matches no
/// noncustodial parent yet, or a remittance with a payment for a case not
/// opened yet. Stored sealed (the raw bytes may carry an SSN).
public struct ParkedEvent: Sendable, Hashable {
    public enum Match: Sendable, Hashable {
        /// An employer report about this person (keyed hash of the SSN).
        case ssn(SSNHash)
        /// An event for this case, which has not been opened yet.
        case caseId(String)
        /// A modification or termination of an order the case does not have yet.
        case order(caseId: String, orderId: String)

        var kind: String {
            switch self {
            case .ssn: "ssn"
            case .caseId: "case"
            case .order: "order"
            }
        }

        var key: String {
            switch self {
            case .ssn(let hash): hash.hex
            case .caseId(let caseId): caseId
            case let .order(caseId, orderId): Self.orderKey(caseId: caseId, orderId: orderId)
            }
        }

        /// The case it waits on (nil: a person).
        public var caseId: String? {
            switch self {
            case .ssn: nil
            case .caseId(let caseId), .order(let caseId, _): caseId
            }
        }

        static let separator: Character = "\u{1F}"

        static func orderKey(caseId: String, orderId: String) -> String { "\(caseId)\(separator)\(orderId)" }

        init?(kind: String, key: String) {
            switch kind {
            case "ssn":
                guard let hash = SSNHash(hex: key) else { return nil }
                self = .ssn(hash)
            case "case":
                self = .caseId(key)
            case "order":
                guard let cut = key.firstIndex(of: Self.separator) else { return nil }
                self = .order(caseId: String(key[..<cut]), orderId: String(key[key.index(after: cut)...]))
            default:
                return nil
            }
        }
    }

    public var eventId: UUID
    public var match: Match
    /// Where the event came from, for dead-letter headers if it is ever given up on.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The original Kafka key and value, unchanged.
    public var key: [UInt8]
    public var value: [UInt8]
    /// Set on events read back by `takeParked`.
    public var parkedAt: Date?
    /// The record's headers (already filtered to printable producer metadata)
    /// and broker timestamp, for the dead letter it may become.
    public var headers: [OutboxHeader] = []
    public var timestampMilliseconds: Int64?

    public init(
        eventId: UUID, match: Match, topic: String, partition: Int32, offset: Int64, key: [UInt8], value: [UInt8],
        parkedAt: Date? = nil
    ) {
        self.eventId = eventId
        self.match = match
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.parkedAt = parkedAt
    }

    /// Seal context: binds the sealed bytes to this row.
    var sealContext: String { "parked:\(match.kind):\(match.key):\(eventId.lowercasedText)" }
}

/// A Kafka header as the outbox keeps it.
public struct OutboxHeader: Sendable, Hashable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

}

/// A message to publish after the batch commits: a task or a dead letter.
public struct OutboxMessage: Sendable, Hashable {
    public static let shardCount = 16

    /// Unique: the task id, or a deterministic id for a dead letter, so a
    /// re-processed batch cannot enqueue the same message twice.
    public var messageId: UUID
    public var topic: String
    public var key: [UInt8]
    public var value: [UInt8]
    public var headers: [OutboxHeader]
    /// Seal key and value at rest: dead letters carry the original bytes,
    /// which may hold an SSN (and a producer may have keyed a report by one,
    /// against the contract).
    public var containsPersonalData: Bool
    /// An ISSUE task's `dueBy`, kept beside the message for timeliness
    /// metrics (waiting, or published, past it); nil for anything else.
    public var dueBy: LocalDate?

    public init(
        messageId: UUID, topic: String, key: [UInt8], value: [UInt8], headers: [OutboxHeader],
        containsPersonalData: Bool, dueBy: LocalDate? = nil
    ) {
        self.messageId = messageId
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.containsPersonalData = containsPersonalData
        self.dueBy = dueBy
    }

    /// Header names the relay publishes tasks with.
    public enum TaskHeader {
        public static let taskId = "task-id"
        public static let taskType = "task-type"
        /// ISSUE or WITHDRAW, so consumers (and the relay's metrics) need not parse the value.
        public static let taskAction = "task-action"
        public static let causationId = "causation-id"
    }

    /// A task on `cse.tasks.<type>.v1`, keyed by case id, value = the wire envelope.
    public init(task: CaseTask) {
        self.init(
            messageId: task.id, topic: task.type.topic, key: Array(task.caseId.utf8), value: task.wireJSON(),
            headers: [
                OutboxHeader(name: TaskHeader.taskId, value: task.id.lowercasedText),
                OutboxHeader(name: TaskHeader.taskType, value: task.type.rawValue),
                OutboxHeader(name: TaskHeader.taskAction, value: task.action.rawValue),
                OutboxHeader(name: TaskHeader.causationId, value: task.causationId.lowercasedText),
            ],
            containsPersonalData: false, dueBy: task.action == .issue ? task.dueBy : nil)
    }

    /// Messages with equal keys share a shard, so one relay publishes them in order.
    public var shard: Int16 { Self.shard(forKey: key) }

    /// FNV-1a (32-bit) of the key bytes mod `shardCount`: stable across
    /// processes and releases, unlike Swift's seeded `Hasher`.
    public static func shard(forKey key: [UInt8]) -> Int16 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in key { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return Int16(hash % UInt32(shardCount))
    }

    var sealContext: String { "outbox:\(messageId.lowercasedText)" }
}
