import Kafka
import Testing
import TestSupport

/// Nothing listens on port 1: every client must say so within its bound
/// instead of letting librdkafka retry forever.
@Suite struct UnreachableBrokerTests {
    let deadAddress = "127.0.0.1:1"
    let bound = Duration.seconds(15)

    func expectUnreachable(_ error: KafkaError, within elapsed: Duration) {
        #expect(error.kind == .brokersUnreachable)
        #expect(error.description.contains(deadAddress), "\(error)")
        #expect(error.description.contains("unreachable"), "\(error)")
        #expect(error.isRetriable)
        #expect(elapsed < bound)
    }

    /// Runs a blocking client call on a thread of its own and times the call
    /// there: waiting afterwards for Swift's shared pool (which other tests of
    /// a parallel run may keep busy) is not the client's time.
    func timedOnThread(_ call: @escaping @Sendable () throws -> Void) async throws -> (KafkaError?, Duration) {
        try await onThread { () -> (KafkaError?, Duration) in
            let start = ContinuousClock.now
            do { try call() } catch let error as KafkaError { return (error, ContinuousClock.now - start) }
            return (nil, ContinuousClock.now - start)
        }
    }

    @Test func adminReportsUnreachableBrokers() async throws {
        var configuration = KafkaAdminConfiguration(bootstrapServers: [deadAddress])
        configuration.requestTimeout = .seconds(3)
        let admin = try KafkaAdmin(configuration: configuration, logger: TestKafka.logger)
        let (checkError, checkElapsed) = try await timedOnThread { try admin.checkReachable() }
        expectUnreachable(try #require(checkError), within: checkElapsed)
        let createStart = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            try await admin.createTopics([KafkaTopicSpec(name: "never", partitions: 1, replicationFactor: 1)])
        }
        // An async call is resumed on the shared pool, which other tests of a
        // parallel run may keep busy: its own 3 s request timeout plus margin.
        if let error {
            #expect(error.kind == .brokersUnreachable)
            #expect(error.description.contains(deadAddress), "\(error)")
            #expect(ContinuousClock.now - createStart < .seconds(30))
        }
    }

    @Test func producerReportsUnreachableBrokers() async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: [deadAddress])
        configuration.brokerUnreachableTimeout = .seconds(3)
        let (error, elapsed) = try await timedOnThread { [configuration] in
            _ = try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        }
        expectUnreachable(try #require(error), within: elapsed)
    }

    @Test func consumerReportsUnreachableBrokers() async throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [deadAddress], groupId: "never")
        configuration.brokerUnreachableTimeout = .seconds(3)
        let consumer = try KafkaConsumer(configuration: configuration, logger: TestKafka.logger)
        let (error, elapsed) = try await timedOnThread { try consumer.subscribe(["never"]) }
        expectUnreachable(try #require(error), within: elapsed)
        try consumer.close()
    }
}
