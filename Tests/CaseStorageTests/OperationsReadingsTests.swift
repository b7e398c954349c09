import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Operations readings: the supervisors' view for the metrics")
struct OperationsReadingsTests {
    let builder = CaseBuilder()

    @Test("an empty database reads as nothing open, nothing past due, an empty outbox")
    func empty() throws {
        try withMigratedStore("operations_empty") { scratch, _, _ in
            let readings = try OperationsReader(connection: scratch.connection, timeZone: "America/Chicago").read()
            #expect(readings == OperationsReadings(
                casesByStage: [:], openReferralsByType: [:], tasksPastDueByType: [:], outboxBacklog: 0, oldestUnpublishedSeconds: 0))
        }
    }

    @Test("cases by stage, open referrals by type, the outbox backlog and its oldest message's age")
    func caseload() throws {
        try withMigratedStore("operations_caseload") { scratch, store, _ in
            let tasks = try save(lifeOfCase("CS-820"), store: store)
            let (opened, openedHistory) = try builder.apply(Array(lifeOfCase("CS-821", ncpSSN: "923456781").prefix(1)))
            try store.withBatch { batch in
                _ = try batch.recordEvents(processed(openedHistory.map(\.eventId)))
                _ = try batch.lockAndLoad(caseIds: ["CS-821"])
                try batch.save(cases: [CaseChange(state: opened, history: openedHistory)], outbox: [], parked: [], outcomes: [:])
            }
            // Referrals as the worker's projection keeps them; the rules' own are replaced by a known set.
            try scratch.connection.execute("DELETE FROM referrals")
            try scratch.connection.execute(
                """
                INSERT INTO referrals (case_id, task_type, status, arrears_cents, since, task_id)
                VALUES ('CS-820', 'tax-offset-referral', 'ISSUED', 60000, '2026-05-01', $1),
                       ('CS-821', 'tax-offset-referral', 'ISSUED', 70000, '2026-05-01', $2),
                       ('CS-821', 'credit-bureau-report', 'ISSUED', 120000, '2026-05-01', $3)
                """, UUID(), UUID(), UUID())
            try scratch.connection.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")

            let readings = try OperationsReader(connection: scratch.connection, timeZone: "America/Chicago").read()
            let stages = try scratch.connection.query("SELECT stage FROM cases ORDER BY case_id").map {
                CaseStage(rawValue: try $0.decode(String.self, column: 0))!
            }
            #expect(readings.casesByStage == Dictionary(stages.map { ($0, 1) }, uniquingKeysWith: +))
            #expect(readings.openReferralsByType == [.taxOffsetReferral: 2, .creditBureauReport: 1])
            #expect(readings.outboxBacklog == tasks.count)
            #expect(readings.oldestUnpublishedSeconds >= 90 && readings.oldestUnpublishedSeconds < 3_600)

            try scratch.connection.execute("UPDATE outbox SET published_at = now()")
            let drained = try OperationsReader(connection: scratch.connection, timeZone: "America/Chicago").read()
            #expect(drained.outboxBacklog == 0 && drained.oldestUnpublishedSeconds == 0)
        }
    }

    @Test("past due: ISSUE tasks still unpublished with dueBy before today, in the agency's days")
    func pastDue() throws {
        try withMigratedStore("operations_past_due") { scratch, store, _ in
            // Business dates early in 2026, so every dueBy lies before today.
            var tasks = try save(lifeOfCase("CS-830"), store: store)
            let issued = tasks.filter { $0.action == .issue }
            try #require(!issued.isEmpty)
            let withdrawal = CaseTask(
                type: issued[0].type, action: .withdraw, caseId: "CS-830", target: issued[0].target,
                causationId: UUID(), createdAt: issued[0].createdAt, dueBy: issued[0].dueBy, data: issued[0].data, basis: issued[0].basis)
            try store.withBatch { try $0.enqueueOutbox([OutboxMessage(task: withdrawal)]) }
            tasks.append(withdrawal)
            func pastDue() throws -> [TaskType: Int] {
                try OperationsReader(connection: scratch.connection, timeZone: "America/Chicago").read().tasksPastDueByType
            }
            // WITHDRAW tasks and dead letters have no dueBy: only ISSUE tasks count.
            let dueBy = try scratch.connection.query("SELECT message_id, due_by::text FROM outbox").map {
                (try $0.decode(UUID.self, column: 0), try $0.decode(String?.self, column: 1))
            }
            #expect(Dictionary(uniqueKeysWithValues: dueBy) == Dictionary(
                uniqueKeysWithValues: tasks.map { ($0.id, $0.action == .issue ? $0.dueBy.description : nil) }))
            #expect(try pastDue() == Dictionary(issued.map { ($0.type, 1) }, uniquingKeysWith: +))

            // Published: with its office, no longer waiting past due.
            try scratch.connection.execute("UPDATE outbox SET published_at = now()")
            #expect(try pastDue() == [:])

            // Due today in the agency's zone (whatever the UTC date): not past due yet; due yesterday: past due.
            let first = try #require(issued.first)
            try scratch.connection.execute(
                "UPDATE outbox SET published_at = NULL, due_by = (now() AT TIME ZONE 'America/Chicago')::date WHERE message_id = $1",
                first.id)
            #expect(try pastDue() == [:])
            try scratch.connection.execute("UPDATE outbox SET due_by = due_by - 1 WHERE message_id = $1", first.id)
            #expect(try pastDue() == [first.type: 1])
        }
    }

    @Test("one session per schema collects the supervisors' view; another takes over when it ends")
    func oneCollector() throws {
        try withMigratedStore("operations_collector") { scratch, _, _ in
            let first = try OperationsReader(connection: try scratch.connect(), timeZone: "America/Chicago")
            let second = try OperationsReader(connection: try scratch.connect(), timeZone: "America/Chicago")
            #expect(try first.claimCollectorRole())
            #expect(try first.claimCollectorRole(), "a collector stays one")
            #expect(try !second.claimCollectorRole())
            // Another schema (deployment) in the same database has its own collector.
            try withMigratedStore("operations_collector_other") { other, _, _ in
                let elsewhere = try OperationsReader(connection: try other.connect(), timeZone: "America/Chicago")
                #expect(try elsewhere.claimCollectorRole())
            }
            first.close()
            // The server releases the lock as the closed session's backend exits, a moment later.
            let deadline = ContinuousClock.now + .seconds(10)
            var tookOver = try second.claimCollectorRole()
            while !tookOver && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                tookOver = try second.claimCollectorRole()
            }
            #expect(tookOver)
        }
    }

    /// Saves the events' outcome as a worker would (cases, history, tasks in the outbox); the tasks.
    private func save(_ events: [ScenarioEvent], store: CaseStore) throws -> [CaseTask] {
        let caseId = try #require(events.first?.caseId)
        let (state, history) = try builder.apply(events)
        let tasks = history.flatMap(\.tasks)
        try store.withBatch { batch in
            _ = try batch.recordEvents(processed(history.map(\.eventId)))
            _ = try batch.lockAndLoad(caseIds: [caseId])
            try batch.save(
                cases: [CaseChange(state: state, history: history)], outbox: tasks.map(OutboxMessage.init(task:)), parked: [],
                outcomes: [:])
        }
        return tasks
    }
}
