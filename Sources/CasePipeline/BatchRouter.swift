import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Logging

/// The routing of a batch, decided in memory from what its phases loaded
/// (`LoadedCases`): each event goes to its cases (by case id, by the
/// employee's SSN hash, by remittance payment) in business order and the
/// rules apply; what cannot apply yet waits (parked) for its case, order or
/// person; late events re-derive their cases (`CaseTimeline`). No I/O: the
/// one thing it may lack, the committed events of a case a late event
/// re-derives, stops it with `EarlierEventsNeeded`, and the caller reads them
/// and routes again from the start.
struct BatchRouter {
    let protector: SSNProtector
    let topics: PipelineTopics
    let policy: Policy
    let logger: Logger
    var report: BatchReport
    var checkpoints: CaseTimeline.Checkpoints
    /// Committed events of cases late events re-derive.
    private let earlier: EarlierEvents

    /// Case states as loaded (locked) and as changed so far; nil = no such case.
    private var states: [String: CaseState]
    /// The cases that existed when loaded.
    private let loadedCaseIds: Set<String>
    private var history: [String: [HistoryEntry]] = [:]
    private var changedOrder: [String] = []
    /// The cases each reported SSN hash is the noncustodial parent on (committed rows).
    private let resolved: [SSNHash: [String]]
    /// Each event's people and cases, hashed once.
    private var identitiesById: [UUID: Identities]
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
    /// Per case, the events applied in this batch (with the committed ones,
    /// what re-derives a case).
    private(set) var appliedInBatch: [String: [Event]] = [:]
    private var outbox: [OutboxMessage]
    private var toPark: [ParkedEvent] = []
    private let takenFromStorage: [ParkedEvent]

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

    /// `states`: the loaded cases; `parked`: events taken out of parking;
    /// `outbox`: dead letters decided before routing (undecodable records).
    init(
        protector: SSNProtector, topics: PipelineTopics, policy: Policy, logger: Logger,
        states: [String: CaseState], resolved: [SSNHash: [String]], parked: [ParkedEvent],
        identities: [UUID: Identities], earlier: EarlierEvents, checkpoints: CaseTimeline.Checkpoints,
        report: BatchReport, outbox: [OutboxMessage] = []
    ) {
        self.protector = protector
        self.topics = topics
        self.policy = policy
        self.logger = logger
        self.states = states
        self.loadedCaseIds = Set(states.keys)
        self.resolved = resolved
        self.takenFromStorage = parked
        self.identitiesById = identities
        self.earlier = earlier
        self.checkpoints = checkpoints
        self.report = report
        self.outbox = outbox
        for (caseId, state) in states {
            guard let ssn = state.noncustodialParty.ssn else { continue }
            let hash = protector.hash(ssn)
            ncpOfCase[caseId] = hash
            casesByNCP[hash, default: []].insert(caseId)
        }
    }

    /// Applies a batch's new events (recorded for the first time) in business
    /// order (`occurredAt`, then id): within the batch each case's events then
    /// come in order, and only an event older than what earlier batches
    /// applied re-derives its case. Parked events taken out wait again for
    /// what they need, so the events that bring it pick them up.
    mutating func apply(_ events: [(Event, DeadLetter.Source)]) throws(EarlierEventsNeeded) {
        for (event, _) in events {
            guard let reported = identity(of: event).reported, let cases = resolved[reported] else { continue }
            casesByNCP[reported, default: []].formUnion(cases)
            for caseId in cases { ncpOfCase[caseId] = reported }
        }
        for parked in takenFromStorage {
            // It decoded when it was parked; if a changed decoder refuses it now, it stays parked.
            guard case .success(let event) = EventDecoder.decode(parked.value) else { continue }
            waitingFor(parked.match, PendingEvent(event: event, source: DeadLetter.Source(parked), parked: parked))
        }
        for (event, source) in events.sorted(by: { EventPosition($0.0) < EventPosition($1.0) }) {
            try route(PendingEvent(event: event, source: source, parked: nil))
        }
    }

    /// The cases these events will re-derive as far as the loaded states
    /// tell (parked events applied on the way may add some): their committed
    /// events are read before routing, in one statement.
    func lateCases(of events: [(Event, DeadLetter.Source)]) -> Set<String> {
        var late = Set<String>()
        for (event, _) in events {
            guard let identity = identitiesById[event.id] else { continue }
            for caseId in identity.caseIds + (identity.reported.flatMap { resolved[$0] } ?? []) where !late.contains(caseId) {
                if let state = states[caseId], CaseTimeline.needsEarlierEvents(event, for: state, policy: policy) { late.insert(caseId) }
            }
        }
        return late
    }

    /// Everything the batch decided, for `LoadedCases.save`.
    var writes: BatchWrites {
        // Taken from parking (or parked in this batch) and still unmatched: parked again as they were.
        let stillParked = (toPark + takenFromStorage).filter {
            !unparkedIds.contains(ParkedKey(eventId: $0.eventId, match: $0.match))
        }
        // New ids are recorded as applied; name only the other outcomes, and the
        // events parked by an earlier batch that applied now.
        let unparked = Set(takenFromStorage.map(\.eventId))
        return BatchWrites(
            cases: changedOrder.map { CaseChange(state: states[$0]!, history: history[$0]!) }, outbox: outbox,
            parked: stillParked, outcomes: outcomes.filter { $0.value != .applied || unparked.contains($0.key) })
    }

    /// The event's identities, computed (HMAC per SSN) the first time it is asked for.
    private mutating func identity(of event: Event) -> Identities {
        if let known = identitiesById[event.id] { return known }
        let identity = Identities(event, protector: protector)
        identitiesById[event.id] = identity
        return identity
    }

    // MARK: routing

    private mutating func route(_ pending: PendingEvent) throws(EarlierEventsNeeded) {
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

    /// Events of the batch's cases that waited longer than `horizon` (from
    /// when they were first parked, as of `now`) for their case or their
    /// order: dead letters (`unknown-case`, or the rules' refusal of an order
    /// never entered). Any whose case or order exists by now are applied
    /// instead; younger ones keep waiting.
    mutating func expire(horizon: Duration, now: Date) throws(EarlierEventsNeeded) {
        let cutoff = now.addingTimeInterval(-horizon.seconds)
        let waiting = takenFromStorage.compactMap { parked -> PendingEvent? in
            guard case .success(let event) = EventDecoder.decode(parked.value) else { return nil }
            return PendingEvent(event: event, source: DeadLetter.Source(parked), parked: parked)
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
    private mutating func applyToCases(_ pending: PendingEvent, _ caseIds: [String]) throws(EarlierEventsNeeded) {
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
    /// event is then refused) when a kept event no longer decodes; stops the
    /// routing when the committed events were not read.
    private func earlierEvents(of caseId: String) throws(EarlierEventsNeeded) -> Result<[Event], RuleError> {
        switch earlier.committed(caseId) {
        // A case this batch opened has nothing committed.
        case .unread where !loadedCaseIds.contains(caseId): return .success(appliedInBatch[caseId] ?? [])
        case .unread: throw EarlierEventsNeeded(caseIds: [caseId])
        case .unreadable: return .failure(.earlierEventsMissing(caseId: caseId))
        case .read(let committed): return .success(committed + (appliedInBatch[caseId] ?? []))
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
    private mutating func caseChanged(_ caseId: String, before: CaseState?) throws(EarlierEventsNeeded) {
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

/// The committed events of a case were needed and not read (`BatchRouter`).
struct EarlierEventsNeeded: Error {
    var caseIds: Set<String>
}

/// Committed events of cases, decoded, as read for a batch.
struct EarlierEvents {
    enum Lookup {
        case read([Event])
        /// One of them no longer decodes: the case's late events are refused.
        case unreadable
        case unread
    }

    var events: [String: [Event]] = [:]
    var unreadable: Set<String> = []

    func committed(_ caseId: String) -> Lookup {
        if let events = events[caseId] { return .read(events) }
        return unreadable.contains(caseId) ? .unreadable : .unread
    }

    func contains(_ caseId: String) -> Bool { events[caseId] != nil || unreadable.contains(caseId) }
}
