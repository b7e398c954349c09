import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Kafka
import Postgres
import Testing

/// `csworker deadletters list|replay`, end to end: a worker, its dead letters,
/// a replay into the source topic, and the worker applying (or deduping) it.
@Suite("Pipeline: dead-letter replay", .timeLimit(.minutes(2)))
struct DeadLetterReplayTests {
    @Test func anUnknownCaseEvent_replayedAfterItsCaseOpened_isApplied_andReplayingItAgainHasNoEffect() async throws {
        try await withHarness(waitingHorizon: .seconds(1)) { h in
            let caseId = "RPL-1", ssn = "934300001"
            let order = ScenarioEvents.orderEstablished(
                caseId: caseId, effectiveOn: "2026-04-01", occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15))
            try await h.produce([order])
            try await eventually(timeout: .seconds(30), "the order is dead-lettered") { h.collector.deadLetters.count == 1 }

            let store = try h.deadLetterStore()
            let listed = try store.list(topic: h.topics.deadLetter)
            #expect(listed.count == 1)
            let letter = try #require(listed.first)
            #expect(letter.header(DeadLetter.Header.errorClass) == "unknown-case")
            #expect(letter.eventId?.uuidString.lowercased() == order.eventId)
            #expect(letter.replayedAt == nil)

            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn, employer: .sample),
                occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15)))
            #expect(h.collector.tasks.filter { $0.type == "income-withholding" }.isEmpty)

            // A dry run (no producer) selects and reports, and neither sends nor marks.
            let dry = try await DeadLetterReplay(store: store, producer: nil, topics: h.topics, logger: Services.logger)
                .replay(.all, by: "test")
            #expect(dry.replayed.map(\.messageId) == [letter.messageId])
            #expect(try store.list(topic: h.topics.deadLetter).first?.replayedAt == nil)
            #expect(try store.replays(of: [letter.messageId]).isEmpty)

            let replay = h.deadLetterReplay(store)
            // A class filter that matches nothing replays nothing.
            #expect(try await replay.replay(.all, errorClass: "malformed-json", by: "test").replayed.isEmpty)
            let first = try await replay.replay(.all, by: "test")
            #expect(first.replayed.map(\.messageId) == [letter.messageId])
            let withholding = try await h.waitForTasks { $0.caseId == caseId && $0.type == "income-withholding" }
            #expect(withholding.first?.causationId == order.eventId)
            #expect(try h.show(caseId, asOf: "2026-03-31")?.history.map(\.eventType)
                == ["intake.application", "court.order-established"])
            #expect(try store.list(topic: h.topics.deadLetter).first?.replayedAt != nil)
            #expect(try store.replays(of: [letter.messageId])[letter.messageId]?.by == "test", "who replayed is recorded")

            // --all skips what was replayed; --force replays it, and the worker dedupes it.
            let again = try await replay.replay(.all, by: "test")
            #expect(again.replayed.isEmpty)
            #expect(again.skipped.map(\.record.messageId) == [letter.messageId])
            let forced = try await replay.replay(.ids([try #require(letter.eventId)]), force: true, by: "test")
            #expect(forced.replayed.count == 1)
            // Same key, same partition: once this later event is recorded, the replay was consumed.
            try await h.feed(ScenarioEvents.hearingScheduled(
                caseId: caseId, occurredAt: ScenarioDate(stringLiteral: "2026-03-20").at(hour: 15)))
            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.history.map(\.eventType) == ["intake.application", "court.order-established", "court.hearing-scheduled"])
            #expect(h.collector.tasks.filter { $0.caseId == caseId && $0.type == "income-withholding" }.count == 1)
            #expect(try h.count("SELECT count(*) FROM processed_events WHERE outcome = 'applied'") == 3)

            let unknown = UUID()
            #expect(try await replay.replay(.ids([unknown]), by: "test").unknownIds == [unknown])
        }
    }

    /// Issue 23: dead letters keep the record's headers (its trace context),
    /// timestamp, the group, when it first failed; a replay that fails again
    /// is a new dead letter pointing to the one replayed.
    @Test func aReplayThatFailsAgain_isANewDeadLetterInTheChain_withTheOriginalHeaders() async throws {
        try await withHarness(waitingHorizon: .seconds(1)) { h in
            let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let order = ScenarioEvents.orderEstablished(
                caseId: "RPL-NEVER", effectiveOn: "2026-04-01", occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15))
            let reports = try await h.producer.sendAll([KafkaOutgoingMessage(
                topic: h.topics.prefix + order.topic, key: order.key, value: order.value,
                headers: [KafkaHeader("traceparent", traceparent), KafkaHeader("tracestate", "agency=nc")])])
            _ = try reports[0].get()
            try await eventually(timeout: .seconds(30), "the order is dead-lettered") { h.collector.deadLetters.count == 1 }
            let store = try h.deadLetterStore()
            let first = try #require(try store.list(topic: h.topics.deadLetter).first)
            #expect(first.header("original-traceparent") == traceparent && first.header("original-tracestate") == "agency=nc")
            #expect(first.header(DeadLetter.Header.consumerGroup) == h.group)
            #expect(first.header(DeadLetter.Header.attempts) == "1")
            #expect(first.header(DeadLetter.Header.originalTimestamp).flatMap(Int64.init) ?? 0 > 0)
            let firstFailedAt = try #require(first.header(DeadLetter.Header.firstFailedAt))
            #expect(first.header(DeadLetter.Header.replayOf) == nil)

            // Replayed with its case still missing: refused again, a second dead letter.
            _ = try await h.deadLetterReplay(store).replay(.all, by: "test")
            try await eventually(timeout: .seconds(30), "the replay is dead-lettered again") { h.collector.deadLetters.count == 2 }
            let letters = try store.list(topic: h.topics.deadLetter)
            #expect(letters.count == 2)
            let second = try #require(letters.first { $0.messageId != first.messageId })
            #expect(second.header(DeadLetter.Header.replayOf) == first.messageId.lowercasedText)
            #expect(second.header(DeadLetter.Header.attempts) == "2")
            #expect(second.header(DeadLetter.Header.firstFailedAt) == firstFailedAt)
            #expect(second.header("original-traceparent") == traceparent, "the trace context survives the replay")
            #expect(second.eventId == first.eventId)
            // The published dead letter carries the same.
            let published = try #require(h.collector.deadLetters.last)
            #expect(published.headers.contains { $0.name == "replay-of" && String(decoding: $0.value, as: UTF8.self) == first.messageId.lowercasedText })
        }
    }

    @Test func aDeadLetterFromAnotherDeployment_isNotReplayed() async throws {
        try await withHarness(workers: 0) { h in
            // A malformed record from a topic this deployment does not read.
            let processor = try h.processor()
            let record = InboundRecord(topic: "elsewhere.cse.intake.v1", partition: 0, offset: 7, key: nil, value: Array("{".utf8))
            _ = try processor.process([record])
            let store = try h.deadLetterStore()
            let report = try await h.deadLetterReplay(store).replay(.all, by: "test")
            #expect(report.replayed.isEmpty)
            #expect(report.skipped.count == 1)
            #expect(try store.list(topic: h.topics.deadLetter).first?.replayedAt == nil)
        }
    }
}

extension PipelineHarness {
    func deadLetterStore() throws -> DeadLetterStore {
        DeadLetterStore(
            connection: try PostgresConnection(connectionString: databaseURL, connectTimeout: .seconds(5)), protector: protector)
    }

    func deadLetterReplay(_ store: DeadLetterStore) -> DeadLetterReplay {
        DeadLetterReplay(store: store, producer: producer, topics: topics, logger: Services.logger)
    }
}
