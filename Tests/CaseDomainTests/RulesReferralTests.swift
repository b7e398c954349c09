import CaseContract
import Foundation
import Testing

@testable import CaseDomain

/// The arrears referrals: each issued once when its threshold is crossed and
/// withdrawn when arrears fall back. Arrears at intake come from judgment
/// arrears on an order effective March 1 (the March charge itself is current
/// support, not yet past due), so the judgment is exactly the arrears.
@Suite("Arrears referrals")
struct RulesReferralTests {
    /// Every remedy taken the day its threshold is crossed, as when a state
    /// gives no contest period of its own: the thresholds alone. The notice
    /// and contest period before credit reporting, licenses and levies are
    /// `RulesProcessTests`'.
    static let atOnce: Policy = {
        var policy = Policy()
        policy.contestDays = [:]
        return policy
    }()

    private func intake(program: Program = .nonTANF, judgment: Cents, monthly: Cents = 40_000, policy: Policy = atOnce) throws -> RuleOutcome {
        try CaseRules.apply(Fx.application(program: program, existingOrder: Fx.order(monthly: monthly, judgment: judgment)),
                            to: nil, policy: policy).get()
    }

    @Test func threshold_taxOffset_150Assistance_500Otherwise() throws {
        for program in [Program.tanf, .fosterCare] {
            #expect(try intake(program: program, judgment: 14_999).tasks(.taxOffsetReferral).isEmpty)
            let issued = try intake(program: program, judgment: 15_000).only(.taxOffsetReferral)
            #expect(issued["thresholdCents"] == 15_000)
            #expect(issued["arrearsCents"] == 15_000)
            #expect(try intake(program: program, judgment: 15_001).tasks(.taxOffsetReferral).count == 1)
        }
        for program in [Program.nonTANF, .medicaid, .interstate] {
            #expect(try intake(program: program, judgment: 15_000).tasks(.taxOffsetReferral).isEmpty)
            #expect(try intake(program: program, judgment: 49_999).tasks(.taxOffsetReferral).isEmpty)
            #expect(try intake(program: program, judgment: 50_000).only(.taxOffsetReferral)["thresholdCents"] == 50_000)
            #expect(try intake(program: program, judgment: 50_001).tasks(.taxOffsetReferral).count == 1)
        }
    }

    @Test func threshold_passportDenial_over2500() throws {
        #expect(try intake(judgment: 249_999).tasks(.passportDenial).isEmpty)
        #expect(try intake(judgment: 250_000).tasks(.passportDenial).isEmpty)  // strictly more than $2,500
        let issued = try intake(judgment: 250_001).only(.passportDenial)
        #expect(issued.actionValue == "ISSUE")
        #expect(issued["arrearsCents"] == 250_001)
    }

    @Test func basis_namesTheRuleTheFactsAndWhenTheThresholdWasCrossed() throws {
        let issued = try intake(judgment: 61_240).only(.taxOffsetReferral)
        #expect(issued["basis"] == [
            "rule": "42 USC 664; 45 CFR 303.72", "pastDueCents": 61_240, "thresholdCents": 50_000, "crossedOn": "2026-03-02",
            "countedFrom": "2026-03-02", "days": 30,
        ])
        let passport = try intake(judgment: 250_001).only(.passportDenial)
        #expect(passport["basis"]?["rule"] == "42 USC 652(k); 45 CFR 303.6")
    }

    @Test func threshold_creditBureau_1000() throws {
        #expect(try intake(judgment: 99_999).tasks(.creditBureauReport).isEmpty)
        #expect(try intake(judgment: 100_000).only(.creditBureauReport)["thresholdCents"] == 100_000)
        #expect(try intake(judgment: 100_001).tasks(.creditBureauReport).count == 1)
    }

    @Test func threshold_licenseSuspension_3MonthsOfSupport() throws {
        // $400 a month: three months is $1,200.
        #expect(try intake(judgment: 119_999).tasks(.licenseSuspension).isEmpty)
        #expect(try intake(judgment: 120_000).only(.licenseSuspension)["thresholdCents"] == 120_000)
        var policy = Self.atOnce
        policy.licenseSuspensionMonthsOfSupport = 2
        #expect(try intake(judgment: 80_000, policy: policy).tasks(.licenseSuspension).count == 1)
    }

    @Test func thresholds_areConfigurable() throws {
        var policy = Self.atOnce
        policy.creditBureauThresholdCents = 50_000
        policy.taxOffsetNonAssistanceThresholdCents = 70_000
        policy.assistancePrograms = [.tanf, .fosterCare, .medicaid]
        let outcome = try intake(program: .nonTANF, judgment: 60_000, policy: policy)
        #expect(outcome.tasks(.creditBureauReport).count == 1)
        #expect(outcome.tasks(.taxOffsetReferral).isEmpty)
        #expect(try intake(program: .medicaid, judgment: 15_000, policy: policy).tasks(.taxOffsetReferral).count == 1)
    }

    @Test func referral_issuedOnce_whileArrearsStayAbove() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(judgment: 60_000)))
        #expect(driver.current.referral(.taxOffsetReferral) != nil)
        // A later event with arrears still above: nothing new.
        let later = try driver.apply(Fx.newHire(2, on: "2026-03-05", employer: Fx.bolt))
        #expect(later.tasks(.taxOffsetReferral).isEmpty)
        #expect(driver.published.filter { $0.type == .taxOffsetReferral }.count == 1)
    }

    @Test func referral_withdrawals_taxOffsetBelowThreshold_passportOnlyAtZero() throws {
        var driver = CaseDriver(policy: Self.atOnce)
        // $3,000 judgment arrears: tax offset, credit bureau, passport and license ($400 x 3) all issue.
        let intake = try driver.apply(Fx.application(existingOrder: Fx.order(monthly: 40_000, judgment: 300_000)))
        #expect(Set(intake.tasks.filter { TaskType.arrearsReferrals.contains($0.type) }.map(\.type)) == Set(TaskType.arrearsReferrals))

        // Pay March's $400 plus $2,600 of arrears: $400 left. Tax offset ($500) and credit
        // bureau ($1,000) fall away; passport and license wait for zero.
        let partly = try driver.apply(Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13", payments: [(Fx.caseId, 300_000)]))
        let withdrawn = partly.tasks.filter { $0.actionValue == "WITHDRAW" }.map(\.type)
        #expect(Set(withdrawn) == [.taxOffsetReferral, .creditBureauReport])
        #expect(partly.tasks(.taxOffsetReferral).first?["arrearsCents"] == 40_000)
        #expect(driver.current.referrals.map(\.type) == [.licenseSuspension, .passportDenial])

        // The last $400: passport and license are withdrawn too.
        let paidOff = try driver.apply(Fx.remittance(3, on: "2026-03-27", payDate: "2026-03-20", payments: [(Fx.caseId, 40_000)]))
        #expect(Set(paidOff.tasks.filter { $0.actionValue == "WITHDRAW" }.map(\.type)) == [.passportDenial, .licenseSuspension])
        #expect(driver.current.referrals.isEmpty)
    }

    @Test func referral_reissuedAfterFallingBackAndCrossingAgain() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(monthly: 40_000, judgment: 60_000)))
        try driver.apply(Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13", payments: [(Fx.caseId, 60_000)]))
        #expect(driver.current.referral(.taxOffsetReferral) == nil)
        // $600 paid March 20: $400 to March, $200 to the judgment, leaving $400 (< $500).
        // April's support is past due from May 1: $800, over the threshold that day.
        let sweep = CaseRules.reevaluate(driver.current, asOf: Fx.date("2026-06-01"), causationId: Fx.eventId(900), policy: Policy())
        #expect(try sweep.only(.taxOffsetReferral).actionValue == "ISSUE")
        #expect(try sweep.only(.taxOffsetReferral)["arrearsCents"] == 80_000)
        #expect(try sweep.only(.taxOffsetReferral)["asOf"] == "2026-05-01")
    }

    @Test func sweep_accrualCrossesThresholdWithoutAnEvent_deterministically() throws {
        var driver = CaseDriver(policy: Self.atOnce)
        try driver.apply(Fx.application(existingOrder: Fx.order(monthly: 20_000)))
        #expect(driver.current.referrals.isEmpty)
        let may = CaseRules.reevaluate(driver.current, asOf: Fx.date("2026-05-01"), causationId: Fx.eventId(901), policy: Self.atOnce)
        #expect(may.tasks.isEmpty)  // March + April = $400
        // A sweep judges the days that are over: June 1 (May's support past due) once June 1 has passed.
        #expect(CaseRules.reevaluate(may.state, asOf: Fx.date("2026-06-01"), causationId: Fx.eventId(903), policy: Self.atOnce).tasks.isEmpty)
        let sweepId = Fx.eventId(902)
        let june = CaseRules.reevaluate(may.state, asOf: Fx.date("2026-06-02"), causationId: sweepId, policy: Self.atOnce)
        let taxOffset = try june.only(.taxOffsetReferral)
        #expect(taxOffset["arrearsCents"] == 60_000)
        #expect(taxOffset["asOf"] == "2026-06-01")
        #expect(taxOffset.dueBy == Fx.date("2026-07-01"))
        #expect(taxOffset.causationId == sweepId)
        // Start of June 2 in Chicago (CDT) is 05:00 UTC.
        #expect(RFC3339.utcString(taxOffset.createdAt) == "2026-06-02T05:00:00Z")
        #expect(june.tasks(.licenseSuspension).count == 1)  // 3 x $200
        // The same sweep again: same ids from the same inputs; applied to its own result, nothing.
        let again = CaseRules.reevaluate(may.state, asOf: Fx.date("2026-06-02"), causationId: sweepId, policy: Self.atOnce)
        #expect(again.tasks.map(\.id) == june.tasks.map(\.id))
        #expect(CaseRules.reevaluate(june.state, asOf: Fx.date("2026-06-02"), causationId: sweepId, policy: Self.atOnce).tasks.isEmpty)
    }

    @Test func sweep_onClosedCase_publishesNothing() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(monthly: 20_000)))
        try driver.apply(Fx.event(2, on: "2026-03-03", .closureRequest(ClosureRequest(reason: "asked"))))
        try driver.apply(Fx.event(3, on: "2026-05-02", .closureRequest(ClosureRequest(reason: "notice over"))))
        #expect(driver.current.isClosed)
        #expect(CaseRules.reevaluate(driver.current, asOf: Fx.date("2027-01-01"), causationId: Fx.eventId(903), policy: Policy()).tasks.isEmpty)
    }

    @Test func aLateEventAfterASweep_keepsWhatTheSweepJudged() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order(monthly: 20_000)))
        // Through June 1: March, April and May past due, $600: tax offset.
        #expect(driver.sweep(asOf: Fx.date("2026-06-02"), id: 904).tasks.map(\.type).contains(.taxOffsetReferral))
        // An event that occurred in March arrives now: the case is re-derived in
        // business order and still judged through June 1; only the hearing is new.
        let late = try driver.apply(Fx.event(5, on: "2026-03-10", .hearingScheduled(HearingScheduled(
            hearingId: "H-1", hearingType: .enforcement, scheduledFor: Fx.instant("2026-04-15"), courtName: "Pulaski"))))
        #expect(late.tasks.map(\.type) == [.courtPreparation])
        #expect(late.tasks[0].causationId == Fx.eventId(5))
        #expect(driver.current.referral(.taxOffsetReferral) != nil)
        #expect(driver.current.referralsEvaluatedThrough == Fx.date("2026-06-02"))
    }

    @Test func closingTheCase_withdrawsReferralsAndWithholding() throws {
        var driver = CaseDriver(policy: Self.atOnce)
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(medical: true, judgment: 60_000)))
        try driver.apply(Fx.event(2, on: "2026-03-03", .closureRequest(ClosureRequest(reason: "asked"))))
        let closing = try driver.apply(Fx.event(3, on: "2026-05-02", .closureRequest(ClosureRequest(reason: "notice over"))))
        #expect(closing.tasks.allSatisfy { $0.actionValue == "WITHDRAW" })
        #expect(Set(closing.tasks.map(\.type)) == [.incomeWithholding, .medicalSupportNotice, .taxOffsetReferral])
        // After closing, a payment still goes out to the family, but nothing else.
        let payment = try driver.apply(Fx.remittance(4, on: "2026-05-20", payDate: "2026-05-15", payments: [(Fx.caseId, 10_000)]))
        #expect(payment.tasks.map(\.type) == [.disbursement])
        let hearing = try driver.apply(Fx.event(5, on: "2026-05-21", .hearingScheduled(HearingScheduled(
            hearingId: "H-9", hearingType: .enforcement, scheduledFor: Fx.instant("2026-07-01"), courtName: "Pulaski"))))
        #expect(hearing.tasks.isEmpty)
        #expect(hearing.changes == ["case closed: no court-preparation for hearing:H-9"])
    }
}
