import Foundation

/// What a task tells its office, typed per task type. The wire contract's
/// `data` object (`CaseContract`) is written from these; the rules never build
/// JSON. Fields a WITHDRAW may leave out are optional.
public enum TaskData: Sendable, Hashable {
    case incomeWithholding(WithholdingNotice)
    case medicalSupportNotice(MedicalSupportNotice)
    /// Tax offset, passport denial, credit bureau and license suspension share one shape.
    case referral(ArrearsReferral)
    case locate(LocateRequest)
    case geneticTesting(GeneticTestingRequest)
    case courtPreparation(CourtPreparation)
    case disbursement(Disbursement)
    case caseReview(CaseReview)
    case financialLevy(FinancialLevy)
    case partyNotice(PartyNotice)
    case intergovernmentalReferral(IntergovernmentalReferral)

    /// Whether this payload is the one tasks of `type` carry.
    public func fits(_ type: TaskType) -> Bool {
        switch (self, type) {
        case (.incomeWithholding, .incomeWithholding), (.medicalSupportNotice, .medicalSupportNotice),
            (.locate, .locate), (.geneticTesting, .geneticTesting), (.courtPreparation, .courtPreparation),
            (.disbursement, .disbursement), (.caseReview, .caseReview), (.financialLevy, .financialLevy),
            (.partyNotice, .partyNotice), (.intergovernmentalReferral, .intergovernmentalReferral):
            true
        case (.referral, let type): TaskType.arrearsReferrals.contains(type)
        default: false
        }
    }

    /// What the task asks of its office, without the measurements that move
    /// with every evaluation (arrears and the date they were read) and without
    /// whether it replaced earlier terms: two tasks with equal terms need no
    /// amended notice.
    public var terms: TaskData {
        switch self {
        case .incomeWithholding(var notice):
            notice.amended = false
            return .incomeWithholding(notice)
        case .referral(var referral):
            referral.arrearsCents = 0
            referral.asOf = LocalDate(daysSinceEpoch: 0)
            return .referral(referral)
        case .caseReview(var review):
            review.arrearsCents = nil
            return .caseReview(review)
        case .intergovernmentalReferral(var referral):
            referral.pastDueCents = 0
            return .intergovernmentalReferral(referral)
        default:
            return self
        }
    }
}

/// The noncustodial parent as a task names them (never an SSN).
public struct Obligor: Sendable, Hashable {
    public var partyId: String
    public var firstName: String
    public var lastName: String

    public init(partyId: String, firstName: String, lastName: String) {
        self.partyId = partyId
        self.firstName = firstName
        self.lastName = lastName
    }
}

/// An income withholding order to an employer (42 USC 666(b)), or its withdrawal.
public struct WithholdingNotice: Sendable, Hashable {
    public struct Terms: Sendable, Hashable {
        public var docketNumber: String
        public var currentSupportCents: Cents
        public var arrearsPaymentCents: Cents
        public var totalPerMonthCents: Cents
        /// 15 USC 1673(b): 50 or 60, plus 5 when arrears are older than 12 weeks.
        public var ccpaLimitPercent: Int
        /// Unemployment benefits: at most this share of the weekly benefit.
        public var benefitLimit: BenefitLimit?

        public init(docketNumber: String, currentSupportCents: Cents, arrearsPaymentCents: Cents, totalPerMonthCents: Cents, ccpaLimitPercent: Int,
                    benefitLimit: BenefitLimit? = nil) {
            self.docketNumber = docketNumber
            self.currentSupportCents = currentSupportCents
            self.arrearsPaymentCents = arrearsPaymentCents
            self.totalPerMonthCents = totalPerMonthCents
            self.ccpaLimitPercent = ccpaLimitPercent
            self.benefitLimit = benefitLimit
        }
    }

    /// Withholding from unemployment benefits is capped at a share of the weekly benefit (42 USC 654(19)).
    public struct BenefitLimit: Sendable, Hashable {
        public var weeklyBenefitCents: Cents
        public var withholdingPercent: Int
        public var weeklyLimitCents: Cents

        public init(weeklyBenefitCents: Cents, withholdingPercent: Int, weeklyLimitCents: Cents) {
            self.weeklyBenefitCents = weeklyBenefitCents
            self.withholdingPercent = withholdingPercent
            self.weeklyLimitCents = weeklyLimitCents
        }
    }

    public var employer: EmployerRef
    public var obligor: Obligor
    public var orderId: String?
    /// On an ISSUE: what to withhold.
    public var terms: Terms?
    /// An ISSUE to an employer already withholding: these terms replace the ones it has.
    public var amended: Bool
    /// On a WITHDRAW: why (TERMINATED, NOT_EMPLOYED, ORDER_TERMINATED, CASE_CLOSED...).
    public var reason: String?
    /// What is withheld from: wages (nil) or unemployment benefits.
    public var incomeSource: IncomeSource?

    public init(employer: EmployerRef, obligor: Obligor, orderId: String?, terms: Terms? = nil, amended: Bool = false, reason: String? = nil,
                incomeSource: IncomeSource? = nil) {
        self.employer = employer
        self.obligor = obligor
        self.orderId = orderId
        self.terms = terms
        self.amended = amended
        self.reason = reason
        self.incomeSource = incomeSource
    }
}

/// The National Medical Support Notice (45 CFR 303.32), or its withdrawal.
public struct MedicalSupportNotice: Sendable, Hashable {
    public var employer: EmployerRef
    public var obligor: Obligor
    public var orderId: String?
    public var docketNumber: String?
    /// On an ISSUE: the children to cover.
    public var childIds: [String]?
    public var reason: String?

    public init(employer: EmployerRef, obligor: Obligor, orderId: String?, docketNumber: String? = nil, childIds: [String]? = nil, reason: String? = nil) {
        self.employer = employer
        self.obligor = obligor
        self.orderId = orderId
        self.docketNumber = docketNumber
        self.childIds = childIds
        self.reason = reason
    }
}

/// An arrears-driven enforcement referral, or its withdrawal.
public struct ArrearsReferral: Sendable, Hashable {
    public var arrearsCents: Cents
    /// The business date arrears were judged at.
    public var asOf: LocalDate
    public var obligor: Obligor
    public var program: Program
    public var thresholdCents: Cents?
    public var reason: String?

    public init(arrearsCents: Cents, asOf: LocalDate, obligor: Obligor, program: Program, thresholdCents: Cents?, reason: String? = nil) {
        self.arrearsCents = arrearsCents
        self.asOf = asOf
        self.obligor = obligor
        self.program = program
        self.thresholdCents = thresholdCents
        self.reason = reason
    }
}

public enum PartyRole: String, Sendable, Hashable {
    case noncustodialParent = "NONCUSTODIAL_PARENT"
    case custodialParty = "CUSTODIAL_PARTY"
}

/// Find a party (45 CFR 303.3).
public struct LocateRequest: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        case noAddressOrEmployer = "NO_ADDRESS_OR_EMPLOYER"
        case serviceFailed = "SERVICE_FAILED"
        /// The family's disbursement came back: its address is wrong.
        case disbursementReturned = "DISBURSEMENT_RETURNED"
    }

    public var partyId: String
    public var role: PartyRole
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: LocalDate?
    public var reason: Reason
    public var ssnKnown: Bool
    public var lastKnownAddress: Address?

    public init(partyId: String, role: PartyRole, firstName: String, lastName: String, dateOfBirth: LocalDate?, reason: Reason, ssnKnown: Bool, lastKnownAddress: Address?) {
        self.partyId = partyId
        self.role = role
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.reason = reason
        self.ssnKnown = ssnKnown
        self.lastKnownAddress = lastKnownAddress
    }
}

/// Genetic testing for a child whose legal father is not established.
public struct GeneticTestingRequest: Sendable, Hashable {
    public var childId: String
    public var childFirstName: String
    public var childLastName: String
    public var childDateOfBirth: LocalDate
    public var allegedFatherPartyId: String
    public var custodialPartyId: String

    public init(childId: String, childFirstName: String, childLastName: String, childDateOfBirth: LocalDate, allegedFatherPartyId: String, custodialPartyId: String) {
        self.childId = childId
        self.childFirstName = childFirstName
        self.childLastName = childLastName
        self.childDateOfBirth = childDateOfBirth
        self.allegedFatherPartyId = allegedFatherPartyId
        self.custodialPartyId = custodialPartyId
    }
}

/// Prepare a case for court: to establish an order, or for a scheduled hearing.
public struct CourtPreparation: Sendable, Hashable {
    public struct HearingDetails: Sendable, Hashable {
        public var hearingId: String
        public var hearingType: HearingType
        public var scheduledFor: Date
        /// The hearing's date in the agency zone.
        public var hearingDate: LocalDate
        public var courtName: String

        public init(hearingId: String, hearingType: HearingType, scheduledFor: Date, hearingDate: LocalDate, courtName: String) {
            self.hearingId = hearingId
            self.hearingType = hearingType
            self.scheduledFor = scheduledFor
            self.hearingDate = hearingDate
            self.courtName = courtName
        }
    }

    public var noncustodialPartyId: String
    /// To establish an order: the children whose paternity is established.
    public var establishingFor: [String]?
    /// For a hearing.
    public var hearing: HearingDetails?

    public init(noncustodialPartyId: String, establishingFor: [String]? = nil, hearing: HearingDetails? = nil) {
        self.noncustodialPartyId = noncustodialPartyId
        self.establishingFor = establishingFor
        self.hearing = hearing
    }
}

/// Distribute a collection (45 CFR 302.32).
public struct Disbursement: Sendable, Hashable {
    /// What only an employer's remittance has: who remitted, for which payday, and whether on time.
    public struct Remittance: Sendable, Hashable {
        public var employerFein: FEIN
        public var payDate: LocalDate
        public var remittanceDueOn: LocalDate
        public var remittedLate: Bool

        public init(employerFein: FEIN, payDate: LocalDate, remittanceDueOn: LocalDate, remittedLate: Bool) {
            self.employerFein = employerFein
            self.payDate = payDate
            self.remittanceDueOn = remittanceDueOn
            self.remittedLate = remittedLate
        }
    }

    public var paymentId: String
    public var source: CollectionSource
    public var amountCents: Cents
    public var toCurrentSupportCents: Cents
    public var toArrearsCents: Cents
    /// Held as credit, applied to charges as they fall due.
    public var unappliedCents: Cents
    public var disbursedToFamilyCents: Cents
    public var retainedByStateCents: Cents
    public var custodialPartyId: String
    public var receivedOn: LocalDate
    /// Employer remittances only.
    public var remittance: Remittance?
    /// Collections from `cse.collections.v1`.
    public var collectionId: String?
    /// A joint-return tax offset held for an injured-spouse claim until this date.
    public var heldUntil: LocalDate?
    /// A re-disbursement: the returned disbursement task this sends again.
    public var redisbursementOf: UUID?
    /// The part of the collection reversed before it went out.
    public var reversedCents: Cents?
    /// On a WITHDRAW: why.
    public var reason: String?

    public init(
        paymentId: String, source: CollectionSource, amountCents: Cents, toCurrentSupportCents: Cents, toArrearsCents: Cents,
        unappliedCents: Cents, disbursedToFamilyCents: Cents, retainedByStateCents: Cents, custodialPartyId: String,
        receivedOn: LocalDate, remittance: Remittance? = nil, collectionId: String? = nil, heldUntil: LocalDate? = nil,
        redisbursementOf: UUID? = nil, reversedCents: Cents? = nil, reason: String? = nil
    ) {
        self.paymentId = paymentId
        self.source = source
        self.amountCents = amountCents
        self.toCurrentSupportCents = toCurrentSupportCents
        self.toArrearsCents = toArrearsCents
        self.unappliedCents = unappliedCents
        self.disbursedToFamilyCents = disbursedToFamilyCents
        self.retainedByStateCents = retainedByStateCents
        self.custodialPartyId = custodialPartyId
        self.receivedOn = receivedOn
        self.remittance = remittance
        self.collectionId = collectionId
        self.heldUntil = heldUntil
        self.redisbursementOf = redisbursementOf
        self.reversedCents = reversedCents
        self.reason = reason
    }
}

/// Seize what a financial account holds toward past-due support (42 USC 666(a)(17)).
public struct FinancialLevy: Sendable, Hashable {
    public var institution: EmployerRef
    public var accountKind: AccountKind
    public var levyCents: Cents
    public var pastDueCents: Cents
    public var balanceCents: Cents
    public var matchedOn: LocalDate
    public var obligor: Obligor
    /// On a WITHDRAW: why.
    public var reason: String?

    public init(institution: EmployerRef, accountKind: AccountKind, levyCents: Cents, pastDueCents: Cents, balanceCents: Cents,
                matchedOn: LocalDate, obligor: Obligor, reason: String? = nil) {
        self.institution = institution
        self.accountKind = accountKind
        self.levyCents = levyCents
        self.pastDueCents = pastDueCents
        self.balanceCents = balanceCents
        self.matchedOn = matchedOn
        self.obligor = obligor
        self.reason = reason
    }
}

/// A caseworker review: missing information, an order review, contempt
/// compliance, or a closure criterion.
public struct CaseReview: Sendable, Hashable {
    public enum Reason: Sendable, Hashable {
        case missingInformation(missing: [String], applicationReceivedOn: LocalDate)
        case orderReview(orderId: String, termsEffectiveOn: LocalDate, reviewMonths: Int)
        case contemptCompliance(purgeAmountCents: Cents, complianceDueOn: LocalDate)
        case closure(ClosureReason, closureNoticeDays: Int, earliestClosureOn: LocalDate, detail: String?)
        /// A payer that accepted an income withholding order has remitted nothing in `remittanceExpectedDays`.
        case employerNotRemitting(employerFein: FEIN, acceptedOn: LocalDate, remittanceExpectedDays: Int)
        /// A collection reversed after its disbursement went out: recover the overpayment.
        case overpaidDisbursement(collectionId: String, overpaidCents: Cents, reversedOn: LocalDate, disbursementTaskId: UUID?)
        /// Review and adjust the order (45 CFR 303.8): due `reviewDays` after `countedFrom`, the
        /// request or the day the other parent was located, whichever is later.
        case reviewAndAdjustment(requestedBy: Requester, requestedOn: LocalDate, countedFrom: LocalDate, reviewDays: Int)
        /// The recipient answered a notice of intent to close with information: the case stays open.
        case closureResponse(ClosureReason, respondedOn: LocalDate, closeOn: LocalDate)
    }

    public var reason: Reason
    /// Closure reviews: arrears when the criterion was met.
    public var arrearsCents: Cents?

    public init(_ reason: Reason, arrearsCents: Cents? = nil) {
        self.reason = reason
        self.arrearsCents = arrearsCents
    }
}

/// A written notice the law requires to a parent, and what it must say.
public struct PartyNotice: Sendable, Hashable {
    public enum Letter: Sendable, Hashable {
        /// A remedy is about to be taken: the parent may contest it by `contestBy`.
        /// `institution` names the account of a levy.
        case enforcementIntent(remedy: TaskType, pastDueCents: Cents, thresholdCents: Cents, contestBy: LocalDate, institution: EmployerRef?)
        /// The right to ask for a review of the order (45 CFR 303.8(b)(2)); `incarceratedUntil`
        /// when it is sent because the parent is incarcerated.
        case reviewRights(orderId: String, docketNumber: String, termsEffectiveOn: LocalDate, incarceratedUntil: LocalDate?)
        /// The case will close on `closeOn` unless the recipient answers (45 CFR 303.11(d)(4)).
        case closureIntent(criterion: ClosureReason, closeOn: LocalDate)
        /// A review of the order has begun and will be finished by `reviewDueBy`.
        case reviewStarted(requestedBy: Requester, requestedOn: LocalDate, reviewDueBy: LocalDate)

        public var kind: Kind {
            switch self {
            case .enforcementIntent: .enforcementIntent
            case .reviewRights: .reviewRights
            case .closureIntent: .closureIntent
            case .reviewStarted: .reviewStarted
            }
        }
    }

    public enum Kind: String, CaseIterable, Sendable, Hashable {
        case enforcementIntent = "ENFORCEMENT_INTENT"
        case reviewRights = "REVIEW_RIGHTS"
        case closureIntent = "CLOSURE_INTENT"
        case reviewStarted = "REVIEW_STARTED"
    }

    public var letter: Letter
    public var partyId: String
    public var role: PartyRole
    public var firstName: String
    public var lastName: String
    /// Where the letter goes; nil when the case has no usable address for the party.
    public var address: Address?

    public init(_ letter: Letter, partyId: String, role: PartyRole, firstName: String, lastName: String, address: Address?) {
        self.letter = letter
        self.partyId = partyId
        self.role = role
        self.firstName = firstName
        self.lastName = lastName
        self.address = address
    }
}

/// What a case needs from the state a parent is located in (45 CFR 303.7).
public enum IntergovernmentalNeed: String, CaseIterable, Sendable, Hashable, Codable {
    case locate = "LOCATE"
    case paternity = "PATERNITY"
    case establishment = "ESTABLISHMENT"
    case enforcement = "ENFORCEMENT"
}

/// Send the case to another state's central registry (45 CFR 303.7(c)).
public struct IntergovernmentalReferral: Sendable, Hashable {
    public var toState: USState
    public var needs: [IntergovernmentalNeed]
    public var pastDueCents: Cents
    public var obligor: Obligor
    /// Where the parent was located.
    public var locatedAt: Address?
    public var locatedOn: LocalDate
    /// On a WITHDRAW: why.
    public var reason: String?

    public init(toState: USState, needs: [IntergovernmentalNeed], pastDueCents: Cents, obligor: Obligor, locatedAt: Address?,
                locatedOn: LocalDate, reason: String? = nil) {
        self.toState = toState
        self.needs = needs
        self.pastDueCents = pastDueCents
        self.obligor = obligor
        self.locatedAt = locatedAt
        self.locatedOn = locatedOn
        self.reason = reason
    }
}
