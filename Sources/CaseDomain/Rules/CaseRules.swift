import Foundation

/// The rules: (event, case state, policy) -> (new state, tasks). Pure and
/// deterministic: no clock, no randomness; deadlines count from the event's
/// business date (its `occurredAt` in the agency's zone), task ids derive from
/// the event id.
public enum CaseRules {
    /// Applies one event to one case.
    ///
    /// - `state` is nil only for a case this service has never seen; then the
    ///   event must be an `intake.application` (anything else is `unknownCase`).
    /// - Employer reports carry no case id: call once per case on which the
    ///   reported SSN is the noncustodial parent; a remittance once per case in
    ///   its `payments` (only that case's payments are applied).
    /// - An event whose id the state has already applied returns the state
    ///   unchanged with no tasks and `wasDuplicate` set.
    ///
    /// The event is taken as the latest of its case in business time; the
    /// pipeline goes through `CaseTimeline.apply`, which re-derives the case when
    /// it is not.
    public static func apply(_ event: Event, to state: CaseState?, policy: Policy) -> Result<RuleOutcome, RuleError> {
        do {
            return .success(try applying(event, to: state, policy: policy, obligorSSNs: []))
        } catch {
            return .failure(error)
        }
    }

    /// The time-driven sweep: obligations fall due on the 1st of every month
    /// without any event, so business time is moved on to `asOf`: the arrears
    /// referrals are judged on every day before `asOf` on which arrears changed
    /// by themselves (a day is judged once it is over; events dated `asOf` may
    /// still come). Task ids derive from `causationId`, which the caller makes
    /// deterministic (`TaskIdentity.sweepCausationId(asOf:)`); `createdAt` is
    /// the start of `asOf` in the agency zone. Running the same sweep twice, or
    /// one for an earlier date, publishes nothing.
    public static func reevaluate(_ state: CaseState, asOf: LocalDate, causationId: UUID, policy: Policy) -> RuleOutcome {
        var run = RuleRun(state: state, policy: policy, causationId: causationId,
                          createdAt: policy.calendar.startOfDay(asOf), businessDate: asOf)
        run.advance(to: asOf)
        return run.outcome()
    }

    /// `obligorSSNs`: SSNs employer reports may name besides the parent's current
    /// one (a re-derivation meets reports dated before the update that brought it).
    static func applying(_ event: Event, to state: CaseState?, policy: Policy, obligorSSNs: Set<SSN>) throws(RuleError) -> RuleOutcome {
        if let state, state.hasApplied(event.id) {
            return RuleOutcome(state: state, tasks: [], changes: [], wasDuplicate: true)
        }
        if event.type.requiresCaseId, event.caseId == nil { throw .missingCaseId(eventType: event.type.rawValue) }
        let businessDate = policy.calendar.businessDate(of: event.occurredAt)

        guard let state else {
            guard case .intakeApplication(let application) = event.payload, let caseId = event.caseId else {
                throw .unknownCase(caseId: event.caseId)
            }
            var run = try RuleRun.openCase(application, caseId: caseId, event: event, businessDate: businessDate, policy: policy)
            run.advance(to: businessDate)
            run.settle()
            run.state.appliedEventIds.append(event.id)
            return run.outcome()
        }
        if let caseId = event.caseId, caseId != state.caseId {
            throw .wrongCase(eventCaseId: caseId, stateCaseId: state.caseId)
        }

        var run = RuleRun(state: state, policy: policy, causationId: event.id, createdAt: event.occurredAt, businessDate: businessDate)
        run.obligorSSNs = obligorSSNs
        run.advance(to: businessDate)
        switch event.payload {
        case .intakeApplication: throw .caseAlreadyOpen(caseId: state.caseId)
        case .partyUpdate(let update): try run.handlePartyUpdate(update)
        case .closureRequest(let request): run.handleClosureRequest(request)
        case .reviewRequested(let request): run.handleReviewRequested(request)
        case .closureResponse(let response): run.handleClosureResponse(response)
        case .remedyContested(let contest): run.handleRemedyContested(contest)
        case .contestDecided(let decision): run.handleContestDecided(decision)
        case .paymentAgreement(let agreement): run.handlePaymentAgreement(agreement)
        case .newHire(let hire): try run.handleNewHire(hire)
        case .termination(let termination): try run.handleTermination(termination)
        case .quarterlyWage(let wage): try run.handleQuarterlyWage(wage)
        case .withholdingRemittance(let remittance): try run.handleRemittance(remittance, eventId: event.id)
        case .iwoResponse(let response): try run.handleIWOResponse(response)
        case .orderEstablished(let terms): try run.recordOrder(terms)
        case .orderModified(let modification): try run.handleOrderModified(modification)
        case .orderTerminated(let termination): try run.handleOrderTerminated(termination)
        case .paternityEstablished(let outcome): try run.handlePaternityEstablished(outcome)
        case .paternityExcluded(let outcome): try run.handlePaternityExcluded(outcome)
        case .hearingScheduled(let hearing): run.handleHearingScheduled(hearing)
        case .serviceCompleted(let service): try run.handleService(service, outcome: .completed)
        case .serviceFailed(let service): try run.handleService(service, outcome: .failed)
        case .contemptFinding(let finding): run.handleContemptFinding(finding)
        case .collectionReceived(let collection): try run.handleCollectionReceived(collection, eventId: event.id)
        case .collectionReversed(let reversal): try run.handleCollectionReversed(reversal, eventId: event.id)
        case .accountAdjusted(let adjustment): try run.handleAccountAdjusted(adjustment)
        case .disbursementReturned(let returned): try run.handleDisbursementReturned(returned)
        case .unemploymentClaim(let claim): try run.handleUnemploymentClaim(claim)
        case .financialAccountMatch(let match): try run.handleFinancialAccountMatch(match)
        }
        run.settle()
        run.state.appliedEventIds.append(event.id)
        let position = EventPosition(event)
        if run.state.latestEvent.map({ $0 < position }) ?? true { run.state.latestEvent = position }
        return run.outcome()
    }
}
