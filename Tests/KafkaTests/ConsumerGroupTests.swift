import Foundation
import Kafka
import Synchronization
import Testing
import TestSupport

@Suite struct ConsumerGroupTests {
    /// Two members split six partitions, receive every message exactly once
    /// and commit; a restarted member resumes after the last commit.
    @Test(arguments: [KafkaAssignmentStrategy.rangeThenRoundRobin, .cooperativeSticky])
    func membersSplitPartitionsAndRestartResumesAfterCommit(strategy: KafkaAssignmentStrategy) async throws {
        let topic = try await TestKafka.createTopic(partitions: 6, base: "group-split")
        let group = TestKafka.unique("group")
        var configuration = try TestKafka.consumerConfiguration(group: group)
        configuration.assignmentStrategy = strategy
        let producer = try TestKafka.producer()
        defer { producer.close() }

        let events = Mutex<[KafkaRebalanceEvent]>([])
        let first = try KafkaConsumer(configuration: configuration, logger: TestKafka.logger) { event in
            events.withLock { $0.append(event) }
        }
        let second = try KafkaConsumer(configuration: configuration, logger: TestKafka.logger)
        try first.subscribe([topic])
        try second.subscribe([topic])
        let loops = [PollLoop(first), PollLoop(second)]

        let joinStart = ContinuousClock.now
        try await eventually(timeout: .seconds(30), "both members own disjoint, complete assignments") {
            let (a, b) = (try first.assignment(), try second.assignment())
            return !a.isEmpty && !b.isEmpty && Set(a).isDisjoint(with: b) && a.count + b.count == 6
        }
        let joinTime = ContinuousClock.now - joinStart
        let all = Set((0..<6).map { TopicPartition(topic: topic, partition: Int32($0)) })
        #expect(Set(try first.assignment()).union(try second.assignment()) == all)
        #expect(events.withLock { $0.contains { if case .assigned = $0 { true } else { false } } })

        let count = 600
        let results = try await producer.sendAll(
            (0..<count).map {
                KafkaOutgoingMessage(topic: topic, key: "case-\($0 % 37)".bytes, value: "first-\($0)".bytes)
            })
        let acknowledged = try results.map { try $0.get() }

        try await eventually(timeout: .seconds(30), "all \(count) messages arrive") {
            loops.map(\.messages.count).reduce(0, +) >= count
        }
        // Anything delivered twice would show up in this grace period.
        try await Task.sleep(for: .milliseconds(500))

        // One member leaves; the other takes over all partitions and finds
        // nothing left to read. (Members leave one at a time: Tansu 0.6 can
        // keep a member that left during a pending rebalance as the group
        // leader, after which no one can join the group.)
        await loops[1].stop()
        try second.close()
        try await eventually(timeout: .seconds(30), "the remaining member owns all partitions") {
            try first.assignment().count == 6
        }
        try await Task.sleep(for: .milliseconds(500))
        await loops[0].stop()
        #expect(loops.allSatisfy { $0.errors.isEmpty }, "\(loops.flatMap(\.errors))")
        #expect(loops.allSatisfy { !$0.messages.isEmpty })
        let received = loops.flatMap(\.messages)
        #expect(received.count == count)
        #expect(Set(received.map(\.valueText)) == Set((0..<count).map { "first-\($0)" }))
        // Each member only saw its own partitions.
        #expect(Set(loops[0].messages.map(\.topicPartition)).isDisjoint(with: loops[1].messages.map(\.topicPartition)))

        let endOffsets = Dictionary(grouping: acknowledged, by: { TopicPartition(topic: $0.topic, partition: $0.partition) })
            .mapValues { $0.map(\.offset).max()! + 1 }
        #expect(try first.committed(Array(all), timeout: .seconds(5)) == endOffsets)
        try first.close()

        // A new member of the same group starts from the commits.
        let restartEvents = Mutex<[KafkaRebalanceEvent]>([])
        let restarted = try KafkaConsumer(configuration: configuration, logger: TestKafka.logger) { event in
            restartEvents.withLock { $0.append(event) }
        }
        try restarted.subscribe([topic])
        let restartLoop = PollLoop(restarted)
        let rejoinStart = ContinuousClock.now
        do {
            try await eventually(timeout: .seconds(30), "the restarted member owns all partitions") {
                try restarted.assignment().count == 6
            }
        } catch {
            Issue.record("restarted member: events \(restartEvents.withLock { $0 }), errors \(restartLoop.errors)")
            throw error
        }
        let rejoinTime = ContinuousClock.now - rejoinStart
        let more = 60
        _ = try await producer.sendAll(
            (0..<more).map {
                KafkaOutgoingMessage(topic: topic, key: "case-\($0 % 37)".bytes, value: "second-\($0)".bytes)
            }
        ).map { try $0.get() }
        try await eventually(timeout: .seconds(30), "the \(more) new messages arrive") {
            restartLoop.messages.count >= more
        }
        try await Task.sleep(for: .milliseconds(500))
        await restartLoop.stop()
        #expect(restartLoop.errors.isEmpty, "\(restartLoop.errors)")
        #expect(restartLoop.messages.map(\.valueText).sorted() == (0..<more).map { "second-\($0)" }.sorted())
        try restarted.close()
        print("[\(strategy)] two members assigned after \(joinTime); restarted member after \(rejoinTime)")
    }

    @Test func pausedPartitionDeliversNothingUntilResumed() async throws {
        let topic = try await TestKafka.createTopic(partitions: 2, base: "pause")
        let consumer = try KafkaConsumer(
            configuration: try TestKafka.consumerConfiguration(group: TestKafka.unique("pause")),
            logger: TestKafka.logger)
        try consumer.subscribe([topic])
        let paused = TopicPartition(topic: topic, partition: 0)
        let running = TopicPartition(topic: topic, partition: 1)

        _ = try await onThread {
            let deadline = ContinuousClock.now + .seconds(30)
            while try consumer.assignment().count < 2 && ContinuousClock.now < deadline {
                _ = try consumer.poll(timeout: .milliseconds(100))
            }
        }
        try #require(try consumer.assignment() == [paused, running])
        try consumer.pause([paused])

        let producer = try TestKafka.producer()
        defer { producer.close() }
        let messages = (0..<10).flatMap { index in
            [paused, running].map {
                KafkaOutgoingMessage(topic: topic, partition: $0.partition, key: nil, value: "p\($0.partition)-\(index)".bytes)
            }
        }
        _ = try await producer.sendAll(messages).map { try $0.get() }

        let whilePaused = try await onThread { () -> [KafkaMessage] in
            var received: [KafkaMessage] = []
            let until = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < until {
                received += try consumer.pollBatch(maxMessages: 50, timeout: .milliseconds(100))
            }
            return received
        }
        #expect(whilePaused.count == 10)
        #expect(whilePaused.allSatisfy { $0.partition == running.partition })

        try consumer.resume([paused])
        let afterResume = try await onThread { () -> [KafkaMessage] in
            var received: [KafkaMessage] = []
            let until = ContinuousClock.now + .seconds(10)
            while received.count < 10 && ContinuousClock.now < until {
                received += try consumer.pollBatch(maxMessages: 50, timeout: .milliseconds(100))
            }
            return received
        }
        #expect(afterResume.map(\.valueText) == (0..<10).map { "p0-\($0)" })
        try consumer.close()
    }

    @Test func messagesSequenceDeliversHeadersKeysAndTimestamps() async throws {
        let topic = try await TestKafka.createTopic(partitions: 1, base: "sequence")
        let consumer = try KafkaConsumer(
            configuration: try TestKafka.consumerConfiguration(group: TestKafka.unique("sequence")),
            logger: TestKafka.logger)
        try consumer.subscribe([topic])
        let producer = try TestKafka.producer()
        defer { producer.close() }
        let sent = try await producer.send(
            KafkaOutgoingMessage(
                topic: topic, key: "case-9".bytes, value: "hello".bytes,
                headers: [KafkaHeader("error-class", "malformed-json"), KafkaHeader("empty", [])]))

        var received: KafkaMessage?
        for try await message in consumer.messages {
            received = message
            break
        }
        let message = try #require(received)
        #expect(message.offset == sent.offset)
        #expect(message.key == "case-9".bytes)
        #expect(message.valueText == "hello")
        #expect(message.header("error-class") == "malformed-json".bytes)
        #expect(message.header("empty") == [])
        #expect(message.timestampType == .createTime)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(abs(now - (message.timestampMilliseconds ?? 0)) < 60_000)
        try consumer.commit(processed: [message])
        #expect(try consumer.committed([message.topicPartition], timeout: .seconds(5)) == [message.topicPartition: sent.offset + 1])
        try consumer.close()
        #expect(throws: KafkaError.self) { try consumer.poll(timeout: .zero) }
    }
}
