import CaseScenarios
import Foundation
import Kafka
import Testing

@testable import CasePipeline

/// The batch order: business time across partitions, offset order within each.
@Suite("Pipeline: fetch buffer")
struct FetchBufferTests {
    static func message(_ event: ScenarioEvent, partition: Int32, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: event.topic, partition: partition, offset: offset, key: event.key, value: event.value)
    }

    static func day(_ text: String) -> Date { ScenarioDate(stringLiteral: text).at(hour: 15) }

    @Test func batchesMergePartitionsByEventTime_keepingEachPartitionsOrder() {
        let intake = [
            Self.message(ScenarioEvents.intakeApplication(caseId: "A", occurredAt: Self.day("2026-01-05")), partition: 0, offset: 0),
            Self.message(ScenarioEvents.intakeApplication(caseId: "B", occurredAt: Self.day("2026-03-02")), partition: 0, offset: 1),
        ]
        let court = [
            Self.message(ScenarioEvents.orderEstablished(caseId: "A", occurredAt: Self.day("2026-02-02")), partition: 1, offset: 7),
            // Out of time order within its partition: the partition's order still wins.
            Self.message(ScenarioEvents.hearingScheduled(caseId: "A", occurredAt: Self.day("2026-01-20")), partition: 1, offset: 8),
            Self.message(ScenarioEvents.hearingScheduled(caseId: "B", occurredAt: Self.day("2026-04-06")), partition: 1, offset: 9),
        ]
        var buffer = FetchBuffer()
        buffer.append(court)
        buffer.append(intake)
        #expect(buffer.count == 5)

        let first = buffer.takeBatch(limit: 3)
        #expect(first.map { "\($0.partition)@\($0.offset)" } == ["0@0", "1@7", "1@8"])
        let rest = buffer.takeBatch(limit: 10)
        #expect(rest.map { "\($0.partition)@\($0.offset)" } == ["0@1", "1@9"])
        #expect(buffer.isEmpty)
    }

    @Test func undecodableMessagesComeFirst_andRevokedPartitionsAreForgotten() {
        var buffer = FetchBuffer()
        let good = ScenarioEvents.intakeApplication(caseId: "A")
        buffer.append([
            Self.message(good, partition: 0, offset: 0),
            KafkaMessage(topic: good.topic, partition: 1, offset: 3, key: nil, value: Array("{not json".utf8)),
            Self.message(ScenarioEvents.intakeApplication(caseId: "C"), partition: 2, offset: 5),
        ])
        buffer.drop([TopicPartition(topic: good.topic, partition: 2)])
        #expect(buffer.count == 2)
        #expect(buffer.takeBatch(limit: 5).map(\.partition) == [1, 0])
    }

    @Test func messagesPutBack_returnToTheHeadOfTheirPartitions_inOrder() {
        let events = (0..<4).map { ScenarioEvents.intakeApplication(caseId: "P\($0)", occurredAt: Self.day("2026-01-0\($0 + 5)")) }
        var buffer = FetchBuffer()
        buffer.append([
            Self.message(events[0], partition: 0, offset: 0), Self.message(events[1], partition: 0, offset: 1),
            Self.message(events[2], partition: 0, offset: 2), Self.message(events[3], partition: 1, offset: 0),
        ])
        let batch = buffer.takeBatch(limit: 3)
        #expect(batch.map { "\($0.partition)@\($0.offset)" } == ["0@0", "0@1", "0@2"])
        buffer.putBack(Array(batch[1...]))
        #expect(buffer.count == 3)
        #expect(buffer.takeBatch(limit: 10).map { "\($0.partition)@\($0.offset)" } == ["0@1", "0@2", "1@0"])
        #expect(buffer.isEmpty)
    }
}
