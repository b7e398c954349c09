import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import Foundation
import Testing

/// One end-to-end scenario per rule family: events produced to the input
/// topics, a worker applying them, tasks read back from the task topics and
/// the case read back through the read model. Events are fed one at a time
/// (each waits for the previous to be recorded) so the scenario's order holds
/// across topics.
@Suite("Pipeline: rule families end to end", .timeLimit(.minutes(2)))
struct RuleFamilyTests {
    static let day1 = ScenarioDate(stringLiteral: "2026-03-02")

    @Test func intakeWithAnUnlocatedParent_publishesLocate() async throws {
        try await withHarness { h in
            let caseId = "LOC-1"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId,
                noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934100001", address: nil, employer: nil),
                occurredAt: Self.day1.at(hour: 15)))

            let locate = try await h.waitForTasks { $0.caseId == caseId && $0.type == "locate" }
            #expect(locate.map(\.action) == ["ISSUE"])
            #expect(locate.first?.dueBy == "2026-05-16")  // 75 calendar days

            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.stage == "LOCATE")
            #expect(view.employer == nil)
            #expect(view.history.map(\.eventType) == ["intake.application"])
            #expect(view.history.first?.tasks.map(\.type).contains("locate") == true)
            #expect(view.parties.allSatisfy { $0.ssn == nil || $0.ssn!.hasPrefix("***-**-") })
        }
    }

    @Test func newHire_issuesIncomeWithholdingAndTheMedicalSupportNotice() async throws {
        try await withHarness { h in
            let caseId = "HIRE-1", ssn = "934100002"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn),
                occurredAt: Self.day1.at(hour: 15)))
            try await h.feed(ScenarioEvents.orderEstablished(
                caseId: caseId, medicalSupportOrdered: true, effectiveOn: "2026-04-01",
                occurredAt: ScenarioDate(stringLiteral: "2026-03-10").at(hour: 15)))
            let hire = ScenarioEvents.newHire(ssn: ssn, occurredAt: ScenarioDate(stringLiteral: "2026-03-16").at(hour: 14))
            try await h.feed(hire)

            let withholding = try await h.waitForTasks { $0.caseId == caseId && $0.type == "income-withholding" }
            #expect(withholding.map(\.action) == ["ISSUE"])
            #expect(withholding.first?.causationId == hire.eventId)
            #expect(withholding.first?.dueBy == "2026-03-18")  // 2 business days
            #expect(withholding.first?.data["employer"]?["fein"]?.stringValue?.filter(\.isNumber) == ScenarioEmployer.sample.fein)
            let notice = try await h.waitForTasks { $0.caseId == caseId && $0.type == "medical-support-notice" }
            #expect(notice.map(\.action) == ["ISSUE"])

            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.stage == "ENFORCEMENT")
            #expect(view.employer?.fein.filter(\.isNumber) == ScenarioEmployer.sample.fein)
            #expect(view.monthlySupportCents == 45_000)
            #expect(view.history.last?.tasks.map(\.type).sorted() == ["income-withholding", "medical-support-notice"])
            // The key of every task is the case id.
            #expect(h.collector.all.filter { $0.topic != h.topics.deadLetter }.allSatisfy { $0.key == caseId })
        }
    }

    @Test func courtOrder_withAKnownEmployer_issuesIncomeWithholding() async throws {
        try await withHarness { h in
            let caseId = "ORD-1"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId,
                noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934100003", employer: .sample),
                occurredAt: Self.day1.at(hour: 15)))
            let order = ScenarioEvents.orderEstablished(
                caseId: caseId, monthlySupportCents: 52_500, effectiveOn: "2026-04-01",
                occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15))
            try await h.feed(order)

            let withholding = try await h.waitForTasks { $0.caseId == caseId && $0.type == "income-withholding" }
            #expect(withholding.count == 1)
            #expect(withholding.first?.action == "ISSUE")
            #expect(withholding.first?.causationId == order.eventId)
            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.stage == "ENFORCEMENT")
            #expect(view.monthlySupportCents == 52_500)
            #expect(view.history.map(\.eventType) == ["intake.application", "court.order-established"])
        }
    }

    @Test func remittance_disburses_andArrearsReachTheReferralThresholds() async throws {
        try await withHarness { h in
            let caseId = "PAY-1"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934100004", employer: .sample),
                occurredAt: Self.day1.at(hour: 15)))
            // A $3,000 judgment plus March's unpaid $450: above the tax-offset ($500), credit
            // ($1,000), license (3 x $450) and passport (> $2,500) thresholds.
            try await h.feed(ScenarioEvents.orderEstablished(
                caseId: caseId, effectiveOn: "2026-03-01", judgmentArrearsCents: 300_000,
                occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15)))
            // Tax offset and passport denial at once; credit reporting and the license
            // after a notice of intent with 30 days to contest (contestBy April 11).
            let referrals = try await h.waitForTasks(2) { $0.caseId == caseId && TaskType.arrearsReferrals.map(\.rawValue).contains($0.type) }
            #expect(Set(referrals.map(\.type)) == ["tax-offset-referral", "passport-denial"])
            #expect(referrals.allSatisfy { $0.action == "ISSUE" })
            let notices = try await h.waitForTasks(2) { $0.caseId == caseId && $0.type == "party-notice" }
            #expect(Set(notices.compactMap { $0.data["remedy"]?.stringValue }) == ["credit-bureau-report", "license-suspension"])
            #expect(notices.allSatisfy { $0.data["contestBy"]?.stringValue == "2026-04-11" })

            let remittance = ScenarioEvents.remittance(
                payments: [(caseId, 45_000)], receivedOn: "2026-04-10", occurredAt: ScenarioDate(stringLiteral: "2026-04-10").at(hour: 16))
            try await h.feed(remittance)
            let disbursement = try await h.waitForTasks { $0.caseId == caseId && $0.type == "disbursement" }
            #expect(disbursement.first?.action == "ISSUE")
            #expect(disbursement.first?.data["amountCents"]?.intValue == 45_000)
            #expect(disbursement.first?.causationId == remittance.eventId)

            let view = try #require(try h.show(caseId, asOf: "2026-04-10"))
            #expect(view.arrearsCents == 345_000)  // the remittance paid April's $450 (current support first)
            #expect(Set(view.referrals.map(\.type)) == ["tax-offset-referral", "passport-denial"])
            #expect(view.referrals.first { $0.type == "tax-offset-referral" }?.basis
                        == "tax offset: past-due $3000.00 >= $500.00 on 2026-03-12, 42 USC 664; 45 CFR 303.72")
            #expect(view.pending.filter { $0.process == "ENFORCEMENT_INTENT" }.map(\.dueOn) == ["2026-04-11", "2026-04-11"])
        }
    }

    @Test func hearingScheduled_publishesCourtPreparationBeforeTheHearing() async throws {
        try await withHarness { h in
            let caseId = "HRG-1"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934100005", employer: .sample),
                existingOrder: ScenarioOrderTerms(orderId: "\(caseId)-O1", effectiveOn: "2026-03-01"),
                occurredAt: Self.day1.at(hour: 15)))
            let hearing = ScenarioEvents.hearingScheduled(
                caseId: caseId, hearingType: .enforcement, scheduledFor: ScenarioDate(stringLiteral: "2026-04-20").at(hour: 14),
                occurredAt: ScenarioDate(stringLiteral: "2026-03-16").at(hour: 15))
            try await h.feed(hearing)

            let preparation = try await h.waitForTasks { $0.caseId == caseId && $0.causationId == hearing.eventId }
            #expect(preparation.map(\.type) == ["court-preparation"])
            #expect(preparation.first?.dueBy == "2026-04-06")  // 10 business days before the hearing
            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.history.last?.eventType == "court.hearing-scheduled")
            #expect(view.history.last?.tasks.map(\.type) == ["court-preparation"])
        }
    }

    @Test func termination_withdrawsTheWithholding_afterItsIssue() async throws {
        try await withHarness { h in
            let caseId = "TRM-1", ssn = "934100006"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn, employer: .sample),
                existingOrder: ScenarioOrderTerms(orderId: "\(caseId)-O1", effectiveOn: "2026-03-01"),
                occurredAt: Self.day1.at(hour: 15)))
            try await h.feed(ScenarioEvents.termination(ssn: ssn, occurredAt: ScenarioDate(stringLiteral: "2026-04-06").at(hour: 15)))

            let withholding = try await h.waitForTasks(2) { $0.caseId == caseId && $0.type == "income-withholding" }
            // Same topic, same key: the WITHDRAW is published after the ISSUE it undoes.
            #expect(withholding.map(\.action) == ["ISSUE", "WITHDRAW"])
            #expect(withholding.last?.data["reason"]?.stringValue == "TERMINATED")
            let view = try #require(try h.show(caseId, asOf: "2026-04-30"))
            #expect(view.employer == nil)
            #expect(view.history.last?.tasks.map(\.action).contains("WITHDRAW") == true)
        }
    }

    @Test func closure_requestReviewedThenClosedAfterTheNoticePeriod() async throws {
        try await withHarness { h in
            let caseId = "CLS-1"
            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934100007", employer: .sample),
                existingOrder: ScenarioOrderTerms(orderId: "\(caseId)-O1", effectiveOn: "2026-03-01"),
                occurredAt: Self.day1.at(hour: 15)))
            let request = ScenarioEvents.closureRequest(caseId: caseId, occurredAt: ScenarioDate(stringLiteral: "2026-03-04").at(hour: 15))
            try await h.feed(request)
            let review = try await h.waitForTasks { $0.caseId == caseId && $0.causationId == request.eventId }
            #expect(review.map(\.type) == ["case-review"])
            #expect(review.first?.data["reason"]?.stringValue == "CLOSURE_REQUESTED")

            let again = ScenarioEvents.closureRequest(caseId: caseId, occurredAt: ScenarioDate(stringLiteral: "2026-05-11").at(hour: 15))
            try await h.feed(again)
            // Closing withdraws the withholding in force.
            let withdrawn = try await h.waitForTasks { $0.caseId == caseId && $0.causationId == again.eventId }
            #expect(withdrawn.contains { $0.type == "income-withholding" && $0.action == "WITHDRAW" })
            let view = try #require(try h.show(caseId, asOf: "2026-05-31"))
            #expect(view.stage == "CLOSED")
            #expect(view.history.count == 3)
        }
    }
}

/// Runs `body` with a fresh harness and one worker, shutting both down after.
func withHarness(
    workers: Int = 1, waitingHorizon: Duration = .seconds(3600), _ body: (PipelineHarness) async throws -> Void
) async throws {
    let harness = try await PipelineHarness.make()
    for _ in 0..<workers { try harness.startWorker(waitingHorizon: waitingHorizon) }
    do {
        try await body(harness)
    } catch {
        await harness.shutDown()
        throw error
    }
    await harness.shutDown()
}

extension PipelineHarness {
    /// Produces one event and waits until it is recorded (applied, parked or refused).
    func feed(_ event: ScenarioEvent, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let before = try processedEvents
        try await produce([event])
        try await eventually(timeout: .seconds(30), "the \(event.type) event is recorded", sourceLocation: sourceLocation) {
            try processedEvents > before
        }
    }
}

extension LocalDate: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = LocalDate(iso8601: value)! }
}
