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
        // Blocking calls run on threads of their own, not Swift's small shared pool.
        let checkError = try await onThread { () -> KafkaError? in
            do { try admin.checkReachable() } catch let error as KafkaError { return error }
            return nil
        }
        expectUnreachable(try #require(checkError), after: start)
        let createStart = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([KafkaTopicSpec(name: "never", partitions: 1, replicationFactor: 1)])
        }
        if let error { expectUnreachable(error, after: createStart) }
    }

    @Test func producerReportsUnreachableBrokers() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [deadAddress])
        configuration.brokerUnreachableTimeout = .seconds(3)
        let start = ContinuousClock.now
        let error = try await onThread { [configuration] () -> KafkaError? in
            do { _ = try KafkaProducer(configuration: configuration, logger: TestKafka.logger) } catch let error as KafkaError { return error }
            return nil
        }
        expectUnreachable(try #require(error), after: start)
    }

    @Test func consumerReportsUnreachableBrokers() async throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [deadAddress], groupId: "never")
        configuration.brokerUnreachableTimeout = .seconds(3)
        let consumer = try KafkaConsumer(configuration: configuration, logger: TestKafka.logger)
        let start = ContinuousClock.now
        let error = try await onThread { () -> KafkaError? in
            do { try consumer.subscribe(["never"]) } catch let error as KafkaError { return error }
            return nil
        }
        expectUnreachable(try #require(error), after: start)
        try consumer.close()
    }
}
