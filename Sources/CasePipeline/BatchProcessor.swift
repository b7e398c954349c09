import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Kafka
import Logging

/// What one batch did.
public struct BatchReport: Sendable, Hashable {
    public var records = 0
    /// Events applied to at least one case (parked events applied now included).
    public var applied = 0
    /// Records refused (decode failures, unknown cases, rule refusals).
    public var deadLettered = 0
    /// Events kept until their case exists.
    public var parked = 0
    /// Parked events of earlier batches applied in this one.
    public var unparked = 0
    /// Redeliveries of events already recorded (or repeated within the batch).
    public var duplicates = 0
    /// Event applications that came before something their case had applied
    /// in business time, so the case was re-derived (`CaseTimeline`).
    public var rederived = 0
    /// Of those, re-derivations that folded on from the case's checkpoint
    /// (`CaseTimeline.Checkpoints`) instead of from its application.
    public var rederivedFromCheckpoint = 0
    /// Statements that read re-derived cases' committed events from history
    /// (the first before routing, for the cases the loaded states show late).
    public var historyReads = 0
    /// Tasks put in the outbox.
    public var tasks = 0
    /// The outcomes above by topic and event type, for metrics.
    public var tally = EventTally()
    /// Indices (into the records passed) left for a later batch: they need a
    /// person or case another transaction holds (`LockContention.deferConflicting`),
    /// or come after one that does about the same people or cases. A
    /// partition's offsets can be committed only up to its first one left.
    public var deferred: [Int] = []

    public init() {}

    /// Adds what another batch (a piece of a narrowed one) did.
    public mutating func add(_ other: BatchReport) {
        records += other.records
        applied += other.applied
        deadLettered += other.deadLettered
        parked += other.parked
        unparked += other.unparked
        duplicates += other.duplicates
        rederived += other.rederived
        rederivedFromCheckpoint += other.rederivedFromCheckpoint
        historyReads += other.historyReads
        tasks += other.tasks
        tally.add(other.tally)
    }
}

/// Turns a batch of consumed records into case changes, tasks and dead
/// letters, all written in ONE storage transaction of three phases: claim
/// the people and cases the records name (`BatchAdmission`), load (record
/// event ids -- redeliveries stop there --, take what was parked for them,
/// lock and load their cases), decide in memory (`BatchRouter`: each event to
/// its cases by case id, the employee's SSN hash or remittance payment, the
/// rules in business order), and save.
///
/// Throws only infrastructure errors (the transaction then rolled back and the
/// batch can be retried as a whole); every problem with the input itself
/// becomes a dead letter and processing continues.
///
/// Not thread-safe: one processor per worker thread.
public final class BatchProcessor: @unchecked Sendable {
    private let store: CaseStore
    private let protector: SSNProtector
    private let topics: PipelineTopics
    private let policy: Policy
    private let logger: Logger
    /// Named in every dead letter's provenance.
    private let consumerGroup: String
    /// Part-way derivations of the cases this worker re-derived, kept between
    /// batches: the next late event of such a case folds on from there.
    private var checkpoints: CaseTimeline.Checkpoints
    /// The committed events of the cases re-derived lately, decoded.
    private let earlierEvents: CommittedEvents

    public init(
        store: CaseStore, protector: SSNProtector, topics: PipelineTopics, policy: Policy, logger: Logger,
        consumerGroup: String = "", checkpointedCases: Int = BatchProcessor.defaultCheckpointedCases
    ) {
        self.consumerGroup = consumerGroup
        self.checkpoints = CaseTimeline.Checkpoints(capacity: checkpointedCases)
        // A case's decoded events weigh far more than its checkpoint (a state and
        // its last task per target): fewer are kept, so a worker's memory stays low.
        self.earlierEvents = CommittedEvents(capacity: checkpointedCases / 4)
        self.store = store
        self.protector = protector
        self.topics = topics
        self.policy = policy
        self.logger = logger
    }

    /// Cases whose part-way derivation a worker keeps (`CaseTimeline.Checkpoints`).
    public static let defaultCheckpointedCases = 2_000

    /// The longest any statement of a batch may run (see `CaseStore.batchTimeLimit`).
    public var batchTimeLimit: Duration? {
        get { store.batchTimeLimit }
        set { store.batchTimeLimit = newValue }
    }

    /// The worker's row in `group_members`, on the batches' session between
    /// batches; `prune` (a worker's first record) also forgets members gone for long.
    func recordMembership(_ member: GroupMember, prune: Bool) throws {
        if prune { try GroupMembers.prune(group: member.group, on: store.connection) }
        try GroupMembers.record(member, on: store.connection)
    }

    /// After a transient failure: make the next attempt possible (reconnect).
    public func recover() {
        do {
            try store.reconnectIfBroken()
        } catch {
            logger.warning("database reconnect failed; will retry", metadata: ["error": "\(error)"])
        }
    }

    /// Dead-letters events that have waited longer than `horizon` (counted
    /// from when they were first parked) for their case to be opened
    /// (`unknown-case`) or for the order they name (`processing-failed`). One
    /// transaction; cheap when nothing has waited that long.
    public func expireParked(olderThan horizon: Duration) throws -> BatchReport {
        let caseIds = Set(try store.casesWithExpiredParkedEvents(olderThan: horizon, limit: 200))
        guard !caseIds.isEmpty else { return BatchReport() }
        do {
            return try expire(caseIds, horizon: horizon, refusing: nil)
        } catch where ProcessingFailure.canBeCausedByInput(error) {
            // One case's waiting events fail for good: expire case by case, and
            // set aside the waiting events of a case that fails alone.
            var report = BatchReport()
            for caseId in caseIds.sorted() {
                do {
                    report.add(try expire([caseId], horizon: horizon, refusing: nil))
                } catch where ProcessingFailure.canBeCausedByInput(error) {
                    report.add(try expire([caseId], horizon: horizon, refusing: error))
                }
            }
            return report
        }
    }

    /// One transaction over `caseIds`' waiting events; with `refusing`, every
    /// one of them is dead-lettered as `processing-failed` instead of applied.
    private func expire(_ caseIds: Set<String>, horizon: Duration, refusing failure: (any Error)?) throws -> BatchReport {
        let now = Date()
        return try store.withBatch { transaction in
            let claimed = try transaction.claim(IdentityClaim(caseIds: caseIds), contention: .wait)
            let loaded = try claimed.load(CaseLoad(parked: ParkedMatches(caseIds: caseIds, ordersOfCases: caseIds), caseIds: caseIds))
            var router = router(loaded, report: BatchReport())
            if let failure {
                router.refuseTaken(reason: ProcessingFailure.reason(failure))
            } else {
                try router.expire(horizon: horizon, now: now)
            }
            _ = try loaded.save(router.writes)
            checkpoints = router.checkpoints
            return router.report
        }
    }

    /// Deletes employer reports about people on no case kept longer than the
    /// policy's `unmatchedReportRetentionDays`, in bounded chunks; how many.
    /// They are never dead-lettered: the horizon applies only to events waiting
    /// for a case or an order.
    public func deleteExpiredUnmatchedReports() throws -> Int {
        try store.deleteUnmatchedReports(olderThanDays: policy.unmatchedReportRetentionDays)
    }

    /// Dead-letters one record that fails every batch holding it for a reason
    /// no retry can change (found by the worker's narrowing): the original
    /// bytes as `processing-failed`, with a reason naming the failure's class
    /// and statement, never a value. Its own transaction, so the rest of the
    /// batch commits without it.
    public func refuse(_ record: InboundRecord, because failure: any Error) throws -> BatchReport {
        let eventId = try? (record.decoded ?? EventDecoder.decode(record.value)).get().id
        let reason = ProcessingFailure.reason(failure)
        let message = DeadLetter.message(
            for: DeadLetter.Source(record), eventId: eventId, errorClass: ProcessingFailure.errorClass, reason: reason,
            scope: ProcessingFailure.errorClass, topics: topics, provenance: DeadLetter.Provenance(consumerGroup: consumerGroup))
        try store.withBatch { transaction in
            let claimed = try transaction.claim(IdentityClaim(), contention: .wait)
            let loaded = try claimed.load(CaseLoad(caseIds: []))
            _ = try loaded.save(BatchWrites(outbox: [message]))
        }
        logger.error("dead-lettering a record that fails every batch holding it", metadata: [
            "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
            "class": "\(ProcessingFailure.errorClass)", "reason": "\(reason)",
        ])
        var report = BatchReport()
        report.records = 1
        report.deadLettered = 1
        report.tally.add(.deadLettered, topic: record.topic, type: nil, reason: ProcessingFailure.errorClass)
        return report
    }

    /// `releasingWaiting: false` applies the records without taking the events
    /// that wait for them: how narrowing tells a record that fails from the
    /// waiting events it would release (those stay until expiry sets them aside).
    public func process(
        _ records: [InboundRecord], contention: LockContention = .wait, releasingWaiting: Bool = true
    ) throws -> BatchReport {
        let decoded = records.map { record in
            let result = record.decoded ?? EventDecoder.decode(record.value)
            // Bounds that need the policy or the time of the report.
            guard case .success(let event) = result,
                let violation = InputLimits.violation(in: event, policy: policy, reportedAt: record.reportedAt)
            else { return result }
            return .failure(violation)
        }
        let admission = BatchAdmission(decoded, protector: protector)
        let provenance = DeadLetter.Provenance(consumerGroup: consumerGroup)
        var report = BatchReport()
        var committed: [CommittedEvents.Entry] = []
        try store.withBatch { transaction in
            // 1. Claim the people and cases in play; what another worker holds waits.
            let claimed = try transaction.claim(admission.claim, contention: contention)
            let resolved = claimed.noncustodialCases
            let (admitted, deferred) = admission.admit(
                busySSNHashes: claimed.busySSNHashes, busyCaseIds: claimed.busyCaseIds, resolved: resolved)
            var base = BatchReport()
            base.deferred = deferred
            base.records = admitted.count
            var events: [(Event, DeadLetter.Source)] = []
            var refused: [OutboxMessage] = []
            var seen = Set<UUID>()
            for index in admitted {
                switch decoded[index] {
                case .success(let event):
                    guard seen.insert(event.id).inserted else {
                        base.duplicates += 1
                        base.tally.add(.duplicate, topic: records[index].topic, type: event.type)
                        continue
                    }
                    events.append((event, DeadLetter.Source(records[index])))
                case .failure(let error):
                    refused.append(DeadLetter.message(
                        for: DeadLetter.Source(records[index]), eventId: nil, errorClass: error.kind.rawValue,
                        reason: DeadLetter.reason(error), topics: topics, provenance: provenance))
                    base.tally.add(.deadLettered, topic: records[index].topic, type: nil, reason: error.kind.rawValue)
                }
            }
            base.deadLettered = refused.count

            // 2. Record the ids (redeliveries of applied events stop here), take
            // what was parked for them, lock and load their cases.
            var request = admission.load(events, resolved: resolved)
            if !releasingWaiting { request.parked = ParkedMatches() }
            let loaded = try claimed.load(request)
            let fresh = events.filter { loaded.fresh.contains($0.0.id) }
            base.duplicates += events.count - fresh.count
            for (event, source) in events where !loaded.fresh.contains(event.id) {
                base.tally.add(.duplicate, topic: source.topic, type: event.type)
            }

            // Decide in memory; the committed events of cases late events
            // re-derive are read first, in one statement, as far as the loaded
            // states tell.
            // One provenance for the batch: its decoder refusals and the router's share a failure time.
            var router = router(
                loaded, report: base, resolved: resolved, identities: admission.byEventId, outbox: refused, provenance: provenance)
            try router.earlier.prefetch(router.lateCases(of: fresh))
            let resumedBefore = router.checkpoints.resumed
            try router.apply(fresh)
            router.report.rederivedFromCheckpoint = router.checkpoints.resumed - resumedBefore
            router.report.historyReads = router.earlier.reads

            // 3. Save.
            let versions = try loaded.save(router.writes)
            report = router.report
            // Kept even if the commit then fails: a checkpoint names the events it
            // folded, so one from a rolled-back batch matches only if they come again.
            checkpoints = router.checkpoints
            committed = router.earlier.events.compactMap { caseId, events in
                guard let events else { return nil }
                return versions[caseId].map {
                    CommittedEvents.Entry(caseId: caseId, version: $0, events: events + (router.appliedInBatch[caseId] ?? []))
                }
            }
        }
        // Committed: the events these cases hold now are known without reading them back.
        for entry in committed { earlierEvents.put(entry) }
        // Logged once the refusals are committed, not on every retry of the batch.
        let deferred = Set(report.deferred)
        for (index, result) in decoded.enumerated() where !deferred.contains(index) {
            guard case .failure(let error) = result else { continue }
            let record = records[index]
            logger.warning("dead-lettering an undecodable record", metadata: EventLog.undecodable.adding([
                "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                "class": "\(error.kind.rawValue)", "field": "\(error.field ?? "-")",
            ]))
        }
        return report
    }

    /// A router over what the batch loaded.
    private func router(
        _ loaded: borrowing LoadedCases, report: BatchReport, resolved: [SSNHash: [String]] = [:],
        identities: [UUID: Identities] = [:], outbox: [OutboxMessage] = [], provenance: DeadLetter.Provenance? = nil
    ) -> BatchRouter {
        BatchRouter(
            protector: protector, topics: topics, policy: policy, logger: logger,
            provenance: provenance ?? DeadLetter.Provenance(consumerGroup: consumerGroup), states: loaded.states, resolved: resolved,
            parked: TakenFromParking(loaded.parked), identities: identities,
            earlier: EarlierEvents(source: loaded.history, kept: earlierEvents), checkpoints: checkpoints, report: report,
            outbox: outbox)
    }
}

/// The committed events of the cases a worker re-derived lately, decoded, with
/// the case version they make up: the next late event of such a case needs
/// them all again, and reading them back (sealed, from history) and decoding
/// them cost more than folding them. An entry counts only while the case's
/// version is the one it was kept at (another worker's batch, or a sweep,
/// changes the version). Bounded: the least recently used half goes when full.
/// One per worker thread.
final class CommittedEvents {
    struct Entry {
        var caseId: String
        var version: Int64
        var events: [Event]
    }

    private var entries: RecentlyUsed<String, Entry>

    init(capacity: Int) { entries = RecentlyUsed(capacity: capacity) }

    func events(of caseId: String, version: Int64) -> [Event]? {
        guard entries.peek(caseId)?.version == version else { return nil }
        return entries.use(caseId)?.events
    }

    func put(_ entry: Entry) { entries.put(entry.caseId, entry) }
}
