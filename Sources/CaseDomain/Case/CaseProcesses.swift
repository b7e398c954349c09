import Foundation

/// The processes a case is in the middle of (domain.md "Processes (v1.1)"):
/// notices awaiting their date, contests, a payment agreement, a review of
/// the order, a referral to another state. Each waits on a date or an
/// answer; the rules move them on as business time passes.
public struct CaseProcesses: Sendable, Hashable, Codable {
    /// Notices of intent to enforce whose remedy is not yet taken (or was
    /// dropped by a contest until the facts change), sorted by target.
    public var remedyNotices: [RemedyNotice] = []
    /// A payment agreement being kept.
    public var agreement: PaymentAgreement?
    /// A requested review and adjustment of the order not yet finished.
    public var review: OrderReviewRequest?
    /// The day the last review-rights notice counted from (an anniversary of
    /// the order's terms, or the day an incarceration was learned of).
    public var reviewRightsNoticedOn: LocalDate?
    /// The release date of the incarceration the parents were told of: the
    /// same fact again sends nothing.
    public var incarcerationNoticedUntil: LocalDate?
    /// The referral to another state in force.
    public var intergovernmental: IntergovernmentalCase?

    public init() {}

    public var isEmpty: Bool { self == CaseProcesses() }

    public func notice(target: String) -> RemedyNotice? { remedyNotices.first { $0.target == target } }
}

/// A notice of intent to enforce (ENFORCEMENT_INTENT) and where its remedy stands.
public struct RemedyNotice: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        /// Waiting for `contestBy` to pass.
        case awaiting = "AWAITING"
        /// Contested: held until decided.
        case contested = "CONTESTED"
        /// Overturned: dropped until the facts change (arrears fall under the threshold).
        case overturned = "OVERTURNED"
    }

    public var remedy: TaskType
    public var noticedOn: LocalDate
    public var contestBy: LocalDate
    public var pastDueCents: Cents
    public var thresholdCents: Cents
    public var status: Status
    /// When it was contested or the contest decided.
    public var statusOn: LocalDate?
    /// A levy's account (financial institution data match).
    public var account: LevyAccount?

    public init(remedy: TaskType, noticedOn: LocalDate, contestBy: LocalDate, pastDueCents: Cents, thresholdCents: Cents,
                status: Status = .awaiting, statusOn: LocalDate? = nil, account: LevyAccount? = nil) {
        self.remedy = remedy
        self.noticedOn = noticedOn
        self.contestBy = contestBy
        self.pastDueCents = pastDueCents
        self.thresholdCents = thresholdCents
        self.status = status
        self.statusOn = statusOn
        self.account = account
    }

    /// The notice's task target, and the key of the remedy it announces.
    public var target: String { Self.target(remedy, account: account) }

    /// The target of the notice announcing `remedy` (on `account`, for a levy).
    public static func target(_ remedy: TaskType, account: LevyAccount? = nil) -> String {
        if let account { "enforcement-intent:\(remedy.rawValue):\(account.institution.fein.digits):\(account.accountKind.rawValue)" }
        else { "enforcement-intent:\(remedy.rawValue)" }
    }
}

/// The account a levy would seize from.
public struct LevyAccount: Sendable, Hashable, Codable {
    public var institution: EmployerRef
    public var accountKind: AccountKind
    public var balanceCents: Cents
    public var matchedOn: LocalDate

    public init(institution: EmployerRef, accountKind: AccountKind, balanceCents: Cents, matchedOn: LocalDate) {
        self.institution = institution
        self.accountKind = accountKind
        self.balanceCents = balanceCents
        self.matchedOn = matchedOn
    }

    /// The financial-levy task's target.
    public var levyTarget: String { "account:\(institution.fein.digits):\(accountKind.rawValue)" }
}

/// A payment agreement: `monthlyCents` every month from `firstDueOn`'s month.
public struct PaymentAgreement: Sendable, Hashable, Codable {
    public var agreementId: String
    public var monthlyCents: Cents
    public var firstDueOn: LocalDate
    public var signedOn: LocalDate
    /// The last day of the last month found paid as agreed.
    public var keptThrough: LocalDate?

    public init(agreementId: String, monthlyCents: Cents, firstDueOn: LocalDate, signedOn: LocalDate, keptThrough: LocalDate? = nil) {
        self.agreementId = agreementId
        self.monthlyCents = monthlyCents
        self.firstDueOn = firstDueOn
        self.signedOn = signedOn
        self.keptThrough = keptThrough
    }
}

/// A review and adjustment of the order someone asked for (45 CFR 303.8).
public struct OrderReviewRequest: Sendable, Hashable, Codable {
    public var requestedBy: Requester
    public var requestedOn: LocalDate
    /// The request, or the day the other parent was located if later.
    public var countedFrom: LocalDate
    public var dueOn: LocalDate
    /// False while the parent the review needs is not located: locating him moves `countedFrom`.
    public var otherParentLocated: Bool

    public init(requestedBy: Requester, requestedOn: LocalDate, countedFrom: LocalDate, dueOn: LocalDate, otherParentLocated: Bool) {
        self.requestedBy = requestedBy
        self.requestedOn = requestedOn
        self.countedFrom = countedFrom
        self.dueOn = dueOn
        self.otherParentLocated = otherParentLocated
    }
}

/// A referral to another state (45 CFR 303.7) that went out and was not withdrawn.
public struct IntergovernmentalCase: Sendable, Hashable, Codable {
    public var toState: USState
    public var needs: [IntergovernmentalNeed]
    public var locatedOn: LocalDate
    public var dueBy: LocalDate

    public init(toState: USState, needs: [IntergovernmentalNeed], locatedOn: LocalDate, dueBy: LocalDate) {
        self.toState = toState
        self.needs = needs
        self.locatedOn = locatedOn
        self.dueBy = dueBy
    }

    public var target: String { "state:\(toState.code)" }
}
