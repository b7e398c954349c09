import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Processing status, parked-event expiry and the database probe")
struct ProcessingStatusTests {
    let builder = CaseBuilder()
    static let deadLetterTopic = "cse.deadletter.v1"

    func deadLetter(_ errorClass: String, eventId: UUID?, topic: String = deadLetterTopic) -> OutboxMessage {
        var headers = [OutboxHeader(name: "error-class", value: errorClass)]
        if let eventId { headers.append(OutboxHeader(name: "event-id", value: eventId.uuidString.lowercased())) }
        return OutboxMessage(
            messageId: UUID(), topic: topic, key: Array("k".utf8), value: Array("{".utf8), headers: headers,
            containsPersonalData: true)
    }

    func parked(_ match: ParkedEvent.Match) -> ParkedEvent {
        ParkedEvent(eventId: UUID(), match: match, topic: "cse.employer-reports.v1", partition: 0, offset: 0, key: [], value: [1])
    }

    @Test("an empty database reads as all zeros, no dead letters and no throughput span")
    func empty() throws {
        try withMigratedStore("status_empty") { scratch, _, _ in
            let reader = ProcessingStatusReader(connection: scratch.connection, deadLetterTopic: Self.deadLetterTopic)
            let status = try reader.read()
            #expect(status.events == .init(recorded: 0, applied: 0, parked: 0, deadLettered: 0, recordingSpanSeconds: 0))
            #expect(status.parked == .init(reportsWithoutPerson: 0, waitingForCase: 0))
            #expect(status.casesByStage.isEmpty && status.cases == 0)
            #expect(status.tasksByType.isEmpty)
            #expect(status.outbox == .init(published: 0, waiting: 0))
            #expect(status.deadLettersByClass.isEmpty)
            #expect(try reader.progress() == ProcessingProgress(accounted: 0, unpublished: 0, waitingForCase: 0))
        }
    }

    @Test("counts events by outcome, parked events by kind, cases by stage, tasks by type and action, the outbox and dead letters by class")
    func counts() throws {
        try withMigratedStore("status_counts") { scratch, store, protector in
            let (enforced, enforcedHistory) = try builder.apply(lifeOfCase("CS-810"))
            let (opened, openedHistory) = try builder.apply(Array(lifeOfCase("CS-811", ncpSSN: "923456781").prefix(1)))
            let history = enforcedHistory + openedHistory
            let tasks = history.flatMap(\.tasks)
            let refusedId = UUID()
            let parkedIds = [UUID(), UUID()]
            try store.withBatch { batch in
                _ = try batch.recordEvents(processed(history.map(\.eventId)))
                _ = try batch.recordEvents(processed(parkedIds + [refusedId], topic: "cse.employer-reports.v1"))
                _ = try batch.lockAndLoad(caseIds: ["CS-810", "CS-811"])
                try batch.save(
                    cases: [
                        CaseChange(state: enforced, history: enforcedHistory), CaseChange(state: opened, history: openedHistory),
                    ],
                    outbox: tasks.map(OutboxMessage.init(task:)) + [
                        deadLetter("malformed-json", eventId: nil),
                        deadLetter("unknown-case", eventId: refusedId),
                        deadLetter("malformed-json", eventId: nil),
                        // Another topic's messages are not this deployment's dead letters.
                        deadLetter("schema-violation", eventId: nil, topic: "cse.deadletter.other"),
                    ],
                    parked: [
                        parked(.ssn(protector.hash(SSN("934000001")!))), parked(.caseId("CS-899")), parked(.caseId("CS-899")),
                    ],
                    outcomes: [parkedIds[0]: .parked, parkedIds[1]: .parked, refusedId: .deadLettered])
            }
            let outboxRows = tasks.count + 4
            try scratch.connection.execute(
                "UPDATE outbox SET published_at = now() WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT 3)")

            let reader = ProcessingStatusReader(connection: scratch.connection, deadLetterTopic: Self.deadLetterTopic)
            let status = try reader.read()
            #expect(status.events.recorded == history.count + 3)
            #expect(status.events.applied == history.count)
            #expect(status.events.parked == 2)
            #expect(status.events.deadLettered == 1)
            #expect(status.events.recordingSpanSeconds >= 0)
            #expect(status.parked.reportsWithoutPerson == 1 && status.parked.waitingForCase == 2 && status.parked.waitingForOrder == 0)
            #expect(status.parked.oldestWaitingSeconds >= 0)

            #expect(enforced.stage != opened.stage)
            #expect(status.casesByStage == [enforced.stage: 1, opened.stage: 1])
            #expect(status.cases == 2)

            var expectedTasks: [TaskType: ProcessingStatus.TaskCounts] = [:]
            for task in tasks {
                switch task.action {
                case .issue: expectedTasks[task.type, default: .init()].issued += 1
                case .withdraw: expectedTasks[task.type, default: .init()].withdrawn += 1
                }
            }
            #expect(!expectedTasks.isEmpty)
            #expect(status.tasksByType == expectedTasks)

            #expect(status.outbox == .init(published: 3, waiting: outboxRows - 3))
            #expect(status.deadLettersByClass == [
                .init(errorClass: "malformed-json", count: 2), .init(errorClass: "unknown-case", count: 1),
            ])
            // Recorded events, plus dead letters of records that never decoded (no event id).
            #expect(try reader.progress() == ProcessingProgress(
                accounted: history.count + 3 + 2, unpublished: outboxRows - 3, waitingForCase: 2))
        }
    }

    @Test("expired parked events: only case matches parked longer than the grace, each case once, sorted, limited")
    func expiredParked() throws {
        try withMigratedStore("expiry") { scratch, store, protector in
            try store.withBatch { batch in
                try batch.park([
                    parked(.caseId("CS-703")), parked(.caseId("CS-701")), parked(.caseId("CS-701")), parked(.caseId("CS-702")),
                    parked(.caseId("CS-704")), parked(.ssn(protector.hash(SSN("934000002")!))),
                ])
            }
            // Age everything but CS-704 by an hour (parked_at is the server's clock at park time).
            try scratch.connection.execute(
                "UPDATE parked_events SET parked_at = parked_at - interval '1 hour' WHERE match_key <> 'CS-704'")

            #expect(try store.casesWithExpiredParkedEvents(olderThan: .seconds(600)) == ["CS-701", "CS-702", "CS-703"])
            #expect(try store.casesWithExpiredParkedEvents(olderThan: .seconds(600), limit: 2) == ["CS-701", "CS-702"])
            #expect(try store.casesWithExpiredParkedEvents(olderThan: .seconds(7200)).isEmpty)
            #expect(try store.casesWithExpiredParkedEvents(olderThan: .milliseconds(0)) == [
                "CS-701", "CS-702", "CS-703", "CS-704",
            ])
            // Read-only: nothing was taken.
            #expect(try count(scratch.connection, "parked_events") == 6)
        }
    }

    @Test("the database probe writes and reads back rows in one transaction and leaves no table behind")
    func probe() throws {
        let connection = try TestDatabase.connect()
        defer { connection.close() }
        #expect(try DatabaseProbe.roundTrip(connection: connection, rows: 60) == 60)
        #expect(try DatabaseProbe.roundTrip(connection: connection, rows: 1) == 1)
        let left = try connection.query("SELECT to_regclass('pg_temp.selfcheck') IS NULL")[0].decode(Bool.self, column: 0)
        #expect(left)
    }

    @Test("storage failures: retriable database errors are transient, request errors and other errors are not")
    func transient() {
        #expect(StorageFailure.isTransient(PostgresError(kind: .serializationFailure, message: "m", operation: "o")))
        #expect(StorageFailure.isTransient(PostgresError(kind: .connectionLost, message: "m", operation: "o")))
        #expect(!StorageFailure.isTransient(PostgresError(kind: .uniqueViolation, message: "m", operation: "o")))
        #expect(!StorageFailure.isTransient(CaseBuilder.BuilderError.noState))
    }
}
