import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Postgres
import Testing

/// `csworker sweep`: arrears referrals that become due with the calendar alone.
@Suite("Pipeline: time-driven sweep", .timeLimit(.minutes(2)))
struct SweepTests {
    /// A nonTANF order of $450/month from April with no payment ever: arrears
    /// are $450 from May 1, $900 from June 1 (tax offset at $500), $1,350 from
    /// July 1 (credit bureau at $1,000; license suspension at 3 months of support).
    /// A sweep as of a date judges the days before it (a day once it is over).
    @Test func sweepAcrossMonthBoundaries_enqueuesWhatBecameDue_once_andNeverBackwards() async throws {
        let h = try await PipelineHarness.make()
        do {
            let caseId = "SWP-1"
            let events = [
                ScenarioEvents.intakeApplication(
                    caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934200001", employer: nil),
                    occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15)),
                ScenarioEvents.orderEstablished(
                    caseId: caseId, monthlySupportCents: 45_000, effectiveOn: "2026-04-01",
                    occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15)),
            ]
            let applied = try h.processor().process(h.records(events))
            #expect(applied.applied == 2)
            let sweep = try h.sweep()

            let may = try sweep.run(asOf: "2026-05-31")
            #expect(may.casesEvaluated == 1)
            #expect(may.tasks == 0)

            #expect(try sweep.run(asOf: "2026-06-01").tasks == 0)
            // A dry run reports what the sweep would do and writes nothing.
            let outboxBeforeJune = try h.count("SELECT count(*) FROM outbox")
            let historyBeforeJune = try h.count("SELECT count(*) FROM case_history")
            let dryJune = try sweep.run(asOf: "2026-06-02", dryRun: true)
            #expect(dryJune.tasksByType == [.taxOffsetReferral: 1])
            #expect(try h.count("SELECT count(*) FROM outbox") == outboxBeforeJune)
            #expect(try h.count("SELECT count(*) FROM case_history") == historyBeforeJune)
            let june = try sweep.run(asOf: "2026-06-02")
            #expect(june.tasksByType == [.taxOffsetReferral: 1])
            let outboxAfterJune = try h.count("SELECT count(*) FROM outbox")

            let juneAgain = try sweep.run(asOf: "2026-06-02")
            #expect(juneAgain.tasks == 0)
            #expect(juneAgain.casesChanged == 0)
            #expect(try h.count("SELECT count(*) FROM outbox") == outboxAfterJune)

            // Credit reporting and the license are announced July 1 (30 days to contest)
            // and taken by the sweep that judges July 31.
            let july = try sweep.run(asOf: "2026-07-02")
            #expect(july.tasksByType == [.partyNotice: 2])
            #expect(try sweep.run(asOf: "2026-07-31").tasks == 0)
            let august = try sweep.run(asOf: "2026-08-01")
            #expect(august.tasksByType == [.creditBureauReport: 1, .licenseSuspension: 1])

            // Earlier than a sweep already run: evaluated as of July, nothing new, nothing withdrawn.
            let back = try sweep.run(asOf: "2026-06-15")
            #expect(back.casesEvaluated == 1)
            #expect(back.tasks == 0)
            #expect(try h.count("SELECT count(*) FROM outbox") == outboxAfterJune + 4)

            // The case remembers why: one history entry per sweep that changed it.
            let view = try #require(try h.show(caseId, asOf: "2026-07-01"))
            #expect(view.history.filter { $0.eventType == ReferralSweep.historyEventType }.count == 3)

            // A worker's relay publishes them with the sweep's deterministic causation id.
            try h.startWorker()
            // Generous: under the whole suite's load the collector's join alone can take most of 30 s.
            let taxOffset = try await h.waitForTasks(timeout: .seconds(75)) { $0.caseId == caseId && $0.type == "tax-offset-referral" }
            #expect(taxOffset.map(\.action) == ["ISSUE"])
            #expect(taxOffset.first?.causationId == Self.causation("2026-06-02"))
            try await h.waitForTasks { $0.caseId == caseId && $0.type == "license-suspension" }
            try await eventually(timeout: .seconds(30), "the outbox is drained") { try h.unpublished == 0 }
            let swept = h.collector.tasks.filter {
                [Self.causation("2026-06-02"), Self.causation("2026-07-02"), Self.causation("2026-08-01")].contains($0.causationId)
            }
            #expect(swept.map(\.type).sorted() == ["credit-bureau-report", "license-suspension", "party-notice", "party-notice", "tax-offset-referral"])
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }

    @Test func closedCasesAreNotSwept() async throws {
        let h = try await PipelineHarness.make()
        do {
            let caseId = "SWP-2"
            let events = [
                ScenarioEvents.intakeApplication(
                    caseId: caseId, occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15)),
                ScenarioEvents.orderEstablished(
                    caseId: caseId, effectiveOn: "2026-04-01", occurredAt: ScenarioDate(stringLiteral: "2026-03-04").at(hour: 15)),
                // A closure takes a request, a notice period, then a second request.
                ScenarioEvents.closureRequest(
                    caseId: caseId, occurredAt: ScenarioDate(stringLiteral: "2026-03-05").at(hour: 15)),
                ScenarioEvents.closureRequest(
                    caseId: caseId, occurredAt: ScenarioDate(stringLiteral: "2026-06-15").at(hour: 15)),
            ]
            _ = try h.processor().process(h.records(events))
            try #require(try h.count("SELECT count(*) FROM cases WHERE stage = 'CLOSED'") == 1)
            let report = try h.sweep().run(asOf: "2026-09-01")
            #expect(report.casesEvaluated == 0)
            #expect(report.tasks == 0)
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }
}

extension SweepTests {
    static func causation(_ date: LocalDate) -> String {
        TaskIdentity.sweepCausationId(asOf: date).uuidString.lowercased()
    }
}

extension PipelineHarness {
    /// A sweep on its own connection, as `csworker sweep` runs one.
    func sweep(batchSize: Int = 500) throws -> ReferralSweep {
        let connection = try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5))
        return ReferralSweep(
            store: CaseStore(connection: connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 0, logger: Services.logger),
            topics: topics, policy: Policy(), batchSize: batchSize, logger: Services.logger)
    }
}
