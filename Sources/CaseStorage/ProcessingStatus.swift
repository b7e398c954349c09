import CaseContract
import CaseDomain
import Postgres

/// What the workers have done so far, counted from the database: the
/// operator's view behind `csworker status`.
public struct ProcessingStatus: Sendable, Hashable {
    public struct Events: Sendable, Hashable {
        /// Rows in `processed_events`, whatever their outcome.
        public var recorded: Int
        public var applied: Int
        /// Waiting for their case or person.
        public var parked: Int
        public var deadLettered: Int
        /// Seconds from the first to the last event recorded (0 with fewer than two).
        public var recordingSpanSeconds: Double

        public init(recorded: Int, applied: Int, parked: Int, deadLettered: Int, recordingSpanSeconds: Double) {
            self.recorded = recorded
            self.applied = applied
            self.parked = parked
            self.deadLettered = deadLettered
            self.recordingSpanSeconds = recordingSpanSeconds
        }
    }

    public struct Parked: Sendable, Hashable {
        /// Employer reports about people on no case (matched by SSN hash).
        public var reportsWithoutPerson: Int
        /// Events waiting for their case to open.
        public var waitingForCase: Int
        /// Modifications and terminations waiting for the order they name.
        public var waitingForOrder: Int
        /// How long the oldest event waiting for its case or order has waited; 0 when none.
        public var oldestWaitingSeconds: Double
        /// How long the oldest employer report about a person on no case has been kept; 0 when none.
        public var oldestReportWithoutPersonSeconds: Double

        public init(
            reportsWithoutPerson: Int, waitingForCase: Int, waitingForOrder: Int = 0, oldestWaitingSeconds: Double = 0,
            oldestReportWithoutPersonSeconds: Double = 0
        ) {
            self.oldestReportWithoutPersonSeconds = oldestReportWithoutPersonSeconds
            self.reportsWithoutPerson = reportsWithoutPerson
            self.waitingForCase = waitingForCase
            self.waitingForOrder = waitingForOrder
            self.oldestWaitingSeconds = oldestWaitingSeconds
        }
    }

    public struct TaskCounts: Sendable, Hashable {
        public var issued: Int
        public var withdrawn: Int

        public init(issued: Int = 0, withdrawn: Int = 0) {
            self.issued = issued
            self.withdrawn = withdrawn
        }
    }

    public struct Outbox: Sendable, Hashable {
        public var published: Int
        /// Not yet published, and not set aside.
        public var waiting: Int
        /// Refused by the broker for good and set aside (not dropped); the relay has moved on.
        public var setAside: Int
        /// Set aside, then dropped by an operator (kept for audit).
        public var dropped: Int

        public init(published: Int, waiting: Int, setAside: Int = 0, dropped: Int = 0) {
            self.published = published
            self.waiting = waiting
            self.setAside = setAside
            self.dropped = dropped
        }
    }

    public struct DeadLetterCount: Sendable, Hashable {
        public var errorClass: String
        public var count: Int

        public init(errorClass: String, count: Int) {
            self.errorClass = errorClass
            self.count = count
        }
    }

    public var events: Events
    public var parked: Parked
    /// Stages no case is in are absent.
    public var casesByStage: [CaseStage: Int]
    /// Every case row, including any whose stage this build does not know.
    public var cases: Int
    /// From `case_history`: the tasks the rules produced (published or not). Types no task had are absent.
    public var tasksByType: [TaskType: TaskCounts]
    public var outbox: Outbox
    /// Dead letters in the outbox by their `error-class` header, ordered by class.
    public var deadLettersByClass: [DeadLetterCount]

    public init(
        events: Events, parked: Parked, casesByStage: [CaseStage: Int], cases: Int, tasksByType: [TaskType: TaskCounts],
        outbox: Outbox, deadLettersByClass: [DeadLetterCount]
    ) {
        self.events = events
        self.parked = parked
        self.casesByStage = casesByStage
        self.cases = cases
        self.tasksByType = tasksByType
        self.outbox = outbox
        self.deadLettersByClass = deadLettersByClass
    }
}

/// Whether the workers have caught up with an input of known size.
public struct ProcessingProgress: Sendable, Hashable {
    /// Events recorded (applied, parked or dead-lettered) plus records that never
    /// decoded into an event (dead-lettered by position, with no event id).
    public var accounted: Int
    /// Outbox messages not yet published.
    public var unpublished: Int
    /// Events waiting for their case to be opened (applied when it opens,
    /// dead-lettered as unknown-case after the workers' grace period).
    public var waitingForCase: Int

    public init(accounted: Int, unpublished: Int, waitingForCase: Int) {
        self.accounted = accounted
        self.unpublished = unpublished
        self.waitingForCase = waitingForCase
    }
}

/// Read-only counts over the worker's tables. Dead letters are recognised by
/// their topic and the contract's dead-letter headers as the pipeline writes
/// them (`error-class`; `event-id` only when the record decoded); they are the
/// sealed outbox rows, which have an index of their own.
public struct ProcessingStatusReader {
    public static let errorClassHeader = "error-class"
    public static let eventIdHeader = "event-id"

    let connection: PostgresConnection
    let deadLetterTopic: String

    public init(connection: PostgresConnection, deadLetterTopic: String) {
        self.connection = connection
        self.deadLetterTopic = deadLetterTopic
    }

    /// One round trip, cheap enough to poll while waiting for a run to finish.
    public func progress() throws -> ProcessingProgress {
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM processed_events)
                 + (SELECT count(*) FROM outbox o WHERE o.sealed AND o.topic = $1
                      AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(o.headers) h WHERE h->>'name' = $2)),
                   (SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL),
                   (SELECT count(*) FROM parked_events WHERE match_kind <> 'ssn')
            """, deadLetterTopic, Self.eventIdHeader)[0]
        return ProcessingProgress(
            accounted: try row.decode(Int.self, column: 0), unpublished: try row.decode(Int.self, column: 1),
            waitingForCase: try row.decode(Int.self, column: 2))
    }

    public func read() throws -> ProcessingStatus {
        let totals = try connection.query(
            """
            SELECT count(*), count(*) FILTER (WHERE outcome = 'applied'), count(*) FILTER (WHERE outcome = 'parked'),
                   count(*) FILTER (WHERE outcome = 'dead-lettered'),
                   extract(epoch FROM max(processed_at) - min(processed_at))::float8
            FROM processed_events
            """)[0]
        let events = ProcessingStatus.Events(
            recorded: try totals.decode(Int.self, column: 0), applied: try totals.decode(Int.self, column: 1),
            parked: try totals.decode(Int.self, column: 2), deadLettered: try totals.decode(Int.self, column: 3),
            recordingSpanSeconds: try totals.decode(Double?.self, column: 4) ?? 0)

        let waiting = try OperationsReadings.Waiting.read(connection)
        let parked = ProcessingStatus.Parked(
            reportsWithoutPerson: waiting.forPerson, waitingForCase: waiting.forCase, waitingForOrder: waiting.forOrder,
            oldestWaitingSeconds: waiting.oldestSeconds, oldestReportWithoutPersonSeconds: waiting.oldestForPersonSeconds)

        let (casesByStage, cases) = try CaseCounts.byStage(connection)

        var tasksByType: [TaskType: ProcessingStatus.TaskCounts] = [:]
        for row in try connection.query(
            """
            SELECT t->>'type', count(*) FILTER (WHERE t->>'action' = 'ISSUE'), count(*) FILTER (WHERE t->>'action' = 'WITHDRAW')
            FROM case_history, jsonb_array_elements(tasks) t GROUP BY 1
            """)
        {
            guard let type = TaskType(rawValue: try row.decode(String.self, column: 0)) else { continue }
            tasksByType[type] = ProcessingStatus.TaskCounts(
                issued: try row.decode(Int.self, column: 1), withdrawn: try row.decode(Int.self, column: 2))
        }

        let outboxRow = try connection.query(
            """
            SELECT count(*) FILTER (WHERE published_at IS NOT NULL),
                   count(*) FILTER (WHERE published_at IS NULL AND set_aside_at IS NULL),
                   count(*) FILTER (WHERE published_at IS NULL AND set_aside_at IS NOT NULL AND dropped_at IS NULL),
                   count(*) FILTER (WHERE dropped_at IS NOT NULL)
            FROM outbox
            """)[0]
        let outbox = ProcessingStatus.Outbox(
            published: try outboxRow.decode(Int.self, column: 0), waiting: try outboxRow.decode(Int.self, column: 1),
            setAside: try outboxRow.decode(Int.self, column: 2), dropped: try outboxRow.decode(Int.self, column: 3))

        let deadLetters = try connection.query(
            """
            SELECT h->>'value', count(*) FROM outbox o, jsonb_array_elements(o.headers) h
            WHERE o.sealed AND o.topic = $1 AND h->>'name' = $2 GROUP BY 1 ORDER BY 1
            """, deadLetterTopic, Self.errorClassHeader
        ).map { row in
            ProcessingStatus.DeadLetterCount(
                errorClass: try row.decode(String.self, column: 0), count: try row.decode(Int.self, column: 1))
        }

        return ProcessingStatus(
            events: events, parked: parked, casesByStage: casesByStage, cases: cases, tasksByType: tasksByType,
            outbox: outbox, deadLettersByClass: deadLetters)
    }
}
