import Kafka
import Testing

/// Nothing listens on port 1: every client must say so within its bound
/// instead of letting librdkafka retry forever.
@Suite struct UnreachableBrokerTests {
    let deadAddress = "127.0.0.1:1"
    let bound = Duration.seconds(15)

    func expectUnreachable(_ error: KafkaError, after start: ContinuousClock.Instant) {
        #expect(error.kind == .brokersUnreachable)
        #expect(error.description.contains(deadAddress), "\(error)")
        #expect(error.description.contains("unreachable"), "\(error)")
        #expect(error.isRetriable)
        #expect(ContinuousClock.now - start < bound)
    }

    @Test func adminReportsUnreachableBrokers() async throws {
        var configuration = KafkaAdminConfiguration(bootstrapServers: [deadAddress])
        configuration.requestTimeout = .seconds(3)
        let admin = try KafkaAdmin(configuration: configuration, logger: TestKafka.logger)
        let start = ContinuousClock.now
        expectUnreachable(try #require(throws: KafkaError.self) { try admin.checkReachable() }, after: start)
        let createStart = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([KafkaTopicSpec(name: "never", partitions: 1, replicationFactor: 1)])
        }
        if let error { expectUnreachable(error, after: createStart) }
    }

    @Test func producerReportsUnreachableBrokers() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [deadAddress])
        configuration.brokerUnreachableTimeout = .seconds(3)
        let start = ContinuousClock.now
        let error = try #require(throws: KafkaError.self) {
            try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        }
        expectUnreachable(error, after: start)
    }

    @Test func consumerReportsUnreachableBrokers() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [deadAddress], groupId: "never")
        configuration.brokerUnreachableTimeout = .seconds(3)
        let consumer = try KafkaConsumer(configuration: configuration, logger: TestKafka.logger)
        let start = ContinuousClock.now
        let error = try #require(throws: KafkaError.self) { try consumer.subscribe(["never"]) }
        expectUnreachable(error, after: start)
        try consumer.close()
    }
}
