import CaseContract
import CaseDomain
import CaseScenarios
import CaseStorage
import Foundation
import Kafka
import Testing

@testable import CasePipeline

/// Issue 23: the W3C trace context of an input record reaches every task and
/// dead letter it causes, stored with the outbox row so a relay publishes it
/// after a restart; a record without one starts a trace named by its event id.
@Suite("Pipeline: trace context end to end", .timeLimit(.minutes(2)))
struct TraceContextTests {
    static let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let traceparent = "00-\(traceId)-00f067aa0ba902b7-01"

    @Test func parsing_acceptsW3CHeaders_andRefusesInvalidOnes() {
        #expect(TraceContext.parse(Self.traceparent)?.traceId == Self.traceId)
        #expect(TraceContext.parse("00-\(Self.traceId.uppercased())-00F067AA0BA902B7-01")?.parentId == "00f067aa0ba902b7")
        for bad in ["", "00-\(Self.traceId)-00f067aa0ba902b7", "ff-\(Self.traceId)-00f067aa0ba902b7-01",
                    "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-\(Self.traceId)-0000000000000000-01",
                    "00-\(Self.traceId)-00f067aa0ba902bz-01", "00-\(Self.traceId.dropLast())-00f067aa0ba902b7-01"] {
            #expect(TraceContext.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func aRecordWithoutTraceContext_startsATraceNamedByItsEvent_theSameOnEveryRedelivery() {
        let source = DeadLetter.Source(topic: "t", partition: 0, offset: 9, key: [], value: [])
        let eventId = UUID(uuidString: "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b11")!
        let context = TraceContext(of: source, eventId: eventId)
        #expect(context.traceId == "0b9f2c3e6a414b8e9d0f2f1e7c5a9b11")
        #expect(context == TraceContext(of: source, eventId: eventId))
        let message = UUID()
        #expect(context.headers(for: message) == TraceContext(of: source, eventId: eventId).headers(for: message))
        #expect(TraceContext(of: source, eventId: nil).traceId.count == 32)
    }

    @Test func tasksAndDeadLetters_carryTheRecordsTraceId_alsoWhenPublishedAfterARestart() async throws {
        try await withHarness(workers: 0) { h in
            let processor = try h.processor()
            let caseId = "TRACE-1"
            let intake = ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: "934500001", employer: .sample),
                occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15))
            var records = h.records([intake, ScenarioEvents.schemaViolation(.amountAsString, caseId: caseId)])
            for index in records.indices {
                records[index].headers = [KafkaHeader("traceparent", Self.traceparent), KafkaHeader("tracestate", "agency=nc")]
            }
            // Applied and enqueued, then the process is gone before its relay published anything.
            let report = try processor.process(records)
            #expect(report.applied == 1 && report.deadLettered == 1)
            let stored = try h.connection.query("SELECT count(*) FROM outbox WHERE headers::text LIKE $1", parameters: ["%\(Self.traceId)%"])
            #expect(try stored[0].decode(Int.self, column: 0) == report.tasks + 1)

            // Another worker's relay publishes them.
            try h.startWorker()
            try await eventually(timeout: .seconds(45), "every task and the dead letter are published") {
                try h.unpublished == 0 && h.collector.deadLetters.count == 1 && h.collector.tasks.count == report.tasks
            }
            func traceparent(_ headers: [KafkaHeader]) -> String? {
                headers.first { $0.name == "traceparent" }.map { String(decoding: $0.value, as: UTF8.self) }
            }
            let published = h.collector.all.filter { $0.topic != h.topics.deadLetter }
            #expect(!published.isEmpty)
            for message in published + h.collector.deadLetters {
                let header = try #require(traceparent(message.headers), "a message without traceparent on \(message.topic)")
                let context = try #require(TraceContext.parse(header))
                #expect(context.traceId == Self.traceId)
                #expect(context.parentId != "00f067aa0ba902b7", "csworker's own span, a child of the record's")
                #expect(message.headers.contains { $0.name == "tracestate" && String(decoding: $0.value, as: UTF8.self) == "agency=nc" })
            }
        }
    }
}
