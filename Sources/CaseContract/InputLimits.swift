import CaseDomain
import Foundation

/// The bounds every input value must lie within, so nothing a producer sends
/// can overflow arithmetic, exceed an index or a lock table, or be stored in a
/// form that does not read back. schemas/events/common.json states the same
/// bounds; SchemaAgreementTests holds the two together. An agency lowers the
/// amount caps in its policy (`Policy.amountCaps`), never raises them past these.
public enum InputLimits {
    /// Dates and timestamps (their UTC day) lie in 1900-01-01...2199-12-31:
    /// wide enough for any birth date and any order's horizon, narrow enough
    /// that every date computed from them keeps four year digits.
    public static let earliestDate = LocalDate(year: 1900, month: 1, day: 1)!
    public static let latestDate = LocalDate(year: 2199, month: 12, day: 31)!
    public static var dates: ClosedRange<LocalDate> { earliestDate...latestDate }
    public static let earliestInstant = Date(timeIntervalSince1970: Double(earliestDate.daysSinceEpoch) * 86_400)
    /// The first instant after `latestDate` (exclusive).
    public static let instantAfterLatest = Date(timeIntervalSince1970: Double(latestDate.daysSinceEpoch + 1) * 86_400)

    /// Any one amount: $1 billion. Sums of a bounded number of such amounts
    /// and centuries of monthly accruals stay far below 2^63 cents.
    public static let maximumCents: Cents = 100_000_000_000

    /// Case, party, child, order, hearing ids, docket numbers, sources: 100
    /// characters (a 4 KB case id exceeded PostgreSQL's index entry size).
    public static let identifierLength = 100
    /// Names, address lines, cities, court names: one line of 200 characters.
    public static let textLength = 200
    /// Free text (a closure reason): 2,000 characters; line breaks and tabs allowed.
    public static let freeTextLength = 2_000

    /// Payments in one remittance: one lock per case named, so a remittance
    /// naming ~20,000 cases exhausted the lock table.
    public static let maximumPayments = 1_000
    /// Children on one application.
    public static let maximumChildren = 50
}

/// What a string field holds, which decides its length limit and whether it
/// may break lines. Control characters (C0, DEL, C1) are refused everywhere:
/// PostgreSQL's text cannot store NUL, and terminals and logs obey the rest.
enum TextKind {
    case identifier
    case text
    case freeText

    var maximumLength: Int {
        switch self {
        case .identifier: InputLimits.identifierLength
        case .text: InputLimits.textLength
        case .freeText: InputLimits.freeTextLength
        }
    }

    /// The rule a refusal names, never the value.
    var rule: String {
        switch self {
        case .identifier, .text:
            "must be at most \(maximumLength) characters without control characters or line breaks"
        case .freeText:
            "must be at most \(maximumLength) characters without control characters other than line breaks and tabs"
        }
    }

    func accepts(_ text: String) -> Bool {
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if count > maximumLength { return false }
            let v = scalar.value
            if v < 0x20 {
                guard self == .freeText, v == 0x0A || v == 0x0D || v == 0x09 else { return false }
            } else if v >= 0x7F && v <= 0x9F {
                return false
            }
        }
        return true
    }
}

extension InputLimits {
    /// The checks on a decoded event that need the agency's policy or the time
    /// it was reported (the broker's timestamp): amounts over the policy's caps,
    /// and an `occurredAt` later than the report by more than the tolerance.
    /// A `schema-violation` naming the field, or nil.
    public static func violation(in event: Event, policy: Policy, reportedAt: Date) -> EventDecodingError? {
        let latest = reportedAt.addingTimeInterval(Double(policy.futureToleranceHours) * 3600)
        if event.occurredAt > latest {
            return FieldReader.violation(
                at: .key(.root, "occurredAt"), "lies more than \(policy.futureToleranceHours) hours after the event was reported")
        }
        let caps = policy.amountCaps
        for (field, cents, cap) in amounts(of: event.payload, caps) where cents > cap {
            return FieldReader.violation(at: field, "exceeds the agency's cap of \(cap) cents for this amount")
        }
        return nil
    }

    /// Every amount an event carries, with where it sits and its cap.
    private static func amounts(of payload: EventPayload, _ caps: AmountCaps) -> [(FieldPath, Cents, Cents)] {
        let data = FieldPath.key(.root, "data")
        func terms(_ base: FieldPath, _ monthly: Cents, _ arrears: Cents?, _ judgment: Cents?) -> [(FieldPath, Cents, Cents)] {
            var found = [(base.appending("monthlySupportCents"), monthly, caps.monthlyCents)]
            if let arrears { found.append((base.appending("monthlyArrearsPaymentCents"), arrears, caps.monthlyCents)) }
            if let judgment { found.append((base.appending("judgmentArrearsCents"), judgment, caps.judgmentCents)) }
            return found
        }
        switch payload {
        case .intakeApplication(let application):
            guard let order = application.existingOrder else { return [] }
            return terms(data.appending("existingOrder"), order.monthlySupportCents, order.monthlyArrearsPaymentCents, order.judgmentArrearsCents)
        case .orderEstablished(let order):
            return terms(data, order.monthlySupportCents, order.monthlyArrearsPaymentCents, order.judgmentArrearsCents)
        case .orderModified(let modification):
            return terms(data, modification.monthlySupportCents, modification.monthlyArrearsPaymentCents, nil)
        case .quarterlyWage(let wage):
            return [(data.appending("wagesCents"), wage.wagesCents, caps.wagesCents)]
        case .withholdingRemittance(let remittance):
            let payments = data.appending("payments")
            return remittance.payments.enumerated().map { (.index(payments, $0.offset).appending("amountCents"), $0.element.amountCents, caps.paymentCents) }
        case .contemptFinding(let finding):
            return [(data.appending("purgeAmountCents"), finding.purgeAmountCents, caps.judgmentCents)]
        case .collectionReceived(let collection):
            return [(data.appending("amountCents"), collection.amountCents, caps.paymentCents)]
        case .collectionReversed(let reversal):
            return reversal.amountCents.map { [(data.appending("amountCents"), $0, caps.paymentCents)] } ?? []
        case .accountAdjusted(let adjustment):
            // Either way: a credit as large as a debit is as much a keying error.
            return [(data.appending("amountCents"), adjustment.amountCents.magnitude > UInt64(Cents.max) ? .max : abs(adjustment.amountCents), caps.judgmentCents)]
        case .paymentAgreement(let agreement):
            return [(data.appending("monthlyCents"), agreement.monthlyCents, caps.monthlyCents)]
        case .unemploymentClaim(let claim):
            return [(data.appending("weeklyBenefitCents"), claim.weeklyBenefitCents, caps.monthlyCents)]
        case .reviewRequested, .closureResponse, .remedyContested, .contestDecided:
            return []
        case .partyUpdate, .closureRequest, .newHire, .termination, .iwoResponse, .orderTerminated, .paternityEstablished,
            .paternityExcluded, .hearingScheduled, .serviceCompleted, .serviceFailed, .disbursementReturned, .financialAccountMatch:
            return []
        }
    }
}
