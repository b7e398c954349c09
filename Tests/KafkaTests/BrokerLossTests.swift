import Foundation
import Kafka
import Testing
import TestSupport

/// A broker of the test's own (the shared one must stay up for the other
/// tests), started from the Tansu binary scripts/setup.sh installs.
final class PrivateBroker: Sendable {
    let address: String
    private let process: Process

    init() throws {
        let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let binary = ProcessInfo.processInfo.environment["CSE_TANSU_BIN"]
            ?? packageRoot.appending(path: ".deps/bin/tansu").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TansuNotInstalled(path: binary)
        }
        // A start that fails (the port taken between our pick and its bind,
        // say) is tried again on another port; what Tansu printed goes into
        // the error if every try fails.
        var failures: [String] = []
        for _ in 1...3 {
            let port = try Loopback.freePort()
            let address = "127.0.0.1:\(port)"
            let log = FileManager.default.temporaryDirectory.appending(path: "private-tansu-\(port).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let output = try FileHandle(forWritingTo: log)
            let process = Process()
            process.executableURL = URL(filePath: binary)
            process.arguments = [
                "broker", "--listener-url", "tcp://\(address)", "--advertised-listener-url", "tcp://\(address)",
                "--storage-engine", "memory://tansu/",
            ]
            process.currentDirectoryURL = FileManager.default.temporaryDirectory
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = output
            process.standardError = output
            try process.run()
            try? output.close()
            // As scripts/services.sh does: clients connect only once it listens
            // (on a loaded machine Tansu took longer than a client's 5 s bound).
            if Loopback.waitUntilListening(port: port, timeout: .seconds(20), while: { process.isRunning }) {
                self.address = address
                self.process = process
                try? FileManager.default.removeItem(at: log)
                return
            }
            let status = process.isRunning ? "still running, not listening after 20 s" : "exited with status \(process.terminationStatus)"
            Self.kill(process)
            let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: log)
            failures.append("on \(address): \(status); it printed: \(printed.suffix(800))")
        }
        throw BrokerDidNotStart(failures: failures)
    }

    /// Kills the broker outright, as a crash or network loss would (Tansu
    /// does not stop on SIGTERM).
    func stop() { Self.kill(process) }

    private static func kill(_ process: Process) {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

struct BrokerDidNotStart: Error, CustomStringConvertible {
    var failures: [String]
    var description: String { "the private Tansu broker did not start: " + failures.joined(separator: " | ") }
}

struct TansuNotInstalled: Error, CustomStringConvertible {
    var path: String
    var description: String { "no Tansu broker binary at \(path): run scripts/setup.sh (or set CSE_TANSU_BIN)" }
}

@Suite struct BrokerLossTests {
    /// Once connected, losing every broker must surface as an error within
    /// the configured bound, from the consumer's poll and from a send.
    @Test func lostBrokerSurfacesAsUnreachableError() async throws {
        let broker = try PrivateBroker()
        defer { broker.stop() }
        var adminConfiguration = KafkaAdminConfiguration(bootstrapServers: [broker.address])
        adminConfiguration.requestTimeout = .seconds(5)
        let admin = try KafkaAdmin(configuration: adminConfiguration, logger: TestKafka.logger)
        let topic = TestKafka.unique("loss")
        _ = try await admin.createTopics([KafkaTopicSpec(name: topic, partitions: 1, replicationFactor: 1)])

        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: [broker.address])
        producerConfiguration.messageTimeout = .seconds(4)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: TestKafka.logger)
        defer { producer.close(timeout: .seconds(1)) }
        var consumerConfiguration = KafkaConsumerConfiguration(
            bootstrapServers: [broker.address], groupId: TestKafka.unique("loss"))
        consumerConfiguration.sessionTimeout = .seconds(6)
        consumerConfiguration.maxPollInterval = .seconds(30)
        consumerConfiguration.brokerUnreachableTimeout = .seconds(3)
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: TestKafka.logger)
        try consumer.subscribe([topic])

        _ = try await producer.send(KafkaOutgoingMessage(topic: topic, key: nil, value: "before".bytes))
        let before = try await onThread { () -> KafkaMessage? in
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let message = try consumer.poll(timeout: .milliseconds(100)) { return message }
            }
            return nil
        }
        #expect(before?.valueText == "before")

        broker.stop()
        let lossTime = ContinuousClock.now

        async let sendFailure: KafkaError? = {
            do {
                _ = try await producer.send(KafkaOutgoingMessage(topic: topic, key: nil, value: "after".bytes))
                return nil
            } catch let error as KafkaError {
                return error
            }
        }()
        // Timed on the polling thread: resuming this task afterwards waits for
        // Swift's shared pool, which the rest of a parallel run may keep busy.
        let (pollFailure, pollElapsed) = try await onThread { () -> (KafkaError?, Duration) in
            while ContinuousClock.now - lossTime < .seconds(30) {
                do { _ = try consumer.poll(timeout: .milliseconds(100)) } catch let error as KafkaError {
                    return (error, ContinuousClock.now - lossTime)
                }
            }
            return (nil, ContinuousClock.now - lossTime)
        }
        let pollError = try #require(pollFailure, "poll never reported the lost broker")
        #expect(pollError.kind == .brokersUnreachable, "\(pollError)")
        #expect(pollError.description.contains(broker.address), "\(pollError)")
        #expect(pollElapsed < .seconds(15))

        let sendError = try #require(await sendFailure, "a send to a dead broker succeeded")
        #expect(sendError.kind == .brokersUnreachable, "\(sendError)")
        #expect(sendError.description.contains(broker.address), "\(sendError)")
        // The producer gives up after its 4 s message timeout; an async send is
        // resumed on the shared pool, so the bound leaves room for a busy suite.
        #expect(ContinuousClock.now - lossTime < .seconds(30))

        let closeStart = ContinuousClock.now
        try? consumer.close()
        #expect(ContinuousClock.now - closeStart < .seconds(15))
        print("broker loss: poll failed after \(pollElapsed), close took \(ContinuousClock.now - closeStart)")
    }
}
