import CaseContract
import CaseDomain
import CaseScenarios
import CaseStorage
import Foundation
import Postgres
import Testing

@testable import CasePipeline

/// A batch that fails for good is narrowed to the records that cause it:
/// those are dead-lettered as `processing-failed`, the rest applies, and
/// nothing but a deployment problem stops the worker.
@Suite("Pipeline: a failing batch is narrowed, never fatal", .timeLimit(.minutes(2)))
struct NarrowingTests {
    /// What the database says of a name holding NUL.
    static let invalidByteSequence = PostgresError(
        kind: .other, message: "invalid byte sequence for encoding \"UTF8\": 0x00",
        operation: "pipeline statement 2 of 8 (cs_insert_parties)", sqlState: "22021", severity: "ERROR")

    static func records(_ count: Int) -> [InboundRecord] {
        (0..<count).map { InboundRecord(topic: "t", partition: Int32($0 % 6), offset: Int64($0), key: nil, value: []) }
    }

    /// A stand-in for the processor: a piece fails while it holds a poison record.
    struct FakeProcessor {
        var poison: Set<Int64>
        var failure: any Error = NarrowingTests.invalidByteSequence
        var transactions = 0
        var applied: [Int64] = []
        var refused: [Int64] = []

        mutating func process(_ records: [InboundRecord]) throws -> BatchReport {
            transactions += 1
            if records.contains(where: { poison.contains($0.offset) }) { throw failure }
            applied += records.map(\.offset)
            var report = BatchReport()
            report.records = records.count
            report.applied = records.count
            return report
        }

        mutating func refuse(_ record: InboundRecord, _ error: any Error) -> BatchReport {
            transactions += 1
            refused.append(record.offset)
            var report = BatchReport()
            report.records = 1
            report.deadLettered = 1
            return report
        }
    }

    @Test func aBatchOf2000With3PoisonRecords_deadLettersExactlyThose3_andApplies1997() throws {
        var fake = FakeProcessor(poison: [17, 1_024, 1_999])
        let records = Self.records(2_000)
        #expect(throws: PostgresError.self) { try fake.process(records) }
        let report = try BatchNarrowing.apply(
            records, failedWith: Self.invalidByteSequence, process: { try fake.process($0) }, applyAlone: { try fake.process([$0]) }, refuse: { fake.refuse($0, $1) })
        #expect(fake.refused == [17, 1_024, 1_999])
        #expect(report.deadLettered == 3 && report.applied == 1_997 && report.records == 2_000)
        // Everything else applied once, in the order it came.
        #expect(fake.applied == (0..<2_000).map(Int64.init).filter { ![17, 1_024, 1_999].contains($0) })
        // About 2k·log2(n) transactions, not one per record.
        #expect(fake.transactions <= 2 * 3 * 12, "\(fake.transactions) transactions")
    }

    @Test func aBatchWhoseEveryRecordIsPoison_deadLettersEachOnce() throws {
        var fake = FakeProcessor(poison: Set((0..<8).map(Int64.init)))
        let report = try BatchNarrowing.apply(
            Self.records(8), failedWith: Self.invalidByteSequence, process: { try fake.process($0) }, applyAlone: { try fake.process([$0]) }, refuse: { fake.refuse($0, $1) })
        #expect(fake.refused == (0..<8).map(Int64.init) && report.deadLettered == 8 && report.applied == 0)
    }

    @Test func aRecordThatAppliesWithoutTheEventsWaitingForIt_isNotRefused() throws {
        // Record 4 fails only with what waits for it: alone, holding that back, it applies.
        var fake = FakeProcessor(poison: [4])
        var appliedAlone: [Int64] = []
        let report = try BatchNarrowing.apply(
            Self.records(8), failedWith: Self.invalidByteSequence, process: { try fake.process($0) },
            applyAlone: { record in
                appliedAlone.append(record.offset)
                var report = BatchReport()
                report.records = 1
                report.applied = 1
                return report
            }, refuse: { fake.refuse($0, $1) })
        #expect(fake.refused.isEmpty && appliedAlone == [4] && report.applied == 8)
    }

    @Test func aPassingFailureWhileNarrowing_isThrownForTheWholeBatchToBeRetried() throws {
        var fake = FakeProcessor(poison: [3])
        var calls = 0
        let lost = PostgresError(kind: .connectionLost, message: "server closed the connection", operation: "query")
        #expect(throws: PostgresError.self) {
            _ = try BatchNarrowing.apply(
                Self.records(8), failedWith: Self.invalidByteSequence,
                process: { records in
                    calls += 1
                    if calls == 2 { throw lost }
                    return try fake.process(records)
                }, applyAlone: { try fake.process([$0]) }, refuse: { fake.refuse($0, $1) })
        }
    }

    @Test func whatNoRecordCanCause_isNotNarrowed() {
        let refused = PostgresError(kind: .other, message: "permission denied for table cases", operation: "query", sqlState: "42501")
        let oldSchema = PostgresError(kind: .other, message: "column \"x\" does not exist", operation: "query", sqlState: "42703")
        #expect(!ProcessingFailure.canBeCausedByInput(refused))
        #expect(!ProcessingFailure.canBeCausedByInput(oldSchema))
        #expect(!ProcessingFailure.canBeCausedByInput(PostgresError(kind: .connectionLost, message: "gone", operation: "query")))
        #expect(!ProcessingFailure.canBeCausedByInput(PostgresError(kind: .queryCanceled, message: "timeout", operation: "query", sqlState: "57014")))
        #expect(ProcessingFailure.canBeCausedByInput(Self.invalidByteSequence))
        #expect(ProcessingFailure.canBeCausedByInput(PostgresError(kind: .other, message: "index row size exceeds maximum", operation: "query", sqlState: "54000")))
        #expect(ProcessingFailure.canBeCausedByInput(PostgresError(kind: .misuse, message: "NUL byte in a text parameter", operation: "query")))
    }

    @Test func theReason_namesTheClassAndStatement_neverTheServersMessage() {
        let reason = ProcessingFailure.reason(
            PostgresError(kind: .other, message: "invalid input syntax for type date: \"Ro\\0bert 934-12-7765\"", operation: "pipeline statement 3 of 8 (cs_upsert_cases)", sqlState: "22008"))
        #expect(reason == "the database refused it: SQLSTATE 22008 (data exception) in pipeline statement 3 of 8 (cs_upsert_cases)")
        #expect(!reason.contains("934"))
    }

    /// The whole way down with the real processor and PostgreSQL: events that
    /// pass the door but fail in the database (a NUL smuggled past the
    /// decoder) are set aside; their neighbours apply.
    @Test func poisonThatReachesTheDatabase_isSetAside_andTheRestApplies() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let day = ScenarioDate(stringLiteral: "2026-03-02")
            let events = (0..<60).map { n in
                ScenarioEvents.intakeApplication(caseId: "NARROW-\(n)", occurredAt: day.at(hour: 15))
            }
            var records = h.records(events)
            let poison: Set<Int> = [5, 31, 59]
            for index in poison {
                var event = try EventDecoder.decode(records[index].value).get()
                guard case .intakeApplication(var application) = event.payload else { Issue.record("not an application"); return }
                application.noncustodialParty.firstName = "Ro\u{0}bert"
                event.payload = .intakeApplication(application)
                records[index].decoded = .success(event)
            }
            var failure: (any Error)?
            do { _ = try processor.process(records) } catch { failure = error }
            let error = try #require(failure, "a NUL in a name must fail in the database")
            #expect(ProcessingFailure.canBeCausedByInput(error), "\(error)")

            let report = try BatchNarrowing.apply(
                records, failedWith: error, process: { try processor.process($0, contention: .wait) },
                applyAlone: { try processor.process([$0], contention: .wait, releasingWaiting: false) },
                refuse: { try processor.refuse($0, because: $1) })
            #expect(report.deadLettered == 3 && report.applied == 57)
            #expect(try h.count("SELECT count(*) FROM cases") == 57)
            let refused = try h.count(
                "SELECT count(*) FROM outbox WHERE topic = $1 AND headers @> $2::jsonb", h.topics.deadLetter,
                #"[{"name":"error-class","value":"processing-failed"}]"#)
            #expect(refused == 3)
            for index in poison { #expect(try h.show("NARROW-\(index)", asOf: "2026-03-31") == nil) }
            // Refusing again (a redelivery before the offsets were committed) adds nothing.
            _ = try processor.refuse(records[5], because: error)
            #expect(try h.count("SELECT count(*) FROM outbox WHERE topic = $1", h.topics.deadLetter) == 3)
        }
    }
}
