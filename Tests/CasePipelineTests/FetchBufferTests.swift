import CaseContract
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

    /// Offsets 0, 1, 2 of partition 0 and offset 0 of partition 1, a day apart in that order.
    static func threeAndOne() -> FetchBuffer {
        let events = (0..<4).map { ScenarioEvents.intakeApplication(caseId: "C\($0)", occurredAt: Self.day("2026-01-0\($0 + 5)")) }
        var buffer = FetchBuffer()
        buffer.append([
            Self.message(events[0], partition: 0, offset: 0), Self.message(events[1], partition: 0, offset: 1),
            Self.message(events[2], partition: 0, offset: 2), Self.message(events[3], partition: 1, offset: 0),
        ])
        return buffer
    }

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
        var buffer = Self.threeAndOne()
        let batch = buffer.takeBatch(limit: 3)
        #expect(batch.map { "\($0.partition)@\($0.offset)" } == ["0@0", "0@1", "0@2"])
        buffer.putBack(Array(batch[1...]))
        #expect(buffer.count == 3)
        #expect(buffer.takeBatch(limit: 10).map { "\($0.partition)@\($0.offset)" } == ["0@1", "0@2", "1@0"])
        #expect(buffer.isEmpty)
    }

    /// A batch may leave a message and process later ones of its partition:
    /// the partition is committed up to the message left, then past all of them.
    @Test func commitsStopAtTheFirstMessageLeft_andRevokedPartitionsStartOver() {
        var buffer = Self.threeAndOne()
        let batch = buffer.takeBatch(limit: 10)
        buffer.putBack([batch[1]])
        let first = buffer.commitOffsets(afterProcessing: [batch[0], batch[2], batch[3]])
        #expect(first.map(\.description) == [
            TopicPartitionOffset(topic: batch[0].topic, partition: 0, offset: 1).description,
            TopicPartitionOffset(topic: batch[3].topic, partition: 1, offset: 1).description,
        ])

        buffer.append([Self.message(ScenarioEvents.intakeApplication(caseId: "C4"), partition: 0, offset: 3)])
        let again = buffer.takeBatch(limit: 1)
        #expect(again.map(\.offset) == [1])
        #expect(buffer.commitOffsets(afterProcessing: again).map(\.offset) == [3])
        #expect(buffer.commitOffsets(afterProcessing: buffer.takeBatch(limit: 1)).map(\.offset) == [4])

        // Revoked and assigned again: redelivered from the committed offset, nothing above it counts as done.
        buffer.drop([batch[0].topicPartition])
        buffer.append([Self.message(ScenarioEvents.intakeApplication(caseId: "C1"), partition: 0, offset: 1)])
        #expect(buffer.commitOffsets(afterProcessing: buffer.takeBatch(limit: 1)).map(\.offset) == [2])
    }
}
