@testable import Kafka
import Testing

@Suite struct ConfigurationTests {
    @Test func loadedLibrdkafkaIsAtLeast2_1() throws {
        // Debian's 2.0.2 cannot talk to current brokers; the bundled build must win.
        let parts = librdkafkaVersion.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        try #require(parts.count >= 2, "unparseable version \(librdkafkaVersion)")
        #expect((parts[0], parts[1]) >= (2, 1), "loaded librdkafka \(librdkafkaVersion)")
        #expect(librdkafkaVersionNumber >= 0x0201_0000)
    }

    @Test func environmentVariablesMapToLibrdkafkaProperties() {
        let properties = KafkaConfigurationOverrides.fromEnvironment([
            "CSE_KAFKA_MAX_POLL_INTERVAL_MS": "6000",
            "CSE_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
            "CSE_KAFKA_SASL_PASSWORD": "hunter2",
            "CSE_KAFKA_BROKERS": "127.0.0.1:9092",
            "CSE_DATABASE_URL": "postgresql://x",
            "PATH": "/bin",
        ])
        #expect(
            properties == [
                "max.poll.interval.ms": "6000",
                "security.protocol": "sasl_ssl",
                "sasl.password": "hunter2",
            ])
    }

    /// `CSE_KAFKA_*` reaches every client of a process; each takes only the
    /// properties of its kind (librdkafka warns about the others and ignores them).
    @Test func eachClientTakesOnlyItsOwnKindOfProperty() throws {
        let overrides = [
            "session.timeout.ms": "10000", "max.poll.interval.ms": "10000", "linger.ms": "7", "security.protocol": "plaintext",
        ]
        var consumer = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"], groupId: "g")
        consumer.properties = overrides
        var producer = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        producer.properties = overrides
        let consumerText = "\(consumer)", producerText = "\(producer)"
        #expect(consumerText.contains("session.timeout.ms=10000") && consumerText.contains("max.poll.interval.ms=10000"))
        #expect(!consumerText.contains("linger.ms=7"))
        #expect(producerText.contains("linger.ms=7") && !producerText.contains("session.timeout.ms"))
        #expect(consumerText.contains("security.protocol=plaintext") && producerText.contains("security.protocol=plaintext"))
    }

    /// The typed consumer settings reach librdkafka under their names; a property set by name wins.
    @Test func typedConsumerSettingsMapToTheirProperties() throws {
        var consumer = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"], groupId: "g")
        consumer.fetchWaitMax = .milliseconds(100)
        consumer.prefetchKilobytes = 8 * 1024
        let typed = Dictionary(try consumer.librdkafkaProperties(), uniquingKeysWith: { $1 })
        #expect(typed["fetch.wait.max.ms"] == "100" && typed["queued.max.messages.kbytes"] == "8192")
        consumer.properties = ["queued.max.messages.kbytes": "65536"]
        let overridden = Dictionary(try consumer.librdkafkaProperties(), uniquingKeysWith: { $1 })
        #expect(overridden["queued.max.messages.kbytes"] == "65536")
    }

    @Test func secretValuesAreRedacted() {
        let text = KafkaConfigurationOverrides.redacted([
            ("sasl.password", "hunter2"), ("ssl.key.password", "k3y"), ("sasl.username", "worker"),
        ])
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("k3y"))
        #expect(text.contains("sasl.username=worker"))
        #expect(text.contains("sasl.password=[REDACTED]"))
    }

    @Test func printedConfigurationHidesSecrets() {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["broker-1:9093"])
        configuration.security = KafkaSecurity(
            securityProtocol: .saslSSL, saslMechanism: "SCRAM-SHA-512", saslUsername: "worker", saslPassword: "hunter2")
        configuration.properties = ["ssl.key.password": "k3y", "linger.ms": "20"]
        for text in ["\(configuration)", String(reflecting: configuration), "\(configuration.security)"] {
            #expect(!text.contains("hunter2"), "\(text)")
            #expect(!text.contains("k3y"), "\(text)")
        }
        #expect("\(configuration)".contains("bootstrap.servers=broker-1:9093"))
        #expect("\(configuration)".contains("linger.ms=20"))
    }

    @Test func unknownPropertyIsNamedWithoutItsValue() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"], groupId: "g")
        configuration.properties = ["no.such.property": "s3cret-value"]
        let error = try #require(throws: KafkaError.self) {
            try KafkaConsumer(configuration: configuration, logger: TestKafka.logger)
        }
        #expect(error.kind == .invalidConfiguration)
        #expect(error.description.contains("\"no.such.property\""))
        #expect(!error.description.contains("s3cret-value"))
    }

    @Test func invalidValueIsNamedWithoutTheValue() throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        configuration.properties = ["sasl.password": "x", "queue.buffering.max.messages": "many-s3cret"]
        let error = try #require(throws: KafkaError.self) {
            try KafkaProducer(configuration: configuration, logger: TestKafka.logger)
        }
        #expect(error.kind == .invalidConfiguration)
        #expect(error.description.contains("queue.buffering.max.messages"))
        #expect(!error.description.contains("many-s3cret"))
    }

    @Test func consumerRefusesAutomaticCommits() throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"], groupId: "g")
        configuration.properties = ["enable.auto.commit": "true"]
        let error = try #require(throws: KafkaError.self) {
            try KafkaConsumer(configuration: configuration, logger: TestKafka.logger)
        }
        #expect(error.description.contains("enable.auto.commit"))
    }

    @Test func typedProducerMessageLimitMapsToItsProperty() throws {
        var producer = KafkaProducerConfiguration(bootstrapServers: ["127.0.0.1:1"])
        #expect(Dictionary(try producer.librdkafkaProperties(), uniquingKeysWith: { $1 })["message.max.bytes"] == nil)
        producer.maxMessageBytes = 4_194_304
        #expect(Dictionary(try producer.librdkafkaProperties(), uniquingKeysWith: { $1 })["message.max.bytes"] == "4194304")
        producer.properties = ["message.max.bytes": "2000000"]
        #expect(Dictionary(try producer.librdkafkaProperties(), uniquingKeysWith: { $1 })["message.max.bytes"] == "2000000")
    }

    /// What the outbox relay sets aside (refused for good) and what it retries.
    @Test func produceErrorsClassifyPermanentRefusals() {
        #expect(KafkaErrorCode.messageSizeTooLarge.isPermanentRefusal)
        #expect(KafkaErrorCode(rawValue: 29).isPermanentRefusal)  // TOPIC_AUTHORIZATION_FAILED
        #expect(KafkaErrorCode(rawValue: 87).isPermanentRefusal)  // INVALID_RECORD
        #expect(KafkaErrorCode(rawValue: -188).isPermanentRefusal)  // _UNKNOWN_TOPIC
        for transient in [KafkaErrorCode.transport, .allBrokersDown, .messageTimedOut, .timedOut, .queueFull, .unknownTopicOrPartition] {
            #expect(!transient.isPermanentRefusal, "\(transient)")
        }
        let fatal = KafkaError(kind: .failed, operation: "produce", code: .messageSizeTooLarge, message: "x", isFatal: true)
        #expect(!fatal.isPermanentRefusal)
    }

    @Test func errorCodesClassifyRetriability() {
        #expect(KafkaErrorCode.allBrokersDown.isRetriable)
        #expect(KafkaErrorCode.transport.isRetriable)
        #expect(KafkaErrorCode.rebalanceInProgress.isRetriable)
        #expect(KafkaErrorCode.queueFull.isRetriable)
        #expect(!KafkaErrorCode.topicAlreadyExists.isRetriable)
        #expect(!KafkaErrorCode.invalidArgument.isRetriable)
        #expect(KafkaErrorCode.topicAlreadyExists.name == "TOPIC_ALREADY_EXISTS")
    }

    @Test func nextOffsetsArePastTheHighestProcessedMessage() {
        let messages = [(0, 5), (1, 2), (0, 7), (0, 6)].map {
            KafkaMessage(topic: "t", partition: Int32($0.0), offset: Int64($0.1), key: nil, value: nil)
        }
        #expect(
            KafkaConsumer.nextOffsets(after: messages) == [
                TopicPartitionOffset(topic: "t", partition: 0, offset: 8),
                TopicPartitionOffset(topic: "t", partition: 1, offset: 3),
            ])
    }
}
