import Foundation

/// Where a case stands, derived from the facts it holds (never stored, so it
/// can never disagree with them).
public enum CaseStage: String, Codable, Sendable, Hashable, CaseIterable {
    /// An application has been received but the case is not yet open. The rules
    /// open a case on the `intake.application` event itself, so a `CaseState`
    /// never reports INTAKE: it is the stage of a case id the agency knows about
    /// but this service holds no state for yet.
    case intake = "INTAKE"
    case locate = "LOCATE"
    case paternity = "PATERNITY"
    case establishment = "ESTABLISHMENT"
    case enforcement = "ENFORCEMENT"
    case closed = "CLOSED"
}

/// Everything the rules know about one IV-D case. Storage persists it as JSON;
/// arrays are kept in a stable order so equal states encode to equal bytes.
public struct CaseState: Sendable, Hashable, Codable {
    public var caseId: String
    public var program: Program
    /// The application's `receivedOn`: the 20-day case-opening clock starts here.
    public var applicationReceivedOn: LocalDate
    /// Business date of the application event: when this service opened the case.
    public var openedOn: LocalDate
    public var custodialParty: PartyRecord
    public var noncustodialParty: PartyRecord
    public var children: [ChildRecord]
    /// Every order the case has had, in the order they were entered.
    public var orders: [SupportOrder]
    /// The noncustodial parent's current employers, sorted by FEIN.
    public var employments: [Employment]
    /// Employments that ended (latest per employer, sorted by FEIN): lagging
    /// quarterly wage reports from them are history, not new employment.
    public var endedEmployments: [EndedEmployment]
    public var ledger: Ledger
    /// Collections from `cse.collections.v1` (the money is on the ledger;
    /// this is what the ledger does not keep: the event, the hold).
    public var collections: [CollectionRecord]
    /// Disbursements that came back, held for the family until an address arrives.
    public var returnedDisbursements: [ReturnedDisbursement]
    /// Arrears referrals currently ISSUED (not withdrawn), sorted by type.
    public var referrals: [ActiveReferral]
    public var hearings: [Hearing]
    /// The latest service-of-process attempt per party, sorted by party id.
    public var serviceOfProcess: [ServiceAttempt]
    /// When a locate task for the noncustodial parent went out; cleared once located,
    /// so losing them again asks again.
    public var locateRequestedOn: LocalDate?
    /// When court preparation for establishing an order was requested (so it is requested once).
    public var establishmentPreparationRequestedOn: LocalDate?
    public var contempt: ContemptRecord?
    /// A closure review that has been published and not yet acted on.
    public var pendingClosure: ClosureReview?
    /// Notices awaiting their date, contests, an agreement, a review, another state.
    public var processes: CaseProcesses
    public var closedOn: LocalDate?
    /// Business time has been evaluated up to (not including) this date: every
    /// date before it on which arrears could change by themselves has had its
    /// referrals judged (`RuleRun.advance`). Events and sweeps move it forward.
    public var referralsEvaluatedThrough: LocalDate?
    /// Ids of the events already applied, oldest first: a redelivery has no second effect.
    public var appliedEventIds: [UUID]
    /// The business-order position of the latest event applied other than the
    /// application: an event before it needs the case re-derived (`CaseTimeline`).
    public var latestEvent: EventPosition?

    public init(
        caseId: String, program: Program, applicationReceivedOn: LocalDate, openedOn: LocalDate,
        custodialParty: PartyRecord, noncustodialParty: PartyRecord, children: [ChildRecord], ledger: Ledger
    ) {
        self.caseId = caseId
        self.program = program
        self.applicationReceivedOn = applicationReceivedOn
        self.openedOn = openedOn
        self.custodialParty = custodialParty
        self.noncustodialParty = noncustodialParty
        self.children = children
        self.orders = []
        self.employments = []
        self.endedEmployments = []
        self.ledger = ledger
        self.collections = []
        self.returnedDisbursements = []
        self.referrals = []
        self.hearings = []
        self.serviceOfProcess = []
        self.locateRequestedOn = nil
        self.establishmentPreparationRequestedOn = nil
        self.contempt = nil
        self.pendingClosure = nil
        self.processes = CaseProcesses()
        self.closedOn = nil
        self.referralsEvaluatedThrough = nil
        self.appliedEventIds = []
        self.latestEvent = nil
    }

    public var isClosed: Bool { closedOn != nil }

    /// CLOSED if closed; LOCATE while the noncustodial parent has neither a usable
    /// address nor an employer; PATERNITY while any child's paternity is open;
    /// ESTABLISHMENT while no enforceable order exists; ENFORCEMENT otherwise.
    /// A terminated order still counts as enforceable (its arrears are still
    /// collected) unless the court vacated it.
    public var stage: CaseStage {
        if isClosed { return .closed }
        if !isNoncustodialParentLocated { return .locate }
        if children.contains(where: { $0.paternity == .open }) { return .paternity }
        if !hasEnforceableOrder { return .establishment }
        return .enforcement
    }

    /// Located = a usable address or at least one current employer.
    public var isNoncustodialParentLocated: Bool {
        noncustodialParty.hasUsableAddress || !employments.isEmpty
    }

    public var activeOrder: SupportOrder? { orders.last(where: { $0.status == .active }) }

    public var hasEnforceableOrder: Bool {
        orders.contains { $0.status == .active || $0.terminationReason != .vacated }
    }

    /// Monthly current support now due: the active order's, else nothing.
    public var monthlySupportCents: Cents { activeOrder?.monthlySupportCents ?? 0 }

    public func employment(fein: FEIN) -> Employment? { employments.first { $0.fein == fein } }

    public func referral(_ type: TaskType) -> ActiveReferral? { referrals.first { $0.type == type } }

    public func hasApplied(_ eventId: UUID) -> Bool { appliedEventIds.contains(eventId) }

    public func collection(_ collectionId: String) -> CollectionRecord? { collections.first { $0.collectionId == collectionId } }
}

/// A collection received on `cse.collections.v1`: what the ledger's payment
/// (amount, date, source) does not keep.
public struct CollectionRecord: Sendable, Hashable, Codable {
    public var collectionId: String
    /// The `collection.received` event: its disbursement task's causation.
    public var eventId: UUID
    public var taxYear: Int?
    /// A joint-return tax offset held for an injured-spouse claim until this date.
    public var heldUntil: LocalDate?
    /// When the family's share is due to go out (45 CFR 302.32, or the hold's end).
    public var disbursementDueOn: LocalDate

    public init(collectionId: String, eventId: UUID, taxYear: Int?, heldUntil: LocalDate?, disbursementDueOn: LocalDate) {
        self.collectionId = collectionId
        self.eventId = eventId
        self.taxYear = taxYear
        self.heldUntil = heldUntil
        self.disbursementDueOn = disbursementDueOn
    }

    /// The ledger's payment for a collection.
    public static func paymentId(_ collectionId: String) -> String { "collection:\(collectionId)" }

    public var paymentId: String { Self.paymentId(collectionId) }

    /// The target of the collection's `disbursement` task (part of its id).
    public var disbursementTarget: String { "collection:\(collectionId)" }
}

/// A disbursement the family did not receive: the money is held until the
/// custodial party has an address again, then disbursed anew.
public struct ReturnedDisbursement: Sendable, Hashable, Codable {
    /// The `disbursement` task that came back.
    public var taskId: UUID
    public var paymentId: String
    public var familyCents: Cents
    public var returnedOn: LocalDate
    public var reason: DisbursementReturnReason
    /// When it was disbursed again; nil while held.
    public var reissuedOn: LocalDate?

    public init(taskId: UUID, paymentId: String, familyCents: Cents, returnedOn: LocalDate, reason: DisbursementReturnReason,
                reissuedOn: LocalDate? = nil) {
        self.taskId = taskId
        self.paymentId = paymentId
        self.familyCents = familyCents
        self.returnedOn = returnedOn
        self.reason = reason
        self.reissuedOn = reissuedOn
    }
}

/// What an income withholding order attaches: wages from an employer, or
/// unemployment benefits through the State Workforce Agency (45 CFR 302.65).
public enum IncomeSource: String, Sendable, Hashable, Codable {
    case wages = "WAGES"
    case unemploymentBenefits = "UNEMPLOYMENT_BENEFITS"
}

/// A custodial or noncustodial party as the case knows them.
public struct PartyRecord: Sendable, Hashable, Codable {
    public var partyId: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: LocalDate?
    public var ssn: SSN?
    public var address: Address?
    /// False once service of process at `address` failed; a new address makes it usable again.
    public var addressUsable: Bool
    public var deceasedOn: LocalDate?
    /// The expected release of an incarcerated parent.
    public var incarceratedUntil: LocalDate?

    public init(
        partyId: String, firstName: String, lastName: String, dateOfBirth: LocalDate? = nil, ssn: SSN? = nil,
        address: Address? = nil, addressUsable: Bool = true, deceasedOn: LocalDate? = nil, incarceratedUntil: LocalDate? = nil
    ) {
        self.incarceratedUntil = incarceratedUntil
        self.partyId = partyId
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.ssn = ssn
        self.address = address
        self.addressUsable = addressUsable
        self.deceasedOn = deceasedOn
    }

    public var hasUsableAddress: Bool { address != nil && addressUsable }
}

public enum PaternityStatus: Sendable, Hashable, Codable {
    case open
    /// The method is nil when paternity was established before the case came
    /// to the agency (an application's `paternityEstablished: true`).
    case established(PaternityMethod?)
    case excluded

    public var isOpen: Bool { self == .open }
    public var isEstablished: Bool { if case .established = self { true } else { false } }

    private enum CodingKeys: String, CodingKey { case status, method }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .status) {
        case "OPEN": self = .open
        case "EXCLUDED": self = .excluded
        case "ESTABLISHED": self = .established(try c.decodeIfPresent(PaternityMethod.self, forKey: .method))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .status, in: c, debugDescription: "unknown paternity status \(other)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .open: try c.encode("OPEN", forKey: .status)
        case .excluded: try c.encode("EXCLUDED", forKey: .status)
        case .established(let method):
            try c.encode("ESTABLISHED", forKey: .status)
            try c.encodeIfPresent(method, forKey: .method)
        }
    }
}

public struct ChildRecord: Sendable, Hashable, Codable {
    public var childId: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: LocalDate
    public var paternity: PaternityStatus
    /// When genetic testing was requested, so it is requested once per child.
    public var geneticTestingRequestedOn: LocalDate?

    public init(
        childId: String, firstName: String, lastName: String, dateOfBirth: LocalDate, paternity: PaternityStatus,
        geneticTestingRequestedOn: LocalDate? = nil
    ) {
        self.childId = childId
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.paternity = paternity
        self.geneticTestingRequestedOn = geneticTestingRequestedOn
    }
}

public enum OrderStatus: String, Sendable, Hashable, Codable {
    case active = "ACTIVE"
    case terminated = "TERMINATED"
}

public struct SupportOrder: Sendable, Hashable, Codable {
    public var orderId: String
    public var docketNumber: String
    public var monthlySupportCents: Cents
    public var monthlyArrearsPaymentCents: Cents?
    public var medicalSupportOrdered: Bool
    /// When the current terms took effect (the latest modification's date).
    public var effectiveOn: LocalDate
    public var status: OrderStatus
    public var terminatedOn: LocalDate?
    public var terminationReason: OrderTerminationReason?

    public init(terms: OrderTerms) {
        self.orderId = terms.orderId
        self.docketNumber = terms.docketNumber
        self.monthlySupportCents = terms.monthlySupportCents
        self.monthlyArrearsPaymentCents = terms.monthlyArrearsPaymentCents
        self.medicalSupportOrdered = terms.medicalSupportOrdered
        self.effectiveOn = terms.effectiveOn
        self.status = .active
    }

    /// What an income withholding order collects each month.
    public var monthlyWithholdingCents: Cents { monthlySupportCents + (monthlyArrearsPaymentCents ?? 0) }
}

public enum WithholdingStatus: String, Sendable, Hashable, Codable {
    /// No income withholding order has gone to this employer (no order yet).
    case none = "NONE"
    /// The order was sent; no answer yet.
    case issued = "ISSUED"
    /// The employer answered ACCEPTED.
    case accepted = "ACCEPTED"
}

/// A current employer of the noncustodial parent.
public struct Employment: Sendable, Hashable, Codable {
    public var fein: FEIN
    public var name: String?
    public var address: Address?
    /// Hire date from a new hire; otherwise the business date the employment became known.
    public var since: LocalDate
    public var withholding: WithholdingStatus
    /// The order whose terms the last withholding notice carried.
    public var withholdingOrderId: String?
    public var medicalSupportNoticeIssued: Bool
    public var medicalCoverage: MedicalCoverage?
    public var lastReportedQuarter: Quarter?
    public var lastReportedWagesCents: Cents?
    /// nil: wages. Unemployment benefits are withheld through the agency that pays them.
    public var incomeSource: IncomeSource?
    /// Unemployment benefits: the weekly benefit the claim reported.
    public var weeklyBenefitCents: Cents?
    /// When the payer accepted the income withholding order.
    public var acceptedOn: LocalDate?
    /// The latest remittance date (`receivedOn`) from this payer for the case.
    public var lastRemittedOn: LocalDate?
    /// When a review of a payer that accepted and never remitted was asked for (once per acceptance).
    public var notRemittingReviewOn: LocalDate?

    public init(fein: FEIN, name: String?, address: Address?, since: LocalDate) {
        self.fein = fein
        self.name = name
        self.address = address
        self.since = since
        self.withholding = .none
        self.withholdingOrderId = nil
        self.medicalSupportNoticeIssued = false
        self.medicalCoverage = nil
        self.lastReportedQuarter = nil
        self.lastReportedWagesCents = nil
    }
}

public struct EndedEmployment: Sendable, Hashable, Codable {
    public var fein: FEIN
    public var endedOn: LocalDate
    public var reason: String

    public init(fein: FEIN, endedOn: LocalDate, reason: String) {
        self.fein = fein
        self.endedOn = endedOn
        self.reason = reason
    }
}

/// An arrears referral whose ISSUE task went out and has not been withdrawn.
public struct ActiveReferral: Sendable, Hashable, Codable {
    public var type: TaskType
    public var issuedOn: LocalDate
    public var arrearsCents: Cents
    public var taskId: UUID
    /// The threshold crossed (nil for referrals stored before it was kept).
    public var thresholdCents: Cents?
    /// The notice of intent that preceded it, when the remedy needs one.
    public var noticedOn: LocalDate?

    public init(type: TaskType, issuedOn: LocalDate, arrearsCents: Cents, taskId: UUID, thresholdCents: Cents? = nil,
                noticedOn: LocalDate? = nil) {
        self.type = type
        self.issuedOn = issuedOn
        self.arrearsCents = arrearsCents
        self.taskId = taskId
        self.thresholdCents = thresholdCents
        self.noticedOn = noticedOn
    }
}

public struct Hearing: Sendable, Hashable, Codable {
    public var hearingId: String
    public var type: HearingType
    public var scheduledFor: Date
    public var courtName: String
    public var preparationDueBy: LocalDate

    public init(hearingId: String, type: HearingType, scheduledFor: Date, courtName: String, preparationDueBy: LocalDate) {
        self.hearingId = hearingId
        self.type = type
        self.scheduledFor = scheduledFor
        self.courtName = courtName
        self.preparationDueBy = preparationDueBy
    }
}

public enum ServiceOutcome: String, Sendable, Hashable, Codable {
    case completed = "COMPLETED"
    case failed = "FAILED"
}

public struct ServiceAttempt: Sendable, Hashable, Codable {
    public var partyId: String
    public var outcome: ServiceOutcome
    public var attemptedOn: LocalDate

    public init(partyId: String, outcome: ServiceOutcome, attemptedOn: LocalDate) {
        self.partyId = partyId
        self.outcome = outcome
        self.attemptedOn = attemptedOn
    }
}

public struct ContemptRecord: Sendable, Hashable, Codable {
    public var purgeAmountCents: Cents
    public var complianceDueOn: LocalDate
    public var foundOn: LocalDate

    public init(purgeAmountCents: Cents, complianceDueOn: LocalDate, foundOn: LocalDate) {
        self.purgeAmountCents = purgeAmountCents
        self.complianceDueOn = complianceDueOn
        self.foundOn = foundOn
    }
}

/// Why the case may be closed (45 CFR 303.11(b)), and when: closing needs a
/// notice period, so the earliest closure date is the review's business date
/// plus `Policy.closureNoticeDays`.
public struct ClosureReview: Sendable, Hashable, Codable {
    public var reason: ClosureReason
    public var detail: String?
    public var requestedOn: LocalDate
    public var earliestClosureOn: LocalDate
    /// The recipient was sent CLOSURE_INTENT: the case closes by itself on
    /// `earliestClosureOn` if the criterion still holds and no answer came.
    public var noticeSent: Bool
    /// The recipient answered with information: the case stays open.
    public var answeredOn: LocalDate?

    public init(reason: ClosureReason, detail: String?, requestedOn: LocalDate, earliestClosureOn: LocalDate,
                noticeSent: Bool = false, answeredOn: LocalDate? = nil) {
        self.reason = reason
        self.detail = detail
        self.requestedOn = requestedOn
        self.earliestClosureOn = earliestClosureOn
        self.noticeSent = noticeSent
        self.answeredOn = answeredOn
    }

    /// The day the case closes by itself, if it does.
    public var closesOn: LocalDate? { noticeSent && answeredOn == nil ? earliestClosureOn : nil }
}

public enum ClosureReason: String, Sendable, Hashable, Codable, CaseIterable {
    case requested = "CLOSURE_REQUESTED"
    case noncustodialParentDeceased = "NONCUSTODIAL_PARENT_DECEASED"
    case custodialPartyDeceased = "CUSTODIAL_PARTY_DECEASED"
    case paternityExcluded = "PATERNITY_EXCLUDED"
    case orderTerminatedNoArrears = "ORDER_TERMINATED_NO_ARREARS"
    /// No current order and arrears under `Policy.closureArrearsThresholdCents`.
    case noCurrentOrderLowArrears = "NO_CURRENT_ORDER_ARREARS_UNDER_THRESHOLD"
}
