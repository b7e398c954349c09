import Foundation

/// Where an event stands in its case's business time: `occurredAt`, then the
/// event id. The three input topics are read independently, so events reach a
/// worker out of this order; a case's decisions are those of its events taken
/// in it, whatever order they arrived in.
public struct EventPosition: Sendable, Hashable, Comparable, Codable {
    public var occurredAt: Date
    public var eventId: UUID

    public init(occurredAt: Date, eventId: UUID) {
        self.occurredAt = occurredAt
        self.eventId = eventId
    }

    public init(_ event: Event) { self.init(occurredAt: event.occurredAt, eventId: event.id) }

    public static func < (lhs: EventPosition, rhs: EventPosition) -> Bool {
        if lhs.occurredAt != rhs.occurredAt { return lhs.occurredAt < rhs.occurredAt }
        return UUID.precedes(lhs.eventId, rhs.eventId)
    }
}

/// A case's events in business order -- the application that opened it first,
/// then the rest by `EventPosition` -- and what they decide.
///
/// An event that comes after everything the case has seen (the common case) is
/// applied to the stored state as it is: that is exactly the next step of the
/// fold, so it costs nothing more. An event that belongs earlier (a late one)
/// needs the case's earlier events: the case is re-derived twice, without it
/// and with it, and what differs between the two is published as corrections
/// caused by the late event -- a WITHDRAW for a task in force that is no longer
/// required, an ISSUE for one now required or whose terms changed (an amended
/// notice). What was published always equals, task by task, the business-order
/// derivation of the events applied so far, so the diff of two derivations is
/// exactly what subscribers must be told.
public enum CaseTimeline {
    /// True when `event` belongs before something `state` already reflects in
    /// business time: an event with a later position, or a date a sweep or an
    /// event has already evaluated. `apply` then needs the case's earlier events.
    public static func needsEarlierEvents(_ event: Event, for state: CaseState?, policy: Policy) -> Bool {
        guard let state, !state.hasApplied(event.id) else { return false }
        if case .intakeApplication = event.payload { return false }
        if let latest = state.latestEvent, EventPosition(event) < latest { return true }
        guard let through = state.referralsEvaluatedThrough else { return false }
        let date = policy.calendar.businessDate(of: event.occurredAt)
        // Dated before the application with only the application applied: the
        // fold applies it right after the application, as the state stands.
        if state.latestEvent == nil, through == state.openedOn { return false }
        return date < through
    }

    /// Applies `event` to the case in business order. `earlierEvents` must hold
    /// every event applied to the case so far (any order; the application among
    /// them) when `needsEarlierEvents` says so; otherwise it is not read.
    ///
    /// `checkpoints` carries part-way derivations from one late event of a case
    /// to the next (the caller keeps it between them, or passes a fresh one): a
    /// late event whose earlier events begin with a checkpoint's folds on from
    /// there instead of from the application. The result is the same either way.
    public static func apply(
        _ event: Event, to state: CaseState?, earlierEvents: @autoclosure () -> [Event], policy: Policy,
        checkpoints: inout Checkpoints
    ) -> Result<RuleOutcome, RuleError> {
        guard let state, needsEarlierEvents(event, for: state, policy: policy) else {
            return CaseRules.apply(event, to: state, policy: policy)
        }
        do {
            return .success(try merge(event, into: state, earlierEvents: earlierEvents(), policy: policy, checkpoints: &checkpoints))
        } catch {
            return .failure(error)
        }
    }

    /// Same, with no derivation kept from an earlier late event.
    public static func apply(
        _ event: Event, to state: CaseState?, earlierEvents: @autoclosure () -> [Event], policy: Policy
    ) -> Result<RuleOutcome, RuleError> {
        var checkpoints = Checkpoints(capacity: 0)
        return apply(event, to: state, earlierEvents: earlierEvents(), policy: policy, checkpoints: &checkpoints)
    }

    /// Part-way derivations of cases, at most `capacity` (the least recently
    /// used go first). A checkpoint is the fold of a case's application and
    /// the first events after it, named by id: derivation is a pure function of
    /// those events in that order (and the policy, one per process), so folding
    /// on from it is folding from the start. A late event's case is re-derived
    /// from scratch when its earlier events do not begin with the checkpoint's
    /// (an even later event arrived, or an SSN a report may name changed).
    public struct Checkpoints: Sendable {
        struct Entry: Sendable {
            var applicationId: UUID
            var obligorSSNs: Set<SSN>
            /// The ids of the events after the application folded in, in business order.
            var folded: [UUID]
            var derivation: Derivation
        }

        private var entries: RecentlyUsed<String, Entry>
        /// Late events whose case was folded on from a checkpoint.
        public private(set) var resumed = 0

        public init(capacity: Int) { entries = RecentlyUsed(capacity: capacity) }

        public var capacity: Int { entries.capacity }

        /// The derivation through the longest prefix of `ordered` the case's
        /// checkpoint covers, and how many events of `ordered.rest` it folded.
        mutating func start(_ ordered: Ordered, caseId: String, before position: Int) -> (Derivation, Int)? {
            guard let entry = entries.peek(caseId), entry.applicationId == ordered.application.id,
                entry.obligorSSNs == ordered.obligorSSNs, entry.folded.count <= position,
                ordered.rest[..<entry.folded.count].elementsEqual(entry.folded, by: { $0.id == $1 })
            else {
                return nil
            }
            _ = entries.use(caseId)
            resumed += 1
            return (entry.derivation, entry.folded.count)
        }

        mutating func keep(_ derivation: Derivation, of ordered: Ordered, through count: Int, caseId: String) {
            guard capacity > 0 else { return }
            var kept = derivation
            // Only the late event's own history lines are ever read back.
            kept.changes = [:]
            entries.put(caseId, Entry(
                applicationId: ordered.application.id, obligorSSNs: ordered.obligorSSNs,
                folded: ordered.rest[..<count].map(\.id), derivation: kept))
        }
    }

    // MARK: Re-deriving a case

    /// One business-order derivation of a case.
    struct Derivation: Sendable {
        var state: CaseState
        /// Per task type and target, the last task the events decided: all
        /// that corrections compare (and all a checkpoint needs to keep).
        var tasks = Corrections.LastTasks()
        var changes: [UUID: [String]]
        /// Events the rules refused at their place in business order.
        var refused: [UUID: RuleError]
    }

    /// A case's events put in business order: the application that opened
    /// it, then the rest by position; and the SSNs its employer reports may name.
    struct Ordered {
        var application: Event
        var rest: [Event]
        /// Employer reports were matched to this case by the parent's SSN; a
        /// report dated before the update that brought that SSN is still theirs.
        var obligorSSNs: Set<SSN> = []

        init(_ events: [Event], caseId: String) throws(RuleError) {
            var seen = Set<UUID>()
            let unique = events.filter { seen.insert($0.id).inserted }
            let applications = unique.filter { if case .intakeApplication = $0.payload { $0.caseId == caseId } else { false } }
            guard let application = applications.min(by: { EventPosition($0) < EventPosition($1) }) else {
                throw .earlierEventsMissing(caseId: caseId)
            }
            self.application = application
            rest = unique.filter { $0.id != application.id }.sorted { EventPosition($0) < EventPosition($1) }
            if case .intakeApplication(let opened) = application.payload {
                if let ssn = opened.noncustodialParty.ssn { obligorSSNs.insert(ssn) }
                for event in rest {
                    if case .partyUpdate(let update) = event.payload, update.partyId == opened.noncustodialParty.partyId,
                        let ssn = update.ssn
                    {
                        obligorSSNs.insert(ssn)
                    }
                }
            }
        }

        /// The case as its application opened it.
        func open(policy: Policy) throws(RuleError) -> Derivation {
            let opened = try CaseRules.applying(application, to: nil, policy: policy, obligorSSNs: obligorSSNs)
            var derivation = Derivation(state: opened.state, changes: [application.id: opened.changes], refused: [:])
            derivation.tasks.record(opened.tasks)
            return derivation
        }

        /// `derivation` carried on through `events` (in business order).
        func fold(_ derivation: inout Derivation, _ events: some Sequence<Event>, policy: Policy) {
            for event in events {
                do {
                    let outcome = try CaseRules.applying(event, to: derivation.state, policy: policy, obligorSSNs: obligorSSNs)
                    derivation.state = outcome.state
                    derivation.tasks.record(outcome.tasks)
                    derivation.changes[event.id] = outcome.changes
                } catch {
                    derivation.refused[event.id] = error
                }
            }
        }

        /// Business time moved on to `through` (a sweep ran past the last event).
        func finish(_ derivation: inout Derivation, through: LocalDate?, policy: Policy) {
            guard let through, through > derivation.state.referralsEvaluatedThrough ?? through else { return }
            let last = rest.last ?? application
            var run = RuleRun(state: derivation.state, policy: policy, causationId: last.id, createdAt: last.occurredAt,
                              businessDate: policy.calendar.businessDate(of: last.occurredAt))
            run.advance(to: through)
            derivation.state = run.state
            derivation.tasks.record(run.tasks)
        }
    }

    /// The events of one case (deduplicated by id) folded in business order,
    /// then business time moved on to `through`.
    static func derive(_ events: [Event], caseId: String, through: LocalDate?, policy: Policy) throws(RuleError) -> Derivation {
        let ordered = try Ordered(events, caseId: caseId)
        var derivation = try ordered.open(policy: policy)
        ordered.fold(&derivation, ordered.rest, policy: policy)
        ordered.finish(&derivation, through: through, policy: policy)
        return derivation
    }

    /// A late event: the case re-derived without and with it, the difference
    /// published as corrections caused by it. The two derivations share every
    /// event before the late one, so that part is folded once.
    static func merge(
        _ event: Event, into state: CaseState, earlierEvents: [Event], policy: Policy, checkpoints: inout Checkpoints
    ) throws(RuleError) -> RuleOutcome {
        let earlier = earlierEvents.filter { $0.id != event.id }
        let through = state.referralsEvaluatedThrough
        let ordered = try Ordered(earlier + [event], caseId: state.caseId)
        let position = ordered.rest.firstIndex { $0.id == event.id } ?? ordered.rest.endIndex
        var prefix: Derivation
        if let (resumed, folded) = checkpoints.start(ordered, caseId: state.caseId, before: position) {
            prefix = resumed
            ordered.fold(&prefix, ordered.rest[folded..<position], policy: policy)
        } else {
            prefix = try ordered.open(policy: policy)
            ordered.fold(&prefix, ordered.rest[..<position], policy: policy)
        }
        var before = prefix, after = prefix
        ordered.fold(&before, ordered.rest[position...].dropFirst(), policy: policy)
        ordered.finish(&before, through: through, policy: policy)
        ordered.fold(&after, ordered.rest[position...].prefix(1), policy: policy)
        // The next late event of this case usually comes after this one (its
        // partition is read in business order): it starts from here.
        if after.refused[event.id] == nil {
            checkpoints.keep(after, of: ordered, through: min(position + 1, ordered.rest.count), caseId: state.caseId)
        }
        ordered.fold(&after, ordered.rest[position...].dropFirst(), policy: policy)
        ordered.finish(&after, through: through, policy: policy)
        if let refusal = after.refused[event.id] { throw refusal }

        let later = earlier.filter { EventPosition(event) < EventPosition($0) }.count
        var changes = ["applied in business order before \(later) event(s) received earlier; the case was re-derived"]
        changes += after.changes[event.id] ?? []
        for earlierEvent in earlier.sorted(by: { EventPosition($0) < EventPosition($1) }) {
            if let refusal = after.refused[earlierEvent.id], before.refused[earlierEvent.id] == nil {
                changes.append("\(earlierEvent.type.rawValue) \(earlierEvent.id.lowercasedText) no longer applies in business order: \(refusal)")
            }
        }
        let corrections = Corrections(
            before: before.tasks, after: after.tasks, causedBy: event, caseId: state.caseId,
            businessDate: policy.calendar.businessDate(of: event.occurredAt))
        for task in corrections.tasks {
            changes.append("corrected: \(task.action == .issue ? "issued" : "withdrew") \(task.type.rawValue) for \(task.target), due \(task.dueBy)")
        }
        return RuleOutcome(state: after.state, tasks: corrections.tasks, changes: changes)
    }
}

/// What subscribers must be told when a late event changes a case's
/// derivation: per task type and target, the last task of each derivation.
struct Corrections {
    private(set) var tasks: [CaseTask] = []

    init(before: LastTasks, after: LastTasks, causedBy event: Event, caseId: String, businessDate: LocalDate) {
        let was = before.byTarget, now = after.byTarget
        for key in Set(was.keys).union(now.keys).sorted() {
            let old = was[key], new = now[key]
            let wasInForce = old?.action == .issue, isInForce = new?.action == .issue
            if let new, isInForce, !wasInForce || old!.data.terms != new.data.terms {
                var data = new.data
                // Terms an employer already withholding under are replaced: an amended notice.
                if case .incomeWithholding(var notice) = data {
                    notice.amended = wasInForce
                    data = .incomeWithholding(notice)
                }
                tasks.append(new.restated(as: .issue, causedBy: event, dueBy: new.dueBy, data: data))
            } else if let old, wasInForce, !isInForce {
                if let new {
                    // The re-derivation withdrew it too: its withdrawal says why.
                    tasks.append(new.restated(as: .withdraw, causedBy: event, dueBy: new.dueBy, data: new.data))
                } else {
                    tasks.append(old.restated(as: .withdraw, causedBy: event, dueBy: businessDate, data: old.data, asCorrection: true))
                }
            }
        }
        tasks.sort(by: CaseTask.publicationOrder)
    }

    struct Key: Hashable, Comparable, Sendable {
        var type: TaskType
        var target: String
        static func < (a: Key, b: Key) -> Bool { (a.type.rawValue, a.target) < (b.type.rawValue, b.target) }
    }

    /// Per task type and target, the last task decided.
    struct LastTasks: Sendable {
        private(set) var byTarget: [Key: CaseTask] = [:]

        mutating func record(_ tasks: [CaseTask]) {
            for task in tasks { byTarget[Key(type: task.type, target: task.target)] = task }
        }
    }
}

extension CaseTask {
    /// The same task published again, caused by `event` (a new id).
    func restated(as action: TaskAction, causedBy event: Event, dueBy: LocalDate, data: TaskData, asCorrection: Bool = false) -> CaseTask {
        CaseTask(type: type, action: action, caseId: caseId, target: target, causationId: event.id,
                 createdAt: event.occurredAt, dueBy: dueBy, data: data, basis: basis, withdrawnAsCorrection: asCorrection)
    }
}
