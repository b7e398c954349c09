import CaseContract
import Foundation
import Testing

@testable import CaseDomain

/// Money from every source (contract v1.1): each rule at exact dates and
/// cents. The case: $400.00 a month from 2026-03-01, opened 2026-03-02 (a
/// Monday), with judgment arrears as each test needs.
@Suite("Collections, reversals, adjustments, data matches")
struct RulesCollectionTests {
    static let agency = EmployerRef(fein: FEIN("55-0000001")!, name: "State Workforce Agency",
                                    address: Fx.address("1 Capitol Ave", "Raleigh", "NC", "27601"))
    static let bank = EmployerRef(fein: FEIN("66-0000002")!, name: "First Bank", address: Fx.address("2 Main St", "Raleigh", "NC", "27601"))

    private func opened(program: Program = .nonTANF, judgment: Cents? = nil, employer: EmployerRef? = nil,
                        policy: Policy = Policy()) throws -> CaseDriver {
        var driver = CaseDriver(policy: policy)
        try driver.apply(Fx.application(program: program, ncp: Fx.ncp(employer: employer), existingOrder: Fx.order(judgment: judgment)))
        return driver
    }

    static func collection(_ n: Int, on day: String, id: String = "COL-1", source: CollectionSource, cents: Cents,
                           receivedOn: String? = nil, jointReturn: Bool = false) -> Event {
        Fx.event(n, on: day, .collectionReceived(CollectionReceived(
            collectionId: id, source: source, amountCents: cents, receivedOn: Fx.date(receivedOn ?? day), jointReturn: jointReturn,
            taxYear: source.paysPastDueOnly ? 2025 : nil)))
    }

    static func reversal(_ n: Int, on day: String, id: String = "COL-1", reason: ReversalReason = .nsf, cents: Cents? = nil) -> Event {
        Fx.event(n, on: day, .collectionReversed(CollectionReversed(collectionId: id, reversedOn: Fx.date(day), reason: reason, amountCents: cents)))
    }

    static func adjustment(_ n: Int, on day: String, id: String, cents: Cents, reason: AdjustmentReason = .audit) -> Event {
        Fx.event(n, on: day, .accountAdjusted(AccountAdjusted(adjustmentId: id, amountCents: cents, effectiveOn: Fx.date(day), reason: reason)))
    }

    @Test func directPayment_currentSupportFirst_disbursedWithinTwoBusinessDays() throws {
        var driver = try opened()
        let outcome = try driver.apply(Self.collection(2, on: "2026-03-10", source: .directPayment, cents: 40_000))
        let disbursement = try outcome.only(.disbursement)
        #expect(disbursement.target == "collection:COL-1")
        #expect(disbursement.dueBy == Fx.date("2026-03-12"))
        #expect(disbursement["source"] == "DIRECT_PAYMENT")
        #expect(disbursement["collectionId"] == "COL-1")
        #expect(disbursement["toCurrentSupportCents"] == 40_000)
        #expect(disbursement["toArrearsCents"] == 0)
        #expect(disbursement["disbursedToFamilyCents"] == 40_000)
        #expect(disbursement["employerFein"] == nil)
        #expect(driver.current.ledger.balance(asOf: Fx.date("2026-03-10")) == 0)
    }

    @Test func federalOffset_paysPastDueOnly_neverCurrentSupport() throws {
        var driver = try opened(judgment: 60_000)
        let outcome = try driver.apply(Self.collection(2, on: "2026-03-10", source: .federalTaxOffset, cents: 30_000))
        let disbursement = try outcome.only(.disbursement)
        #expect(disbursement["toCurrentSupportCents"] == 0)
        #expect(disbursement["toArrearsCents"] == 30_000)
        #expect(disbursement["disbursedToFamilyCents"] == 30_000)
        let ledger = driver.current.ledger
        #expect(ledger.arrears(asOf: Fx.date("2026-03-10")) == 30_000)
        #expect(ledger.balance(asOf: Fx.date("2026-03-10")) == 70_000)  // March's $400 still owed

        // More than is past due: the rest is refunded, never held for March or April.
        var large = try opened(judgment: 60_000)
        let big = try large.apply(Self.collection(2, on: "2026-03-10", source: .stateTaxOffset, cents: 100_000))
        #expect(try big.only(.disbursement)["toArrearsCents"] == 60_000)
        #expect(try big.only(.disbursement)["unappliedCents"] == 40_000)
        #expect(large.current.ledger.balance(asOf: Fx.date("2026-04-01")) == 80_000)
        #expect(large.current.ledger.creditToRefund(asOf: Fx.date("2026-03-10")) == 40_000)
    }

    @Test func assistanceCase_offsetRetainedByTheState() throws {
        var driver = try opened(program: .tanf, judgment: 60_000)
        let disbursement = try driver.apply(Self.collection(2, on: "2026-03-10", source: .federalTaxOffset, cents: 30_000)).only(.disbursement)
        #expect(disbursement["retainedByStateCents"] == 30_000)
        #expect(disbursement["disbursedToFamilyCents"] == 0)
    }

    @Test func jointReturnOffset_heldForInjuredSpouse_disbursedWhenTheHoldEnds() throws {
        var driver = try opened(judgment: 60_000)
        let disbursement = try driver.apply(Self.collection(2, on: "2026-03-10", source: .federalTaxOffset, cents: 30_000, jointReturn: true))
            .only(.disbursement)
        #expect(disbursement.dueBy == Fx.date("2026-09-06"))  // 180 days
        #expect(disbursement["heldUntil"] == "2026-09-06")
        var policy = Policy()
        policy.jointReturnHoldDays = 90
        var shorter = try opened(judgment: 60_000, policy: policy)
        #expect(try shorter.apply(Self.collection(2, on: "2026-03-10", source: .federalTaxOffset, cents: 30_000, jointReturn: true))
            .only(.disbursement).dueBy == Fx.date("2026-06-08"))
    }

    @Test func nsfReversal_beforeDisbursement_arrearsBackOverTheThreshold_referralIssuedAgain() throws {
        var driver = try opened(judgment: 60_000)
        #expect(driver.current.referral(.taxOffsetReferral) != nil)
        // $600 on Thursday the 5th: $400 to March, $200 to the judgment: $400 past due, under $500.
        let paid = try driver.apply(Self.collection(2, on: "2026-03-05", source: .directPayment, cents: 60_000))
        #expect(try paid.only(.taxOffsetReferral).action == .withdraw)
        #expect(try paid.only(.disbursement).dueBy == Fx.date("2026-03-09"))
        // The check bounces on the 6th, before the money went out.
        let bounced = try driver.apply(Self.reversal(3, on: "2026-03-06"))
        #expect(try bounced.only(.taxOffsetReferral).action == .issue)
        #expect(try bounced.only(.taxOffsetReferral)["arrearsCents"] == 60_000)
        let withdrawn = try bounced.only(.disbursement)
        #expect(withdrawn.action == .withdraw)
        #expect(withdrawn["reason"] == "COLLECTION_REVERSED")
        #expect(bounced.tasks(.caseReview).isEmpty)
        let ledger = driver.current.ledger
        #expect(ledger.arrears(asOf: Fx.date("2026-03-06")) == 60_000)  // March is owed again, and current
        #expect(ledger.balance(asOf: Fx.date("2026-03-06")) == 100_000)
        #expect(ledger.arrears(asOf: Fx.date("2026-03-05")) == 40_000)  // the day it was paid stands
    }

    @Test func reversal_afterDisbursementWentOut_asksForRecovery() throws {
        var driver = try opened(judgment: 60_000)
        try driver.apply(Self.collection(2, on: "2026-03-05", source: .directPayment, cents: 60_000))
        let bounced = try driver.apply(Self.reversal(3, on: "2026-03-20", cents: 25_000))
        let review = try bounced.only(.caseReview)
        #expect(review.target == "overpaid-disbursement:COL-1")
        #expect(review["reason"] == "OVERPAID_DISBURSEMENT")
        #expect(review["overpaidCents"] == 25_000)
        #expect(review["reversedOn"] == "2026-03-20")
        #expect(bounced.tasks(.disbursement).isEmpty)
        // The last $250 it paid comes off first: the judgment's $200, then $50 of March.
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-20")) == 60_000)
        #expect(driver.current.ledger.balance(asOf: Fx.date("2026-03-20")) == 65_000)
        // No more than is left can be reversed.
        #expect(throws: RuleError.self) { try CaseRules.apply(Self.reversal(4, on: "2026-03-21", cents: 35_001), to: driver.current, policy: Policy()).get() }
    }

    @Test func aReversalDatedBeforeTheMoneyCameIn_countsFromItsReceipt() throws {
        var driver = try opened(judgment: 60_000)
        try driver.apply(Self.collection(2, on: "2026-03-05", source: .directPayment, cents: 60_000))
        let slip = Fx.event(3, on: "2026-03-06", .collectionReversed(CollectionReversed(
            collectionId: "COL-1", reversedOn: Fx.date("2026-02-27"), reason: .postingError)))
        try driver.apply(slip)
        #expect(driver.current.ledger.accountCharges.first?.dueOn == Fx.date("2026-03-05"))
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-06")) == 60_000)
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-04")) == 60_000)
    }

    @Test func sameCollectionId_isTheSameMoney() throws {
        var driver = try opened()
        try driver.apply(Self.collection(2, on: "2026-03-10", source: .directPayment, cents: 40_000))
        let again = try driver.apply(Self.collection(3, on: "2026-03-11", source: .directPayment, cents: 40_000, receivedOn: "2026-03-10"))
        #expect(again.tasks.isEmpty)
        #expect(again.changes.contains { $0.contains("already recorded") })
        #expect(driver.current.ledger.payments.count == 1)
        let conflicting = CaseRules.apply(Self.collection(4, on: "2026-03-12", source: .directPayment, cents: 39_999, receivedOn: "2026-03-10"),
                                          to: driver.current, policy: Policy())
        guard case .failure(let error) = conflicting else { Issue.record("a different amount was accepted"); return }
        #expect(error.deadLetterClass == "processing-failed")
    }

    @Test func auditAdjustments_addFromEffectiveOn_creditsTheOldestDebtFirst() throws {
        var driver = try opened()
        try driver.apply(Self.adjustment(2, on: "2026-03-15", id: "ADJ-1", cents: 25_000))
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-14")) == 0)
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-15")) == 25_000)
        let credit = try driver.apply(Self.adjustment(3, on: "2026-03-16", id: "ADJ-2", cents: -10_000, reason: .writeOff))
        #expect(credit.tasks(.disbursement).isEmpty)  // not money: nothing to distribute
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-16")) == 15_000)
        #expect(driver.current.ledger.balance(asOf: Fx.date("2026-03-16")) == 55_000)
        #expect(credit.changes.contains { $0.contains("WRITE_OFF") })
    }

    @Test func returnedDisbursement_heldLocateTheFamily_disbursedAgainOnANewAddress() throws {
        var driver = try opened()
        let first = try driver.apply(Self.collection(2, on: "2026-03-10", source: .directPayment, cents: 40_000)).only(.disbursement)
        let returned = try driver.apply(Fx.event(3, on: "2026-03-20", .disbursementReturned(DisbursementReturned(
            disbursementTaskId: first.id, returnedOn: Fx.date("2026-03-20"), reason: .undeliverable))))
        let locate = try returned.only(.locate)
        #expect(locate["role"] == "CUSTODIAL_PARTY")
        #expect(locate["reason"] == "DISBURSEMENT_RETURNED")
        #expect(locate.dueBy == Fx.date("2026-06-03"))  // 75 days
        #expect(returned.tasks(.disbursement).isEmpty)
        let moved = try driver.apply(Fx.event(4, on: "2026-04-01", .partyUpdate(PartyUpdate(
            partyId: "P-CP", address: Fx.address("7 New Rd", "Cary", "NC", "27511")))))
        let again = try moved.only(.disbursement)
        #expect(again.target == "redisbursement:\(first.id.lowercasedText)")
        #expect(again["redisbursementOf"] == .string(first.id.lowercasedText))
        #expect(again["disbursedToFamilyCents"] == 40_000)
        #expect(again.dueBy == Fx.date("2026-04-03"))
        // An employer's remittance comes back the same way.
        let remitted = try driver.apply(Fx.remittance(5, on: "2026-04-10", payDate: "2026-04-08", payments: [(Fx.caseId, 40_000)])).only(.disbursement)
        let back = try driver.apply(Fx.event(6, on: "2026-04-20", .disbursementReturned(DisbursementReturned(
            disbursementTaskId: remitted.id, returnedOn: Fx.date("2026-04-20"), reason: .uncashed))))
        #expect(back.tasks(.locate).count == 1)
        #expect(driver.current.returnedDisbursements.count == 2)
    }

    @Test func unemploymentClaim_withholdingThroughTheAgency_capped50PercentOfTheWeeklyBenefit() throws {
        var driver = try opened()
        let claim = Fx.employerReport(2, on: "2026-03-10", .unemploymentClaim(UnemploymentClaim(
            claimant: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp"), agency: Self.agency,
            claimFiledOn: Fx.date("2026-03-02"), weeklyBenefitCents: 45_001, receivedOn: Fx.date("2026-03-09"))))
        let notice = try driver.apply(claim).only(.incomeWithholding)
        #expect(notice.target == "employer:550000001")
        #expect(notice.dueBy == Fx.date("2026-03-11"))  // 2 business days from the claim's receipt
        #expect(notice["incomeSource"] == "UNEMPLOYMENT_BENEFITS")
        #expect(notice["withholdingPercent"] == 50)
        #expect(notice["weeklyBenefitCents"] == 45_001)
        #expect(notice["weeklyLimitCents"] == 22_500)
    }

    @Test func financialAccountMatch_levyForTheLesserOfBalanceAndPastDue() throws {
        func match(_ balance: Cents) -> Event {
            Fx.employerReport(2, on: "2026-03-10", .financialAccountMatch(FinancialAccountMatch(
                accountHolder: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp"), institution: Self.bank,
                accountKind: .savings, balanceCents: balance, matchedOn: Fx.date("2026-03-09"))))
        }
        // Taken at once (no contest period): the amounts alone. After its notice: RulesProcessTests.
        var small = try opened(judgment: 150_000, policy: RulesReferralTests.atOnce)
        let levy = try small.apply(match(80_000)).only(.financialLevy)
        #expect(levy.target == "account:660000002:SAVINGS")
        #expect(levy["levyCents"] == 80_000)
        #expect(levy["pastDueCents"] == 150_000)
        #expect(levy.dueBy == Fx.date("2026-04-09"))
        var large = try opened(judgment: 150_000, policy: RulesReferralTests.atOnce)
        #expect(try large.apply(match(500_000)).only(.financialLevy)["levyCents"] == 150_000)
        var under = try opened(judgment: 99_999, policy: RulesReferralTests.atOnce)
        #expect(try under.apply(match(500_000)).tasks(.financialLevy).isEmpty)
        var threshold = try opened(judgment: 100_000, policy: RulesReferralTests.atOnce)
        #expect(try threshold.apply(match(500_000)).tasks(.financialLevy).count == 1)
    }

    @Test func employerNotRemitting_reviewedOnceAfterRemittanceExpectedDays() throws {
        func accepted(_ driver: inout CaseDriver) throws {
            try driver.apply(Fx.employerReport(2, on: "2026-03-10", .iwoResponse(IWOResponse(
                caseId: Fx.caseId, employer: EmployerRef(fein: Fx.acme.fein), status: .accepted))))
        }
        var silent = try opened(employer: Fx.acme)
        try accepted(&silent)
        #expect(silent.sweep(asOf: Fx.date("2026-04-24"), id: 900).tasks(.caseReview).isEmpty)  // the 45th day is not over
        let review = try silent.sweep(asOf: Fx.date("2026-04-25"), id: 901).only(.caseReview)
        #expect(review.target == "employer-not-remitting:123456789")
        #expect(review["reason"] == "EMPLOYER_NOT_REMITTING")
        #expect(review["acceptedOn"] == "2026-03-10")
        #expect(review["remittanceExpectedDays"] == 45)
        #expect(silent.sweep(asOf: Fx.date("2026-05-26"), id: 902).tasks(.caseReview).isEmpty)

        var paying = try opened(employer: Fx.acme)
        try accepted(&paying)
        try paying.apply(Fx.remittance(3, on: "2026-04-01", payDate: "2026-03-31", payments: [(Fx.caseId, 18_000)]))
        #expect(paying.sweep(asOf: Fx.date("2026-05-01"), id: 903).tasks(.caseReview).isEmpty)
    }

    @Test func orderModifiedBeforeItsFirstMonth_amendsTheNoticeAlreadySent() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme)))
        let established = try driver.apply(Fx.event(2, on: "2026-03-05", .orderEstablished(Fx.order(effectiveOn: "2026-04-01"))))
        #expect(try established.only(.incomeWithholding).action == .issue)
        let modified = try driver.apply(Fx.event(3, on: "2026-03-16", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 45_000, effectiveOn: Fx.date("2026-04-01"), medicalSupportOrdered: false))))
        let amended = try modified.only(.incomeWithholding)
        #expect(amended["amended"] == true)
        #expect(amended["currentSupportCents"] == 45_000)
        #expect(amended.dueBy == Fx.date("2026-03-18"))
    }
}
