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
}

/// What a batch does when another transaction (another worker's batch) holds
/// a person or case it needs.
public enum LockContention: Sendable, Hashable {
    /// Wait for it: always makes progress.
    case wait
    /// Take only what is free and leave the events that need a busy identity,
    /// with everything after them about the same people and cases, for a
    /// later batch: workers whose partitions share
    /// people (employer reports are keyed by SSN, cases by case id) then
    /// overlap instead of queueing behind each other's transactions.
    case deferConflicting
}

/// Turns a batch of consumed records into case changes, tasks and dead
/// letters, all written in ONE storage transaction: decode, record event ids
/// (redeliveries stop there), route each event to its cases (by case id, by
/// the employee's SSN hash, by remittance payment), apply the rules per case
/// in offset order, and save.
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
    /// Part-way derivations of the cases this worker re-derived, kept between
    /// batches: the next late event of such a case folds on from there.
    private var checkpoints: CaseTimeline.Checkpoints
    /// The committed events of the cases re-derived lately, decoded.
    private let earlierEvents: CommittedEvents

    public init(
        store: CaseStore, protector: SSNProtector, topics: PipelineTopics, policy: Policy, logger: Logger,
        checkpointedCases: Int = BatchProcessor.defaultCheckpointedCases
    ) {
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
        let caseIds = try store.casesWithExpiredParkedEvents(olderThan: horizon, limit: 200)
        var report = BatchReport()
        guard !caseIds.isEmpty else { return report }
        try store.withBatch { transaction in
            var run = BatchRun(
                transaction: transaction, protector: protector, topics: topics, policy: policy, logger: logger, report: report,
                checkpoints: checkpoints, earlierEvents: earlierEvents)
            try run.expire(caseIds: caseIds, horizon: horizon)
            _ = try run.save()
            report = run.report
            checkpoints = run.checkpoints
        }
        return report
    }

    public func process(_ records: [InboundRecord], contention: LockContention = .wait) throws -> BatchReport {
        let decoded = records.map { $0.decoded ?? EventDecoder.decode($0.value) }
        var report = BatchReport()
        var committed: [CommittedEvents.Entry] = []
        try store.withBatch { transaction in
            var run = BatchRun(
                transaction: transaction, protector: protector, topics: topics, policy: policy, logger: logger,
                report: BatchReport(), checkpoints: checkpoints, earlierEvents: earlierEvents)
            let admitted = try run.admit(records, decoded, contention: contention)
            var events: [(Event, DeadLetter.Source)] = []
            var refused: [OutboxMessage] = []
            var seen = Set<UUID>()
            for index in admitted {
                switch decoded[index] {
                case .success(let event):
                    guard seen.insert(event.id).inserted else {
                        run.report.duplicates += 1
                        run.report.tally.add(.duplicate, topic: records[index].topic, type: event.type)
                        continue
                    }
                    events.append((event, DeadLetter.Source(records[index])))
                case .failure(let error):
                    refused.append(DeadLetter.message(
                        for: DeadLetter.Source(records[index]), eventId: nil, errorClass: error.kind.rawValue,
                        reason: DeadLetter.reason(error), topics: topics))
                    run.report.tally.add(.deadLettered, topic: records[index].topic, type: nil, reason: error.kind.rawValue)
                }
            }
            run.report.records = admitted.count
            run.report.deadLettered = refused.count
            let resumedBefore = run.checkpoints.resumed
            try run.apply(events)
            run.outbox = refused + run.outbox
            committed = try run.save()
            run.report.rederivedFromCheckpoint = run.checkpoints.resumed - resumedBefore
            report = run.report
            // Kept even if the commit then fails: a checkpoint names the events it
            // folded, so one from a rolled-back batch matches only if they come again.
            checkpoints = run.checkpoints
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
}

/// One batch's work inside its transaction.
struct BatchRun {
    let transaction: BatchTransaction
    let protector: SSNProtector
    let topics: PipelineTopics
    let policy: Policy
    let logger: Logger
    var report: BatchReport
    var checkpoints: CaseTimeline.Checkpoints
    let earlierEventsCache: CommittedEvents

    /// Case states as loaded (locked) and as changed so far; nil = no such case.
    private var states: [String: CaseState] = [:]
    private var history: [String: [HistoryEntry]] = [:]
    private var changedOrder: [String] = []
    /// What `admit` resolved: the cases each reported SSN hash is the noncustodial parent on.
    private var resolved: [SSNHash: [String]] = [:]
    /// Each event's people and cases, hashed once (`admit`), read again by `apply` and `route`.
    private var identitiesById: [UUID: Identities] = [:]
    /// Which cases each SSN hash in play is the noncustodial parent on.
    private var casesByNCP: [SSNHash: Set<String>] = [:]
    private var ncpOfCase: [String: SSNHash] = [:]
    /// Events waiting for a case: taken from storage, or parked earlier in this batch.
    private var waitingBySSN: [SSNHash: [PendingEvent]] = [:]
    private var waitingByCase: [String: [PendingEvent]] = [:]
    private var waitingByOrder: [OrderKey: [PendingEvent]] = [:]
    /// Parked events taken from storage and applied; the rest go back.
    private var unparkedIds = Set<ParkedKey>()
    private var outcomes: [UUID: EventOutcome] = [:]
    /// Per case, the events applied in this batch and (read when a late event
    /// needs them) the events committed before: what re-derives a case.
    private var appliedInBatch: [String: [Event]] = [:]
    private var committedEvents: [String: [Event]] = [:]
    var outbox: [OutboxMessage] = []
    private var toPark: [ParkedEvent] = []
    private var takenFromStorage: [ParkedEvent] = []

    struct PendingEvent {
        var event: Event
        var source: DeadLetter.Source
        /// Set when the event came out of storage's parking.
        var parked: ParkedEvent?
    }

    struct ParkedKey: Hashable {
        var eventId: UUID
        var match: ParkedEvent.Match
    }

    struct OrderKey: Hashable {
        var caseId: String
        var orderId: String
    }

    init(
        transaction: BatchTransaction, protector: SSNProtector, topics: PipelineTopics, policy: Policy, logger: Logger,
        report: BatchReport, checkpoints: CaseTimeline.Checkpoints, earlierEvents: CommittedEvents
    ) {
        self.checkpoints = checkpoints
        self.earlierEventsCache = earlierEvents
        self.transaction = transaction
        self.protector = protector
        self.topics = topics
        self.policy = policy
        self.logger = logger
        self.report = report
    }

    /// Takes the identity locks of the batch and decides which records it
    /// handles now (indices, in batch order); the others are in `report.deferred`.
    mutating func admit(
        _ records: [InboundRecord], _ decoded: [Result<Event, EventDecodingError>], contention: LockContention
    ) throws -> [Int] {
        let identities = decoded.map { result -> Identities? in
            guard case .success(let event) = result else { return nil }
            return identity(of: event)
        }
        let all = identities.compactMap { $0 }
        let ssnHashes = Set(all.flatMap(\.ssnHashes))
        let caseIds = Set(all.flatMap(\.caseIds))
        let reported = Set(all.compactMap(\.reported))
        guard contention == .deferConflicting else {
            // Serialise on the people in play, in a global order (no deadlocks):
            // an employer report and an intake bringing the same SSN never interleave.
            try transaction.lockIdentities(ssnHashes: ssnHashes, caseIds: caseIds)
            resolved = try transaction.noncustodialCases(forSSNHashes: reported)
            return Array(records.indices)
        }
        var busy = try transaction.tryLockIdentities(ssnHashes: ssnHashes, caseIds: caseIds)
        // A reported person's cases are another worker's to change while it
        // holds them: lock those too (they were not known before resolving).
        resolved = try transaction.noncustodialCases(forSSNHashes: reported.subtracting(busy.ssnHashes))
        let busyCases = try transaction.tryLockIdentities(
            ssnHashes: [SSNHash](), caseIds: Set(resolved.values.joined()).subtracting(caseIds)
        ).caseIds
        busy.caseIds.formUnion(busyCases)

        // Left for later: a record needing a busy identity, and after it
        // everything about its people and cases (their order is the one that
        // matters). The rest of its partition goes ahead: the worker commits a
        // partition only up to its first record left.
        var heldBack: (ssnHashes: Set<SSNHash>, caseIds: Set<String>) = ([], [])
        var admitted: [Int] = []
        admitted.reserveCapacity(records.count)
        for index in records.indices {
            guard let identity = identities[index] else {
                admitted.append(index)
                continue
            }
            let cases = identity.caseIds + (identity.reported.flatMap { resolved[$0] } ?? [])
            let wait = identity.ssnHashes.contains { busy.ssnHashes.contains($0) || heldBack.ssnHashes.contains($0) }
                || cases.contains { busy.caseIds.contains($0) || heldBack.caseIds.contains($0) }
            if wait {
                heldBack.ssnHashes.formUnion(identity.ssnHashes)
                heldBack.caseIds.formUnion(cases)
                report.deferred.append(index)
            } else {
                admitted.append(index)
            }
        }
        return admitted
    }

    /// The event's identities, computed (HMAC per SSN) the first time it is asked for.
    private mutating func identity(of event: Event) -> Identities {
        if let known = identitiesById[event.id] { return known }
        let identity = Identities(event, protector: protector)
        identitiesById[event.id] = identity
        return identity
    }

    /// The people and cases an event needs locked.
    struct Identities {
        /// The employee an employer report names (resolved to cases by SSN).
        var reported: SSNHash?
        /// Every SSN hash in play: the reported employee, or the noncustodial
        /// parent an intake or party update brings.
        var ssnHashes: [SSNHash] = []
        var caseIds: [String] = []

        init(_ event: Event, protector: SSNProtector) {
            if let ssn = BatchRun.employeeSSN(event) {
                let hash = protector.hash(ssn)
                reported = hash
                ssnHashes.append(hash)
            }
            switch event.payload {
            case .intakeApplication(let application):
                if let ssn = application.noncustodialParty.ssn { ssnHashes.append(protector.hash(ssn)) }
            case .partyUpdate(let update):
                if let ssn = update.ssn { ssnHashes.append(protector.hash(ssn)) }
            case .withholdingRemittance(let remittance):
                caseIds.append(contentsOf: remittance.payments.map(\.caseId))
            case .iwoResponse(let response):
                caseIds.append(response.caseId)
            default:
                break
            }
            if let caseId = event.caseId { caseIds.append(caseId) }
        }
    }

    /// Applies admitted events (`admit` took their locks).
    mutating func apply(_ decoded: [(Event, DeadLetter.Source)]) throws {
        guard !decoded.isEmpty else { return }
        // 1. Record the ids; redeliveries of applied events stop here.
        let fresh = try transaction.recordEvents(decoded.map {
            ProcessedEvent(eventId: $0.0.id, topic: $0.1.topic, partition: $0.1.partition, offset: $0.1.offset)
        })
        let events = decoded.filter { fresh.contains($0.0.id) }
        report.duplicates += decoded.count - events.count
        for (event, source) in decoded where !fresh.contains(event.id) { report.tally.add(.duplicate, topic: source.topic, type: event.type) }
        guard !events.isEmpty else { return }

        // 2. The people and cases in play (locked by `admit`).
        var reportHashes = Set<SSNHash>()
        var arrivingHashes = Set<SSNHash>()
        var caseIds = Set<String>()
        for (event, _) in events {
            let identity = identity(of: event)
            if let reported = identity.reported { reportHashes.insert(reported) }
            arrivingHashes.formUnion(identity.ssnHashes.filter { $0 != identity.reported })
            caseIds.formUnion(identity.caseIds)
        }

        // 3. Resolve reported people to their cases; take what waits for arriving people and cases.
        for (hash, cases) in resolved where reportHashes.contains(hash) {
            casesByNCP[hash, default: []].formUnion(cases)
            for caseId in cases { ncpOfCase[caseId] = hash }
            caseIds.formUnion(cases)
        }
        let openingCaseIds = events.compactMap { event, _ -> String? in
            if case .intakeApplication = event.payload { return event.caseId }
            return nil
        }
        // Orders entered in this batch: modifications and terminations that overtook them wait for them.
        let enteredOrders = events.compactMap { event, _ -> (caseId: String, orderId: String)? in
            guard let caseId = event.caseId else { return nil }
            switch event.payload {
            case .orderEstablished(let terms): return (caseId, terms.orderId)
            case .intakeApplication(let application): return application.existingOrder.map { (caseId, $0.orderId) }
            default: return nil
            }
        }
        takenFromStorage = try transaction.takeParked(
            forSSNHashes: arrivingHashes, caseIds: Set(openingCaseIds), orders: enteredOrders)
        for parked in takenFromStorage {
            // It decoded when it was parked; if a changed decoder refuses it now, it stays parked.
            guard case .success(let event) = EventDecoder.decode(parked.value) else { continue }
            let pending = PendingEvent(
                event: event,
                source: DeadLetter.Source(
                    topic: parked.topic, partition: parked.partition, offset: parked.offset, key: parked.key, value: parked.value),
                parked: parked)
            waitingFor(parked.match, pending)
            if let caseId = parked.match.caseId { caseIds.insert(caseId) }
        }

        // 4. Lock and load the cases in play.
        let loaded = try transaction.lockAndLoad(caseIds: caseIds)
        for caseId in caseIds { states[caseId] = loaded[caseId] }
        for (caseId, state) in loaded {
            if let ssn = state.noncustodialParty.ssn {
                let hash = protector.hash(ssn)
                ncpOfCase[caseId] = hash
                casesByNCP[hash, default: []].insert(caseId)
            }
        }

        // Late events re-derive their cases from the events kept in history:
        // read those of every case that will need them in one statement.
        var late = Set<String>()
        for (event, _) in events {
            let identity = identity(of: event)
            for caseId in identity.caseIds + (identity.reported.flatMap { resolved[$0] } ?? []) where !late.contains(caseId) {
                if let state = states[caseId], CaseTimeline.needsEarlierEvents(event, for: state, policy: policy) { late.insert(caseId) }
            }
        }
        try readEarlierEvents(of: late)

        // 5. Apply in business order (`occurredAt`, then id): within the batch
        // each case's events then come in order, and only an event older than
        // what earlier batches applied re-derives its case.
        for (event, source) in events.sorted(by: { EventPosition($0.0) < EventPosition($1.0) }) {
            try route(PendingEvent(event: event, source: source, parked: nil))
        }
    }

    /// Everything the batch decided, in one round of writes; returns the
    /// committed events of the cases whose events were read (the caller keeps
    /// them once the transaction commits).
    mutating func save() throws -> [CommittedEvents.Entry] {
        // Taken from parking (or parked in this batch) and still unmatched: parked again as they were.
        let stillParked = (toPark + takenFromStorage).filter {
            !unparkedIds.contains(ParkedKey(eventId: $0.eventId, match: $0.match))
        }
        let changes = changedOrder.map { CaseChange(state: states[$0]!, history: history[$0]!) }
        // New ids are recorded as applied; name only the other outcomes, and the
        // events parked by an earlier batch that applied now.
        let unparked = Set(takenFromStorage.map(\.eventId))
        let changedOutcomes = outcomes.filter { $0.value != .applied || unparked.contains($0.key) }
        try transaction.save(cases: changes, outbox: outbox, parked: stillParked, outcomes: changedOutcomes)
        return committedEvents.compactMap { caseId, committed in
            transaction.version(of: caseId).map {
                CommittedEvents.Entry(caseId: caseId, version: $0, events: committed + (appliedInBatch[caseId] ?? []))
            }
        }
    }

    // MARK: routing

    private mutating func route(_ pending: PendingEvent) throws {
        let event = pending.event
        switch event.payload {
        case .newHire, .termination, .quarterlyWage:
            let hash = identity(of: event).reported!
            let cases = casesByNCP[hash, default: []].sorted()
            guard !cases.isEmpty else {
                park(pending, match: .ssn(hash))
                return
            }
            try applyToCases(pending, cases)
        case .withholdingRemittance(let remittance):
            var seen = Set<String>()
            var open: [String] = []
            for caseId in remittance.payments.map(\.caseId) where seen.insert(caseId).inserted {
                if states[caseId] != nil { open.append(caseId) } else { park(pending, match: .caseId(caseId)) }
            }
            if !open.isEmpty { try applyToCases(pending, open) }
        case .intakeApplication:
            try applyToCases(pending, [event.caseId ?? ""])
        default:
            // Topics are consumed independently, so an event may overtake the
            // application that opens its case: it waits for the case (for at
            // most the grace period; see `expire`), it is not refused yet.
            let caseId = Self.namedCaseId(event)
            if let caseId, states[caseId] == nil {
                park(pending, match: .caseId(caseId))
            } else {
                try applyToCases(pending, [caseId ?? ""])
            }
        }
    }

    /// The case an event is about when it names one: the envelope's, or an IWO response's.
    static func namedCaseId(_ event: Event) -> String? {
        if case .iwoResponse(let response) = event.payload { return response.caseId }
        return event.caseId
    }

    /// Events of these cases that waited longer than `horizon` (from when
    /// they were first parked) for their case or their order: dead letters
    /// (`unknown-case`, or the rules' refusal of an order never entered). Any
    /// whose case or order exists by now are applied instead; younger ones
    /// keep waiting.
    mutating func expire(caseIds: [String], horizon: Duration) throws {
        try transaction.lockIdentities(ssnHashes: [SSNHash](), caseIds: caseIds)
        takenFromStorage = try transaction.takeParked(forSSNHashes: [SSNHash](), caseIds: caseIds, ordersOfCases: caseIds)
        let loaded = try transaction.lockAndLoad(caseIds: caseIds)
        for caseId in caseIds { states[caseId] = loaded[caseId] }
        let cutoff = Date().addingTimeInterval(-horizon.seconds)
        let waiting = takenFromStorage.compactMap { parked -> PendingEvent? in
            guard case .success(let event) = EventDecoder.decode(parked.value) else { return nil }
            return PendingEvent(
                event: event,
                source: DeadLetter.Source(
                    topic: parked.topic, partition: parked.partition, offset: parked.offset, key: parked.key, value: parked.value),
                parked: parked)
        }
        for pending in waiting.sorted(by: Self.businessOrder) {
            let parked = pending.parked!, event = pending.event
            guard let caseId = parked.match.caseId else { continue }
            let refusal: RuleError
            switch parked.match {
            case .order(_, let orderId):
                if states[caseId]?.orders.contains(where: { $0.orderId == orderId }) == true {
                    try applyToCases(pending, [caseId])
                    continue
                }
                refusal = .unknownOrder(caseId: caseId, orderId: orderId)
            default:
                if states[caseId] != nil {
                    try applyToCases(pending, [caseId])
                    continue
                }
                refusal = .unknownCase(caseId: caseId)
            }
            // Still waiting, and not long enough to give up on.
            guard (parked.parkedAt ?? .distantPast) < cutoff else { continue }
            unparkedIds.insert(ParkedKey(eventId: parked.eventId, match: parked.match))
            report.deadLettered += 1
            tally(.deadLettered, pending, reason: refusal.deadLetterClass)
            logger.warning(
                "dead-lettering an event that waited past the horizon for its case or order",
                metadata: EventLog.metadata(event, caseId: caseId).adding(["class": "\(refusal.deadLetterClass)"]))
            outbox.append(DeadLetter.message(
                for: pending.source, eventId: event.id, errorClass: refusal.deadLetterClass,
                reason: DeadLetter.reason(refusal), scope: caseId, topics: topics))
            // A remittance may have been applied to its other cases; it keeps that outcome.
            if case .withholdingRemittance = event.payload { continue }
            outcomes[event.id] = .deadLettered
        }
    }

    /// Applies the event to each case; a refusal by one case dead-letters the
    /// event for that case without undoing it on the others.
    private mutating func applyToCases(_ pending: PendingEvent, _ caseIds: [String]) throws {
        var appliedAnywhere = false
        var refusedAnywhere = false
        var refusal = ""
        for caseId in caseIds {
            let result: Result<RuleOutcome, RuleError>
            if let state = states[caseId], CaseTimeline.needsEarlierEvents(pending.event, for: state, policy: policy) {
                // A late event: the case is re-derived in business order.
                result = try earlierEvents(of: caseId).flatMap {
                    CaseTimeline.apply(pending.event, to: state, earlierEvents: $0, policy: policy, checkpoints: &checkpoints)
                }
                report.rederived += 1
            } else {
                result = CaseRules.apply(pending.event, to: states[caseId], policy: policy)
            }
            switch result {
            case .success(let outcome):
                guard !outcome.wasDuplicate else { continue }
                appliedAnywhere = true
                let before = states[caseId]
                states[caseId] = outcome.state
                if history[caseId] == nil { changedOrder.append(caseId) }
                history[caseId, default: []].append(HistoryEntry(event: pending.event, bytes: pending.source.value, outcome: outcome))
                appliedInBatch[caseId, default: []].append(pending.event)
                for task in outcome.tasks {
                    var message = OutboxMessage(task: task)
                    message.topic = topics.tasks(task.type)
                    outbox.append(message)
                }
                report.tasks += outcome.tasks.count
                // The metadata is an autoclosure: built only when debug is on.
                logger.debug("event applied", metadata: EventLog.metadata(pending.event, caseId: caseId).adding([
                    "tasks": "\(outcome.tasks.count)", "stage": "\(outcome.state.stage.rawValue)",
                    "unparked": "\(pending.parked != nil)",
                ]))
                try caseChanged(caseId, before: before)
            case .failure(.unknownOrder(let caseId, let orderId)) where caseIds.count == 1 && Self.namesAnOrder(pending.event):
                // It overtook the order it modifies or ends: it waits for it.
                park(pending, match: .order(caseId: caseId, orderId: orderId))
                return
            case .failure(let error):
                refusedAnywhere = true
                refusal = error.deadLetterClass
                logger.warning(
                    "dead-lettering an event the rules refused",
                    metadata: EventLog.metadata(pending.event, caseId: caseId).adding(["class": "\(error.deadLetterClass)"]))
                outbox.append(DeadLetter.message(
                    for: pending.source, eventId: pending.event.id, errorClass: error.deadLetterClass,
                    reason: DeadLetter.reason(error), scope: caseIds.count > 1 ? caseId : "", topics: topics))
            }
        }
        if let parked = pending.parked { unparkedIds.insert(ParkedKey(eventId: parked.eventId, match: parked.match)) }
        if appliedAnywhere {
            if pending.parked != nil { report.unparked += 1 } else { report.applied += 1 }
            tally(.applied, pending)
            outcomes[pending.event.id] = .applied
        } else if refusedAnywhere {
            report.deadLettered += 1
            tally(.deadLettered, pending, reason: refusal)
            if outcomes[pending.event.id] != .applied { outcomes[pending.event.id] = .deadLettered }
        } else if pending.parked == nil {
            // Every case had applied it already (its id was recorded under another outcome).
            report.duplicates += 1
            tally(.duplicate, pending)
        }
    }

    /// Every event applied to the case so far: those committed (kept sealed in
    /// its history) and those applied earlier in this batch. Fails (the late
    /// event is then refused) when a kept event no longer decodes or the
    /// application is not among them.
    private mutating func earlierEvents(of caseId: String) throws -> Result<[Event], RuleError> {
        if committedEvents[caseId] == nil { try readEarlierEvents(of: [caseId]) }
        guard let committed = committedEvents[caseId] else { return .failure(.earlierEventsMissing(caseId: caseId)) }
        return .success(committed + (appliedInBatch[caseId] ?? []))
    }

    /// Reads and decodes the committed events of these cases (one statement).
    /// A case with an event that no longer decodes is left out: its late
    /// events are refused (`earlierEventsMissing`) rather than mis-derived.
    private mutating func readEarlierEvents(of caseIds: Set<String>) throws {
        var wanted = Set<String>()
        for caseId in caseIds where committedEvents[caseId] == nil {
            // Kept from an earlier batch of this worker, if nobody changed the case since.
            if let version = transaction.version(of: caseId), let known = earlierEventsCache.events(of: caseId, version: version) {
                committedEvents[caseId] = known
            } else {
                wanted.insert(caseId)
            }
        }
        guard !wanted.isEmpty else { return }
        let read = try transaction.earlierEvents(caseIds: wanted)
        for caseId in wanted {
            var decoded: [Event] = []
            var readable = true
            for bytes in read[caseId] ?? [] {
                guard case .success(let event) = EventDecoder.decode(bytes) else {
                    readable = false
                    break
                }
                decoded.append(event)
            }
            if readable { committedEvents[caseId] = decoded }
        }
    }

    /// An order modification or termination: it can overtake the order it names.
    static func namesAnOrder(_ event: Event) -> Bool {
        switch event.payload {
        case .orderModified, .orderTerminated: true
        default: false
        }
    }

    /// A case opened, its noncustodial parent's SSN changed, or an order was
    /// entered: apply what waited for it.
    private mutating func caseChanged(_ caseId: String, before: CaseState?) throws {
        guard let state = states[caseId] else { return }
        let newHash = state.noncustodialParty.ssn.map(protector.hash)
        if newHash != ncpOfCase[caseId] {
            if let old = ncpOfCase[caseId] { casesByNCP[old]?.remove(caseId) }
            ncpOfCase[caseId] = newHash
            if let newHash {
                casesByNCP[newHash, default: []].insert(caseId)
                if let waiting = waitingBySSN.removeValue(forKey: newHash) {
                    for pending in waiting.sorted(by: Self.businessOrder) { try route(pending) }
                }
            }
        }
        if before == nil, let waiting = waitingByCase.removeValue(forKey: caseId) {
            for pending in waiting.sorted(by: Self.businessOrder) {
                // A remittance waits once per unopened case; apply only this case's payments.
                try applyToCases(pending, [caseId])
            }
        }
        let knownOrders = Set(before?.orders.map(\.orderId) ?? [])
        for order in state.orders where !knownOrders.contains(order.orderId) {
            guard let waiting = waitingByOrder.removeValue(forKey: OrderKey(caseId: caseId, orderId: order.orderId)) else { continue }
            for pending in waiting.sorted(by: Self.businessOrder) { try applyToCases(pending, [caseId]) }
        }
    }

    private mutating func park(_ pending: PendingEvent, match: ParkedEvent.Match) {
        if let parked = pending.parked, parked.match == match {
            // Taken out for this very match and still unmatched: it stays parked.
            waitingFor(match, pending)
            return
        }
        // It waited for something else (its case, now open): that wait is over.
        if let parked = pending.parked { unparkedIds.insert(ParkedKey(eventId: parked.eventId, match: parked.match)) }
        // Waiting anew, for something else: the horizon still counts from when it was first parked.
        let parked = ParkedEvent(
            eventId: pending.event.id, match: match, topic: pending.source.topic, partition: pending.source.partition,
            offset: pending.source.offset, key: pending.source.key, value: pending.source.value,
            parkedAt: pending.parked?.parkedAt)
        toPark.append(parked)
        if pending.parked == nil {
            report.parked += 1
            tally(.parked, pending)
            if outcomes[pending.event.id] == nil { outcomes[pending.event.id] = .parked }
        }
        logger.debug("event waiting for its case, order or person", metadata: EventLog.metadata(pending.event, caseId: match.caseId).adding([
            "match": "\(Self.matchKind(match))",
        ]))
        // A case opened (an order entered) later in this batch picks it up from here.
        var waiting = pending
        waiting.parked = parked
        waitingFor(match, waiting)
    }

    private mutating func waitingFor(_ match: ParkedEvent.Match, _ pending: PendingEvent) {
        switch match {
        case .ssn(let hash): waitingBySSN[hash, default: []].append(pending)
        case .caseId(let caseId): waitingByCase[caseId, default: []].append(pending)
        case let .order(caseId, orderId): waitingByOrder[OrderKey(caseId: caseId, orderId: orderId), default: []].append(pending)
        }
    }

    private static func businessOrder(_ a: PendingEvent, _ b: PendingEvent) -> Bool {
        EventPosition(a.event) < EventPosition(b.event)
    }

    private static func matchKind(_ match: ParkedEvent.Match) -> String {
        switch match {
        case .ssn: "ssn"
        case .caseId: "case"
        case .order: "order"
        }
    }

    /// The person an employer report names (remittances and IWO responses name cases).
    static func employeeSSN(_ event: Event) -> SSN? {
        switch event.payload {
        case .newHire(let hire): hire.employee.ssn
        case .termination(let termination): termination.employee.ssn
        case .quarterlyWage(let wage): wage.employee.ssn
        default: nil
        }
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
