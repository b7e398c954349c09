import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Logging
import TimeUnits

/// The routing of a batch, decided in memory from what its phases loaded
/// (`LoadedCases`): each event goes to its cases (by case id, by the
/// employee's SSN hash, by remittance payment) in business order and the
/// rules apply; what cannot apply yet waits (parked) for its case, order or
/// person; late events re-derive their cases (`CaseTimeline`). Its one
/// read, the committed events of a case a late event re-derives, goes through
/// `EarlierEvents` and its `CommittedEventSource` (the transaction, or memory
/// in tests); everything else is decided in memory.
struct BatchRouter {
    let protector: SSNProtector
    let topics: PipelineTopics
    let policy: Policy
    let logger: Logger
    /// Who refuses, and when, for the batch's dead letters.
    let provenance: DeadLetter.Provenance
    var report: BatchReport
    var checkpoints: CaseTimeline.Checkpoints
    /// Committed events of cases late events re-derive.
    let earlier: EarlierEvents

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
    /// Waiting events released (their case, order or person came), latest first.
    private var released: [Release] = []
    /// Parked events taken from storage and applied; the rest go back.
    private var unparkedIds = Set<ParkedKey>()
    private var outcomes: [UUID: EventOutcome] = [:]
    /// Per case, the events applied in this batch (with the committed ones,
    /// what re-derives a case).
    private(set) var appliedInBatch: [String: [Event]] = [:]
    private var outbox: [OutboxMessage]
    private var toPark: [ParkedEvent] = []
    private let takenFromStorage: [ParkedEvent]
    /// Those of them that decode (one that a changed decoder refuses stays parked).
    private let taken: [PendingEvent]

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
        provenance: DeadLetter.Provenance = DeadLetter.Provenance(consumerGroup: ""), states: [String: CaseState], resolved: [SSNHash: [String]], parked: TakenFromParking,
        identities: [UUID: Identities], earlier: EarlierEvents, checkpoints: CaseTimeline.Checkpoints,
        report: BatchReport, outbox: [OutboxMessage] = []
    ) {
        self.protector = protector
        self.topics = topics
        self.policy = policy
        self.logger = logger
        self.provenance = provenance
        self.states = states
        self.loadedCaseIds = Set(states.keys)
        self.resolved = resolved
        self.takenFromStorage = parked.all
        self.taken = parked.decoded
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
    mutating func apply(_ events: [(Event, DeadLetter.Source)]) throws {
        for (event, _) in events {
            guard let reported = identity(of: event).reported, let cases = resolved[reported] else { continue }
            casesByNCP[reported, default: []].formUnion(cases)
            for caseId in cases { ncpOfCase[caseId] = reported }
        }
        for pending in taken { waitingFor(pending.parked!.match, pending) }
        // Released waiting events join the batch's events at their business
        // position: applied at once, an employer report dated after events still
        // to come would make each of those late for its case.
        let ordered = events.sorted { EventPosition($0.0) < EventPosition($1.0) }
        var next = 0
        while true {
            if let step = released.last, next == ordered.count || step.position < EventPosition(ordered[next].0) {
                released.removeLast()
                try perform(step)
            } else if next < ordered.count {
                try route(PendingEvent(event: ordered[next].0, source: ordered[next].1, parked: nil))
                next += 1
            } else {
                return
            }
        }
    }

    /// A waiting event whose case, order or person has come: routed (nil
    /// case) or applied to its case at its turn in business order.
    struct Release {
        var pending: PendingEvent
        var caseId: String?
        var position: EventPosition
    }

    private mutating func release(_ pending: PendingEvent, to caseId: String?) {
        let position = EventPosition(pending.event)
        // Kept latest first: the next to go is the last.
        var low = 0, high = released.count
        while low < high {
            let middle = (low + high) / 2
            if released[middle].position < position { high = middle } else { low = middle + 1 }
        }
        released.insert(Release(pending: pending, caseId: caseId, position: position), at: low)
    }

    private mutating func perform(_ step: Release) throws {
        if let caseId = step.caseId { try applyToCases(step.pending, [caseId]) } else { try route(step.pending) }
    }

    /// Everything released so far, in business order (and what that releases).
    private mutating func performReleased() throws {
        while let step = released.popLast() { try perform(step) }
    }

    /// The cases these events will re-derive as far as the loaded states
    /// tell (parked events applied on the way may add some): their committed
    /// events are read before routing, in one statement.
    func lateCases(of events: [(Event, DeadLetter.Source)]) -> Set<String> {
        var late = Set<String>()
        func check(_ event: Event, _ caseIds: some Sequence<String>) {
            for caseId in caseIds where !late.contains(caseId) {
                if let state = states[caseId], CaseTimeline.needsEarlierEvents(event, for: state, policy: policy) { late.insert(caseId) }
            }
        }
        // Taken out of parking (below): those waiting for a person apply once
        // an event brings that person, to all their cases.
        var arriving: [SSNHash: [String]] = [:]
        for (event, _) in events {
            guard let identity = identitiesById[event.id] else { continue }
            check(event, identity.caseIds + (identity.reported.flatMap { resolved[$0] } ?? []))
            guard let caseId = event.caseId else { continue }
            for hash in identity.arriving { arriving[hash, default: []].append(caseId) }
        }
        for pending in taken {
            switch pending.parked!.match {
            case .ssn(let hash):
                // Once a case brings the person, the report goes to every case they are the parent on.
                guard let bringing = arriving[hash] else { continue }
                check(pending.event, bringing + (casesByNCP[hash] ?? []) + (resolved[hash] ?? []))
            case .caseId(let caseId), .order(let caseId, _): check(pending.event, [caseId])
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

    private mutating func route(_ pending: PendingEvent) throws {
        let event = pending.event
        switch event.payload {
        case .newHire, .termination, .quarterlyWage, .unemploymentClaim, .financialAccountMatch:
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
    mutating func expire(horizon: Duration, now: Date) throws {
        let cutoff = now.addingTimeInterval(-horizon.inSeconds)
        for pending in taken.sorted(by: Self.businessOrder) {
            let parked = pending.parked!, event = pending.event
            guard let caseId = parked.match.caseId else { continue }
            let refusal: RuleError
            switch parked.match {
            case .order(_, let orderId):
                if states[caseId]?.orders.contains(where: { $0.orderId == orderId }) == true {
                    try applyToCases(pending, [caseId])
                    try performReleased()
                    continue
                }
                refusal = .unknownOrder(caseId: caseId, orderId: orderId)
            default:
                if states[caseId] != nil {
                    try applyToCases(pending, [caseId])
                    try performReleased()
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
                metadata: EventLog.metadata(event, caseId: caseId, source: pending.source).adding(["class": "\(refusal.deadLetterClass)"]))
            outbox.append(DeadLetter.message(
                for: pending.source, eventId: event.id, errorClass: refusal.deadLetterClass,
                reason: DeadLetter.reason(refusal), scope: caseId, topics: topics, provenance: provenance))
            // A remittance may have been applied to its other cases; it keeps that outcome.
            if case .withholdingRemittance = event.payload { continue }
            outcomes[event.id] = .deadLettered
        }
    }

    /// Dead-letters every waiting event taken as `processing-failed`, applying
    /// none: they make their case's transaction fail for good (`reason` says
    /// how, without values), so they must not wait to fail again.
    mutating func refuseTaken(reason: String) {
        for pending in taken.sorted(by: Self.businessOrder) {
            let parked = pending.parked!
            unparkedIds.insert(ParkedKey(eventId: parked.eventId, match: parked.match))
            report.deadLettered += 1
            tally(.deadLettered, pending, reason: ProcessingFailure.errorClass)
            logger.error(
                "dead-lettering a waiting event that fails its case's transaction",
                metadata: EventLog.metadata(pending.event, caseId: parked.match.caseId, source: pending.source).adding(["reason": "\(reason)"]))
            outbox.append(DeadLetter.message(
                for: pending.source, eventId: pending.event.id, errorClass: ProcessingFailure.errorClass, reason: reason,
                scope: "\(ProcessingFailure.errorClass)|\(parked.match.caseId ?? "")", topics: topics, provenance: provenance))
            if case .withholdingRemittance = pending.event.payload { continue }
            outcomes[pending.event.id] = .deadLettered
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
                let earlier = try earlierEvents(of: caseId)
                result = earlier.flatMap {
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
                let trace = TraceContext(of: pending.source, eventId: pending.event.id)
                for task in outcome.tasks {
                    var message = OutboxMessage(task: task)
                    message.topic = topics.tasks(task.type)
                    // Stored with the row: the relay publishes it after a restart too.
                    message.headers += trace.headers(for: message.messageId)
                    outbox.append(message)
                }
                report.tasks += outcome.tasks.count
                // The metadata is an autoclosure: built only when debug is on.
                logger.debug("event applied", metadata: EventLog.metadata(pending.event, caseId: caseId, source: pending.source).adding([
                    "tasks": "\(outcome.tasks.count)", "stage": "\(outcome.state.stage.rawValue)",
                    "unparked": "\(pending.parked != nil)",
                ]))
                caseChanged(caseId, before: before)
            case .failure(.unknownOrder(let caseId, let orderId)) where caseIds.count == 1 && Self.namesAnOrder(pending.event):
                // It overtook the order it modifies or ends: it waits for it.
                park(pending, match: .order(caseId: caseId, orderId: orderId))
                return
            case .failure(let error):
                refusedAnywhere = true
                refusal = error.deadLetterClass
                logger.warning(
                    "dead-lettering an event the rules refused",
                    metadata: EventLog.metadata(pending.event, caseId: caseId, source: pending.source).adding(["class": "\(error.deadLetterClass)"]))
                outbox.append(DeadLetter.message(
                    for: pending.source, eventId: pending.event.id, errorClass: error.deadLetterClass,
                    reason: DeadLetter.reason(error), scope: caseIds.count > 1 ? caseId : "", topics: topics, provenance: provenance))
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
    /// event is then refused) when a kept event no longer decodes.
    private func earlierEvents(of caseId: String) throws -> Result<[Event], RuleError> {
        // A case this batch opened has nothing committed.
        guard loadedCaseIds.contains(caseId) else { return .success(appliedInBatch[caseId] ?? []) }
        guard let committed = try earlier.committed(caseId) else { return .failure(.earlierEventsMissing(caseId: caseId)) }
        return .success(committed + (appliedInBatch[caseId] ?? []))
    }

    /// An order modification or termination: it can overtake the order it names.
    static func namesAnOrder(_ event: Event) -> Bool {
        switch event.payload {
        case .orderModified, .orderTerminated: true
        default: false
        }
    }

    /// A case opened, its noncustodial parent's SSN changed, or an order was
    /// entered: release what waited for it.
    private mutating func caseChanged(_ caseId: String, before: CaseState?) {
        guard let state = states[caseId] else { return }
        let newHash = state.noncustodialParty.ssn.map(protector.hash)
        if newHash != ncpOfCase[caseId] {
            if let old = ncpOfCase[caseId] { casesByNCP[old]?.remove(caseId) }
            ncpOfCase[caseId] = newHash
            if let newHash {
                casesByNCP[newHash, default: []].insert(caseId)
                if let waiting = waitingBySSN.removeValue(forKey: newHash) {
                    for pending in waiting { release(pending, to: nil) }
                }
            }
        }
        if before == nil, let waiting = waitingByCase.removeValue(forKey: caseId) {
            // A remittance waits once per unopened case; apply only this case's payments.
            for pending in waiting { release(pending, to: caseId) }
        }
        let knownOrders = Set(before?.orders.map(\.orderId) ?? [])
        for order in state.orders where !knownOrders.contains(order.orderId) {
            guard let waiting = waitingByOrder.removeValue(forKey: OrderKey(caseId: caseId, orderId: order.orderId)) else { continue }
            for pending in waiting { release(pending, to: caseId) }
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
        var parked = ParkedEvent(
            eventId: pending.event.id, match: match, topic: pending.source.topic, partition: pending.source.partition,
            offset: pending.source.offset, key: pending.source.key, value: pending.source.value,
            parkedAt: pending.parked?.parkedAt)
        parked.headers = pending.source.keptHeaders
        parked.timestampMilliseconds = pending.source.timestampMilliseconds
        toPark.append(parked)
        if pending.parked == nil {
            report.parked += 1
            tally(.parked, pending)
            if outcomes[pending.event.id] == nil { outcomes[pending.event.id] = .parked }
        }
        logger.debug("event waiting for its case, order or person", metadata: EventLog.metadata(pending.event, caseId: match.caseId, source: pending.source).adding([
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

    /// The person an employer report or data match names (remittances and IWO responses name cases).
    static func employeeSSN(_ event: Event) -> SSN? {
        switch event.payload {
        case .newHire(let hire): hire.employee.ssn
        case .termination(let termination): termination.employee.ssn
        case .quarterlyWage(let wage): wage.employee.ssn
        case .unemploymentClaim(let claim): claim.claimant.ssn
        case .financialAccountMatch(let match): match.accountHolder.ssn
        default: nil
        }
    }
}

/// Parked events a batch took out of parking, decoded once for every routing pass.
struct TakenFromParking {
    let all: [ParkedEvent]
    let decoded: [BatchRouter.PendingEvent]

    init(_ parked: [ParkedEvent]) {
        all = parked
        decoded = parked.compactMap { parked in
            // It decoded when it was parked; if a changed decoder refuses it now, it stays parked.
            guard case .success(let event) = EventDecoder.decode(parked.value) else { return nil }
            return BatchRouter.PendingEvent(event: event, source: DeadLetter.Source(parked), parked: parked)
        }
    }
}

/// The committed events of the cases a batch re-derives, decoded: read from
/// the source once per case (those `prefetch` names in one statement),
/// taken from the worker's `CommittedEvents` when the case's version is the
/// one they were kept at.
final class EarlierEvents {
    private let source: any CommittedEventSource
    private let kept: CommittedEvents?
    /// Decoded per case; nil = one of them no longer decodes (its late events are refused).
    private(set) var events: [String: [Event]?] = [:]
    /// Statements that read history (for the batch's report).
    private(set) var reads = 0

    init(source: any CommittedEventSource, kept: CommittedEvents? = nil) {
        self.source = source
        self.kept = kept
    }

    /// The case's committed events; nil when one no longer decodes.
    func committed(_ caseId: String) throws -> [Event]? {
        if let known = events[caseId] { return known }
        try prefetch([caseId])
        return events[caseId] ?? nil
    }

    /// Reads the committed events of these cases in one statement (those not known yet).
    func prefetch(_ caseIds: Set<String>) throws {
        var wanted = Set<String>()
        for caseId in caseIds where events[caseId] == nil {
            // Kept from an earlier batch of this worker, if nobody changed the case since.
            if let version = source.version(of: caseId), let known = kept?.events(of: caseId, version: version) {
                events[caseId] = known
            } else {
                wanted.insert(caseId)
            }
        }
        guard !wanted.isEmpty else { return }
        reads += 1
        let read = try source.committedEvents(caseIds: wanted)
        for caseId in wanted {
            let bytes = read[caseId] ?? []
            var decoded: [Event] = []
            decoded.reserveCapacity(bytes.count)
            for event in bytes {
                guard case .success(let event) = EventDecoder.decode(event) else { break }
                decoded.append(event)
            }
            events[caseId] = decoded.count == bytes.count ? decoded : .some(nil)
        }
    }
}
