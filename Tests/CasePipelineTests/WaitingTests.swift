import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Testing

/// Events that need something not there yet -- the application that opens
/// their case, the order they modify -- wait in the database (offsets
/// committed) and apply in business order when it arrives; only past the
/// operator's horizon, counted from when they were first parked, are they
/// dead-lettered. Driven batch by batch (no broker), with the parking time
/// moved back in the database to stand for the hours that pass.
@Suite("Pipeline: waiting for the case or the order, up to the horizon", .timeLimit(.minutes(2)))
struct WaitingTests {
    static let day = ScenarioDate(stringLiteral: "2026-03-02")

    /// Moves every parked event's clock back, as if `seconds` had passed since it was parked.
    static func age(_ h: PipelineHarness, by seconds: Int) throws {
        _ = try h.connection.execute("UPDATE parked_events SET parked_at = parked_at - make_interval(secs => $1::float8)", Double(seconds))
    }

    static func waitingFor(_ h: PipelineHarness) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try h.connection.query("SELECT match_kind, count(*) FROM parked_events GROUP BY 1") {
            counts[try row.decode(String.self, column: 0)] = try row.decode(Int.self, column: 1)
        }
        return counts
    }

    /// Issue 20: an employer report about a person on no case is never
    /// dead-lettered (the horizon is for cases and orders); it is kept for the
    /// policy's retention, then deleted with its sealed SSN, while one still
    /// inside the retention stays and still applies when its person's case opens.
    @Test func anEmployerReportAboutNobody_isKeptForTheRetention_thenDeleted() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let old = ScenarioEvents.newHire(ssn: "934300091", occurredAt: Self.day.at(hour: 14))
            let recent = ScenarioEvents.newHire(ssn: "934300092", occurredAt: Self.day.at(hour: 15))
            #expect(try processor.process(h.records([old])).parked == 1)
            try Self.age(h, by: 366 * 86_400)  // a year and a day
            #expect(try processor.process(h.records([recent], firstOffset: 1)).parked == 1)
            try Self.age(h, by: 364 * 86_400)  // the old one is two years old now, the recent one 364 days

            // The horizon's sweep leaves both: they wait for a person, not a case.
            #expect(try processor.expireParked(olderThan: .seconds(3_600)).deadLettered == 0)
            #expect(try Self.waitingFor(h) == ["ssn": 2])
            var status = try ProcessingStatusReader(connection: h.connection, deadLetterTopic: h.topics.deadLetter).read()
            #expect(status.parked.reportsWithoutPerson == 2 && status.parked.oldestReportWithoutPersonSeconds >= 729 * 86_400)

            #expect(try processor.deleteExpiredUnmatchedReports() == 1)
            #expect(try processor.deleteExpiredUnmatchedReports() == 0)
            #expect(try Self.waitingFor(h) == ["ssn": 1])
            status = try ProcessingStatusReader(connection: h.connection, deadLetterTopic: h.topics.deadLetter).read()
            #expect(status.parked.reportsWithoutPerson == 1 && status.parked.oldestReportWithoutPersonSeconds < 365 * 86_400)
            #expect(try h.count("SELECT count(*) FROM outbox WHERE topic = $1", h.topics.deadLetter) == 0)

            // Chunks: a shorter retention deletes in statements of `chunk` rows, up to `maxChunks`.
            let store = CaseStore(connection: h.connection, protector: h.protector, calendar: BusinessCalendar(), cachedStates: 2_000)
            #expect(try store.deleteUnmatchedReports(olderThanDays: 1, chunk: 1, maxChunks: 1) == 1)
            #expect(try Self.waitingFor(h) == [:])
        }
    }

    @Test func aCourtEventParkedAnHourBeforeItsIntake_isAppliedWhenTheIntakeArrives() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let caseId = "WAIT-1"
            let order = ScenarioEvents.orderEstablished(
                caseId: caseId, effectiveOn: "2026-03-01", occurredAt: Self.day.adding(days: 3).at(hour: 15))
            let first = try processor.process(h.records([order]))
            #expect(first.parked == 1 && first.applied == 0)
            #expect(try Self.waitingFor(h) == ["case": 1])

            // An hour passes; the horizon (two hours here) has not.
            try Self.age(h, by: 3_600)
            #expect(try processor.expireParked(olderThan: .seconds(7_200)).deadLettered == 0)
            #expect(try Self.waitingFor(h) == ["case": 1])
            let status = try ProcessingStatusReader(connection: h.connection, deadLetterTopic: h.topics.deadLetter).read()
            #expect(status.parked.waitingForCase == 1 && status.parked.oldestWaitingSeconds >= 3_600)

            let intake = ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934300001", employer: .sample),
                occurredAt: Self.day.at(hour: 15))
            let second = try processor.process(h.records([intake], firstOffset: 1))
            #expect(second.applied == 1 && second.unparked == 1)
            #expect(try Self.waitingFor(h).isEmpty)
            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.stage == "ENFORCEMENT" && view.monthlySupportCents == 45_000)
            #expect(view.history.map(\.eventType) == ["intake.application", "court.order-established"])
        }
    }

    @Test func anEventWhoseCaseNeverComes_isDeadLetteredOnlyOnceTheHorizonHasPassed() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let orphan = ScenarioEvents.unknownCase(caseId: "NEVER-OPENED-9")
            #expect(try processor.process(h.records([orphan])).parked == 1)
            #expect(try processor.expireParked(olderThan: .seconds(3_600)).deadLettered == 0)
            try Self.age(h, by: 3_000)
            #expect(try processor.expireParked(olderThan: .seconds(3_600)).deadLettered == 0)
            try Self.age(h, by: 700)
            let expired = try processor.expireParked(olderThan: .seconds(3_600))
            #expect(expired.deadLettered == 1)
            #expect(try Self.waitingFor(h).isEmpty)
            let letters = try h.connection.query(
                "SELECT count(*) FROM outbox WHERE sealed AND headers @> $1::jsonb",
                #"[{"name":"error-class","value":"unknown-case"}]"#)
            #expect(try letters[0].decode(Int.self, column: 0) == 1)
            #expect(try h.count("SELECT count(*) FROM processed_events WHERE outcome = 'dead-lettered'") == 1)
        }
    }

    @Test func aModificationBeforeItsOrder_waitsForTheOrder_andAppliesInBusinessOrder() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let caseId = "WAIT-2"
            let intake = ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934300002", employer: .sample),
                occurredAt: Self.day.at(hour: 15))
            let order = ScenarioEvents.orderEstablished(
                caseId: caseId, monthlySupportCents: 40_000, effectiveOn: "2026-04-01", occurredAt: Self.day.adding(days: 10).at(hour: 15))
            let modification = ScenarioEvents.orderModified(
                caseId: caseId, monthlySupportCents: 52_500, effectiveOn: "2026-06-01", occurredAt: Self.day.adding(days: 80).at(hour: 15))
            #expect(try processor.process(h.records([intake])).applied == 1)
            // The modification overtakes its order: it waits for it, not a dead letter.
            let early = try processor.process(h.records([modification], firstOffset: 1))
            #expect(early.parked == 1 && early.deadLettered == 0)
            #expect(try Self.waitingFor(h) == ["order": 1])
            try Self.age(h, by: 1_800)
            let parkedAt = try h.connection.query("SELECT parked_at FROM parked_events")[0].decode(Date.self, column: 0)

            let entered = try processor.process(h.records([order], firstOffset: 2))
            #expect(entered.applied == 1 && entered.unparked == 1)
            #expect(try Self.waitingFor(h).isEmpty)
            let view = try #require(try h.show(caseId, asOf: "2026-06-15"))
            #expect(view.monthlySupportCents == 52_500)
            // The amended withholding notice went to the employer on file.
            let notices = try h.connection.query(
                "SELECT count(*) FROM outbox WHERE topic = $1 AND convert_from(value, 'UTF8')::jsonb -> 'data' ->> 'amended' = 'true'",
                h.topics.tasks(.incomeWithholding))
            #expect(try notices[0].decode(Int.self, column: 0) == 1)
            #expect(parkedAt < Date())
        }
    }

    @Test func aModificationWhoseOrderNeverComes_isDeadLetteredPastTheHorizon_andTheClockSurvivesReparking() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let caseId = "WAIT-3"
            let modification = ScenarioEvents.orderModified(
                caseId: caseId, orderId: "NO-SUCH-ORDER", monthlySupportCents: 30_000, occurredAt: Self.day.adding(days: 5).at(hour: 15))
            // First it waits for its case, then (the case opened) for its order.
            #expect(try processor.process(h.records([modification])).parked == 1)
            try Self.age(h, by: 3_000)
            let intake = ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934300003", employer: nil),
                occurredAt: Self.day.at(hour: 15))
            #expect(try processor.process(h.records([intake], firstOffset: 1)).applied == 1)
            #expect(try Self.waitingFor(h) == ["order": 1])
            // Parked 50 minutes ago, not just now: the horizon counts from the first parking.
            let waited = try h.connection.query("SELECT extract(epoch FROM now() - parked_at)::float8 FROM parked_events")[0]
                .decode(Double.self, column: 0)
            #expect(waited >= 3_000)
            #expect(try processor.expireParked(olderThan: .seconds(3_600)).deadLettered == 0)
            try Self.age(h, by: 700)
            let expired = try processor.expireParked(olderThan: .seconds(3_600))
            #expect(expired.deadLettered == 1)
            let letters = try h.connection.query(
                "SELECT count(*) FROM outbox WHERE sealed AND headers @> $1::jsonb",
                #"[{"name":"error-class","value":"processing-failed"}]"#)
            #expect(try letters[0].decode(Int.self, column: 0) == 1)
        }
    }
}
