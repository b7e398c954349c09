import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Kafka
import Postgres
import Synchronization
import Testing
import TestSupport

/// Workers whose partitions share people and cases: a batch does not queue
/// behind another transaction holding one of them, it leaves the events that
/// need it (and what follows them about the same people and cases) for a
/// later batch.
@Suite("Pipeline: lock contention", .timeLimit(.minutes(2)))
struct ContentionTests {
    static let day = ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15)

    static func hearing(_ caseId: String, on day: ScenarioDate = "2026-05-18") -> ScenarioEvent {
        ScenarioEvents.hearingScheduled(
            caseId: caseId, hearingType: .enforcement, scheduledFor: day.at(hour: 14),
            occurredAt: ScenarioDate(stringLiteral: "2026-04-01").at(hour: 15))
    }

    static func record(_ harness: PipelineHarness, _ event: ScenarioEvent, partition: Int32, offset: Int64) -> InboundRecord {
        InboundRecord(
            topic: harness.topics.prefix + event.topic, partition: partition, offset: offset, key: event.key, value: event.value)
    }

    @Test func aBatchLeavesWhatAnotherTransactionHolds_withWhatFollowsAboutTheSamePeople_andAppliesTheOthers() async throws {
        try await withHarness(workers: 0) { h in
            let ssnA = "934300001"
            let intakes = ["HOLD-A", "HOLD-B", "HOLD-C"].enumerated().map { index, caseId in
                ScenarioEvents.intakeApplication(
                    caseId: caseId,
                    noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: index == 0 ? ssnA : "93430000\(index + 1)"),
                    occurredAt: Self.day)
            }
            let processor = try h.processor()
            #expect(try processor.process(h.records(intakes)).applied == 3)

            // Another worker's batch holds case HOLD-A until released.
            let holder = try await CaseHolder.hold("HOLD-A", in: h)

            let batch = [
                Self.record(h, Self.hearing("HOLD-A"), partition: 0, offset: 10),  // needs HOLD-A
                Self.record(h, Self.hearing("HOLD-C"), partition: 1, offset: 0),
                // Behind HOLD-A in its partition, about another case: goes ahead.
                Self.record(h, Self.hearing("HOLD-B"), partition: 0, offset: 11),
                Self.record(h, ScenarioEvents.newHire(ssn: ssnA, occurredAt: Self.day), partition: 2, offset: 4),  // HOLD-A's parent
                Self.record(h, Self.hearing("HOLD-C", on: "2026-05-19"), partition: 3, offset: 0),
                // About a person left for later in this batch: after it, not before.
                Self.record(h, ScenarioEvents.intakeApplication(
                    caseId: "HOLD-D", noncustodialParty: .sampleNoncustodial(caseId: "HOLD-D", ssn: ssnA), occurredAt: Self.day),
                    partition: 4, offset: 0),
            ]
            let first = try await onThread { try processor.process(batch, contention: .deferConflicting) }
            #expect(first.deferred == [0, 3, 5])
            #expect(first.records == 3)
            #expect(first.applied == 3)
            #expect(try h.count("SELECT count(*) FROM processed_events") == 6)
            #expect(try h.count("SELECT count(*) FROM case_history WHERE case_id IN ('HOLD-A', 'HOLD-B')") == 3)

            try await holder.release()

            let rest = first.deferred.map { batch[$0] }
            let second = try await onThread { try processor.process(rest, contention: .deferConflicting) }
            #expect(second.deferred.isEmpty)
            #expect(second.applied == 3)
            #expect(try h.count("SELECT count(*) FROM case_history WHERE case_id = 'HOLD-A'") == 3)
            #expect(try h.count("SELECT count(*) FROM case_history WHERE case_id = 'HOLD-B'") == 2)
            #expect(try h.count("SELECT count(*) FROM cases WHERE case_id = 'HOLD-D'") == 1)
        }
    }

    @Test func waitingForTheLocks_takesEverythingOnceTheyAreFree() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let intake = ScenarioEvents.intakeApplication(caseId: "WAIT-A", occurredAt: Self.day)
            #expect(try processor.process(h.records([intake])).applied == 1)

            let holder = try await CaseHolder.hold("WAIT-A", in: h)
            let done = Mutex(false)
            let waiting = Task {
                try await onThread { () -> BatchReport in
                    defer { done.withLock { $0 = true } }
                    return try processor.process([Self.record(h, Self.hearing("WAIT-A"), partition: 0, offset: 1)], contention: .wait)
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let finishedEarly = done.withLock { $0 }
            #expect(!finishedEarly, "the batch did not wait for the lock")
            try await holder.release()
            let report = try await waiting.value
            #expect(report.deferred.isEmpty)
            #expect(report.applied == 1)
        }
    }
}

/// Another worker's batch transaction holding a case's identity lock until released.
private struct CaseHolder {
    let connection: PostgresConnection
    let releaseSignal: DispatchSemaphore
    let holding: Task<Void, any Error>

    static func hold(_ caseId: String, in harness: PipelineHarness) async throws -> CaseHolder {
        let connection = try PostgresConnection(connectionString: harness.databaseURL, connectTimeout: .seconds(5))
        let store = CaseStore(connection: connection, protector: harness.protector, calendar: BusinessCalendar(), cachedStates: 2_000, logger: Services.logger)
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holding = Task {
            try await onThread {
                try store.withBatch { batch in
                    _ = try batch.claim(IdentityClaim(caseIds: [caseId]), contention: .wait)
                    locked.signal()
                    release.wait()
                }
            }
        }
        try await onThread { locked.wait() }
        return CaseHolder(connection: connection, releaseSignal: release, holding: holding)
    }

    func release() async throws {
        releaseSignal.signal()
        try await holding.value
        connection.close()
    }
}
