/// Payloads of `cse.intake.v1`.

public enum Program: String, CaseIterable, Sendable, Hashable {
    case tanf = "TANF"
    case nonTANF = "NON_TANF"
    case medicaid = "MEDICAID"
    case fosterCare = "FOSTER_CARE"
    case interstate = "INTERSTATE"
}

/// `intake.application`: opens a case.
public struct IntakeApplication: Sendable, Hashable {
    public var program: Program
    public var receivedOn: LocalDate
    public var custodialParty: Party
    public var noncustodialParty: Party
    /// At least one: a support case exists for a child.
    public var children: [Child]
    /// An order entered before the case came to the agency (same shape as `court.order-established`).
    public var existingOrder: OrderTerms?

    public init(
        program: Program, receivedOn: LocalDate, custodialParty: Party, noncustodialParty: Party, children: [Child],
        existingOrder: OrderTerms? = nil
    ) {
        self.program = program
        self.receivedOn = receivedOn
        self.custodialParty = custodialParty
        self.noncustodialParty = noncustodialParty
        self.children = children
        self.existingOrder = existingOrder
    }
}

/// `intake.party-update`: new facts about a party; at least one of the optional fields is present.
public struct PartyUpdate: Sendable, Hashable {
    public var partyId: String
    public var address: Address?
    public var ssn: SSN?
    public var employer: EmployerRef?
    public var deceasedOn: LocalDate?
    /// The expected release of a parent who is incarcerated.
    public var incarceratedUntil: LocalDate?

    public init(
        partyId: String, address: Address? = nil, ssn: SSN? = nil, employer: EmployerRef? = nil,
        deceasedOn: LocalDate? = nil, incarceratedUntil: LocalDate? = nil
    ) {
        self.partyId = partyId
        self.address = address
        self.ssn = ssn
        self.employer = employer
        self.deceasedOn = deceasedOn
        self.incarceratedUntil = incarceratedUntil
    }
}

/// `intake.closure-request`: someone asks for the case to be closed; the reason is free text.
public struct ClosureRequest: Sendable, Hashable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// Who asked for something: a parent or the agency itself.
public enum Requester: String, CaseIterable, Sendable, Hashable, Codable {
    case custodialParty = "CUSTODIAL_PARTY"
    case noncustodialParty = "NONCUSTODIAL_PARTY"
    case agency = "AGENCY"
}

/// `intake.review-requested`: a review and adjustment of the order (45 CFR 303.8).
public struct ReviewRequested: Sendable, Hashable {
    public var requestedBy: Requester
    public var requestedOn: LocalDate
    public var reason: String?

    public init(requestedBy: Requester, requestedOn: LocalDate, reason: String? = nil) {
        self.requestedBy = requestedBy
        self.requestedOn = requestedOn
        self.reason = reason
    }
}

/// `intake.closure-response`: the recipient's answer to a notice of intent to close.
public struct ClosureResponse: Sendable, Hashable {
    public var respondedOn: LocalDate
    /// True when the answer brings information that may keep the case open.
    public var informationProvided: Bool

    public init(respondedOn: LocalDate, informationProvided: Bool) {
        self.respondedOn = respondedOn
        self.informationProvided = informationProvided
    }
}

/// `intake.remedy-contested`: the parent contests a remedy he was given notice of.
public struct RemedyContested: Sendable, Hashable {
    /// A referral task type (credit-bureau-report, license-suspension, financial-levy...).
    public var remedy: TaskType
    public var contestedOn: LocalDate

    public init(remedy: TaskType, contestedOn: LocalDate) {
        self.remedy = remedy
        self.contestedOn = contestedOn
    }
}

public enum ContestOutcome: String, CaseIterable, Sendable, Hashable, Codable {
    /// The remedy stands: it is taken.
    case upheld = "UPHELD"
    /// The remedy is dropped until the facts change.
    case overturned = "OVERTURNED"
}

/// `intake.contest-decided`.
public struct ContestDecided: Sendable, Hashable {
    public var remedy: TaskType
    public var decidedOn: LocalDate
    public var outcome: ContestOutcome

    public init(remedy: TaskType, decidedOn: LocalDate, outcome: ContestOutcome) {
        self.remedy = remedy
        self.decidedOn = decidedOn
        self.outcome = outcome
    }
}

/// `intake.payment-agreement`: the parent agrees to pay `monthlyCents` a month from `firstDueOn`.
public struct PaymentAgreementSigned: Sendable, Hashable {
    public var agreementId: String
    public var monthlyCents: Cents
    public var firstDueOn: LocalDate
    public var signedOn: LocalDate

    public init(agreementId: String, monthlyCents: Cents, firstDueOn: LocalDate, signedOn: LocalDate) {
        self.agreementId = agreementId
        self.monthlyCents = monthlyCents
        self.firstDueOn = firstDueOn
        self.signedOn = signedOn
    }
}
