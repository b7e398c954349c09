import Foundation
import Testing

@testable import CaseDomain

// Every row of domain.md's "Federal timeframes and thresholds" table, and the test that pins it:
//
// | row (default)                                              | test
// |------------------------------------------------------------|-----------------------------------------------------------------
// | open a case after an application (20 days)                 | timeframe_openCase_20CalendarDaysFromReceipt
// | attempt to locate (75 days)                                | timeframe_locate_75CalendarDays, timeframe_locate_countsFromTheAgencyDate
// | establish an order / complete service after locating (90)  | timeframe_establishment_90DaysAfterLocating
// | enforcement action after delinquency (30; 60 with service) | timeframe_enforcement_30Days_60WhenServiceIsNeeded
// | income withholding notice (2 business days)                | timeframe_withholdingNotice_2BusinessDays, ..._acrossAWeekend
// | National Medical Support Notice (2 business days)          | timeframe_medicalSupportNotice_2BusinessDays
// | employer remits (7 business days of payday)                | timeframe_employerRemittance_7BusinessDaysOfPayday
// | distribute collections (2 business days of receipt)        | timeframe_distribution_2BusinessDaysOfReceipt
// | tax refund offset (>= $150 assistance, >= $500 otherwise)  | RulesReferralTests.threshold_taxOffset_150Assistance_500Otherwise
// | passport denial (> $2,500)                                 | RulesReferralTests.threshold_passportDenial_over2500
// | credit bureau (>= $1,000)                                  | RulesReferralTests.threshold_creditBureau_1000
// | license suspension (>= 3 months of current support)        | RulesReferralTests.threshold_licenseSuspension_3MonthsOfSupport
// | CCPA maximum withheld (50%/60%, +5% after 12 weeks)        | threshold_ccpa_60Percent_65AfterTwelveWeeks, threshold_ccpa_50PercentWhenSupportingAnotherFamily
// | review orders in assistance cases (36 months)              | timeframe_orderReview_36MonthsInAssistanceCases
// | notice before closing (60 days)                            | timeframe_closureNotice_60CalendarDays
// | closure criteria                                           | closure_noOrderAndArrearsUnder500, closure_emancipatedWithNoArrears,
// |                                                            | closure_noncustodialParentDeceased, closure_paternityExcluded
//
// Calendar-day timeframes land on whatever day they land on (the federal rules count
// calendar days); business-day timeframes skip weekends and observed federal holidays.

@Suite("Federal timeframes (domain.md table)")
struct RulesTimeframeTests {
    // MARK: Calendar days

    @Test func timeframe_openCase_20CalendarDaysFromReceipt() throws {
        let outcome = try CaseRules.apply(
            Fx.application(on: "2026-03-02", receivedOn: "2026-02-25", ncp: Fx.ncp(ssn: nil)), to: nil, policy: Policy()).get()
        let review = try outcome.only(.caseReview)
        #expect(review["reason"] == "MISSING_INFORMATION")
        #expect(review.dueBy == Fx.date("2026-03-17"))
        #expect(outcome.state.openedOn == Fx.date("2026-03-02"))
    }

    @Test func timeframe_locate_75CalendarDays() throws {
        let outcome = try CaseRules.apply(Fx.application(on: "2026-03-02", ncp: Fx.ncp(address: nil)), to: nil, policy: Policy()).get()
        let locate = try outcome.only(.locate)
        #expect(locate.dueBy == Fx.date("2026-05-16"))
        #expect(locate["reason"] == "NO_ADDRESS_OR_EMPLOYER")
    }

    @Test func timeframe_locate_countsFromTheAgencyDate() throws {
        // 04:30 UTC on March 3 is 22:30 on March 2 in Chicago.
        let event = Fx.application(on: "2026-03-03", hourUTC: 4, ncp: Fx.ncp(address: nil))
        let event0430 = Event(id: event.id, occurredAt: event.occurredAt.addingTimeInterval(30 * 60), source: event.source,
                              caseId: event.caseId, payload: event.payload)
        let outcome = try CaseRules.apply(event0430, to: nil, policy: Policy()).get()
        #expect(try outcome.only(.locate).dueBy == Fx.date("2026-05-16"))
        #expect(outcome.state.openedOn == Fx.date("2026-03-02"))
    }

    @Test func timeframe_establishment_90DaysAfterLocating() throws {
        var driver = CaseDriver()
        // Not located at intake: locate only.
        let intake = try driver.apply(Fx.application(on: "2026-03-02", ncp: Fx.ncp(address: nil),
                                                     children: [Fx.child("K-1", paternity: false)]))
        #expect(intake.tasks(.geneticTesting).isEmpty)
        // Located on April 1: genetic testing due 90 days later.
        let located = try driver.apply(Fx.event(2, on: "2026-04-01", .partyUpdate(PartyUpdate(partyId: "P-NCP", address: Fx.ncpAddress))))
        #expect(try located.only(.geneticTesting).dueBy == Fx.date("2026-06-30"))
        // Paternity established: court preparation to establish the order, again 90 days.
        let established = try driver.apply(Fx.event(3, on: "2026-05-04", .paternityEstablished(PaternityEstablished(childId: "K-1", method: .geneticTest))))
        let preparation = try established.only(.courtPreparation)
        #expect(preparation["reason"] == "ESTABLISHMENT")
        #expect(preparation.dueBy == Fx.date("2026-08-02"))
    }

    @Test func timeframe_enforcement_30Days_60WhenServiceIsNeeded() throws {
        let intake = Fx.application(on: "2026-03-02", existingOrder: Fx.order(judgment: 60_000))
        let thirty = try CaseRules.apply(intake, to: nil, policy: Policy()).get()
        #expect(try thirty.only(.taxOffsetReferral).dueBy == Fx.date("2026-04-01"))
        var policy = Policy()
        policy.referralsNeedingService = [.taxOffsetReferral]
        let sixty = try CaseRules.apply(intake, to: nil, policy: policy).get()
        #expect(try sixty.only(.taxOffsetReferral).dueBy == Fx.date("2026-05-01"))
    }

    @Test func timeframe_orderReview_36MonthsInAssistanceCases() throws {
        // A leap day: 36 months later there is no February 29, so the review falls on the 28th.
        let tanf = try CaseRules.apply(Fx.application(program: .tanf, existingOrder: Fx.order(monthly: 1, effectiveOn: "2024-02-29")),
                                       to: nil, policy: Policy()).get()
        let review = try #require(tanf.tasks(.caseReview).first { $0["reason"] == "ORDER_REVIEW" })
        #expect(review.dueBy == Fx.date("2027-02-28"))
        #expect(review["reviewMonths"] == 36)
        let nonAssistance = try CaseRules.apply(Fx.application(program: .nonTANF, existingOrder: Fx.order()), to: nil, policy: Policy()).get()
        #expect(!nonAssistance.tasks(.caseReview).contains { $0["reason"] == "ORDER_REVIEW" })
    }

    @Test func timeframe_closureNotice_60CalendarDays() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application())
        let outcome = try driver.apply(Fx.event(2, on: "2026-03-10", .partyUpdate(PartyUpdate(partyId: "P-NCP", deceasedOn: Fx.date("2026-03-01")))))
        let review = try outcome.only(.caseReview)
        #expect(review["reason"] == "NONCUSTODIAL_PARENT_DECEASED")
        #expect(review["earliestClosureOn"] == "2026-05-09")
        #expect(review["closureNoticeDays"] == 60)
        #expect(review.dueBy == Fx.date("2026-05-09"))
    }

    // MARK: Business days

    @Test func timeframe_withholdingNotice_2BusinessDays() throws {
        // Received Thursday July 2, 2026; July 4 is a Saturday, observed Friday July 3.
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.newHire(2, on: "2026-07-06", receivedOn: "2026-07-02"))
        #expect(try outcome.only(.incomeWithholding).dueBy == Fx.date("2026-07-07"))
    }

    @Test func timeframe_withholdingNotice_acrossAWeekend() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.newHire(2, on: "2026-03-06"))  // Friday
        #expect(try outcome.only(.incomeWithholding).dueBy == Fx.date("2026-03-10"))
    }

    @Test func timeframe_withholdingNotice_acrossObservedSundayHolidayAndLeapDay() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        // July 4, 2027 is a Sunday, observed Monday July 5: Friday July 2 + 2 = Wednesday July 7.
        #expect(try driver.apply(Fx.newHire(2, on: "2027-07-02")).only(.incomeWithholding).dueBy == Fx.date("2027-07-07"))
        var leap = CaseDriver()
        try leap.apply(Fx.application(existingOrder: Fx.order()))
        // Monday February 28, 2028 + 2 business days = Wednesday March 1 (via the 29th).
        #expect(try leap.apply(Fx.newHire(2, on: "2028-02-28")).only(.incomeWithholding).dueBy == Fx.date("2028-03-01"))
    }

    @Test func timeframe_medicalSupportNotice_2BusinessDays() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(medical: true)))
        let outcome = try driver.apply(Fx.newHire(2, on: "2026-07-06", receivedOn: "2026-07-02"))
        let notice = try outcome.only(.medicalSupportNotice)
        #expect(notice.dueBy == Fx.date("2026-07-07"))
        #expect(notice["childIds"] == ["K-1"])
    }

    @Test func timeframe_employerRemittance_7BusinessDaysOfPayday() throws {
        // Payday Friday March 6: seven business days later is Tuesday March 17.
        for (received, late) in [("2026-03-17", false), ("2026-03-18", true)] {
            var driver = CaseDriver()
            try driver.apply(Fx.application(existingOrder: Fx.order()))
            let outcome = try driver.apply(Fx.remittance(2, on: received, payDate: "2026-03-06", payments: [(Fx.caseId, 10_000)]))
            let disbursement = try outcome.only(.disbursement)
            #expect(disbursement["remittanceDueOn"] == "2026-03-17")
            #expect(disbursement["remittedLate"] == .bool(late))
        }
    }

    @Test func timeframe_distribution_2BusinessDaysOfReceipt() throws {
        // Received Thursday December 24; Christmas (Friday) is closed: Monday 28 is day 1, Tuesday 29 day 2.
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(effectiveOn: "2026-12-01")))
        let outcome = try driver.apply(Fx.remittance(2, on: "2026-12-24", payDate: "2026-12-18", payments: [(Fx.caseId, 10_000)]))
        #expect(try outcome.only(.disbursement).dueBy == Fx.date("2026-12-29"))
    }

    @Test func timeframes_acrossMonthAndYearEnds() throws {
        // Distribution: received Friday January 30, 2026 -> Monday February 2 (1), Tuesday 3 (2).
        var driver = CaseDriver()
        try driver.apply(Fx.application(on: "2026-01-05", existingOrder: Fx.order(effectiveOn: "2026-01-01")))
        let payment = try driver.apply(Fx.remittance(2, on: "2026-01-30", payDate: "2026-01-23", payments: [(Fx.caseId, 10_000)]))
        #expect(try payment.only(.disbursement).dueBy == Fx.date("2026-02-03"))
        // Locate from December 1 runs into the next year: 75 days -> February 14.
        let locate = try CaseRules.apply(Fx.application(on: "2026-12-01", ncp: Fx.ncp(address: nil)), to: nil, policy: Policy()).get()
        #expect(try locate.only(.locate).dueBy == Fx.date("2027-02-14"))
        // Withholding over New Year: Wednesday December 30, 2026 + 2 business days skips
        // Friday January 1 and the weekend -> Monday January 4, 2027.
        var yearEnd = CaseDriver()
        try yearEnd.apply(Fx.application(on: "2026-12-01", existingOrder: Fx.order(effectiveOn: "2026-12-01")))
        #expect(try yearEnd.apply(Fx.newHire(2, on: "2026-12-30")).only(.incomeWithholding).dueBy == Fx.date("2027-01-04"))
        // Order review from a month's last day keeps it when the month has it.
        let review = try CaseRules.apply(Fx.application(program: .tanf, existingOrder: Fx.order(effectiveOn: "2026-01-31")),
                                         to: nil, policy: Policy()).get()
        #expect(review.tasks(.caseReview).first { $0["reason"] == "ORDER_REVIEW" }?.dueBy == Fx.date("2029-01-31"))
    }

    // MARK: CCPA limit

    @Test func threshold_ccpa_60Percent_65AfterTwelveWeeks() throws {
        // Order effective January 1 with nothing paid: the oldest unpaid support is due January 1.
        // Twelve weeks (84 days) later is March 26: not yet older than 12 weeks; March 27 is.
        for (day, percent) in [("2026-03-26", 60), ("2026-03-27", 65)] {
            var driver = CaseDriver()
            try driver.apply(Fx.application(on: "2026-01-02", existingOrder: Fx.order(effectiveOn: "2026-01-01")))
            let withholding = try driver.apply(Fx.newHire(2, on: day)).only(.incomeWithholding)
            #expect(withholding["ccpaLimitPercent"] == .int(Int64(percent)), "on \(day)")
        }
    }

    @Test func threshold_ccpa_50PercentWhenSupportingAnotherFamily() throws {
        var policy = Policy()
        policy.obligorSupportsAnotherFamily = true
        for (day, percent) in [("2026-03-26", 50), ("2026-03-27", 55)] {
            var driver = CaseDriver(policy: policy)
            try driver.apply(Fx.application(on: "2026-01-02", existingOrder: Fx.order(effectiveOn: "2026-01-01")))
            #expect(try driver.apply(Fx.newHire(2, on: day)).only(.incomeWithholding)["ccpaLimitPercent"] == .int(Int64(percent)))
        }
    }

    // MARK: Closure criteria (45 CFR 303.11(b))

    @Test func closure_noOrderAndArrearsUnder500() throws {
        // March's $400 is owed when the order ends on March 31: under $500, a closure review.
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(monthly: 40_000)))
        let under = try driver.apply(Fx.event(2, on: "2026-04-06", .orderTerminated(OrderTermination(
            orderId: "O-1", terminatedOn: Fx.date("2026-03-31"), reason: .other))))
        let review = try under.only(.caseReview)
        #expect(review["reason"] == "NO_CURRENT_ORDER_ARREARS_UNDER_THRESHOLD")
        #expect(review["arrearsCents"] == 40_000)
        // Exactly $500 owed: no closure review.
        var atThreshold = CaseDriver()
        try atThreshold.apply(Fx.application(existingOrder: Fx.order(monthly: 40_000, judgment: 10_000)))
        let at = try atThreshold.apply(Fx.event(2, on: "2026-04-06", .orderTerminated(OrderTermination(
            orderId: "O-1", terminatedOn: Fx.date("2026-03-31"), reason: .other))))
        #expect(at.tasks(.caseReview).isEmpty)
    }

    @Test func closure_emancipatedWithNoArrears() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(monthly: 40_000)))
        try driver.apply(Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13", payments: [(Fx.caseId, 40_000)]))
        let outcome = try driver.apply(Fx.event(3, on: "2026-04-02", .orderTerminated(OrderTermination(
            orderId: "O-1", terminatedOn: Fx.date("2026-03-31"), reason: .emancipation))))
        let review = try outcome.only(.caseReview)
        #expect(review["reason"] == "ORDER_TERMINATED_NO_ARREARS")
        #expect(review["arrearsCents"] == 0)
        #expect(review.dueBy == Fx.date("2026-06-01"))
        let withdrawal = try outcome.only(.incomeWithholding)
        #expect(withdrawal.actionValue == "WITHDRAW")
        #expect(withdrawal["reason"] == "ORDER_TERMINATED")
    }

    @Test func closure_noncustodialParentDeceased() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application())
        let outcome = try driver.apply(Fx.event(2, on: "2026-04-01", .partyUpdate(PartyUpdate(partyId: "P-NCP", deceasedOn: Fx.date("2026-03-28")))))
        #expect(try outcome.only(.caseReview)["reason"] == "NONCUSTODIAL_PARENT_DECEASED")
        #expect(driver.current.noncustodialParty.deceasedOn == Fx.date("2026-03-28"))
    }

    @Test func closure_paternityExcluded() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(children: [Fx.child("K-1", paternity: false)]))
        let outcome = try driver.apply(Fx.event(2, on: "2026-04-01", .paternityExcluded(PaternityExcluded(childId: "K-1"))))
        let review = try outcome.only(.caseReview)
        #expect(review["reason"] == "PATERNITY_EXCLUDED")
        #expect(review.dueBy == Fx.date("2026-05-31"))
        #expect(driver.current.children[0].paternity == .excluded)
        #expect(outcome.tasks(.courtPreparation).isEmpty)  // nobody left to establish an order for
    }
}
