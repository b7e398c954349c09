/// The kinds of follow-up work the service publishes, one Kafka topic each.
/// Raw values are the contract's `<type>` names.
public enum TaskType: String, CaseIterable, Codable, Sendable, Hashable, Comparable {
    case incomeWithholding = "income-withholding"
    case medicalSupportNotice = "medical-support-notice"
    case taxOffsetReferral = "tax-offset-referral"
    case passportDenial = "passport-denial"
    case licenseSuspension = "license-suspension"
    case creditBureauReport = "credit-bureau-report"
    case locate = "locate"
    case geneticTesting = "genetic-testing"
    case courtPreparation = "court-preparation"
    case disbursement = "disbursement"
    case caseReview = "case-review"
    case financialLevy = "financial-levy"
    case partyNotice = "party-notice"
    case intergovernmentalReferral = "intergovernmental-referral"

    /// The four arrears-driven enforcement referrals, evaluated on every change of arrears.
    public static let arrearsReferrals: [TaskType] = [
        .taxOffsetReferral, .passportDenial, .creditBureauReport, .licenseSuspension,
    ]

    /// The remedies a parent may contest (`intake.remedy-contested`).
    public static let remedies: [TaskType] = arrearsReferrals + [.financialLevy]

    /// The law a remedy is taken under.
    public var legalBasis: String {
        switch self {
        case .taxOffsetReferral: "42 USC 664; 45 CFR 303.72"
        case .passportDenial: "42 USC 652(k); 45 CFR 303.6"
        case .creditBureauReport: "42 USC 666(a)(7); 45 CFR 303.6"
        case .licenseSuspension: "42 USC 666(a)(16); 45 CFR 303.6"
        case .financialLevy: "42 USC 666(a)(17)"
        default: "45 CFR 303.6"
        }
    }

    /// The remedy as a caseworker says it ("tax offset").
    public var remedyName: String {
        switch self {
        case .taxOffsetReferral: "tax offset"
        case .passportDenial: "passport denial"
        case .creditBureauReport: "credit bureau report"
        case .licenseSuspension: "license suspension"
        case .financialLevy: "financial levy"
        default: rawValue
        }
    }

    public static func < (lhs: TaskType, rhs: TaskType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Whether a task starts work (`ISSUE`) or undoes an earlier task of the same
/// type and target (`WITHDRAW`: withholding ends, arrears fell under a threshold).
public enum TaskAction: String, Codable, Sendable, Hashable, Comparable {
    case issue = "ISSUE"
    case withdraw = "WITHDRAW"

    public static func < (lhs: TaskAction, rhs: TaskAction) -> Bool { lhs.rawValue < rhs.rawValue }
}
