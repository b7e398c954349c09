import CaseDomain
import Foundation
import Logging
import Postgres
import TimeUnits

/// The supervisors' view, read from the database for the metrics endpoint:
/// caseload by stage, open referrals, timeliness, and the outbox backlog.
/// Global figures: every worker process reads the same values.
public struct OperationsReadings: Sendable, Hashable {
    /// Stages no case is in are absent.
    public var casesByStage: [CaseStage: Int]
    /// Active (issued, not withdrawn) enforcement referrals by task type.
    public var openReferralsByType: [TaskType: Int]
    /// ISSUE tasks still waiting in the outbox with `dueBy` before today
    /// (days in the agency's time zone): overdue and not yet with their
    /// office. Those that reached it late are counted as they are published
    /// (`csworker_tasks_published_late_total`).
    public var tasksPastDueByType: [TaskType: Int]
    /// Outbox messages (tasks and dead letters) not yet published.
    public var outboxBacklog: Int
    /// Age of the oldest of them; 0 when there is none.
    public var oldestUnpublishedSeconds: Double
    /// Messages the broker refused for good, set aside and not dropped (not in the backlog).
    public var outboxSetAside: Int
    /// Events waiting in the database for their case, order or person.
    public var waiting: Waiting
    /// Unix time the last referral sweep finished (in-process or CronJob); nil: never.
    public var lastSweepFinished: Double?

    public init(
        casesByStage: [CaseStage: Int], openReferralsByType: [TaskType: Int], tasksPastDueByType: [TaskType: Int],
        outboxBacklog: Int, oldestUnpublishedSeconds: Double, outboxSetAside: Int = 0, waiting: Waiting = Waiting(),
        lastSweepFinished: Double? = nil
    ) {
        self.outboxSetAside = outboxSetAside
        self.lastSweepFinished = lastSweepFinished
        self.casesByStage = casesByStage
        self.openReferralsByType = openReferralsByType
        self.tasksPastDueByType = tasksPastDueByType
        self.outboxBacklog = outboxBacklog
        self.oldestUnpublishedSeconds = oldestUnpublishedSeconds
        self.waiting = waiting
    }

    /// Events parked until what they need arrives, by what they wait for.
    public struct Waiting: Sendable, Hashable {
        /// For the application that opens their case.
        public var forCase = 0
        /// For the order they modify or end.
        public var forOrder = 0
        /// Employer reports about a person on no case (yet): kept until a case
        /// names the person or the policy's retention (`unmatchedReportRetentionDays`) ends.
        public var forPerson = 0
        /// How long the oldest event waiting for its case or order has waited; 0 when none.
        public var oldestSeconds: Double = 0
        /// How long the oldest employer report about a person on no case has been kept; 0 when none.
        public var oldestForPersonSeconds: Double = 0

        public init(forCase: Int = 0, forOrder: Int = 0, forPerson: Int = 0, oldestSeconds: Double = 0, oldestForPersonSeconds: Double = 0) {
            self.forCase = forCase
            self.forOrder = forOrder
            self.forPerson = forPerson
            self.oldestSeconds = oldestSeconds
            self.oldestForPersonSeconds = oldestForPersonSeconds
        }

        /// One query: counts by kind, and the oldest case or order wait (its index).
        static func read(_ connection: PostgresConnection) throws -> Waiting {
            let row = try connection.query(
                """
                SELECT count(*) FILTER (WHERE match_kind = 'case'), count(*) FILTER (WHERE match_kind = 'order'),
                       count(*) FILTER (WHERE match_kind = 'ssn'),
                       coalesce(extract(epoch FROM now() - min(parked_at) FILTER (WHERE match_kind <> 'ssn'))::float8, 0),
                       coalesce(extract(epoch FROM now() - min(parked_at) FILTER (WHERE match_kind = 'ssn'))::float8, 0)
                FROM parked_events
                """)[0]
            return Waiting(
                forCase: try row.decode(Int.self, column: 0), forOrder: try row.decode(Int.self, column: 1),
                forPerson: try row.decode(Int.self, column: 2), oldestSeconds: max(0, try row.decode(Double.self, column: 3)),
                oldestForPersonSeconds: max(0, try row.decode(Double.self, column: 4)))
        }
    }
}

/// Reads `OperationsReadings` and answers "is the database there" on a
/// session of its own (never a worker's), with every statement bounded by
/// `statement_timeout`. Used by one thread at a time.
public final class OperationsReader: @unchecked Sendable {
    private let connection: PostgresConnection
    private let timeZone: String

    /// `timeZone`: the agency's zone (IANA name) in which "today" and a
    /// task's issue day are counted.
    public init(connection: PostgresConnection, timeZone: String, statementTimeout: Duration = .seconds(5)) throws {
        self.connection = connection
        self.timeZone = timeZone
        try connection.execute("SELECT set_config('statement_timeout', $1, false)", "\(statementTimeout.inMilliseconds)ms")
    }

    /// Opens a session of its own; connecting is bounded by `connectTimeout`, each statement by `statementTimeout`.
    public static func open(
        databaseURL: String, timeZone: String, connectTimeout: Duration, statementTimeout: Duration, logger: Logger
    ) throws -> OperationsReader {
        let connection = try PostgresConnection(connectionString: databaseURL, connectTimeout: connectTimeout, logger: logger)
        do {
            return try OperationsReader(connection: connection, timeZone: timeZone, statementTimeout: statementTimeout)
        } catch {
            connection.close()
            throw error
        }
    }

    public func close() {
        connection.close()
    }

    /// Advisory lock class (two-int4 form) of the one session per schema that
    /// reads the supervisors' view; the object is the schema's hash, so
    /// deployments sharing a database each have their own collector.
    static let collectorLockClass: Int32 = 0x6373_6f70  // "csop"
    private var isCollector = false

    /// Whether this session reads the supervisors' view for the whole group:
    /// the first session to ask holds it until the session ends, so however
    /// many processes run, the counts over `cases` and `referrals` are taken
    /// once per interval, and another process takes over when it goes.
    public func claimCollectorRole() throws -> Bool {
        if isCollector { return true }
        isCollector = try connection.query(
            "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", Self.collectorLockClass
        )[0].decode(Bool.self, column: 0)
        return isCollector
    }

    /// One trivial round trip: the session and the server answer.
    public func ping() throws {
        _ = try connection.query("SELECT 1")
    }

    /// The outbox backlog and the events waiting, without the caseload counts.
    /// Set-aside messages are not backlog: the relay has moved past them.
    public func readOutboxAndWaiting() throws -> (
        backlog: Int, oldestSeconds: Double, setAside: Int, waiting: OperationsReadings.Waiting
    ) {
        let outbox = try connection.query(
            """
            SELECT count(*) FILTER (WHERE set_aside_at IS NULL),
                   coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE set_aside_at IS NULL))::float8, 0),
                   count(*) FILTER (WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL)
            FROM outbox WHERE published_at IS NULL
            """)[0]
        return (
            try outbox.decode(Int.self, column: 0), max(0, try outbox.decode(Double.self, column: 1)),
            try outbox.decode(Int.self, column: 2), try OperationsReadings.Waiting.read(connection)
        )
    }

    public func read() throws -> OperationsReadings {
        let casesByStage = try CaseCounts.byStage(connection).byStage

        var referrals: [TaskType: Int] = [:]
        for row in try connection.query("SELECT task_type, count(*) FROM referrals GROUP BY 1") {
            if let type = TaskType(rawValue: try row.decode(String.self, column: 0)) { referrals[type] = try row.decode(Int.self, column: 1) }
        }

        // Only unpublished rows are read (their partial index): the backlog, not the history.
        var pastDue: [TaskType: Int] = [:]
        for row in try connection.query(
            """
            SELECT h->>'value', count(*)
            FROM outbox o, jsonb_array_elements(o.headers) h
            WHERE o.published_at IS NULL AND o.set_aside_at IS NULL AND o.due_by < (now() AT TIME ZONE $1)::date AND h->>'name' = $2
            GROUP BY 1
            """, timeZone, OutboxMessage.TaskHeader.taskType)
        {
            if let type = TaskType(rawValue: try row.decode(String.self, column: 0)) { pastDue[type] = try row.decode(Int.self, column: 1) }
        }

        let outbox = try readOutboxAndWaiting()
        return OperationsReadings(
            casesByStage: casesByStage, openReferralsByType: referrals, tasksPastDueByType: pastDue,
            outboxBacklog: outbox.backlog, oldestUnpublishedSeconds: outbox.oldestSeconds, outboxSetAside: outbox.setAside,
            waiting: outbox.waiting,
            lastSweepFinished: try connection.query("SELECT extract(epoch FROM max(finished_at))::float8 FROM sweep_runs")[0]
                .decode(Double?.self, column: 0))
    }
}

/// Cases by stage: one query shared by `csworker status` and the metrics.
enum CaseCounts {
    /// Stages this build does not know are left out of `byStage` but counted in `total`.
    static func byStage(_ connection: PostgresConnection) throws -> (byStage: [CaseStage: Int], total: Int) {
        var byStage: [CaseStage: Int] = [:]
        var total = 0
        for row in try connection.query("SELECT stage, count(*) FROM cases GROUP BY stage") {
            let count = try row.decode(Int.self, column: 1)
            total += count
            if let stage = CaseStage(rawValue: try row.decode(String.self, column: 0)) { byStage[stage] = count }
        }
        return (byStage, total)
    }
}
