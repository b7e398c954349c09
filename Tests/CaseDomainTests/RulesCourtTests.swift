import Foundation
import Testing

@testable import CaseDomain

@Suite("Rules: court outcomes")
struct RulesCourtTests {
    @Test func orderEstablished_withholdingToEveryCurrentEmployer_andMedicalNotices() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme)))
        #expect(try driver.apply(Fx.newHire(2, on: "2026-03-03", employer: Fx.bolt)).tasks(.incomeWithholding).isEmpty)
        let outcome = try driver.apply(Fx.event(3, on: "2026-03-05", .orderEstablished(Fx.order(effectiveOn: "2026-03-15", medical: true))))
        #expect(outcome.tasks(.incomeWithholding).map { $0["employer"]?["fein"] } == ["12-3456789", "98-7654321"])
        #expect(outcome.tasks(.medicalSupportNotice).count == 2)
        #expect(outcome.tasks(.incomeWithholding).allSatisfy { $0.dueBy == Fx.date("2026-03-09") })
        #expect(driver.current.stage == .enforcement)
        #expect(driver.current.ledger.obligation(orderId: "O-1") != nil)
    }

    @Test func orderEstablished_midMonth_accruesProratedAndFeedsReferrals() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application())
        // $400/month from March 16: March is 16 of 31 days = floor(40000 * 16 / 31) = 20645.
        try driver.apply(Fx.event(2, on: "2026-03-16", .orderEstablished(Fx.order(effectiveOn: "2026-03-16"))))
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-04-01")) == 20_645)
        // On May 1, 20645 + 40000 = 60645 is past due: tax offset (non-assistance, $500),
        // judged by a sweep once May 1 is over.
        let sweep = CaseRules.reevaluate(driver.current, asOf: Fx.date("2026-05-02"), causationId: Fx.eventId(950), policy: Policy())
        #expect(try sweep.only(.taxOffsetReferral)["arrearsCents"] == 60_645)
        #expect(try sweep.only(.taxOffsetReferral)["asOf"] == "2026-05-01")
    }

    @Test func orderEstablished_conflictingTerms_isRejected() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let conflicting = Fx.event(2, on: "2026-03-05", .orderEstablished(Fx.order(monthly: 99_000)))
        #expect(CaseRules.apply(conflicting, to: driver.state, policy: Policy())
            == .failure(.ledgerRejected(caseId: Fx.caseId, .orderAlreadyEstablished(orderId: "O-1"))))
    }

    @Test func orderModified_reissuesWithholdingWithNewAmounts_andWithdrawsMedicalNotice() throws {
        var driver = CaseDriver()
        let intake = try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(arrearsPayment: 5_000, medical: true)))
        let original = try intake.only(.incomeWithholding)
        let outcome = try driver.apply(Fx.event(2, on: "2026-05-04", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 50_000, effectiveOn: Fx.date("2026-05-01"), medicalSupportOrdered: false))))
        let reissued = try outcome.only(.incomeWithholding)
        #expect(reissued.actionValue == "ISSUE")
        #expect(reissued["currentSupportCents"] == 50_000)
        #expect(reissued["arrearsPaymentCents"] == 5_000)
        #expect(reissued["totalPerMonthCents"] == 55_000)
        #expect(reissued.id != original.id)
        #expect(reissued.dueBy == Fx.date("2026-05-06"))
        #expect(try outcome.only(.medicalSupportNotice).actionValue == "WITHDRAW")
        #expect(driver.current.activeOrder?.monthlySupportCents == 50_000)
        #expect(driver.current.ledger.monthlySupportCents(on: Fx.date("2026-05-01")) == 50_000)
    }

    @Test func orderModified_retroactiveCorrection_changesThePastNotTodaysTerms() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(monthly: 40_000)))
        try driver.apply(Fx.event(2, on: "2026-06-02", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 50_000, effectiveOn: Fx.date("2026-06-01"), medicalSupportOrdered: false))))
        // A correction of April's and May's amount arrives afterwards.
        let correction = try driver.apply(Fx.event(3, on: "2026-06-10", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 30_000, effectiveOn: Fx.date("2026-04-01"), medicalSupportOrdered: false))))
        #expect(correction.tasks(.incomeWithholding).isEmpty)
        #expect(driver.current.activeOrder?.monthlySupportCents == 50_000)
        #expect(driver.current.ledger.amountDue(through: Fx.date("2026-06-30")) == 40_000 + 30_000 + 30_000 + 50_000)
    }

    @Test func orderModified_inAnAssistanceCase_restartsTheReviewCycle() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(program: .tanf, existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.event(2, on: "2026-05-04", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 50_000, effectiveOn: Fx.date("2026-05-31"), medicalSupportOrdered: false))))
        #expect(try outcome.only(.caseReview).dueBy == Fx.date("2029-05-31"))
    }

    @Test func orderModified_unknownOrder_isRejected() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let modification = Fx.event(2, on: "2026-05-04", .orderModified(OrderModification(
            orderId: "O-9", monthlySupportCents: 1, effectiveOn: Fx.date("2026-05-01"), medicalSupportOrdered: false)))
        #expect(CaseRules.apply(modification, to: driver.state, policy: Policy()) == .failure(.unknownOrder(caseId: Fx.caseId, orderId: "O-9")))
    }

    @Test func orderTerminated_stopsAccrual() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(judgment: 100_000)))
        try driver.apply(Fx.event(2, on: "2026-04-02", .orderTerminated(OrderTermination(
            orderId: "O-1", terminatedOn: Fx.date("2026-03-31"), reason: .emancipation))))
        #expect(driver.current.ledger.balance(asOf: Fx.date("2027-01-01")) == 140_000)
        #expect(driver.current.activeOrder == nil)
        #expect(driver.current.orders[0].status == .terminated)
    }

    @Test func zeroSupportOrder_withholdsNothing_butStillSendsTheMedicalNotice() throws {
        var driver = CaseDriver()
        let intake = try driver.apply(Fx.application(program: .fosterCare, ncp: Fx.ncp(employer: Fx.acme),
                                                     existingOrder: Fx.order(monthly: 0, medical: true)))
        #expect(intake.tasks(.incomeWithholding).isEmpty)
        #expect(intake.tasks(.medicalSupportNotice).count == 1)
        #expect(intake.tasks(.licenseSuspension).isEmpty)
        // Modified up to $300: withholding starts; back to zero: withdrawn.
        let up = try driver.apply(Fx.event(2, on: "2026-04-01", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 30_000, effectiveOn: Fx.date("2026-04-01"), medicalSupportOrdered: true))))
        #expect(try up.only(.incomeWithholding).actionValue == "ISSUE")
        #expect(up.tasks(.medicalSupportNotice).isEmpty)
        let down = try driver.apply(Fx.event(3, on: "2026-06-01", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 0, effectiveOn: Fx.date("2026-06-01"), medicalSupportOrdered: true))))
        #expect(try down.only(.incomeWithholding)["reason"] == "NOTHING_TO_WITHHOLD")
    }

    @Test func orderTerminated_withAnotherOrderInForce_withholdingFollowsThatOrder() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order("O-1", monthly: 40_000)))
        try driver.apply(Fx.event(2, on: "2026-03-05", .orderEstablished(Fx.order("O-2", monthly: 25_000))))
        let outcome = try driver.apply(Fx.event(3, on: "2026-04-01", .orderTerminated(OrderTermination(
            orderId: "O-2", terminatedOn: Fx.date("2026-03-31"), reason: .vacated))))
        let withholding = try outcome.only(.incomeWithholding)
        #expect(withholding.actionValue == "ISSUE")
        #expect(withholding["orderId"] == "O-1")
        #expect(withholding["currentSupportCents"] == 40_000)
        #expect(outcome.tasks(.caseReview).isEmpty)
    }

    @Test func paternityEstablished_courtPreparationOnceEveryChildIsSettled() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(children: [Fx.child("K-1", paternity: false), Fx.child("K-2", paternity: false)]))
        let first = try driver.apply(Fx.event(2, on: "2026-04-01", .paternityEstablished(PaternityEstablished(childId: "K-1", method: .acknowledgment))))
        #expect(first.tasks.isEmpty)
        #expect(driver.current.stage == .paternity)
        let second = try driver.apply(Fx.event(3, on: "2026-04-02", .paternityEstablished(PaternityEstablished(childId: "K-2", method: .adjudication))))
        #expect(try second.only(.courtPreparation)["childIds"] == ["K-1", "K-2"])
        #expect(driver.current.children[1].paternity == .established(.adjudication))
    }

    @Test func paternityEstablished_unknownChild_isRejected() throws {
        let state = try CaseRules.apply(Fx.application(), to: nil, policy: Policy()).get().state
        let outcome = Fx.event(2, on: "2026-04-01", .paternityEstablished(PaternityEstablished(childId: "K-9", method: .geneticTest)))
        #expect(CaseRules.apply(outcome, to: state, policy: Policy()) == .failure(.unknownChild(caseId: Fx.caseId, childId: "K-9")))
    }

    @Test func hearing_courtPreparation10BusinessDaysBefore_acrossThanksgiving() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        // Hearing Monday November 30, 2026. Counting back ten business days skips
        // Thanksgiving (26th) and two weekends: Friday November 13.
        let outcome = try driver.apply(Fx.event(2, on: "2026-11-02", .hearingScheduled(HearingScheduled(
            hearingId: "H-1", hearingType: .enforcement, scheduledFor: Fx.instant("2026-11-30"), courtName: "Pulaski Circuit"))))
        let preparation = try outcome.only(.courtPreparation)
        #expect(preparation.dueBy == Fx.date("2026-11-13"))
        #expect(preparation["hearingDate"] == "2026-11-30")
        #expect(preparation["scheduledFor"] == "2026-11-30T15:00:00Z")
        #expect(driver.current.hearings.map(\.hearingId) == ["H-1"])
    }

    @Test func hearing_dateIsTakenInTheAgencyZone() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        // 03:00 UTC on December 1 is 21:00 on November 30 in Chicago.
        let outcome = try driver.apply(Fx.event(2, on: "2026-11-02", .hearingScheduled(HearingScheduled(
            hearingId: "H-1", hearingType: .contempt, scheduledFor: Fx.instant("2026-12-01", hourUTC: 3), courtName: "Pulaski"))))
        #expect(try outcome.only(.courtPreparation).dueBy == Fx.date("2026-11-13"))
    }

    @Test func hearing_tooCloseToPrepareInTime_isDueAtOnce() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.event(2, on: "2026-11-25", .hearingScheduled(HearingScheduled(
            hearingId: "H-2", hearingType: .modification, scheduledFor: Fx.instant("2026-11-30"), courtName: "Pulaski"))))
        #expect(try outcome.only(.courtPreparation).dueBy == Fx.date("2026-11-25"))
    }

    @Test func serviceFailed_onTheParent_locateAndBackToLocateStage() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.event(2, on: "2026-04-01", .serviceFailed(ServiceOfProcess(partyId: "P-NCP", attemptedOn: Fx.date("2026-03-30")))))
        let locate = try outcome.only(.locate)
        #expect(locate["reason"] == "SERVICE_FAILED")
        #expect(locate["lastKnownAddress"]?["line1"] == "12 Elm St")
        #expect(locate.dueBy == Fx.date("2026-06-15"))
        #expect(driver.current.stage == .locate)
        #expect(driver.current.serviceOfProcess == [ServiceAttempt(partyId: "P-NCP", outcome: .failed, attemptedOn: Fx.date("2026-03-30"))])
        // Served later at the same address: usable again.
        try driver.apply(Fx.event(3, on: "2026-04-20", .serviceCompleted(ServiceOfProcess(partyId: "P-NCP", attemptedOn: Fx.date("2026-04-18")))))
        #expect(driver.current.stage == .enforcement)
        #expect(driver.current.serviceOfProcess.map(\.outcome) == [.completed])
    }

    @Test func serviceFailed_onTheCustodialParty_locatesThem() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.event(2, on: "2026-04-01", .serviceFailed(ServiceOfProcess(partyId: "P-CP", attemptedOn: Fx.date("2026-03-30")))))
        #expect(try outcome.only(.locate)["role"] == "CUSTODIAL_PARTY")
        #expect(driver.current.stage == .enforcement)
    }

    @Test func contemptFinding_reviewDueOnTheComplianceDate() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.event(2, on: "2026-04-01", .contemptFinding(ContemptFinding(
            purgeAmountCents: 75_000, complianceDueOn: Fx.date("2026-05-15")))))
        let review = try outcome.only(.caseReview)
        #expect(review["reason"] == "CONTEMPT_COMPLIANCE")
        #expect(review["purgeAmountCents"] == 75_000)
        #expect(review.dueBy == Fx.date("2026-05-15"))
        #expect(driver.current.contempt?.purgeAmountCents == 75_000)
    }
}
