import Kafka
import Testing

@Suite struct AdminTests {
    @Test func createsTopicsOnceAndListsPartitionCounts() async throws {
        let admin = try TestKafka.admin()
        try admin.checkReachable()
        let six = TestKafka.unique("admin-six")
        let two = TestKafka.unique("admin-two")
        let first = try await admin.createTopics([
            KafkaTopicSpec(name: six, partitions: 6, replicationFactor: 1),
            KafkaTopicSpec(name: two, partitions: 2, replicationFactor: 1),
        ])
        #expect(Set(first.created) == [six, two])
        #expect(first.alreadyExisted.isEmpty)

        let again = try await admin.createTopics([KafkaTopicSpec(name: six, partitions: 6, replicationFactor: 1)])
        #expect(again.created.isEmpty)
        #expect(again.alreadyExisted == [six])

        let topics = try admin.listTopics()
        #expect(topics[six] == 6)
        #expect(topics[two] == 2)
        let metadata = try admin.metadata()
        #expect(!metadata.brokers.isEmpty)
    }

    @Test func deletesTopicsWithWhatTheyHold_andReportsMissingOnes() async throws {
        let admin = try TestKafka.admin()
        let topic = try await TestKafka.createTopic(partitions: 2, base: "admin-delete")
        let producer = try TestKafka.producer()
        defer { producer.close() }
        for report in try await producer.sendAll((0..<20).map { KafkaOutgoingMessage(topic: topic, key: [UInt8($0)], value: [1, 2, 3]) }) {
            _ = try report.get()
        }
        let never = TestKafka.unique("admin-never-created")
        let outcome = try await admin.deleteTopics([topic, never])
        #expect(outcome.deleted == [topic])
        #expect(outcome.missing == [never])
        try await eventually(timeout: .seconds(10), "the deleted topic is gone from the metadata") {
            try admin.listTopics()[topic] == nil
        }
    }
}
