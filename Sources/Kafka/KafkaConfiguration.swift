import TimeUnits

/// How clients authenticate and encrypt; every field maps to one librdkafka
/// property. Anything more exotic goes through `properties`.
public struct KafkaSecurity: Sendable, Hashable {
    public enum SecurityProtocol: String, Sendable, Hashable {
        case plaintext = "plaintext"
        case ssl = "ssl"
        case saslPlaintext = "sasl_plaintext"
        case saslSSL = "sasl_ssl"
    }

    public var securityProtocol: SecurityProtocol?
    /// `sasl.mechanism`, e.g. PLAIN, SCRAM-SHA-512, OAUTHBEARER.
    public var saslMechanism: String?
    public var saslUsername: String?
    public var saslPassword: String?
    /// `ssl.ca.location`: CA bundle file used to verify the brokers.
    public var sslCALocation: String?

    public init(
        securityProtocol: SecurityProtocol? = nil, saslMechanism: String? = nil,
        saslUsername: String? = nil, saslPassword: String? = nil, sslCALocation: String? = nil
    ) {
        self.securityProtocol = securityProtocol
        self.saslMechanism = saslMechanism
        self.saslUsername = saslUsername
        self.saslPassword = saslPassword
        self.sslCALocation = sslCALocation
    }

    public static let plaintext = KafkaSecurity()

    var properties: [(String, String)] {
        var result: [(String, String)] = []
        if let securityProtocol { result.append(("security.protocol", securityProtocol.rawValue)) }
        if let saslMechanism { result.append(("sasl.mechanisms", saslMechanism)) }
        if let saslUsername { result.append(("sasl.username", saslUsername)) }
        if let saslPassword { result.append(("sasl.password", saslPassword)) }
        if let sslCALocation { result.append(("ssl.ca.location", sslCALocation)) }
        return result
    }
}

/// `auto.offset.reset`: where a group starts on a partition it has never
/// committed to.
public enum KafkaAutoOffsetReset: String, Sendable, Hashable {
    case earliest, latest
    /// Fail the fetch instead of guessing (surfaced as a consumer error).
    case error
}

/// `partition.assignment.strategy`. The eager strategies revoke every
/// partition on each rebalance; cooperative-sticky moves only what must move.
public enum KafkaAssignmentStrategy: String, Sendable, Hashable {
    case range = "range"
    case roundRobin = "roundrobin"
    case rangeThenRoundRobin = "range,roundrobin"
    case cooperativeSticky = "cooperative-sticky"
}

/// Settings for `KafkaConsumer`. Offsets are always committed by the
/// application (`enable.auto.commit` and `enable.auto.offset.store` are
/// false and cannot be overridden).
public struct KafkaConsumerConfiguration: Sendable {
    /// `host:port` of one or more brokers.
    public var bootstrapServers: [String]
    public var groupId: String
    public var clientId: String = "csworker"
    public var security: KafkaSecurity = .plaintext
    /// A member that has not heartbeated for this long is removed from the
    /// group. Kafka's default (45 s): a process paused by its node, a GC-heavy
    /// neighbour or a slow network keeps its partitions. Tansu 0.6 completes
    /// each join only after about half of it (measured: 6 s -> 3 s, 10 s -> 5 s),
    /// so the local setup shortens it (scripts/services.sh env).
    public var sessionTimeout: Duration = .seconds(45)
    /// Heartbeat period; nil = a third of the session timeout, at most 3 s.
    public var heartbeatInterval: Duration? = nil
    /// The longest gap allowed between two polls before the member is
    /// considered stuck and its partitions are reassigned. Kafka brokers also
    /// use it as the rebalance timeout (how long a rebalance waits for slow
    /// members). Must be >= `sessionTimeout`. Kafka's default (300 s); Tansu
    /// waits the whole of it for a join, so the local setup shortens it.
    public var maxPollInterval: Duration = .seconds(300)
    public var autoOffsetReset: KafkaAutoOffsetReset = .earliest
    public var assignmentStrategy: KafkaAssignmentStrategy = .rangeThenRoundRobin
    /// `fetch.min.bytes`, `fetch.max.bytes`, `max.partition.fetch.bytes`; nil = librdkafka's default.
    public var fetchMinBytes: Int? = nil
    public var fetchMaxBytes: Int? = nil
    public var maxPartitionFetchBytes: Int? = nil
    /// `fetch.wait.max.ms`: how long the broker may hold a fetch waiting for
    /// `fetch.min.bytes`; nil = librdkafka's default (500 ms).
    public var fetchWaitMax: Duration? = nil
    /// `queued.max.messages.kbytes`: how much the consumer fetches ahead of
    /// `poll` (all partitions together); nil = librdkafka's default (64 MiB).
    public var prefetchKilobytes: Int? = nil
    /// How long `subscribe` waits for any broker to answer before failing
    /// with `.brokersUnreachable`, and how long all brokers may stay down
    /// while polling before `poll` fails the same way.
    public var brokerUnreachableTimeout: Duration = .seconds(10)
    /// Any librdkafka property (CONFIGURATION.md), applied after the typed
    /// settings above, so these win. See `KafkaConfigurationOverrides`.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String], groupId: String) {
        self.bootstrapServers = bootstrapServers
        self.groupId = groupId
    }

    func librdkafkaProperties() throws -> [(String, String)] {
        let heartbeat = heartbeatInterval ?? min(.seconds(3), sessionTimeout / 3)
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientId),
            ("group.id", groupId),
            ("session.timeout.ms", String(sessionTimeout.rdKafkaMilliseconds)),
            ("heartbeat.interval.ms", String(heartbeat.rdKafkaMilliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.rdKafkaMilliseconds)),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("partition.assignment.strategy", assignmentStrategy.rawValue),
            ("enable.partition.eof", "false"),
            ("log.connection.close", "false"),
        ]
        if let fetchMinBytes { result.append(("fetch.min.bytes", String(fetchMinBytes))) }
        if let fetchMaxBytes { result.append(("fetch.max.bytes", String(fetchMaxBytes))) }
        if let maxPartitionFetchBytes { result.append(("max.partition.fetch.bytes", String(maxPartitionFetchBytes))) }
        if let fetchWaitMax { result.append(("fetch.wait.max.ms", String(fetchWaitMax.rdKafkaMilliseconds))) }
        if let prefetchKilobytes { result.append(("queued.max.messages.kbytes", String(prefetchKilobytes))) }
        result += security.properties
        result += try KafkaConfigurationOverrides.checked(
            properties, managed: ["enable.auto.commit": "false", "enable.auto.offset.store": "false"], for: .consumer)
        // Offsets are stored and committed only by the application, after it has
        // finished with a message; librdkafka never commits on its own.
        result += [("enable.auto.commit", "false"), ("enable.auto.offset.store", "false")]
        return result
    }
}

/// Settings for `KafkaProducer`: idempotent, `acks=all` by default, so a
/// retried send never duplicates or reorders within a partition.
public struct KafkaProducerConfiguration: Sendable {
    public var bootstrapServers: [String]
    public var clientId: String = "csworker"
    public var security: KafkaSecurity = .plaintext
    /// `enable.idempotence`. Requires `acks=all`.
    public var idempotent: Bool = true
    public enum Acks: String, Sendable, Hashable {
        case all = "all", leader = "1", none = "0"
    }
    public var acks: Acks = .all
    /// `linger.ms`: how long to wait for more messages to fill a batch.
    public var linger: Duration = .milliseconds(5)
    /// `batch.size` in bytes; nil = librdkafka's default.
    public var batchSize: Int? = nil
    /// `message.max.bytes`: the largest message (and request) the client
    /// sends; larger ones fail at once with `_MSG_SIZE_TOO_LARGE`. Follow the
    /// largest `max.message.bytes` of the topics written; nil = librdkafka's
    /// default (1,000,000). A `message.max.bytes` property wins.
    public var maxMessageBytes: Int? = nil
    /// `message.timeout.ms`: a message not acknowledged within this time
    /// fails with `_MSG_TIMED_OUT` (librdkafka retries until then).
    public var messageTimeout: Duration = .seconds(30)
    /// How long the producer waits, when created, for any broker to answer.
    public var brokerUnreachableTimeout: Duration = .seconds(10)
    /// `partitioner`; murmur2_random matches the Java client, so keys land
    /// on the same partitions whichever client produced them.
    public var partitioner: String = "murmur2_random"
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    func librdkafkaProperties() throws -> [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientId),
            ("enable.idempotence", idempotent ? "true" : "false"),
            ("acks", acks.rawValue),
            ("linger.ms", String(linger.rdKafkaMilliseconds)),
            ("message.timeout.ms", String(messageTimeout.rdKafkaMilliseconds)),
            ("partitioner", partitioner),
            ("log.connection.close", "false"),
        ]
        if let batchSize { result.append(("batch.size", String(batchSize))) }
        if let maxMessageBytes { result.append(("message.max.bytes", String(maxMessageBytes))) }
        result += security.properties
        result += try KafkaConfigurationOverrides.checked(properties, managed: [:], for: .producer)
        return result
    }
}

/// Settings for `KafkaAdmin`.
public struct KafkaAdminConfiguration: Sendable {
    public var bootstrapServers: [String]
    public var clientId: String = "csworker-admin"
    public var security: KafkaSecurity = .plaintext
    /// Bound on each admin request, including waiting for a broker.
    public var requestTimeout: Duration = .seconds(10)
    public var properties: [String: String] = [:]

    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    func librdkafkaProperties() throws -> [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientId),
            ("log.connection.close", "false"),
        ]
        result += security.properties
        result += try KafkaConfigurationOverrides.checked(properties, managed: [:], for: .admin)
        return result
    }
}

/// librdkafka properties passed through from outside, e.g. the process
/// environment.
public enum KafkaConfigurationOverrides {
    public static let environmentPrefix = "CSE_KAFKA_"
    /// `CSE_KAFKA_BROKERS` is the broker list itself, not a librdkafka property.
    public static let reservedEnvironmentNames: Set<String> = ["CSE_KAFKA_BROKERS"]

    /// Maps `CSE_KAFKA_<NAME>` variables to librdkafka properties:
    /// `CSE_KAFKA_MAX_POLL_INTERVAL_MS=6000` gives `max.poll.interval.ms=6000`
    /// (lowercased, `_` becomes `.`). `CSE_KAFKA_BROKERS` is left out.
    public static func fromEnvironment(_ environment: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in environment
        where name.hasPrefix(environmentPrefix) && !reservedEnvironmentNames.contains(name) {
            let property = String(
                name.dropFirst(environmentPrefix.count).lowercased().map { $0 == "_" ? "." : $0 })
            if !property.isEmpty { result[property] = value }
        }
        return result
    }

    /// Whether a property's value must never be logged or shown in errors.
    public static func isSecret(_ property: String) -> Bool {
        let name = property.lowercased()
        return ["password", "secret", "key", "jaas", "token", "sasl.oauthbearer.config"]
            .contains { name.contains($0) }
    }

    /// `name=value` lines with secret values replaced by `[REDACTED]`.
    public static func redacted(_ properties: [(String, String)]) -> String {
        properties
            .map { "\($0.0)=\(isSecret($0.0) ? "[REDACTED]" : $0.1)" }
            .joined(separator: " ")
    }

    /// Which kind of client the properties are for: `CSE_KAFKA_*` variables go
    /// to every client a process makes, and librdkafka warns about (and
    /// ignores) a property of the other kind, so each takes only its own.
    public enum Client: Sendable {
        case consumer, producer, admin
    }

    /// Properties only consumers read (CONFIGURATION.md, column C).
    static let consumerOnly: Set<String> = [
        "group.id", "group.instance.id", "partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms",
        "group.protocol.type", "group.protocol", "group.remote.assignor", "coordinator.query.interval.ms",
        "max.poll.interval.ms", "enable.auto.commit", "auto.commit.interval.ms", "enable.auto.offset.store",
        "queued.min.messages", "queued.max.messages.kbytes", "fetch.wait.max.ms", "fetch.queue.backoff.ms",
        "fetch.message.max.bytes", "max.partition.fetch.bytes", "fetch.max.bytes", "fetch.min.bytes",
        "fetch.error.backoff.ms", "isolation.level", "enable.partition.eof", "check.crcs", "auto.offset.reset",
    ]

    /// Properties only producers read (column P).
    static let producerOnly: Set<String> = [
        "transactional.id", "transaction.timeout.ms", "enable.idempotence", "enable.gapless.guarantee",
        "queue.buffering.max.messages", "queue.buffering.max.kbytes", "queue.buffering.max.ms", "linger.ms",
        "message.send.max.retries", "retries", "queue.buffering.backpressure.threshold", "compression.codec",
        "compression.type", "compression.level", "batch.num.messages", "batch.size", "delivery.report.only.error",
        "sticky.partitioning.linger.ms", "acks", "request.required.acks", "request.timeout.ms", "message.timeout.ms",
        "delivery.timeout.ms", "partitioner",
    ]

    static func checked(_ properties: [String: String], managed: [String: String], for client: Client) throws -> [(String, String)] {
        let foreign: Set<String>
        switch client {
        case .consumer: foreign = producerOnly
        case .producer: foreign = consumerOnly
        case .admin: foreign = consumerOnly.union(producerOnly)
        }
        let properties = properties.filter { !foreign.contains($0.key) }
        for (name, value) in properties {
            if let required = managed[name], required != value {
                throw KafkaError.invalidConfiguration(
                    "configuration property \"\(name)\" is managed by the client and must be \(required)")
            }
        }
        return properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension Duration {
    /// Milliseconds as librdkafka's `int` takes them: never negative, clamped to its range.
    var rdKafkaMilliseconds: Int32 { Int32(clamping: max(0, inMilliseconds)) }
}

// Printing a configuration (e.g. in a startup log line) shows every setting
// as librdkafka will get it, with secret values redacted.
extension KafkaSecurity: CustomStringConvertible {
    public var description: String { "KafkaSecurity(\(KafkaConfigurationOverrides.redacted(properties)))" }
}

extension KafkaConsumerConfiguration: CustomStringConvertible {
    public var description: String {
        "KafkaConsumerConfiguration(\(KafkaConfigurationOverrides.redacted((try? librdkafkaProperties()) ?? [])))"
    }
}

extension KafkaProducerConfiguration: CustomStringConvertible {
    public var description: String {
        "KafkaProducerConfiguration(\(KafkaConfigurationOverrides.redacted((try? librdkafkaProperties()) ?? [])))"
    }
}

extension KafkaAdminConfiguration: CustomStringConvertible {
    public var description: String {
        "KafkaAdminConfiguration(\(KafkaConfigurationOverrides.redacted((try? librdkafkaProperties()) ?? [])))"
    }
}
