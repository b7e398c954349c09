import CaseContract
import Foundation
import Testing

@testable import CaseDomain

/// The processes around the rules (contract v1.1), each at exact dates: notice
/// before a remedy, contests, payment agreements, review and adjustment,
/// closure by notice, other states. The case: $400.00 a month from 2026-03-01,
/// opened Monday 2026-03-02, judgment arrears as each test needs (a judgment of
/// $1,200.00 is three months of support: the license threshold).
@Suite("Processes: notices, contests, agreements, reviews, closure, other states")
struct RulesProcessTests {
    private func opened(judgment: Cents? = 120_000, ncp: Party = Fx.ncp(), children: [Child] = [Fx.child("K-1", paternity: true)],
                        order: Bool = true, policy: Policy = Policy()) throws -> CaseDriver {
        var driver = CaseDriver(policy: policy)
        try driver.apply(Fx.application(ncp: ncp, children: children, existingOrder: order ? Fx.order(judgment: judgment) : nil))
        return driver
    }

    static func payment(_ n: Int, on day: String, cents: Cents, id: String? = nil) -> Event {
        Fx.event(n, on: day, .collectionReceived(CollectionReceived(
            collectionId: id ?? "PAY-\(n)", source: .directPayment, amountCents: cents, receivedOn: Fx.date(day))))
    }

    static func contest(_ n: Int, on day: String, _ remedy: TaskType) -> Event {
        Fx.event(n, on: day, .remedyContested(RemedyContested(remedy: remedy, contestedOn: Fx.date(day))))
    }

    static func decision(_ n: Int, on day: String, _ remedy: TaskType, _ outcome: ContestOutcome) -> Event {
        Fx.event(n, on: day, .contestDecided(ContestDecided(remedy: remedy, decidedOn: Fx.date(day), outcome: outcome)))
    }

    static func agreement(_ n: Int, on day: String, monthly: Cents, firstDueOn: String) -> Event {
        Fx.event(n, on: day, .paymentAgreement(PaymentAgreementSigned(
            agreementId: "AG-1", monthlyCents: monthly, firstDueOn: Fx.date(firstDueOn), signedOn: Fx.date(day))))
    }

    static func partyUpdate(_ n: Int, on day: String, hourUTC: Int = 15, _ update: PartyUpdate) -> Event {
        Fx.event(n, on: day, hourUTC: hourUTC, .partyUpdate(update))
    }

    private func notices(_ tasks: [CaseTask], _ kind: String) -> [CaseTask] {
        tasks.filter { $0.type == .partyNotice && $0["notice"]?.stringValue == kind }
    }

    // MARK: Notice before a remedy

    @Test func licenseReferral_thirtyDaysAfterTheNotice() throws {
        var driver = try opened()
        let intake = driver.published
        // Tax offset needs no notice of the agency's own: at once.
        #expect(intake.filter { $0.type == .taxOffsetReferral }.count == 1)
        #expect(intake.filter { $0.type == .licenseSuspension || $0.type == .creditBureauReport }.isEmpty)
        let license = try #require(notices(intake, "ENFORCEMENT_INTENT").first { $0["remedy"] == "license-suspension" })
        #expect(license.target == "enforcement-intent:license-suspension")
        #expect(license["partyId"] == "P-NCP")
        #expect(license["role"] == "NONCUSTODIAL_PARENT")
        #expect(license["pastDueCents"] == 120_000)
        #expect(license["thresholdCents"] == 120_000)
        #expect(license["contestBy"] == "2026-04-01")
        #expect(license.dueBy == Fx.date("2026-03-04"))
        #expect(license["basis"]?["rule"] == "42 USC 666(a)(16); 45 CFR 303.6")
        #expect(notices(intake, "ENFORCEMENT_INTENT").first { $0["remedy"] == "credit-bureau-report" }?["contestBy"] == "2026-04-01")

        // The contest period runs through April 1: a sweep on the 1st judges March 31.
        #expect(driver.sweep(asOf: Fx.date("2026-04-01"), id: 90).tasks(.licenseSuspension).isEmpty)
        let after = driver.sweep(asOf: Fx.date("2026-04-02"), id: 91)
        let issued = try after.only(.licenseSuspension)
        #expect(issued.actionValue == "ISSUE")
        #expect(issued.dueBy == Fx.date("2026-05-01"))
        #expect(issued["basis"]?["noticedOn"] == "2026-03-02")
        #expect(issued["basis"]?["contestBy"] == "2026-04-01")
        #expect(issued["arrearsCents"] == 160_000)  // March's support past due on April 1
        #expect(try after.only(.creditBureauReport).actionValue == "ISSUE")
        #expect(driver.current.processes.remedyNotices.isEmpty)
        #expect(driver.current.referral(.licenseSuspension)?.noticedOn == Fx.date("2026-03-02"))
    }

    @Test func paymentBeforeContestBy_underTheThreshold_noReferral_inEitherArrivalOrder() throws {
        // In business order: the payment (March 20) before anything dated later.
        var inOrder = try opened()
        try inOrder.apply(Self.payment(2, on: "2026-03-20", cents: 80_000))
        try inOrder.apply(Self.partyUpdate(3, on: "2026-04-10", PartyUpdate(partyId: "P-CP", address: Fx.cpAddress)))
        #expect(inOrder.current.referrals.map(\.type) == [.taxOffsetReferral])
        #expect(inOrder.published.filter { $0.type == .licenseSuspension || $0.type == .creditBureauReport }.isEmpty)
        #expect(inOrder.current.processes.remedyNotices.isEmpty)
        #expect(inOrder.changes.contains { $0.hasPrefix("notice of intent (license-suspension) of 2026-03-02 lapsed") })

        // Arrived late: the update dated April 10 first took the remedies on
        // April 1; the payment, merged in business order, withdraws them.
        var late = try opened()
        try late.apply(Self.partyUpdate(3, on: "2026-04-10", PartyUpdate(partyId: "P-CP", address: Fx.cpAddress)))
        #expect(Set(late.current.referrals.map(\.type)) == [.taxOffsetReferral, .creditBureauReport, .licenseSuspension])
        let merged = try late.apply(Self.payment(2, on: "2026-03-20", cents: 80_000))
        #expect(Set(merged.tasks.filter { $0.actionValue == "WITHDRAW" }.map(\.type)) == [.creditBureauReport, .licenseSuspension])
        #expect(late.current.referrals == inOrder.current.referrals)
        #expect(late.current.processes == inOrder.current.processes)
    }

    @Test func contestUpheld_takesTheRemedyWhenDecided() throws {
        var driver = try opened()
        try driver.apply(Self.contest(2, on: "2026-03-10", .licenseSuspension))
        #expect(driver.current.processes.notice(target: "enforcement-intent:license-suspension")?.status == .contested)
        let swept = driver.sweep(asOf: Fx.date("2026-04-02"), id: 90)
        #expect(swept.tasks(.licenseSuspension).isEmpty)  // held
        #expect(try swept.only(.creditBureauReport).actionValue == "ISSUE")  // not contested
        let decided = try driver.apply(Self.decision(3, on: "2026-04-15", .licenseSuspension, .upheld))
        let issued = try decided.only(.licenseSuspension)
        #expect(issued.actionValue == "ISSUE")
        #expect(issued["basis"]?["contestUpheldOn"] == "2026-04-15")
        #expect(issued.dueBy == Fx.date("2026-05-15"))
    }

    @Test func contestOverturned_dropsTheRemedyUntilTheFactsChange() throws {
        var driver = try opened()
        try driver.apply(Self.contest(2, on: "2026-03-10", .licenseSuspension))
        let decided = try driver.apply(Self.decision(3, on: "2026-03-20", .licenseSuspension, .overturned))
        #expect(decided.tasks(.licenseSuspension).isEmpty)
        #expect(driver.sweep(asOf: Fx.date("2026-06-02"), id: 90).tasks(.licenseSuspension).isEmpty)
        #expect(driver.current.processes.notice(target: "enforcement-intent:license-suspension")?.status == .overturned)
        #expect(driver.current.referral(.licenseSuspension) == nil)

        // Taken already, then overturned: withdrawn.
        var taken = try opened()
        taken.sweep(asOf: Fx.date("2026-04-02"), id: 90)
        try taken.apply(Self.contest(2, on: "2026-04-06", .creditBureauReport))
        let overturned = try taken.apply(Self.decision(3, on: "2026-04-20", .creditBureauReport, .overturned))
        #expect(try overturned.only(.creditBureauReport).actionValue == "WITHDRAW")
        #expect(try overturned.only(.creditBureauReport)["reason"] == "CONTEST_OVERTURNED")
    }

    @Test func paymentAgreement_withdrawsTheLicense_thenBroken_aNewNotice() throws {
        var driver = try opened()
        driver.sweep(asOf: Fx.date("2026-04-02"), id: 90)
        #expect(driver.current.referral(.licenseSuspension) != nil)
        let signed = try driver.apply(Self.agreement(2, on: "2026-04-10", monthly: 60_000, firstDueOn: "2026-05-01"))
        #expect(try signed.only(.licenseSuspension).actionValue == "WITHDRAW")
        #expect(try signed.only(.licenseSuspension)["reason"] == "PAYMENT_AGREEMENT")
        #expect(driver.current.referral(.creditBureauReport) != nil)  // only the license comes back

        try driver.apply(Self.payment(3, on: "2026-05-05", cents: 60_000))
        // May kept; June unpaid: broken when June ends, and the license is announced again.
        #expect(driver.sweep(asOf: Fx.date("2026-06-30"), id: 91).tasks(.partyNotice).isEmpty)
        #expect(driver.current.processes.agreement?.keptThrough == Fx.date("2026-05-31"))
        let broken = driver.sweep(asOf: Fx.date("2026-07-01"), id: 92)
        #expect(driver.current.processes.agreement == nil)
        let notice = try broken.only(.partyNotice)
        #expect(notice["notice"] == "ENFORCEMENT_INTENT")
        #expect(notice["remedy"] == "license-suspension")
        #expect(notice["contestBy"] == "2026-07-30")
        #expect(broken.changes.contains { $0.hasPrefix("payment agreement AG-1 broken") })
    }

    @Test func financialLevy_afterItsNotice_forTheLesserOfBalanceAndPastDue() throws {
        var driver = try opened(judgment: 150_000)
        let match = try driver.apply(Fx.employerReport(2, on: "2026-03-09", .financialAccountMatch(FinancialAccountMatch(
            accountHolder: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp"), institution: RulesCollectionTests.bank,
            accountKind: .checking, balanceCents: 90_000, matchedOn: Fx.date("2026-03-06")))))
        #expect(match.tasks(.financialLevy).isEmpty)
        let notice = try match.only(.partyNotice)
        #expect(notice["remedy"] == "financial-levy")
        #expect(notice["contestBy"] == "2026-04-08")
        #expect(notice["institution"]?["fein"] == "66-0000002")
        let levied = driver.sweep(asOf: Fx.date("2026-04-09"), id: 90)
        let levy = try levied.only(.financialLevy)
        #expect(levy["levyCents"] == 90_000)
        #expect(levy["basis"]?["contestBy"] == "2026-04-08")
    }

    // MARK: Review and adjustment

    @Test func reviewRequest_dueIn180Days_movedByTheLaterLocate() throws {
        var driver = try opened(judgment: nil, ncp: Fx.ncp(address: nil))
        #expect(driver.current.stage == .locate)
        let requested = try driver.apply(Fx.event(2, on: "2026-03-10", .reviewRequested(ReviewRequested(
            requestedBy: .custodialParty, requestedOn: Fx.date("2026-03-10")))))
        let review = try requested.only(.caseReview)
        #expect(review.target == "review-and-adjustment")
        #expect(review["reason"] == "REVIEW_AND_ADJUSTMENT")
        #expect(review.dueBy == Fx.date("2026-09-06"))
        let started = notices(requested.tasks, "REVIEW_STARTED")
        #expect(Set(started.map(\.target)) == ["review-started:P-CP", "review-started:P-NCP"])
        #expect(started.allSatisfy { $0["reviewDueBy"] == "2026-09-06" })

        let located = try driver.apply(Self.partyUpdate(3, on: "2026-04-20", PartyUpdate(partyId: "P-NCP", address: Fx.ncpAddress)))
        let moved = try located.only(.caseReview)
        #expect(moved.dueBy == Fx.date("2026-10-17"))
        #expect(moved["countedFrom"] == "2026-04-20")
        #expect(moved["basis"]?["otherParentLocatedOn"] == "2026-04-20")

        // The modification the review leads to finishes it.
        try driver.apply(Fx.event(4, on: "2026-08-03", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 45_000, effectiveOn: Fx.date("2026-09-01"), medicalSupportOrdered: false))))
        #expect(driver.current.processes.review == nil)
    }

    @Test func reviewRights_every36Months_andAfterALongIncarceration() throws {
        var driver = try opened(judgment: nil)
        #expect(notices(driver.sweep(asOf: Fx.date("2029-03-01"), id: 90).tasks, "REVIEW_RIGHTS").isEmpty)
        let anniversary = driver.sweep(asOf: Fx.date("2029-03-02"), id: 91)
        let rights = notices(anniversary.tasks, "REVIEW_RIGHTS")
        #expect(Set(rights.map(\.target)) == ["review-rights:P-CP", "review-rights:P-NCP"])
        #expect(rights.allSatisfy { $0["termsEffectiveOn"] == "2026-03-01" && $0["rightToRequestReview"] == true })
        #expect(rights.allSatisfy { $0.dueBy == Fx.date("2029-03-05") })  // two business days after Thursday March 1

        var jailed = try opened(judgment: nil)
        let short = try jailed.apply(Self.partyUpdate(2, on: "2026-04-06", PartyUpdate(partyId: "P-NCP", incarceratedUntil: Fx.date("2026-08-01"))))
        #expect(short.tasks(.partyNotice).isEmpty)  // 117 days
        let long = try jailed.apply(Self.partyUpdate(3, on: "2026-04-06", hourUTC: 16, PartyUpdate(partyId: "P-NCP", incarceratedUntil: Fx.date("2027-01-01"))))
        let told = notices(long.tasks, "REVIEW_RIGHTS")
        #expect(told.count == 2)
        #expect(told.allSatisfy { $0.dueBy == Fx.date("2026-04-27") && $0["incarceratedUntil"] == "2027-01-01" })
        #expect(jailed.current.noncustodialParty.incarceratedUntil == Fx.date("2027-01-01"))
    }

    // MARK: Closure

    /// No order; the only child's paternity excluded on Monday 2026-03-16: the
    /// notice says the case closes on 2026-05-15.
    private func closing() throws -> CaseDriver {
        var driver = try opened(judgment: nil, children: [Fx.child("K-1", paternity: false)], order: false)
        let excluded = try driver.apply(Fx.event(2, on: "2026-03-16", .paternityExcluded(PaternityExcluded(childId: "K-1"))))
        let intent = try #require(notices(excluded.tasks, "CLOSURE_INTENT").first)
        #expect(intent.target == "closure-intent:P-CP")
        #expect(intent["closeOn"] == "2026-05-15")
        #expect(intent["criterion"] == "PATERNITY_EXCLUDED")
        #expect(intent["role"] == "CUSTODIAL_PARTY")
        #expect(try excluded.only(.caseReview).dueBy == Fx.date("2026-05-15"))
        return driver
    }

    @Test func closure_onDay60_byTheSweep() throws {
        var driver = try closing()
        driver.sweep(asOf: Fx.date("2026-05-15"), id: 90)
        #expect(!driver.current.isClosed)
        driver.sweep(asOf: Fx.date("2026-05-16"), id: 91)
        #expect(driver.current.closedOn == Fx.date("2026-05-15"))
    }

    @Test func closure_keptOpenByTheRecipientsAnswer() throws {
        var driver = try closing()
        let answered = try driver.apply(Fx.event(3, on: "2026-04-20", .closureResponse(ClosureResponse(
            respondedOn: Fx.date("2026-04-20"), informationProvided: true))))
        let review = try answered.only(.caseReview)
        #expect(review.target == "closure-response")
        #expect(review["reason"] == "CLOSURE_RESPONSE")
        #expect(review.dueBy == Fx.date("2026-05-15"))
        driver.sweep(asOf: Fx.date("2026-06-01"), id: 90)
        #expect(!driver.current.isClosed)
    }

    @Test func closure_keptOpenByAPaymentOnDay59() throws {
        var driver = try closing()
        try driver.apply(Self.payment(3, on: "2026-05-14", cents: 10_000))
        let swept = driver.sweep(asOf: Fx.date("2026-05-16"), id: 90)
        #expect(!driver.current.isClosed)
        #expect(driver.current.pendingClosure == nil)
        #expect(swept.changes.contains { $0.contains("not taken on 2026-05-15") })
    }

    // MARK: Other states

    @Test func intergovernmentalReferral_whenLocatedOnlyInAnotherState() throws {
        let southCarolina = Fx.address("5 Gervais St", "Columbia", "SC", "29201")
        var driver = try opened(judgment: nil, ncp: Fx.ncp(address: nil), order: false)
        let located = try driver.apply(Self.partyUpdate(2, on: "2026-03-09", PartyUpdate(partyId: "P-NCP", address: southCarolina)))
        let referral = try located.only(.intergovernmentalReferral)
        #expect(referral.target == "state:SC")
        #expect(referral["toState"] == "SC")
        #expect(referral["needs"] == ["ESTABLISHMENT"])
        #expect(referral.dueBy == Fx.date("2026-03-29"))
        #expect(referral["basis"]?["rule"] == "45 CFR 303.7(c)(2)")

        // Located at home before it was due: withdrawn.
        let home = try driver.apply(Self.partyUpdate(3, on: "2026-03-20", PartyUpdate(partyId: "P-NCP", address: Fx.ncpAddress)))
        #expect(try home.only(.intergovernmentalReferral).actionValue == "WITHDRAW")
        #expect(try home.only(.intergovernmentalReferral)["reason"] == "LOCATED_IN_HOME_STATE")
    }

    @Test func noIntergovernmentalReferral_whenAnEmployerThereCanBeSentWithholding() throws {
        let georgia = EmployerRef(fein: FEIN("77-0000003")!, name: "Peach Logistics", address: Fx.address("9 Peachtree St", "Atlanta", "GA", "30303"))
        var driver = try opened(judgment: 60_000, ncp: Fx.ncp(address: nil))
        let hired = try driver.apply(Fx.newHire(2, on: "2026-03-09", employer: georgia))
        #expect(hired.tasks(.intergovernmentalReferral).isEmpty)
        #expect(try hired.only(.incomeWithholding).target == "employer:770000003")
        // Without the employer the same parent, there, needs the other state's enforcement.
        var noEmployer = try opened(judgment: 60_000, ncp: Fx.ncp(address: nil))
        let located = try noEmployer.apply(Self.partyUpdate(2, on: "2026-03-09", PartyUpdate(
            partyId: "P-NCP", address: Fx.address("9 Peachtree St", "Atlanta", "GA", "30303"))))
        #expect(try located.only(.intergovernmentalReferral)["needs"] == ["ENFORCEMENT"])
    }
}
