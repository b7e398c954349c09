/// The values event data is made of, as plain strings and integers: this
/// module writes the wire format from the contract and shares no types with
/// the domain's decoder, so each checks the other.

public struct ScenarioAddress: Sendable, Hashable {
    public var line1: String
    public var city: String
    /// USPS two-letter code.
    public var state: String
    /// Five digits.
    public var postalCode: String

    public init(line1: String, city: String, state: String, postalCode: String) {
        self.line1 = line1
        self.city = city
        self.state = state
        self.postalCode = postalCode
    }

    public static let sample = ScenarioAddress(line1: "1412 Tuckaseegee Rd", city: "Charlotte", state: "NC", postalCode: "28208")

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("line1", line1)
        w.field("city", city)
        w.field("state", state)
        w.field("postalCode", postalCode)
        w.endObject()
    }
}

public struct ScenarioEmployer: Sendable, Hashable {
    /// Nine digits.
    public var fein: String
    public var name: String
    public var address: ScenarioAddress

    public init(
        fein: String = ScenarioEmployer.sample.fein, name: String = ScenarioEmployer.sample.name,
        address: ScenarioAddress = ScenarioEmployer.sample.address
    ) {
        self.fein = fein
        self.name = name
        self.address = address
    }

    public static let sample = ScenarioEmployer(
        fein: "561234567", name: "Piedmont Freight Services LLC",
        address: ScenarioAddress(line1: "4100 Statesville Ave", city: "Charlotte", state: "NC", postalCode: "28269"))

    /// The State Workforce Agency: unemployment claims and benefit withholding.
    public static let workforceAgency = ScenarioEmployer(
        fein: "566000102", name: "NC Division of Employment Security",
        address: ScenarioAddress(line1: "700 Wade Ave", city: "Raleigh", state: "NC", postalCode: "27605"))

    /// Banks that answer the quarterly financial institution data match.
    public static let banks = [
        ScenarioEmployer(fein: "560400110", name: "Carolina Federal Credit Union",
                         address: ScenarioAddress(line1: "200 S Tryon St", city: "Charlotte", state: "NC", postalCode: "28202")),
        ScenarioEmployer(fein: "560400220", name: "Piedmont Savings Bank",
                         address: ScenarioAddress(line1: "15 W Market St", city: "Greensboro", state: "NC", postalCode: "27401")),
        ScenarioEmployer(fein: "560400330", name: "Coastal Plain Bank & Trust",
                         address: ScenarioAddress(line1: "101 N Front St", city: "Wilmington", state: "NC", postalCode: "28401")),
    ]
    public static let bank = banks[0]

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("fein", fein)
        w.field("name", name)
        w.key("address")
        address.write(to: &w)
        w.endObject()
    }
}

/// A custodial or noncustodial party on an application.
public struct ScenarioParty: Sendable, Hashable {
    public var partyId: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: ScenarioDate?
    /// Nine digits, or nil when unknown.
    public var ssn: String?
    public var address: ScenarioAddress?
    public var employer: ScenarioEmployer?

    public init(
        partyId: String, firstName: String, lastName: String, dateOfBirth: ScenarioDate? = nil, ssn: String? = nil,
        address: ScenarioAddress? = nil, employer: ScenarioEmployer? = nil
    ) {
        self.partyId = partyId
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.ssn = ssn
        self.address = address
        self.employer = employer
    }

    /// The custodial party of `caseId` as the builder defaults it: party id `<caseId>-CP`.
    public static func sampleCustodial(caseId: String) -> ScenarioParty {
        ScenarioParty(
            partyId: custodialPartyId(caseId: caseId), firstName: "Latoya", lastName: "Simmons", dateOfBirth: "1991-04-17",
            ssn: "912450318", address: ScenarioAddress(line1: "2207 Beatties Ford Rd", city: "Charlotte", state: "NC", postalCode: "28216"))
    }

    /// The noncustodial party of `caseId` as the builder defaults it: party id `<caseId>-NCP`,
    /// known address, SSN and employer unless given as nil.
    public static func sampleNoncustodial(
        caseId: String, ssn: String? = "934127765", address: ScenarioAddress? = .sample, employer: ScenarioEmployer? = nil
    ) -> ScenarioParty {
        ScenarioParty(
            partyId: noncustodialPartyId(caseId: caseId), firstName: "Marcus", lastName: "Whitfield", dateOfBirth: "1988-09-02",
            ssn: ssn, address: address, employer: employer)
    }

    public static func custodialPartyId(caseId: String) -> String { caseId + "-CP" }
    public static func noncustodialPartyId(caseId: String) -> String { caseId + "-NCP" }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("partyId", partyId)
        w.field("firstName", firstName)
        w.field("lastName", lastName)
        w.optionalField("dateOfBirth", dateOfBirth)
        w.optionalField("ssn", ssn)
        if let address {
            w.key("address")
            address.write(to: &w)
        }
        if let employer {
            w.key("employer")
            employer.write(to: &w)
        }
        w.endObject()
    }
}

public struct ScenarioChild: Sendable, Hashable {
    public var childId: String
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: ScenarioDate
    public var paternityEstablished: Bool

    public init(childId: String, firstName: String, lastName: String, dateOfBirth: ScenarioDate, paternityEstablished: Bool) {
        self.childId = childId
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.paternityEstablished = paternityEstablished
    }

    /// Child id `<caseId>-C<number>`.
    public static func sample(caseId: String, number: Int = 1, paternityEstablished: Bool = true, dateOfBirth: ScenarioDate = "2017-06-21") -> ScenarioChild {
        ScenarioChild(
            childId: childId(caseId: caseId, number: number), firstName: number == 1 ? "Jaylen" : "Amara", lastName: "Whitfield",
            dateOfBirth: dateOfBirth, paternityEstablished: paternityEstablished)
    }

    public static func childId(caseId: String, number: Int) -> String { "\(caseId)-C\(number)" }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.field("childId", childId)
        w.field("firstName", firstName)
        w.field("lastName", lastName)
        w.field("dateOfBirth", dateOfBirth)
        w.field("paternityEstablished", paternityEstablished)
        w.endObject()
    }
}

/// The data of `court.order-established`, also an application's `existingOrder`.
public struct ScenarioOrderTerms: Sendable, Hashable {
    public var orderId: String
    public var docketNumber: String
    public var monthlySupportCents: Int64
    public var monthlyArrearsPaymentCents: Int64?
    public var medicalSupportOrdered: Bool
    public var effectiveOn: ScenarioDate
    public var judgmentArrearsCents: Int64?

    public init(
        orderId: String, docketNumber: String = "26CVD004213", monthlySupportCents: Int64 = 45_000,
        monthlyArrearsPaymentCents: Int64? = nil, medicalSupportOrdered: Bool = false, effectiveOn: ScenarioDate = "2026-02-01",
        judgmentArrearsCents: Int64? = nil
    ) {
        self.orderId = orderId
        self.docketNumber = docketNumber
        self.monthlySupportCents = monthlySupportCents
        self.monthlyArrearsPaymentCents = monthlyArrearsPaymentCents
        self.medicalSupportOrdered = medicalSupportOrdered
        self.effectiveOn = effectiveOn
        self.judgmentArrearsCents = judgmentArrearsCents
    }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        writeMembers(to: &w)
        w.endObject()
    }

    func writeMembers(to w: inout JSONWriter) {
        w.field("orderId", orderId)
        w.field("docketNumber", docketNumber)
        w.field("monthlySupportCents", monthlySupportCents)
        w.optionalField("monthlyArrearsPaymentCents", monthlyArrearsPaymentCents)
        w.field("medicalSupportOrdered", medicalSupportOrdered)
        w.field("effectiveOn", effectiveOn)
        w.optionalField("judgmentArrearsCents", judgmentArrearsCents)
    }
}

/// One case's share of a withholding remittance.
public struct ScenarioPayment: Sendable, Hashable {
    public var caseId: String
    public var amountCents: Int64

    public init(caseId: String, amountCents: Int64) {
        self.caseId = caseId
        self.amountCents = amountCents
    }
}

extension ScenarioEvents {
    public enum Program: String, CaseIterable, Sendable {
        case tanf = "TANF", nonTANF = "NON_TANF", medicaid = "MEDICAID", fosterCare = "FOSTER_CARE", interstate = "INTERSTATE"
    }

    public enum HearingType: String, CaseIterable, Sendable {
        case establishment = "ESTABLISHMENT", enforcement = "ENFORCEMENT", contempt = "CONTEMPT", modification = "MODIFICATION"
    }

    public enum PaternityMethod: String, CaseIterable, Sendable {
        case acknowledgment = "ACKNOWLEDGMENT", geneticTest = "GENETIC_TEST", adjudication = "ADJUDICATION"
    }

    public enum OrderTerminationReason: String, CaseIterable, Sendable {
        case emancipation = "EMANCIPATION", vacated = "VACATED", other = "OTHER"
    }

    public enum IWOStatus: String, CaseIterable, Sendable {
        case accepted = "ACCEPTED", notEmployed = "NOT_EMPLOYED"
    }

    public enum MedicalCoverage: String, CaseIterable, Sendable {
        case enrolled = "ENROLLED", notAvailable = "NOT_AVAILABLE"
    }

    public enum CollectionSource: String, CaseIterable, Sendable {
        case directPayment = "DIRECT_PAYMENT", federalTaxOffset = "FEDERAL_TAX_OFFSET", stateTaxOffset = "STATE_TAX_OFFSET"
        case unemploymentBenefits = "UNEMPLOYMENT_BENEFITS", financialInstitutionLevy = "FINANCIAL_INSTITUTION_LEVY"
        case interstate = "INTERSTATE", other = "OTHER"
    }

    public enum ReversalReason: String, CaseIterable, Sendable {
        case nsf = "NSF", injuredSpouse = "INJURED_SPOUSE", offsetAdjusted = "OFFSET_ADJUSTED", postingError = "POSTING_ERROR"
    }

    public enum AdjustmentReason: String, CaseIterable, Sendable {
        case audit = "AUDIT", courtOrdered = "COURT_ORDERED", retroactiveModification = "RETROACTIVE_MODIFICATION", writeOff = "WRITE_OFF"
    }

    public enum DisbursementReturnReason: String, CaseIterable, Sendable {
        case undeliverable = "UNDELIVERABLE", uncashed = "UNCASHED", accountClosed = "ACCOUNT_CLOSED"
    }

    public enum AccountKind: String, CaseIterable, Sendable {
        case checking = "CHECKING", savings = "SAVINGS", moneyMarket = "MONEY_MARKET", other = "OTHER"
    }

    public enum Requester: String, CaseIterable, Sendable {
        case custodialParty = "CUSTODIAL_PARTY", noncustodialParty = "NONCUSTODIAL_PARTY", agency = "AGENCY"
    }

    /// The remedies a parent may contest, by their task type.
    public enum Remedy: String, CaseIterable, Sendable {
        case taxOffsetReferral = "tax-offset-referral", passportDenial = "passport-denial", creditBureauReport = "credit-bureau-report"
        case licenseSuspension = "license-suspension", financialLevy = "financial-levy"
    }

    public enum ContestOutcome: String, CaseIterable, Sendable {
        case upheld = "UPHELD", overturned = "OVERTURNED"
    }
}
