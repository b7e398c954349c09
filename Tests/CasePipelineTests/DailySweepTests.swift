import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Postgres
import Synchronization
import Testing
import TestSupport

/// `csworker run --daily-sweep-at HH:MM`: when the day's sweep is due, and
/// that one process of several runs it.
@Suite("Pipeline: the in-process daily sweep", .timeLimit(.minutes(2)))
struct DailySweepTests {
    static let chicago = BusinessCalendar()

    static func instant(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func timesOfDayAreHHMM() {
        #expect(TimeOfDay("05:30") == TimeOfDay(hour: 5, minute: 30))
        #expect(TimeOfDay("00:00")?.description == "00:00")
        for bad in ["5:30", "24:00", "05:60", "0530", "aa:bb", "05:30:00", "", "+5:30", "05: 3"] {
            #expect(TimeOfDay(bad) == nil, "\(bad)")
        }
    }

    @Test func dueFromTheTimeInTheAgencyZoneUntilMidnight() {
        let at0530 = TimeOfDay(hour: 5, minute: 30)!
        // 05:29 and 05:30 CDT.
        #expect(DailySweep.dueDate(at: Self.instant("2026-06-01T10:29:59Z"), time: at0530, calendar: Self.chicago) == nil)
        #expect(DailySweep.dueDate(at: Self.instant("2026-06-01T10:30:00Z"), time: at0530, calendar: Self.chicago) == "2026-06-01")
        // 23:59 CDT is still June 1 in Chicago, though June 2 in UTC.
        #expect(DailySweep.dueDate(at: Self.instant("2026-06-02T04:59:00Z"), time: at0530, calendar: Self.chicago) == "2026-06-01")
        // 00:10 CDT June 2: before the time again.
        #expect(DailySweep.dueDate(at: Self.instant("2026-06-02T05:10:00Z"), time: at0530, calendar: Self.chicago) == nil)
    }

    /// 2026-03-08: Chicago's clocks jump from 02:00 CST to 03:00 CDT; 02:30 never happens.
    @Test func aTimeInTheSkippedHourFiresWhenTheClockJumpsPastIt() {
        let at0230 = TimeOfDay(hour: 2, minute: 30)!
        #expect(DailySweep.dueDate(at: Self.instant("2026-03-08T07:59:00Z"), time: at0230, calendar: Self.chicago) == nil)
        #expect(DailySweep.dueDate(at: Self.instant("2026-03-08T08:00:00Z"), time: at0230, calendar: Self.chicago) == "2026-03-08")
    }

    /// Arrears of $900 on June 1 cross the $500 tax-offset threshold: the sweep of
    /// June 2 (which judges the days before it) issues the referral.
    @Test func oneProcessSweepsADateTheOthersSkipIt() async throws {
        let h = try await PipelineHarness.make()
        do {
            let caseId = "DLY-1"
            let applied = try h.processor().process(h.records([
                ScenarioEvents.intakeApplication(
                    caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934200011", employer: nil),
                    occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15)),
                ScenarioEvents.orderEstablished(
                    caseId: caseId, monthlySupportCents: 45_000, effectiveOn: "2026-04-01",
                    occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15)),
            ]))
            #expect(applied.applied == 2)

            let now = Mutex(Self.instant("2026-06-02T10:29:00Z"))  // 05:29 in Chicago
            let clock: @Sendable () -> Date = { now.withLock { $0 } }
            let first = try h.dailySweep(at: TimeOfDay(hour: 5, minute: 30)!, clock: clock)
            let second = try h.dailySweep(at: TimeOfDay(hour: 5, minute: 30)!, clock: clock)
            #expect(try first.schedule.runOnce() == .notYet)

            now.withLock { $0 = Self.instant("2026-06-02T10:31:00Z") }
            // Another session holds the lock (a sweep in progress elsewhere): this one waits its turn.
            let holder = try PostgresConnection(connectionString: h.databaseURL, connectTimeout: .seconds(5))
            defer { holder.close() }
            let whileHeld = try SweepRuns(connection: holder).whileLocked { try first.schedule.runOnce() }
            #expect(whileHeld == .busy)

            // Both at once: exactly one sweeps.
            let outcomes: [DailySweep.Outcome] = try await withThrowingTaskGroup(of: DailySweep.Outcome.self) { group in
                for process in [first, second] { group.addTask { try await onThread { try process.schedule.runOnce() } } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let swept = outcomes.compactMap { outcome -> ReferralSweep.Report? in
                if case .swept(let report) = outcome { return report }
                return nil
            }
            #expect(swept.count == 1, "\(outcomes)")
            #expect(swept.first?.asOf == "2026-06-02")
            #expect(swept.first?.tasksByType == [TaskType.taxOffsetReferral: 1])
            let others = outcomes.filter { outcome in
                if case .swept = outcome { return false }
                return true
            }
            #expect(others.allSatisfy { $0 == DailySweep.Outcome.busy || $0 == DailySweep.Outcome.alreadyDone("2026-06-02") }, "\(outcomes)")
            #expect(try first.schedule.runOnce() == .alreadyDone("2026-06-02"))
            #expect(try second.schedule.runOnce() == .alreadyDone("2026-06-02"))
            #expect(try h.count("SELECT count(*) FROM sweep_runs WHERE as_of = '2026-06-02'") == 1)
            #expect(try h.count("SELECT count(*) FROM outbox WHERE topic = $1", h.topics.tasks(.taxOffsetReferral)) == 1)

            // The next day is a new date.
            now.withLock { $0 = Self.instant("2026-06-03T10:31:00Z") }
            guard case .swept(let nextDay) = try second.schedule.runOnce() else {
                Issue.record("June 3 was not swept")
                throw CancellationError()
            }
            #expect(nextDay.asOf == "2026-06-03" && nextDay.casesEvaluated == 1)
            first.connection.close()
            second.connection.close()
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }
}

extension PipelineHarness {
    /// A worker process's schedule: its own session, as `csworker run` wires it.
    func dailySweep(at time: TimeOfDay, clock: @escaping @Sendable () -> Date) throws -> (schedule: DailySweep, connection: PostgresConnection) {
        let connection = try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5))
        let store = CaseStore(connection: connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 0, logger: Services.logger)
        let schedule = DailySweep(
            at: time, calendar: BusinessCalendar(), sweep: ReferralSweep(store: store, topics: topics, policy: Policy(), logger: Services.logger),
            runs: SweepRuns(connection: connection), clock: clock, logger: Services.logger)
        return (schedule, connection)
    }
}
