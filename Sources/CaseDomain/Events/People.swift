/// Parties, children, addresses and employers as they appear inside event data.

public struct Address: Sendable, Hashable {
    public var line1: String
    public var city: String
    public var state: USState
    /// `NNNNN` or `NNNNN-NNNN`.
    public var postalCode: String

    public init(line1: String, city: String, state: USState, postalCode: String) {
        self.line1 = line1
        self.city = city
        self.state = state
        self.postalCode = postalCode
    }
}

/// An employer as a report or a party record names it. Which parts are
/// required depends on where it appears (the decoder enforces the contract):
/// a new hire names the employer fully, a termination or remittance by FEIN only.
public struct EmployerRef: Sendable, Hashable, Codable {
    public var fein: FEIN
    public var name: String?
    public var address: Address?

    public init(fein: FEIN, name: String? = nil, address: Address? = nil) {
        self.fein = fein
        self.name = name
        self.address = address
    }
}

/// A custodial or noncustodial party on an application.
public struct Party: Sendable, Hashable {
    public var partyId: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: LocalDate?
    /// Optional on intake: an unknown noncustodial SSN is what locate is for.
    public var ssn: SSN?
    public var address: Address?
    public var employer: EmployerRef?

    public init(
        partyId: String, firstName: String, lastName: String, dateOfBirth: LocalDate? = nil, ssn: SSN? = nil,
        address: Address? = nil, employer: EmployerRef? = nil
    ) {
        self.partyId = partyId
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.ssn = ssn
        self.address = address
        self.employer = employer
    }
}

public struct Child: Sendable, Hashable {
    public var childId: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: LocalDate
    public var paternityEstablished: Bool

    public init(childId: String, firstName: String, lastName: String, dateOfBirth: LocalDate, paternityEstablished: Bool) {
        self.childId = childId
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.paternityEstablished = paternityEstablished
    }
}

/// The person an employer report is about, identified by SSN. Names are
/// required on a new hire only.
public struct Employee: Sendable, Hashable {
    public var ssn: SSN
    public var firstName: String?
    public var lastName: String?
    public var address: Address?

    public init(ssn: SSN, firstName: String? = nil, lastName: String? = nil, address: Address? = nil) {
        self.ssn = ssn
        self.firstName = firstName
        self.lastName = lastName
        self.address = address
    }
}
