import Foundation

/// Payloads of `cse.court-outcomes.v1`.

/// The terms of a support order: `court.order-established`, and an intake's `existingOrder`.
public struct OrderTerms: Sendable, Hashable {
    public var orderId: String
    public var docketNumber: String
    public var monthlySupportCents: Cents
    public var monthlyArrearsPaymentCents: Cents?
    public var medicalSupportOrdered: Bool
    public var effectiveOn: LocalDate
    /// Arrears the court reduced to judgment when it entered the order.
    public var judgmentArrearsCents: Cents?

    public init(
        orderId: String, docketNumber: String, monthlySupportCents: Cents, monthlyArrearsPaymentCents: Cents? = nil,
        medicalSupportOrdered: Bool, effectiveOn: LocalDate, judgmentArrearsCents: Cents? = nil
    ) {
        self.orderId = orderId
        self.docketNumber = docketNumber
        self.monthlySupportCents = monthlySupportCents
        self.monthlyArrearsPaymentCents = monthlyArrearsPaymentCents
        self.medicalSupportOrdered = medicalSupportOrdered
        self.effectiveOn = effectiveOn
        self.judgmentArrearsCents = judgmentArrearsCents
    }
}

/// `court.order-modified`: new terms from `effectiveOn`.
public struct OrderModification: Sendable, Hashable {
    public var orderId: String
    public var monthlySupportCents: Cents
    public var effectiveOn: LocalDate
    public var monthlyArrearsPaymentCents: Cents?
    public var medicalSupportOrdered: Bool

    public init(
        orderId: String, monthlySupportCents: Cents, effectiveOn: LocalDate, monthlyArrearsPaymentCents: Cents? = nil,
        medicalSupportOrdered: Bool
    ) {
        self.orderId = orderId
        self.monthlySupportCents = monthlySupportCents
        self.effectiveOn = effectiveOn
        self.monthlyArrearsPaymentCents = monthlyArrearsPaymentCents
        self.medicalSupportOrdered = medicalSupportOrdered
    }
}

public enum OrderTerminationReason: String, CaseIterable, Sendable, Hashable {
    case emancipation = "EMANCIPATION"
    case vacated = "VACATED"
    case other = "OTHER"
}

/// `court.order-terminated`: current support stops accruing after `terminatedOn`.
public struct OrderTermination: Sendable, Hashable {
    public var orderId: String
    public var terminatedOn: LocalDate
    public var reason: OrderTerminationReason

    public init(orderId: String, terminatedOn: LocalDate, reason: OrderTerminationReason) {
        self.orderId = orderId
        self.terminatedOn = terminatedOn
        self.reason = reason
    }
}

public enum PaternityMethod: String, CaseIterable, Sendable, Hashable {
    case acknowledgment = "ACKNOWLEDGMENT"
    case geneticTest = "GENETIC_TEST"
    case adjudication = "ADJUDICATION"
}

/// `court.paternity-established`.
public struct PaternityEstablished: Sendable, Hashable {
    public var childId: String
    public var method: PaternityMethod

    public init(childId: String, method: PaternityMethod) {
        self.childId = childId
        self.method = method
    }
}

/// `court.paternity-excluded`: the alleged father is not the child's father.
public struct PaternityExcluded: Sendable, Hashable {
    public var childId: String

    public init(childId: String) { self.childId = childId }
}

public enum HearingType: String, CaseIterable, Sendable, Hashable {
    case establishment = "ESTABLISHMENT"
    case enforcement = "ENFORCEMENT"
    case contempt = "CONTEMPT"
    case modification = "MODIFICATION"
}

/// `court.hearing-scheduled`.
public struct HearingScheduled: Sendable, Hashable {
    public var hearingId: String
    public var hearingType: HearingType
    public var scheduledFor: Date
    public var courtName: String

    public init(hearingId: String, hearingType: HearingType, scheduledFor: Date, courtName: String) {
        self.hearingId = hearingId
        self.hearingType = hearingType
        self.scheduledFor = scheduledFor
        self.courtName = courtName
    }
}

/// `court.service-completed` and `court.service-failed`: an attempt to serve process on a party.
public struct ServiceOfProcess: Sendable, Hashable {
    public var partyId: String
    public var attemptedOn: LocalDate

    public init(partyId: String, attemptedOn: LocalDate) {
        self.partyId = partyId
        self.attemptedOn = attemptedOn
    }
}

/// `court.contempt-finding`: the obligor must pay the purge amount by the due date.
public struct ContemptFinding: Sendable, Hashable {
    public var purgeAmountCents: Cents
    public var complianceDueOn: LocalDate

    public init(purgeAmountCents: Cents, complianceDueOn: LocalDate) {
        self.purgeAmountCents = purgeAmountCents
        self.complianceDueOn = complianceDueOn
    }
}
