import Foundation

/// One input event as the agency systems send it, validated and typed. The
/// envelope fields are common to every type; `payload` carries the `data`.
public struct Event: Sendable, Hashable {
    /// Unique per event: a redelivery carries the same id and must have no second effect.
    public var id: UUID
    /// Business time. Rules count deadlines from it, never from the wall clock.
    public var occurredAt: Date
    /// The emitting system, e.g. `ncfast`, `sdnh`, `court-clerk-mecklenburg`.
    public var source: String
    /// Present on intake and court events; always nil on employer reports,
    /// which name a person (by SSN), not a case.
    public var caseId: String?
    public var payload: EventPayload

    public init(id: UUID, occurredAt: Date, source: String, caseId: String?, payload: EventPayload) {
        self.id = id
        self.occurredAt = occurredAt
        self.source = source
        self.caseId = caseId
        self.payload = payload
    }

    /// Derived from the payload so the two can never disagree.
    public var type: EventType { payload.type }
}

/// The input event types with their wire names.
public enum EventType: String, CaseIterable, Sendable, Hashable {
    case intakeApplication = "intake.application"
    case intakePartyUpdate = "intake.party-update"
    case intakeClosureRequest = "intake.closure-request"
    case intakeReviewRequested = "intake.review-requested"
    case intakeClosureResponse = "intake.closure-response"
    case intakeRemedyContested = "intake.remedy-contested"
    case intakeContestDecided = "intake.contest-decided"
    case intakePaymentAgreement = "intake.payment-agreement"

    case employerNewHire = "employer.new-hire"
    case employerTermination = "employer.termination"
    case employerQuarterlyWage = "employer.quarterly-wage"
    case employerWithholdingRemittance = "employer.withholding-remittance"
    case employerIWOResponse = "employer.iwo-response"

    case courtOrderEstablished = "court.order-established"
    case courtOrderModified = "court.order-modified"
    case courtOrderTerminated = "court.order-terminated"
    case courtPaternityEstablished = "court.paternity-established"
    case courtPaternityExcluded = "court.paternity-excluded"
    case courtHearingScheduled = "court.hearing-scheduled"
    case courtServiceCompleted = "court.service-completed"
    case courtServiceFailed = "court.service-failed"
    case courtContemptFinding = "court.contempt-finding"

    case collectionReceived = "collection.received"
    case collectionReversed = "collection.reversed"
    case accountAdjusted = "account.adjusted"
    case disbursementReturned = "disbursement.returned"

    case matchUnemploymentClaim = "match.unemployment-claim"
    case matchFinancialAccount = "match.financial-account"

    /// Employer reports and data matches name a person (by SSN) or, for
    /// remittances and IWO responses, cases inside their data, not in the envelope.
    public var isEmployerReport: Bool {
        switch self {
        case .employerNewHire, .employerTermination, .employerQuarterlyWage, .employerWithholdingRemittance,
            .employerIWOResponse, .matchUnemploymentClaim, .matchFinancialAccount:
            true
        default:
            false
        }
    }

    /// Intake, court and collection events name their case in the envelope;
    /// employer reports and data matches do not.
    public var requiresCaseId: Bool { !isEmployerReport }
}

/// The `data` of an event, one case per event type.
public enum EventPayload: Sendable, Hashable {
    case intakeApplication(IntakeApplication)
    case partyUpdate(PartyUpdate)
    case closureRequest(ClosureRequest)
    case reviewRequested(ReviewRequested)
    case closureResponse(ClosureResponse)
    case remedyContested(RemedyContested)
    case contestDecided(ContestDecided)
    case paymentAgreement(PaymentAgreementSigned)

    case newHire(NewHire)
    case termination(Termination)
    case quarterlyWage(QuarterlyWage)
    case withholdingRemittance(WithholdingRemittance)
    case iwoResponse(IWOResponse)

    case orderEstablished(OrderTerms)
    case orderModified(OrderModification)
    case orderTerminated(OrderTermination)
    case paternityEstablished(PaternityEstablished)
    case paternityExcluded(PaternityExcluded)
    case hearingScheduled(HearingScheduled)
    case serviceCompleted(ServiceOfProcess)
    case serviceFailed(ServiceOfProcess)
    case contemptFinding(ContemptFinding)

    case collectionReceived(CollectionReceived)
    case collectionReversed(CollectionReversed)
    case accountAdjusted(AccountAdjusted)
    case disbursementReturned(DisbursementReturned)

    case unemploymentClaim(UnemploymentClaim)
    case financialAccountMatch(FinancialAccountMatch)

    public var type: EventType {
        switch self {
        case .intakeApplication: .intakeApplication
        case .partyUpdate: .intakePartyUpdate
        case .closureRequest: .intakeClosureRequest
        case .reviewRequested: .intakeReviewRequested
        case .closureResponse: .intakeClosureResponse
        case .remedyContested: .intakeRemedyContested
        case .contestDecided: .intakeContestDecided
        case .paymentAgreement: .intakePaymentAgreement
        case .newHire: .employerNewHire
        case .termination: .employerTermination
        case .quarterlyWage: .employerQuarterlyWage
        case .withholdingRemittance: .employerWithholdingRemittance
        case .iwoResponse: .employerIWOResponse
        case .orderEstablished: .courtOrderEstablished
        case .orderModified: .courtOrderModified
        case .orderTerminated: .courtOrderTerminated
        case .paternityEstablished: .courtPaternityEstablished
        case .paternityExcluded: .courtPaternityExcluded
        case .hearingScheduled: .courtHearingScheduled
        case .serviceCompleted: .courtServiceCompleted
        case .serviceFailed: .courtServiceFailed
        case .contemptFinding: .courtContemptFinding
        case .collectionReceived: .collectionReceived
        case .collectionReversed: .collectionReversed
        case .accountAdjusted: .accountAdjusted
        case .disbursementReturned: .disbursementReturned
        case .unemploymentClaim: .matchUnemploymentClaim
        case .financialAccountMatch: .matchFinancialAccount
        }
    }
}
