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
}
