import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Logging

/// The time-driven rules: obligations accrue monthly without any event, so
/// arrears thresholds are crossed by the calendar alone. A sweep re-evaluates
/// every open case as of a business date and enqueues what became due to the
/// outbox, where the workers' relays (or `publish` in the command) pick it up.
///
/// Idempotent: the causation id is derived from the date, so task ids are the
/// same on a re-run (the outbox skips a message id it already holds), and a
/// state that already recorded its referrals produces no new tasks. The rules
/// evaluate as of the later of `asOf` and the date the case was last
/// evaluated through, so a sweep for an earlier date does nothing backwards.
public struct ReferralSweep {
    public struct Report: Sendable, Hashable {
        public var asOf: LocalDate
        public var casesEvaluated = 0
        public var casesChanged = 0
        public var tasksByType: [TaskType: Int] = [:]
        /// The outbox message ids of the tasks enqueued (a re-run's are already there and skipped).
        public var taskIds: [UUID] = []
        /// Cases whose evaluation failed for good (logged with the reason); the sweep went on without them.
        public var casesSetAside: [String] = []

        public var tasks: Int { tasksByType.values.reduce(0, +) }
    }

    /// The `case_history` event type of a sweep's entry.
    public static let historyEventType = "referral-sweep"

    let store: CaseStore
    let topics: PipelineTopics
    let policy: Policy
    let batchSize: Int
    let logger: Logger

    public init(store: CaseStore, topics: PipelineTopics, policy: Policy, batchSize: Int = 500, logger: Logger) {
        precondition(batchSize > 0, "batch size must be positive")
        self.store = store
        self.topics = topics
        self.policy = policy
        self.batchSize = batchSize
        self.logger = logger
    }

    /// One transaction per page of cases, with the same identity and row locks
    /// as the worker's batches, so a sweep never races an event on a case.
    /// `shouldContinue` is asked before each page: a stopping process ends
    /// the sweep between transactions (the report then covers what was done).
    /// `dryRun`: evaluate and report, write nothing (no task enqueued, no case changed).
    public func run(asOf: LocalDate, dryRun: Bool = false, while shouldContinue: () -> Bool = { true }) throws -> Report {
        var report = Report(asOf: asOf)
        let causationId = TaskIdentity.sweepCausationId(asOf: asOf)
        let createdAt = policy.calendar.startOfDay(asOf)
        var after: String? = nil
        while shouldContinue() {
            let caseIds = try store.openCaseIds(after: after, limit: batchSize)
            guard let last = caseIds.last else { break }
            after = last
            do {
                try sweep(caseIds, asOf: asOf, causationId: causationId, createdAt: createdAt, dryRun: dryRun, into: &report)
            } catch where ProcessingFailure.canBeCausedByInput(error) {
                // A case whose state or rules fail for good must not stop the
                // sweep of every case after it: case by case, setting aside
                // the one that fails alone.
                for caseId in caseIds {
                    do {
                        try sweep([caseId], asOf: asOf, causationId: causationId, createdAt: createdAt, dryRun: dryRun, into: &report)
                    } catch where ProcessingFailure.canBeCausedByInput(error) {
                        report.casesSetAside.append(caseId)
                        logger.error("sweep set a case aside: it fails for good", metadata: EventLog.sweep(causationId: causationId, caseId: caseId).adding([
                            "asOf": "\(asOf)", "reason": "\(ProcessingFailure.reason(error))",
                        ]))
                    }
                }
            }
        }
        logger.info("sweep finished", metadata: [
            "asOf": "\(asOf)", "casesEvaluated": "\(report.casesEvaluated)", "casesChanged": "\(report.casesChanged)",
            "tasks": "\(report.tasks)",
        ])
        return report
    }

    /// One transaction over a page of cases.
    private func sweep(
        _ caseIds: [String], asOf: LocalDate, causationId: UUID, createdAt: Date, dryRun: Bool, into report: inout Report
    ) throws {
        var page = Report(asOf: asOf)
        try store.withBatch { batch in
            let claimed = try batch.claim(IdentityClaim(caseIds: Set(caseIds)), contention: .wait)
            let loaded = try claimed.load(CaseLoad(caseIds: Set(caseIds)))
            let states = loaded.states
            var changes: [CaseChange] = []
            var outbox: [OutboxMessage] = []
            for caseId in caseIds.sorted() {
                // Closed between the page query and the lock: nothing accrues.
                guard let state = states[caseId], !state.isClosed else { continue }
                page.casesEvaluated += 1
                let outcome = CaseRules.reevaluate(state, asOf: asOf, causationId: causationId, policy: policy)
                logger.debug("sweep re-evaluated a case", metadata: EventLog.sweep(causationId: causationId, caseId: caseId).adding([
                    "asOf": "\(asOf)", "tasks": "\(outcome.tasks.count)",
                ]))
                // Only moving `referralsEvaluatedThrough` is not worth a history entry per case per day.
                guard !outcome.tasks.isEmpty || !outcome.changes.isEmpty else { continue }
                changes.append(CaseChange(state: outcome.state, history: [
                    HistoryEntry(
                        eventId: causationId, eventType: Self.historyEventType, occurredAt: createdAt,
                        changes: outcome.changes, tasks: outcome.tasks),
                ]))
                for task in outcome.tasks {
                    var message = OutboxMessage(task: task)
                    message.topic = topics.tasks(task.type)
                    outbox.append(message)
                    page.tasksByType[task.type, default: 0] += 1
                    page.taskIds.append(task.id)
                }
            }
            page.casesChanged += changes.count
            if !dryRun { _ = try loaded.save(BatchWrites(cases: changes, outbox: outbox)) }
        }
        // Counted once committed: a page that fails and is swept again case by case counts once.
        report.casesEvaluated += page.casesEvaluated
        report.casesChanged += page.casesChanged
        report.tasksByType.merge(page.tasksByType, uniquingKeysWith: +)
        report.taskIds += page.taskIds
    }
}
