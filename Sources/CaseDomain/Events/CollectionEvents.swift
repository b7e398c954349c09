import Foundation

/// Payloads of `cse.collections.v1` (contract v1.1): money from every source
/// besides an employer's remittance, and the account's corrections.

/// Where a collection came from. Employer withholding arrives as remittances
/// (`employer.withholding-remittance`); the rest on `cse.collections.v1`.
public enum CollectionSource: String, CaseIterable, Sendable, Hashable, Codable {
    case employerWithholding = "EMPLOYER_WITHHOLDING"
    case directPayment = "DIRECT_PAYMENT"
    case federalTaxOffset = "FEDERAL_TAX_OFFSET"
    case stateTaxOffset = "STATE_TAX_OFFSET"
    case unemploymentBenefits = "UNEMPLOYMENT_BENEFITS"
    case financialInstitutionLevy = "FINANCIAL_INSTITUTION_LEVY"
    case interstate = "INTERSTATE"
    case other = "OTHER"
    /// Not money: a negative `account.adjusted` (an audit's credit, a
    /// write-off) applied to what is owed the way a payment is.
    case accountCredit = "ACCOUNT_CREDIT"

    /// The sources `collection.received` may name.
    public static let received: [CollectionSource] = allCases.filter { $0 != .employerWithholding && $0 != .accountCredit }

    /// Tax refund offsets pay past-due support only, never current support
    /// (42 USC 664; 45 CFR 303.72, 303.102).
    public var paysPastDueOnly: Bool { self == .federalTaxOffset || self == .stateTaxOffset }
}

/// `collection.received`.
public struct CollectionReceived: Sendable, Hashable {
    /// Unique per collection: a second event with the same id is the same money.
    public var collectionId: String
    public var source: CollectionSource
    public var amountCents: Cents
    public var receivedOn: LocalDate
    /// Tax offsets only: a joint return, which may be held for an injured-spouse claim.
    public var jointReturn: Bool
    public var taxYear: Int?

    public init(collectionId: String, source: CollectionSource, amountCents: Cents, receivedOn: LocalDate, jointReturn: Bool = false, taxYear: Int? = nil) {
        self.collectionId = collectionId
        self.source = source
        self.amountCents = amountCents
        self.receivedOn = receivedOn
        self.jointReturn = jointReturn
        self.taxYear = taxYear
    }
}

public enum ReversalReason: String, CaseIterable, Sendable, Hashable, Codable {
    case nsf = "NSF"
    case injuredSpouse = "INJURED_SPOUSE"
    case offsetAdjusted = "OFFSET_ADJUSTED"
    case postingError = "POSTING_ERROR"
}

/// `collection.reversed`: a check returned unpaid, an injured-spouse refund.
public struct CollectionReversed: Sendable, Hashable {
    public var collectionId: String
    public var reversedOn: LocalDate
    public var reason: ReversalReason
    /// Part of the collection; nil reverses what is left of it.
    public var amountCents: Cents?

    public init(collectionId: String, reversedOn: LocalDate, reason: ReversalReason, amountCents: Cents? = nil) {
        self.collectionId = collectionId
        self.reversedOn = reversedOn
        self.reason = reason
        self.amountCents = amountCents
    }
}

public enum AdjustmentReason: String, CaseIterable, Sendable, Hashable, Codable {
    case audit = "AUDIT"
    case courtOrdered = "COURT_ORDERED"
    case retroactiveModification = "RETROACTIVE_MODIFICATION"
    case writeOff = "WRITE_OFF"
}

/// `account.adjusted`: positive adds to what is owed, negative credits it.
public struct AccountAdjusted: Sendable, Hashable {
    public var adjustmentId: String
    public var amountCents: Cents
    public var effectiveOn: LocalDate
    public var reason: AdjustmentReason
    public var orderId: String?

    public init(adjustmentId: String, amountCents: Cents, effectiveOn: LocalDate, reason: AdjustmentReason, orderId: String? = nil) {
        self.adjustmentId = adjustmentId
        self.amountCents = amountCents
        self.effectiveOn = effectiveOn
        self.reason = reason
        self.orderId = orderId
    }
}

public enum DisbursementReturnReason: String, CaseIterable, Sendable, Hashable, Codable {
    case undeliverable = "UNDELIVERABLE"
    case uncashed = "UNCASHED"
    case accountClosed = "ACCOUNT_CLOSED"
}

/// `disbursement.returned`: the family's payment came back.
public struct DisbursementReturned: Sendable, Hashable {
    /// The `disbursement` task's id.
    public var disbursementTaskId: UUID
    public var returnedOn: LocalDate
    public var reason: DisbursementReturnReason

    public init(disbursementTaskId: UUID, returnedOn: LocalDate, reason: DisbursementReturnReason) {
        self.disbursementTaskId = disbursementTaskId
        self.returnedOn = returnedOn
        self.reason = reason
    }
}

/// Payloads of `cse.data-matches.v1`: matches other agencies run, keyed by
/// the reporting institution's FEIN; they name a person (by SSN), not a case.

/// `match.unemployment-claim`: the State Workforce Agency's claim record.
public struct UnemploymentClaim: Sendable, Hashable {
    public var claimant: Employee
    /// The State Workforce Agency (named in full).
    public var agency: EmployerRef
    public var claimFiledOn: LocalDate
    public var weeklyBenefitCents: Cents
    public var receivedOn: LocalDate

    public init(claimant: Employee, agency: EmployerRef, claimFiledOn: LocalDate, weeklyBenefitCents: Cents, receivedOn: LocalDate) {
        self.claimant = claimant
        self.agency = agency
        self.claimFiledOn = claimFiledOn
        self.weeklyBenefitCents = weeklyBenefitCents
        self.receivedOn = receivedOn
    }
}

public enum AccountKind: String, CaseIterable, Sendable, Hashable, Codable {
    case checking = "CHECKING"
    case savings = "SAVINGS"
    case moneyMarket = "MONEY_MARKET"
    case other = "OTHER"
}

/// `match.financial-account`: a financial institution data match (42 USC 666(a)(17)).
public struct FinancialAccountMatch: Sendable, Hashable {
    public var accountHolder: Employee
    public var institution: EmployerRef
    public var accountKind: AccountKind
    public var balanceCents: Cents
    public var matchedOn: LocalDate

    public init(accountHolder: Employee, institution: EmployerRef, accountKind: AccountKind, balanceCents: Cents, matchedOn: LocalDate) {
        self.accountHolder = accountHolder
        self.institution = institution
        self.accountKind = accountKind
        self.balanceCents = balanceCents
        self.matchedOn = matchedOn
    }
}
