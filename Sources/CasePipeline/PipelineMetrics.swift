import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Kafka
import Metrics
import Synchronization
import TimeUnits

/// Every metric the service exports, named in one place (README
/// "Observability" lists them with their meaning). Emitted through the
/// swift-metrics API only; `csworker run` bootstraps the Prometheus backend.
///
/// Names: `csworker_` prefix, snake_case, `_total` for counters, `_seconds`
/// for durations. Label values come from bounded sets only (topic names the
/// worker subscribes to, contract event and task types, error classes),
/// never from input text.
public final class PipelineMetrics: Sendable {
    public enum Name {
        public static let eventsConsumed = "csworker_events_consumed_total"
        public static let eventsApplied = "csworker_events_applied_total"
        public static let eventsDeadLettered = "csworker_events_dead_lettered_total"
        public static let eventsParked = "csworker_events_parked_total"
        public static let eventsDuplicate = "csworker_events_duplicate_total"
        public static let casesRederived = "csworker_cases_rederived_total"
        public static let tasksPublished = "csworker_tasks_published_total"
        public static let tasksPublishedLate = "csworker_tasks_published_late_total"
        public static let deadLettersPublished = "csworker_dead_letters_published_total"
        public static let batchRecords = "csworker_batch_records"
        public static let batchApplySeconds = "csworker_batch_apply_seconds"
        public static let retries = "csworker_retries_total"
        public static let rebalances = "csworker_rebalances_total"
        public static let consumerLag = "csworker_consumer_lag"
        public static let groupJoined = "csworker_group_joined"
        public static let databaseReachable = "csworker_database_reachable"
        public static let outboxBacklog = "csworker_outbox_backlog"
        public static let outboxOldestUnpublishedSeconds = "csworker_outbox_oldest_unpublished_seconds"
        public static let outboxSetAside = "csworker_outbox_set_aside"
        public static let outboxSetAsideTotal = "csworker_outbox_set_aside_total"
        public static let cases = "csworker_cases"
        public static let referralsOpen = "csworker_referrals_open"
        public static let tasksPastDue = "csworker_tasks_past_due"
        public static let operationsCollector = "csworker_operations_collector"
        public static let eventsWaiting = "csworker_events_waiting"
        public static let eventsWaitingOldestSeconds = "csworker_events_waiting_oldest_seconds"
        public static let eventToTaskSeconds = "csworker_event_to_task_seconds"
        public static let sweepLastSuccess = "csworker_sweep_last_success_timestamp_seconds"
        public static let buildInfo = "csworker_build_info"
    }

    /// Bucket upper bounds for `csworker_event_to_task_seconds`: the timeliness
    /// that matters is sub-second when caught up, minutes in a backlog.
    public static let eventToTaskBuckets: [Duration] = [
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2_500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(1_800),
    ]

    /// Bucket upper bounds for `csworker_batch_records` (the backend's
    /// defaults are latency-shaped), up to the largest batch `--max-batch` allows by default.
    public static let batchRecordBuckets: [Double] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000]

    /// What a retry was for (`csworker_retries_total{operation}`).
    public enum Operation: String, Sendable {
        case batch, sweep, poll
    }

    private let casesRederived: Counter
    private let batchRecords: Recorder
    private let batchApply: Metrics.Timer
    private let deadLettersPublished: Counter
    private let outboxSetAside: Counter
    private let eventToTask: Metrics.Timer
    private let groupJoined: Gauge
    private let databaseReachable: Gauge
    private let operationsCollector: Gauge
    /// Whether this process exports the supervisors' view now.
    private let collecting = Mutex(false)
    /// Partitions whose lag was last reported, so a partition that moved to
    /// another member drops to 0 here rather than keeping a stale value.
    private let lagReported = Mutex<Set<TopicPartition>>([])

    /// Creates the handles of the series without labels, so they are on
    /// `/metrics` from the start (the supervisors' view only once this process reads it).
    public init() {
        casesRederived = Counter(label: Name.casesRederived)
        casesRederived.increment(by: 0)
        batchRecords = Recorder(label: Name.batchRecords, aggregate: true)
        batchApply = Metrics.Timer(label: Name.batchApplySeconds, preferredDisplayUnit: .seconds)
        deadLettersPublished = Counter(label: Name.deadLettersPublished)
        outboxSetAside = Counter(label: Name.outboxSetAsideTotal)
        outboxSetAside.increment(by: 0)
        eventToTask = Metrics.Timer(label: Name.eventToTaskSeconds, preferredDisplayUnit: .seconds)
        groupJoined = Gauge(label: Name.groupJoined)
        databaseReachable = Gauge(label: Name.databaseReachable)
        operationsCollector = Gauge(label: Name.operationsCollector)
        operationsCollector.record(0)
        for type in TaskType.allCases {
            Counter(label: Name.tasksPublishedLate, dimensions: [("type", type.rawValue)]).increment(by: 0)
        }
        for operation in [Operation.batch, .sweep, .poll] {
            Counter(label: Name.retries, dimensions: [("operation", operation.rawValue)]).increment(by: 0)
        }
    }

    /// Each subscribed topic shows 0 consumed before its first record.
    public func subscribed(to topics: [String]) {
        for topic in topics { Counter(label: Name.eventsConsumed, dimensions: [("topic", topic)]).increment(by: 0) }
    }

    // MARK: the worker

    /// A batch applied (its transaction committed).
    public func batchApplied(_ records: [InboundRecord], report: BatchReport, took duration: Duration) {
        var consumed: [String: Int] = [:]
        for record in records { consumed[record.topic, default: 0] += 1 }
        for (topic, count) in consumed {
            Counter(label: Name.eventsConsumed, dimensions: [("topic", topic)]).increment(by: count)
        }
        batchRecords.record(records.count)
        if report.rederived > 0 { casesRederived.increment(by: report.rederived) }
        batchApply.recordNanoseconds(duration.inNanoseconds)
        record(report.tally)
    }

    /// Outcomes by topic and type (a batch's, or a sweep of waiting events).
    public func record(_ tally: EventTally) {
        for (key, count) in tally.counts where count > 0 {
            switch key.outcome {
            case .applied:
                Counter(label: Name.eventsApplied, dimensions: [("topic", key.topic), ("type", key.type)]).increment(by: count)
            case .deadLettered:
                Counter(label: Name.eventsDeadLettered, dimensions: [("topic", key.topic), ("type", key.type), ("reason", key.reason)])
                    .increment(by: count)
            case .parked:
                Counter(label: Name.eventsParked, dimensions: [("topic", key.topic), ("type", key.type)]).increment(by: count)
            case .duplicate:
                Counter(label: Name.eventsDuplicate, dimensions: [("topic", key.topic)]).increment(by: count)
            }
        }
    }

    public func retried(_ operation: Operation) {
        Counter(label: Name.retries, dimensions: [("operation", operation.rawValue)]).increment()
    }

    public func rebalanced(_ event: KafkaRebalanceEvent) {
        let kind: String
        switch event {
        case .assigned: kind = "assigned"
        case .revoked: kind = "revoked"
        case .lost: kind = "lost"
        }
        Counter(label: Name.rebalances, dimensions: [("kind", kind)]).increment()
    }

    public func groupMembership(joined: Bool) {
        groupJoined.record(joined ? 1 : 0)
    }

    /// Messages not yet polled per owned partition (`KafkaConsumer.lag()`).
    public func consumerLag(_ lags: [TopicPartition: Int64]) {
        let gone = lagReported.withLock { reported -> Set<TopicPartition> in
            defer { reported = Set(lags.keys) }
            return reported.subtracting(lags.keys)
        }
        for partition in gone { lagGauge(partition).record(0) }
        for (partition, lag) in lags { lagGauge(partition).record(lag) }
    }

    private func lagGauge(_ partition: TopicPartition) -> Gauge {
        Gauge(label: Name.consumerLag, dimensions: [("topic", partition.topic), ("partition", String(partition.partition))])
    }

    // MARK: the outbox relay

    /// Rows the broker acknowledged (at `acknowledged`): tasks by type and
    /// action, dead letters, ISSUE tasks that reached their office after their
    /// `dueBy` day (`today`, in the agency's zone), and each task's time from
    /// the batch that consumed its event (the outbox row's `created_at`, the
    /// transaction's start, right after consumption) to the acknowledgement.
    public func published(_ rows: ArraySlice<OutboxRow>, today: LocalDate, acknowledged: Date = Date()) {
        var tasks: [[String]: Int] = [:]
        var late: [String: Int] = [:]
        var deadLetters = 0
        for row in rows {
            if let type = row.header(OutboxMessage.TaskHeader.taskType) {
                let seconds = max(0, acknowledged.timeIntervalSince(row.createdAt))
                eventToTask.recordNanoseconds(Int64(seconds * 1e9))
                tasks[[type, row.header(OutboxMessage.TaskHeader.taskAction) ?? "ISSUE"], default: 0] += 1
                if let dueBy = row.dueBy, dueBy < today { late[type, default: 0] += 1 }
            } else {
                deadLetters += 1
            }
        }
        for (labels, count) in tasks {
            Counter(label: Name.tasksPublished, dimensions: [("type", labels[0]), ("action", labels[1])]).increment(by: count)
        }
        for (type, count) in late {
            Counter(label: Name.tasksPublishedLate, dimensions: [("type", type)]).increment(by: count)
        }
        if deadLetters > 0 { deadLettersPublished.increment(by: deadLetters) }
    }

    /// A message the broker refused for good was set aside. Not labelled by
    /// topic: the gauge and `csworker outbox list` say which.
    public func setAside(topic: String) {
        outboxSetAside.increment()
    }

    // MARK: the database view

    public func databaseReachable(_ reachable: Bool) {
        databaseReachable.record(reachable ? 1 : 0)
    }

    /// The supervisors' view, read by this process for the group. Every known
    /// stage and type is set, 0 when absent, so a series that drops to zero
    /// does not keep its last value.
    public func operations(_ readings: OperationsReadings) {
        collecting.withLock { $0 = true }
        operationsCollector.record(1)
        for series in Self.supervisorSeries(readings) {
            Gauge(label: series.label, dimensions: series.dimensions).record(series.value)
        }
    }

    /// The supervisors' series with their values in `readings`: the one list
    /// that both sets them and withdraws them.
    private static func supervisorSeries(_ readings: OperationsReadings) -> [(label: String, dimensions: [(String, String)], value: Double)] {
        var series: [(label: String, dimensions: [(String, String)], value: Double)] = []
        for stage in CaseStage.allCases {
            series.append((Name.cases, [("stage", stage.rawValue)], Double(readings.casesByStage[stage] ?? 0)))
        }
        for type in TaskType.allCases {
            series.append((Name.referralsOpen, [("type", type.rawValue)], Double(readings.openReferralsByType[type] ?? 0)))
            series.append((Name.tasksPastDue, [("type", type.rawValue)], Double(readings.tasksPastDueByType[type] ?? 0)))
        }
        series.append((Name.outboxBacklog, [], Double(readings.outboxBacklog)))
        series.append((Name.outboxOldestUnpublishedSeconds, [], readings.oldestUnpublishedSeconds))
        series.append((Name.outboxSetAside, [], Double(readings.outboxSetAside)))
        for (kind, count) in [("case", readings.waiting.forCase), ("order", readings.waiting.forOrder), ("person", readings.waiting.forPerson)] {
            series.append((Name.eventsWaiting, [("for", kind)], Double(count)))
        }
        series.append((Name.eventsWaitingOldestSeconds, [], readings.waiting.oldestSeconds))
        // 0 = no sweep has ever finished (an alert on its age fires).
        series.append((Name.sweepLastSuccess, [], readings.lastSweepFinished ?? 0))
        return series
    }

    /// Another process reads the supervisors' view: withdraw any series this
    /// one exported while it was the collector (its session was lost), so only
    /// current values remain on the group's endpoints.
    public func operationsCollectedElsewhere() {
        let wasCollecting = collecting.withLock { state -> Bool in
            defer { state = false }
            return state
        }
        guard wasCollecting else { return }
        operationsCollector.record(0)
        let nothing = OperationsReadings(
            casesByStage: [:], openReferralsByType: [:], tasksPastDueByType: [:], outboxBacklog: 0, oldestUnpublishedSeconds: 0)
        for series in Self.supervisorSeries(nothing) { Gauge(label: series.label, dimensions: series.dimensions).destroy() }
    }
}

/// A batch's event outcomes by source topic and event type, for metrics.
/// Undecodable records have no trustworthy type: they count as type `none`.
public struct EventTally: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case applied, deadLettered, parked, duplicate
    }

    public struct Key: Sendable, Hashable {
        public var outcome: Outcome
        public var topic: String
        public var type: String
        /// The dead-letter error class; empty for other outcomes.
        public var reason: String
    }

    public private(set) var counts: [Key: Int] = [:]

    public init() {}

    public mutating func add(_ outcome: Outcome, topic: String, type: EventType?, reason: String = "") {
        counts[Key(outcome: outcome, topic: topic, type: type?.rawValue ?? "none", reason: reason), default: 0] += 1
    }

    /// Adds another tally's counts.
    public mutating func add(_ other: EventTally) {
        counts.merge(other.counts, uniquingKeysWith: +)
    }

    public func count(_ outcome: Outcome) -> Int {
        counts.filter { $0.key.outcome == outcome }.values.reduce(0, +)
    }
}

extension OutboxRow {
    func header(_ name: String) -> String? {
        headers.last { $0.name == name }?.value
    }
}

extension BatchRouter {
    mutating func tally(_ outcome: EventTally.Outcome, _ pending: PendingEvent, reason: String = "") {
        report.tally.add(outcome, topic: pending.source.topic, type: pending.event.type, reason: reason)
    }
}
