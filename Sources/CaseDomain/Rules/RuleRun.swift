import Foundation

/// One application of one event (or one time-driven sweep) to one case. It
/// accumulates the new state, the tasks and the history lines; the handlers in
/// the other Rules files are extensions on it.
struct RuleRun {
    var state: CaseState
    let policy: Policy
    /// The causing event's id (or the sweep's id): every task id derives from it.
    let causationId: UUID
    /// The causing event's `occurredAt`: every task's `createdAt`.
    let createdAt: Date
    /// The event's date in the agency's zone: timeframes count from here.
    let businessDate: LocalDate
    /// Closed before this event: the event is recorded, but only disbursements go out (see `emit`).
    let wasClosed: Bool
    /// The case before this event: what was in force when it arrived (`outcome`).
    private let initial: CaseState
    /// SSNs an employer report may name besides the parent's current one (`CaseTimeline`).
    var obligorSSNs: Set<SSN> = []
    private(set) var tasks: [CaseTask] = []
    private(set) var changes: [String] = []

    init(state: CaseState, policy: Policy, causationId: UUID, createdAt: Date, businessDate: LocalDate) {
        self.state = state
        self.policy = policy
        self.causationId = causationId
        self.createdAt = createdAt
        self.businessDate = businessDate
        self.wasClosed = state.isClosed
        self.initial = state
    }

    var calendar: BusinessCalendar { policy.calendar }

    mutating func note(_ change: String) { changes.append(change) }

    mutating func emit(_ type: TaskType, _ action: TaskAction, target: String, dueBy: LocalDate, data: TaskData, basis: TaskBasis) {
        // A closed case still records what happens to it, and a collection must
        // still reach the family, but no other work is started for it.
        guard !(wasClosed || state.isClosed) || type == .disbursement else {
            note("case closed: no \(type.rawValue) for \(target)")
            return
        }
        let task = CaseTask(
            type: type, action: action, caseId: state.caseId, target: target, causationId: causationId,
            createdAt: createdAt, dueBy: dueBy, data: data, basis: basis)
        tasks.append(task)
        note("\(action == .issue ? "issued" : "withdrew") \(type.rawValue) for \(target), due \(dueBy)")
    }

    func businessDays(_ n: Int, after date: LocalDate) -> LocalDate { calendar.addingBusinessDays(n, to: date) }

    /// The consequences every event re-derives from the facts: locate when the
    /// parent is lost, the next establishment step, and the arrears referrals.
    mutating func settle() {
        guard !wasClosed, !state.isClosed else { return }
        requestLocateIfLost()
        takeNextEstablishmentStep()
        evaluateReferrals(asOf: arrearsDate)
        evaluateLevyNotices(on: arrearsDate, dayIsOver: false)
        restartReviewClockIfLocated()
        evaluateIntergovernmentalReferral()
    }

    /// Tasks in publication order, netted per type and target: subscribers see
    /// the change from what was in force before the event to what is after it.
    /// A referral that fell due on the 1st and was withdrawn when the case closed
    /// on the 2nd is neither issued nor withdrawn; terms re-sent twice go once.
    func outcome() -> RuleOutcome {
        var notes = changes
        // Credit no charge will take (no order left to take it) is a caseworker's
        // to refund: say so when this event changed it.
        let refund = state.ledger.creditToRefund(asOf: arrearsDate)
        if refund > 0, refund != initial.ledger.creditToRefund(asOf: arrearsDate) {
            notes.append("credit of \(Money.dollars(refund)) with no order in force to take it: refund due")
        }
        var groups: [String: [CaseTask]] = [:]
        for task in tasks { groups["\(task.type.rawValue)|\(task.target)", default: []].append(task) }
        var netted: [CaseTask] = []
        for key in groups.keys.sorted() {
            let group = groups[key]!
            let lastIssue = group.lastIndex { $0.action == .issue }
            let inForceAfter = group.last!.action == .issue
            let withdrawal = group[..<(inForceAfter ? lastIssue! : group.endIndex)].last { $0.action == .withdraw }
            switch (inForceBefore(group[0]), inForceAfter) {
            case (false, false):
                notes.append("not published: \(group[0].type.rawValue) for \(group[0].target) issued and withdrawn by the same change")
            case (false, true): netted.append(group[lastIssue!])
            case (true, false): netted.append(withdrawal!)
            case (_, true): netted += (withdrawal.map { [$0] } ?? []) + [group[lastIssue!]]
            case (nil, false): netted.append(withdrawal!)
            }
        }
        return RuleOutcome(state: state, tasks: netted.sorted(by: CaseTask.publicationOrder), changes: notes)
    }

    /// Whether a task of this type and target was in force before the event;
    /// nil for the types the case keeps no record of (they are never withdrawn
    /// by the rules).
    private func inForceBefore(_ task: CaseTask) -> Bool? {
        switch task.type {
        case .taxOffsetReferral, .passportDenial, .creditBureauReport, .licenseSuspension:
            return initial.referral(task.type) != nil
        case .incomeWithholding:
            return initial.employments.first { employerTarget($0.fein) == task.target }.map { $0.withholding != .none } ?? false
        case .medicalSupportNotice:
            return initial.employments.first { employerTarget($0.fein) == task.target }?.medicalSupportNoticeIssued ?? false
        case .intergovernmentalReferral:
            return initial.processes.intergovernmental?.target == task.target
        default:
            return nil
        }
    }

    // MARK: Facts shared by several handlers

    var obligor: Obligor {
        let ncp = state.noncustodialParty
        return Obligor(partyId: ncp.partyId, firstName: ncp.firstName, lastName: ncp.lastName)
    }

    /// The date arrears are judged at: the event's business date, or a later
    /// date referrals were already evaluated at (arrears never un-accrue).
    var arrearsDate: LocalDate { max(businessDate, state.referralsEvaluatedThrough ?? businessDate) }

    var arrearsAsOfEvent: Cents { state.ledger.arrears(asOf: arrearsDate) }
}
