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

    /// `topics ensure` creates the dead-letter topic with `max.message.bytes`
    /// 4 MiB: the broker takes the setting, and a producer whose
    /// `message.max.bytes` follows it sends a 2 MB record there.
    @Test func aTopicCreatedWithALargerMessageLimit_takesALargerRecord() async throws {
        let admin = try TestKafka.admin()
        let topic = TestKafka.unique("admin-large")
        let creation = try await admin.createTopics([
            KafkaTopicSpec(name: topic, partitions: 1, replicationFactor: 1, config: ["max.message.bytes": "4194304"]),
        ])
        #expect(creation.created == [topic])
        var configuration = KafkaProducerConfiguration(bootstrapServers: try TestKafka.brokers())
        configuration.maxMessageBytes = 4_194_304
        let producer = try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        defer { producer.close() }
        let report = try await producer.send(KafkaOutgoingMessage(topic: topic, key: nil, value: [UInt8](repeating: 7, count: 2_000_000)))
        #expect(report.topic == topic)
        // Above the producer's own limit: refused at once, for good (the relay sets such a message aside).
        let refused = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingMessage(topic: topic, key: nil, value: [UInt8](repeating: 7, count: 4_200_000)))
        }
        #expect(refused?.isPermanentRefusal == true, "\(String(describing: refused))")
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
