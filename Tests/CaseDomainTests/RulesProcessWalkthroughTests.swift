import CaseContract
import Foundation
import Testing

@testable import CaseDomain

/// One case through every process, in the order a caseworker meets them:
/// notices of intent, a contest upheld, a review, an agreement kept then
/// broken, the order modified, the debt paid, the order ended, the case closed
/// when its notice ran out. Each step's tasks and dates are pinned; the
/// transcript (`CSE_WALKTHROUGH=1`) is what the closing note quotes.
@Suite("Processes: one case from notice to closure")
struct RulesProcessWalkthroughTests {
    @Test func oneCase_noticeContestReviewAgreementClosure() throws {
        var driver = CaseDriver()
        var transcript: [String] = []
        func record(_ label: String, _ tasks: [CaseTask]) {
            transcript.append(label)
            for task in tasks {
                var what = "  \(task.type.rawValue) \(task.action.rawValue) due \(task.dueBy)"
                for key in ["notice", "remedy", "contestBy", "closeOn", "reviewDueBy", "reason"] {
                    if let value = task[key]?.stringValue { what += " \(key)=\(value)" }
                }
                transcript.append(what)
            }
        }
        func step(_ label: String, _ event: Event) throws -> RuleOutcome {
            let outcome = try driver.apply(event)
            record("\(label):", outcome.tasks)
            return outcome
        }
        func sweep(_ date: String, _ id: Int) -> RuleOutcome {
            let outcome = driver.sweep(asOf: Fx.date(date), id: id)
            record("sweep as of \(date):", outcome.tasks)
            return outcome
        }

        // $400 a month from March 1 and $1,200 of judgment arrears: over the tax
        // offset ($500), credit ($1,000) and license (3 x $400) thresholds.
        let intake = try step("2026-03-02 intake.application", Fx.application(existingOrder: Fx.order(judgment: 120_000)))
        #expect(try intake.only(.taxOffsetReferral).actionValue == "ISSUE")
        #expect(intake.tasks(.partyNotice).map { $0["contestBy"] } == ["2026-04-01", "2026-04-01"])

        try step("2026-03-10 intake.remedy-contested license-suspension", RulesProcessTests.contest(2, on: "2026-03-10", .licenseSuspension))
        let review = try step("2026-03-16 intake.review-requested by the noncustodial parent", Fx.event(3, on: "2026-03-16", .reviewRequested(
            ReviewRequested(requestedBy: .noncustodialParty, requestedOn: Fx.date("2026-03-16")))))
        #expect(try review.only(.caseReview).dueBy == Fx.date("2026-09-12"))

        let april = sweep("2026-04-02", 90)
        #expect(try april.only(.creditBureauReport).actionValue == "ISSUE")
        #expect(april.tasks(.licenseSuspension).isEmpty)  // contested: held

        let upheld = try step("2026-04-15 intake.contest-decided UPHELD", RulesProcessTests.decision(4, on: "2026-04-15", .licenseSuspension, .upheld))
        #expect(try upheld.only(.licenseSuspension).dueBy == Fx.date("2026-05-15"))

        let signed = try step("2026-04-20 intake.payment-agreement $500.00 a month from May", RulesProcessTests.agreement(
            5, on: "2026-04-20", monthly: 50_000, firstDueOn: "2026-05-01"))
        #expect(try signed.only(.licenseSuspension)["reason"] == "PAYMENT_AGREEMENT")
        try step("2026-05-05 collection.received $500.00", RulesProcessTests.payment(6, on: "2026-05-05", cents: 50_000))

        let broken = sweep("2026-07-01", 91)
        #expect(try broken.only(.partyNotice)["contestBy"] == "2026-07-30")
        #expect(broken.changes.contains { $0.hasPrefix("payment agreement AG-1 broken") })

        // The review's outcome: new terms. The license went out when July 30 passed.
        let modified = try step("2026-08-03 court.order-modified $300.00 from September", Fx.event(7, on: "2026-08-03", .orderModified(
            OrderModification(orderId: "O-1", monthlySupportCents: 30_000, effectiveOn: Fx.date("2026-09-01"), medicalSupportOrdered: false))))
        #expect(try modified.only(.licenseSuspension).actionValue == "ISSUE")
        #expect(driver.current.processes.review == nil)

        // Paid in full, then the order ends: nothing is owed, so the recipient is told the case will close.
        let paid = try step("2026-10-05 collection.received $10,000.00", RulesProcessTests.payment(8, on: "2026-10-05", cents: 1_000_000))
        #expect(Set(paid.tasks.filter { $0.actionValue == "WITHDRAW" }.map(\.type)) == [.taxOffsetReferral, .creditBureauReport, .licenseSuspension, .passportDenial])
        let ended = try step("2026-10-06 court.order-terminated", Fx.event(9, on: "2026-10-06", .orderTerminated(OrderTermination(
            orderId: "O-1", terminatedOn: Fx.date("2026-10-06"), reason: .emancipation))))
        let intent = try #require(ended.tasks(.partyNotice).first)
        #expect(intent["notice"] == "CLOSURE_INTENT")
        #expect(intent["closeOn"] == "2026-12-05")

        sweep("2026-12-05", 92)
        #expect(!driver.current.isClosed)
        sweep("2026-12-06", 93)
        #expect(driver.current.closedOn == Fx.date("2026-12-05"))

        if ProcessInfo.processInfo.environment["CSE_WALKTHROUGH"] != nil { print(transcript.joined(separator: "\n")) }
    }
}
