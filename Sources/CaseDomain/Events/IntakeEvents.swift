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

    public init(
        partyId: String, address: Address? = nil, ssn: SSN? = nil, employer: EmployerRef? = nil,
        deceasedOn: LocalDate? = nil
    ) {
        self.partyId = partyId
        self.address = address
        self.ssn = ssn
        self.employer = employer
        self.deceasedOn = deceasedOn
    }
}

/// `intake.closure-request`: someone asks for the case to be closed; the reason is free text.
public struct ClosureRequest: Sendable, Hashable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}
