import Foundation
import Testing

@testable import CaseDomain

/// domain.md's clarifications on when money counts, at the dates the issue
/// reported them wrong, plus the amended notices an order modification sends.
@Suite("Money timing and amended notices")
struct RulesMoneyTimingTests {
    /// An order entered 2026-09-14 with $3,000.00 judgment arrears and current
    /// support from 2026-10-01: the judgment is past due from the day it was
    /// entered, and the referrals follow that day.
    @Test func judgmentArrears_fallDueWhenTheCourtEntersTheOrder() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(on: "2026-09-01"))
        let entered = try driver.apply(Fx.event(2, on: "2026-09-14", .orderEstablished(Fx.order(
            monthly: 45_000, effectiveOn: "2026-10-01", judgment: 300_000))))
        let ledger = driver.current.ledger
        #expect(ledger.arrears(asOf: Fx.date("2026-09-13")) == 0)
        #expect(ledger.arrears(asOf: Fx.date("2026-09-14")) == 300_000)
        #expect(ledger.arrears(asOf: Fx.date("2026-09-25")) == 300_000)
        #expect(ledger.balance(asOf: Fx.date("2026-09-25")) == 300_000)
        // $3,000.00 is over the tax offset ($500), credit bureau ($1,000), passport (> $2,500)
        // and license (3 x $450) thresholds.
        // The federal certifications go at once; credit reporting and the
        // license are announced that day (ENFORCEMENT_INTENT, 30 days to contest).
        let referrals = entered.tasks.filter { TaskType.arrearsReferrals.contains($0.type) }
        #expect(Set(referrals.map(\.type)) == [.taxOffsetReferral, .passportDenial])
        #expect(referrals.allSatisfy { $0.actionValue == "ISSUE" && $0["asOf"] == "2026-09-14" && $0.dueBy == Fx.date("2026-10-14") })
        let announced = entered.tasks(.partyNotice)
        #expect(Set(announced.compactMap { $0["remedy"]?.stringValue }) == ["credit-bureau-report", "license-suspension"])
        #expect(announced.allSatisfy { $0["pastDueCents"] == 300_000 && $0["contestBy"] == "2026-10-14" })
    }

    /// $450 received 2026-03-27 on a $450/month order effective 2026-04-01 pays
    /// April: nothing owed on 2026-04-02, $450.00 (May) on 2026-05-02.
    @Test func aPaymentReceivedEarly_isAppliedWhenTheChargeFallsDue() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(on: "2026-03-02"))
        try driver.apply(Fx.event(2, on: "2026-03-20", .orderEstablished(Fx.order(monthly: 45_000, effectiveOn: "2026-04-01"))))
        let paid = try driver.apply(Fx.remittance(3, on: "2026-03-27", payDate: "2026-03-25", payments: [(Fx.caseId, 45_000)]))
        let disbursement = try paid.only(.disbursement)
        #expect(disbursement["unappliedCents"] == 45_000)
        #expect(disbursement["disbursedToFamilyCents"] == 0)
        let ledger = driver.current.ledger
        #expect(ledger.unappliedCredit(asOf: Fx.date("2026-03-31")) == 45_000)
        #expect(ledger.balance(asOf: Fx.date("2026-04-02")) == 0)
        #expect(ledger.unappliedCredit(asOf: Fx.date("2026-04-02")) == 0)
        #expect(ledger.balance(asOf: Fx.date("2026-05-02")) == 45_000)
        #expect(ledger.arrears(asOf: Fx.date("2026-05-02")) == 0)
        #expect(ledger.arrears(asOf: Fx.date("2026-06-01")) == 45_000)
        #expect(ledger.creditToRefund(asOf: Fx.date("2026-05-02")) == 0)
        // Paid up: no referral on the way.
        #expect(driver.sweep(asOf: Fx.date("2026-05-03"), id: 800).tasks.isEmpty)
    }

    /// Credit that outlives every order is for a caseworker to refund: the
    /// history says so, and the ledger reports it.
    @Test func creditLeftWithNoOrderInForce_isReportedForRefund() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(on: "2026-03-02", existingOrder: Fx.order(monthly: 30_000, effectiveOn: "2026-03-01")))
        try driver.apply(Fx.remittance(2, on: "2026-03-10", payDate: "2026-03-06", payments: [(Fx.caseId, 100_000)]))
        // $1,000 paid: $300 to March, $700 held for April and May ($300 each) and $100 of June.
        #expect(driver.current.ledger.unappliedCredit(asOf: Fx.date("2026-03-10")) == 70_000)
        #expect(driver.current.ledger.creditToRefund(asOf: Fx.date("2026-03-10")) == 0)
        let ended = try driver.apply(Fx.event(3, on: "2026-04-20", .orderTerminated(OrderTermination(
            orderId: "O-1", terminatedOn: Fx.date("2026-04-30"), reason: .emancipation))))
        // April takes $300 on April 1; with no May, $400 is never taken.
        #expect(driver.current.ledger.creditToRefund(asOf: Fx.date("2026-04-20")) == 40_000)
        #expect(driver.current.ledger.unappliedCredit(asOf: Fx.date("2026-05-01")) == 40_000)
        #expect(ended.changes.contains("credit of $400.00 with no order in force to take it: refund due"))
    }

    /// Held credit meets the judgment the court enters later, oldest charge first.
    @Test func heldCredit_paysAJudgmentEnteredLater() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(on: "2026-03-02", existingOrder: Fx.order(monthly: 20_000, effectiveOn: "2026-03-01")))
        try driver.apply(Fx.remittance(2, on: "2026-03-10", payDate: "2026-03-06", payments: [(Fx.caseId, 50_000)]))
        try driver.apply(Fx.event(3, on: "2026-03-16", .orderEstablished(Fx.order(
            "O-2", monthly: 0, effectiveOn: "2026-04-01", judgment: 25_000))))
        // $200 to March on receipt; the $300 held pays the $250 judgment on March 16.
        let ledger = driver.current.ledger
        #expect(ledger.arrears(asOf: Fx.date("2026-03-16")) == 0)
        #expect(ledger.unappliedCredit(asOf: Fx.date("2026-03-16")) == 5_000)
        #expect(ledger.balance(asOf: Fx.date("2026-04-01")) == 15_000)
    }

    /// An order modification sends every employer withholding for the case an
    /// amended notice with the new terms (a new task id) within 2 business days
    /// of the modification's date; a medical support notice follows when
    /// medical support becomes ordered.
    @Test func orderModification_sendsAmendedNoticesToEveryEmployerWithholding() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(on: "2026-03-02", ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(monthly: 40_000)))
        let hired = try driver.apply(Fx.newHire(2, on: "2026-03-04", employer: Fx.bolt))
        let first = try hired.only(.incomeWithholding)
        #expect(first["amended"] == nil)
        try driver.apply(Fx.employerReport(3, on: "2026-03-09", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: Fx.acme.fein), status: .accepted))))
        // Entered Friday 2026-09-11: due Tuesday 2026-09-15.
        let modified = try driver.apply(Fx.event(4, on: "2026-09-11", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 52_500, effectiveOn: Fx.date("2026-10-01"), monthlyArrearsPaymentCents: 5_000,
            medicalSupportOrdered: true))))
        let notices = modified.tasks(.incomeWithholding)
        #expect(notices.map { $0["employer"]?["fein"] } == ["12-3456789", "98-7654321"])
        for notice in notices {
            #expect(notice.actionValue == "ISSUE")
            #expect(notice["amended"] == true)
            #expect(notice["currentSupportCents"] == 52_500 && notice["arrearsPaymentCents"] == 5_000 && notice["totalPerMonthCents"] == 57_500)
            #expect(notice.dueBy == Fx.date("2026-09-15"))
            #expect(notice.causationId == Fx.eventId(4))
            #expect(!driver.published.filter { $0.id != notice.id }.map(\.id).contains(notice.id))
        }
        let medical = modified.tasks(.medicalSupportNotice)
        #expect(medical.count == 2 && medical.allSatisfy { $0.actionValue == "ISSUE" && $0.dueBy == Fx.date("2026-09-15") })
        #expect(driver.current.employments.allSatisfy { $0.medicalSupportNoticeIssued })
    }
}
