/// Every threshold and timeframe the rules apply. The defaults are the federal
/// figures (45 CFR parts 302-303, 42 USC 652-666, 15 USC 1673); a state
/// configures its own where federal law leaves it to the state.
public struct Policy: Sendable, Hashable {
    // MARK: Timeframes, calendar days

    /// Open a case within this many days of the application or referral (45 CFR 303.2(b)).
    public var openCaseDays: Int = 20
    /// Attempt to locate within this many days of finding location is needed (45 CFR 303.3(b)(3)).
    public var locateDays: Int = 75
    /// Establish an order (or complete service) within this many days of locating (45 CFR 303.4(d)).
    public var establishmentDays: Int = 90
    /// Take enforcement action within this many days of a delinquency (45 CFR 303.6(c)(2)).
    public var enforcementDays: Int = 30
    /// ...or this many when service of process is needed first.
    public var enforcementDaysWithService: Int = 60
    /// The referral types that, in this state, need service of process on the
    /// obligor before they can be taken (they get `enforcementDaysWithService`).
    /// Federal law needs none for the administrative referrals, so none by default.
    public var referralsNeedingService: Set<TaskType> = []
    /// Review (and adjust) orders in assistance cases every this many months (45 CFR 303.8).
    public var orderReviewMonths: Int = 36
    /// Notice to the family before closing a case (45 CFR 303.11).
    public var closureNoticeDays: Int = 60
    /// A requested review of the order is finished within this many days of the
    /// request, or of locating the other parent if later (45 CFR 303.8(e)).
    public var reviewDays: Int = 180
    /// A parent incarcerated for more than this many days is told of the right
    /// to a review (45 CFR 303.8(b)(7)(ii)).
    public var incarcerationReviewMinimumDays: Int = 180
    /// Refer the case to the state the parent was located in within this many
    /// days of locating him there (45 CFR 303.7(c)(2)).
    public var intergovernmentalReferralDays: Int = 20
    /// Days the parent has to contest a remedy after its notice, per remedy:
    /// no entry (or 0) means no notice period of the agency's own (the federal
    /// tax offset and passport certifications carry their own pre-offset notice).
    public var contestDays: [TaskType: Int] = [.creditBureauReport: 30, .licenseSuspension: 30, .financialLevy: 30]

    // MARK: Timeframes, business days

    /// Income withholding notice after new-hire or other employment information (42 USC 653a(g)(1)).
    public var withholdingNoticeBusinessDays: Int = 2
    /// National Medical Support Notice when the order includes health coverage (45 CFR 303.32).
    public var medicalSupportNoticeBusinessDays: Int = 2
    /// Employers remit withheld amounts within this many business days of payday (42 USC 666(b)(6)).
    public var employerRemitBusinessDays: Int = 7
    /// Distribute collections within this many business days of receipt (45 CFR 302.32).
    public var distributionBusinessDays: Int = 2
    /// A federal offset from a joint return may be held this many days for an
    /// injured-spouse claim (45 CFR 303.72); its disbursement is due when the hold ends.
    public var jointReturnHoldDays: Int = 180
    /// A payer that accepted an income withholding order and has remitted nothing
    /// this many calendar days later gets a caseworker review.
    public var remittanceExpectedDays: Int = 45
    /// A written notice to a parent (intent to enforce, to close, review rights) goes out within this many business days.
    public var noticeBusinessDays: Int = 2
    /// Both parents are told of the right to a review within this many business
    /// days of learning a parent is incarcerated (45 CFR 303.8(b)(7)(ii)).
    public var incarcerationNoticeBusinessDays: Int = 15
    /// Court preparation is due this many business days before a hearing.
    public var courtPreparationBusinessDaysBeforeHearing: Int = 10

    // MARK: Enforcement thresholds, cents

    /// Federal tax refund offset in assistance cases: arrears >= $150 (45 CFR 303.72).
    public var taxOffsetAssistanceThresholdCents: Cents = 15_000
    /// ...and in non-assistance cases: arrears >= $500.
    public var taxOffsetNonAssistanceThresholdCents: Cents = 50_000
    /// Passport denial: arrears strictly greater than $2,500 (42 USC 652(k)).
    public var passportDenialThresholdCents: Cents = 250_000
    /// Credit bureau reporting: arrears >= $1,000 (state threshold, 42 USC 666(a)(7)).
    public var creditBureauThresholdCents: Cents = 100_000
    /// License suspension: arrears >= this many months of current support (42 USC 666(a)(16)).
    public var licenseSuspensionMonthsOfSupport: Int = 3
    /// Financial institution data match: levy when past-due support is at least this ($1,000).
    public var levyThresholdCents: Cents = 100_000
    /// Closure criterion: no current order and arrears under $500 (45 CFR 303.11(b)(1)).
    public var closureArrearsThresholdCents: Cents = 50_000

    // MARK: Withholding limit (CCPA, 15 USC 1673(b))

    /// The case holds no fact about whether the obligor supports another spouse
    /// or child, so the agency sets the assumption here.
    public var obligorSupportsAnotherFamily: Bool = false
    public var ccpaLimitPercentSupportingAnotherFamily: Int = 50
    public var ccpaLimitPercentOtherwise: Int = 60
    /// Added when the oldest unpaid support is older than `ccpaArrearsAgeWeeks`.
    public var ccpaArrearsSurchargePercent: Int = 5
    public var ccpaArrearsAgeWeeks: Int = 12
    /// Withholding from unemployment benefits: at most this share of the weekly benefit (42 USC 654(19)).
    public var unemploymentWithholdingPercent: Int = 50

    // MARK: Input bounds

    /// The largest amount the agency accepts per kind of amount; above it an
    /// event is a `schema-violation` naming the field (a keying error, not money).
    public var amountCaps = AmountCaps()
    /// An event's `occurredAt` may lie at most this many hours after the broker
    /// received it (clocks differ a little; an event cannot be reported before
    /// it happened).
    public var futureToleranceHours: Int = 24

    // MARK: Retention

    /// Employer reports about a person on no case (no noncustodial parent
    /// with that SSN) are kept this many days from when they arrived, in case
    /// a case naming the person opens, then deleted with their sealed SSN.
    public var unmatchedReportRetentionDays: Int = 365

    // MARK: Programs and calendar

    /// The agency's own state: a parent located only elsewhere may need the
    /// case referred to that state (45 CFR 303.7).
    public var homeState: USState = USState("NC")!

    /// Programs whose cases count as assistance: the lower tax-offset threshold
    /// applies and arrears are assigned to the state.
    public var assistancePrograms: Set<Program> = [.tanf, .fosterCare]
    /// Business days and the agency's time zone (default America/Chicago).
    public var calendar: BusinessCalendar = BusinessCalendar()

    public init() {}

    public func isAssistance(_ program: Program) -> Bool { assistancePrograms.contains(program) }

    public func taxOffsetThresholdCents(for program: Program) -> Cents {
        isAssistance(program) ? taxOffsetAssistanceThresholdCents : taxOffsetNonAssistanceThresholdCents
    }

    /// Calendar days to take an enforcement referral of `type`.
    public func enforcementDays(for type: TaskType) -> Int {
        referralsNeedingService.contains(type) ? enforcementDaysWithService : enforcementDays
    }

    /// Days to contest `remedy` after its notice; 0 when it is taken without one.
    public func contestDays(for remedy: TaskType) -> Int { max(0, contestDays[remedy] ?? 0) }

    /// The CCPA ceiling on withholding, in percent of disposable earnings.
    public func ccpaLimitPercent(arrearsOlderThanLimit: Bool) -> Int {
        (obligorSupportsAnotherFamily ? ccpaLimitPercentSupportingAnotherFamily : ccpaLimitPercentOtherwise)
            + (arrearsOlderThanLimit ? ccpaArrearsSurchargePercent : 0)
    }
}

/// Per-kind ceilings on amounts in events, in cents. Each is at most the
/// contract's bound (`$1 billion`, schemas/events/common.json).
public struct AmountCaps: Sendable, Hashable {
    /// One payment received (a remittance's payment for one case).
    public var paymentCents: Cents = 100_000_000
    /// Monthly current support and a monthly arrears payment ($100,000).
    public var monthlyCents: Cents = 10_000_000
    /// Judgment arrears and a contempt purge amount ($10 million).
    public var judgmentCents: Cents = 1_000_000_000
    /// One quarter's wages from one employer ($100 million).
    public var wagesCents: Cents = 10_000_000_000

    public init() {}
}
