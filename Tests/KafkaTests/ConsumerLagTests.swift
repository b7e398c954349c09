import Kafka
import Testing
import TestSupport

/// `KafkaConsumer.lag()`: cached high watermark minus the position, per owned partition.
@Suite struct ConsumerLagTests {
    @Test func lagCountsWhatThePollHasNotTakenYet() async throws {
        let topic = try await TestKafka.createTopic(partitions: 1, base: "lag")
        let producer = try TestKafka.producer()
        defer { producer.close() }
        _ = try await producer.sendAll((0..<20).map {
            KafkaOutgoingMessage(topic: topic, partition: 0, key: nil, value: "m\($0)".bytes)
        }).map { try $0.get() }

        let consumer = try KafkaConsumer(
            configuration: try TestKafka.consumerConfiguration(group: TestKafka.unique("lag")), logger: TestKafka.logger)
        try consumer.subscribe([topic])
        let partition = TopicPartition(topic: topic, partition: 0)
        #expect(try consumer.lag().isEmpty, "nothing owned yet")

        let firstFive = try await onThread { () -> [KafkaMessage] in
            var received: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while received.count < 5 && ContinuousClock.now < deadline {
                if let message = try consumer.poll(timeout: .milliseconds(100)) { received.append(message) }
            }
            return received
        }
        #expect(firstFive.map(\.offset) == [0, 1, 2, 3, 4])
        #expect(try consumer.lag() == [partition: 15])

        let rest = try await onThread { () -> Int in
            var count = 0
            let deadline = ContinuousClock.now + .seconds(10)
            while count < 15 && ContinuousClock.now < deadline {
                count += try consumer.pollBatch(maxMessages: 50, timeout: .milliseconds(100)).count
            }
            return count
        }
        #expect(rest == 15)
        #expect(try consumer.lag() == [partition: 0])
        try consumer.close()
    }
}
