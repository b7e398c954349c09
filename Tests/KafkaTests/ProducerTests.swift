import Kafka
import Testing

@Suite struct ProducerTests {
    @Test func idempotentSendIsAcknowledgedWithOffsets() async throws {
        let topic = try await TestKafka.createTopic(partitions: 1, base: "producer-single")
        let producer = try TestKafka.producer()
        defer { producer.close() }
        var reports: [KafkaDeliveryReport] = []
        for index in 0..<3 {
            let message = KafkaOutgoingMessage(
                topic: topic, key: "case-1".bytes, value: "event-\(index)".bytes,
                headers: [KafkaHeader("source", "test")])
            reports.append(try await producer.send(message))
        }
        #expect(reports.map(\.offset) == [0, 1, 2])
        #expect(reports.allSatisfy { $0.topic == topic && $0.partition == 0 })
    }

    @Test func batchSendReturnsOneResultPerMessage() async throws {
        let topic = try await TestKafka.createTopic(partitions: 3, base: "producer-batch")
        var configuration = KafkaProducerConfiguration(bootstrapServers: try TestKafka.brokers())
        configuration.properties = ["message.max.bytes": "10000"]
        let producer = try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        defer { producer.close() }

        var messages = (0..<20).map {
            KafkaOutgoingMessage(topic: topic, key: "case-\($0 % 4)".bytes, value: "row-\($0)".bytes)
        }
        // Larger than message.max.bytes: rejected on its own, the rest still go.
        messages[7].value = [UInt8](repeating: 0x41, count: 20_000)
        let results = try await producer.sendAll(messages)

        #expect(results.count == 20)
        for (index, result) in results.enumerated() where index != 7 {
            let report = try result.get()
            #expect(report.topic == topic)
        }
        guard case .failure(let error) = results[7] else {
            Issue.record("oversized message was acknowledged")
            return
        }
        #expect(error.code.name == "MSG_SIZE_TOO_LARGE", "\(error)")
        #expect(error.description.contains(topic))

        // One key, one partition, offsets in send order.
        let reports = results.enumerated().compactMap { index, result in
            (try? result.get()).map { (key: index % 4, report: $0) }
        }
        for key in 0..<4 {
            let forKey = reports.filter { $0.key == key }.map(\.report)
            #expect(Set(forKey.map(\.partition)).count == 1)
            #expect(forKey.map(\.offset) == forKey.map(\.offset).sorted())
        }
        // Offsets are unique per partition.
        let positions = reports.map { "\($0.report.partition):\($0.report.offset)" }
        #expect(Set(positions).count == positions.count)
    }

    @Test func fullLocalQueueWaitsInsteadOfFailing() async throws {
        let topic = try await TestKafka.createTopic(partitions: 2, base: "producer-queue-full")
        var configuration = KafkaProducerConfiguration(bootstrapServers: try TestKafka.brokers())
        // Room for 5 messages: most of the 300 meet _QUEUE_FULL on enqueue.
        configuration.properties = ["queue.buffering.max.messages": "5"]
        let producer = try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        defer { producer.close() }
        let results = try await producer.sendAll(
            (0..<300).map { KafkaOutgoingMessage(topic: topic, key: "k\($0 % 7)".bytes, value: "v\($0)".bytes) })
        let reports = try results.map { try $0.get() }
        #expect(Set(reports.map { "\($0.partition):\($0.offset)" }).count == 300)
        try producer.flush(timeout: .seconds(5))
    }

    @Test func closedProducerRefusesToSend() async throws {
        let producer = try TestKafka.producer()
        producer.close()
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingMessage(topic: "any", key: nil, value: nil))
        }
        #expect(error?.kind == .closed)
    }
}
