import ArgumentParser
import CasePipeline
import Foundation
import Kafka

/// One setting: its environment variable, its flag, its default. Every
/// command reads its settings through `Setting.resolve`, flag over
/// environment over default, so the two spellings can never disagree, and
/// `csworker config` lists them all from `Setting.all`.
struct Setting: Sendable, Hashable {
    enum Source: String, Sendable { case flag, environment, `default` }

    let environment: String
    let flag: String
    /// nil: required when the command needs it, or off.
    let defaultValue: String?
    let secret: Bool
    let summary: String

    init(_ environment: String, flag: String, default defaultValue: String? = nil, secret: Bool = false, _ summary: String) {
        self.environment = environment
        self.flag = flag
        self.defaultValue = defaultValue
        self.secret = secret
        self.summary = summary
    }

    struct Value: Sendable {
        let setting: Setting
        let value: String?
        let source: Source

        /// The value to print: secrets masked, passwords cut out of connection strings.
        var shown: String {
            guard let value else { return "(not set)" }
            if setting.secret { return "[REDACTED]" }
            if setting == .databaseURL { return Setting.maskingPassword(value) }
            return value
        }
    }

    /// The value of a setting that has a default (never unset).
    func text(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard let value = resolve(flag: flag, environment: environment).value else {
            preconditionFailure("\(self.environment) has no default: use resolve(flag:)")
        }
        return value
    }

    /// Flag over environment over default; empty values count as unset.
    func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Value {
        if let flag, !flag.isEmpty { return Value(setting: self, value: flag, source: .flag) }
        if let text = environment[self.environment], !text.isEmpty { return Value(setting: self, value: text, source: .environment) }
        return Value(setting: self, value: defaultValue, source: .default)
    }

    /// `password=...` in a keyword string or the password of a URI, replaced.
    static func maskingPassword(_ url: String) -> String {
        if let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") {
            let userInfo = url[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                return String(url[..<url.index(after: colon)]) + "[REDACTED]" + String(url[at...])
            }
            return url
        }
        return url.replacing(/password\s*=\s*('[^']*'|\S+)/, with: "password=[REDACTED]")
    }
}

extension Setting {
    // Services
    static let brokers = Setting("CSE_KAFKA_BROKERS", flag: "brokers", "Kafka bootstrap servers, host:port[,host:port]")
    static let databaseURL = Setting("CSE_DATABASE_URL", flag: "database-url", "libpq connection string or URI")
    static let group = Setting("CSE_CONSUMER_GROUP", flag: "group", default: "csworker", "Kafka consumer group")
    static let topicPrefix = Setting("CSE_TOPIC_PREFIX", flag: "topic-prefix", default: "", "prefix of every topic name")
    static let ssnKey = Setting(
        "CSE_SSN_KEY", flag: "ssn-key-file", secret: true,
        "key (32+ bytes, hex or base64) of the SSN hashes and encryption; the flag names a file holding it")
    static let policyFile = Setting("CSE_POLICY_FILE", flag: "policy-file", "the agency's policy file (default: the federal figures)")
    // csworker run
    static let httpPort = Setting("CSE_HTTP_PORT", flag: "http-port", default: "8080", "port of /metrics and /health (0 = any free, off = none)")
    static let httpHost = Setting("CSE_HTTP_HOST", flag: "http-host", default: "0.0.0.0", "address of the operator endpoints")
    static let metricsInterval = Setting(
        "CSE_METRICS_DB_INTERVAL_SECONDS", flag: "metrics-db-interval-seconds", default: "15", "seconds between reads of the database metrics")
    static let readyRetryLimit = Setting(
        "CSE_READY_MAX_RETRY_SECONDS", flag: "ready-max-retry-seconds", default: "30",
        "seconds a batch may keep failing transiently before /health/ready says not ready")
    static let maxBatch = Setting(
        "CSE_MAX_BATCH", flag: "max-batch", default: String(Worker.Configuration.defaultMaxBatch), "most records applied in one transaction")
    static let caughtUpBatch = Setting(
        "CSE_CAUGHT_UP_BATCH", flag: "caught-up-batch", default: String(Worker.Configuration.defaultCaughtUpBatch),
        "most records in one transaction while the worker keeps up")
    static let cachedCases = Setting("CSE_CACHED_CASES", flag: "cached-cases", default: "2000", "case states kept in memory between batches")
    static let drainSeconds = Setting(
        "CSE_DRAIN_SECONDS", flag: "drain-seconds", default: "5", "seconds the relay keeps publishing after the consumer stopped")
    static let unknownCaseHorizon = Setting(
        "CSE_UNKNOWN_CASE_HORIZON", flag: "unknown-case-horizon",
        default: "\(Worker.Configuration.defaultWaitingHorizon.components.seconds / 3_600)h",
        "how long an event waits for its case before it is dead-lettered")
    static let dailySweepAt = Setting("CSE_DAILY_SWEEP_AT", flag: "daily-sweep-at", "HH:MM of the in-process daily sweep (default off)")
    static let kafkaProperties = Setting(
        "CSE_KAFKA_<NAME>", flag: "kafka-property", "librdkafka property name=value (CSE_KAFKA_MAX_POLL_INTERVAL_MS=... is max.poll.interval.ms)")
    // Logging, every command
    static let logLevel = Setting("CSE_LOG_LEVEL", flag: "log-level", default: "info", "trace, debug, info, notice, warning, error")
    static let logFormat = Setting("CSE_LOG_FORMAT", flag: "log-format", "json or text (default: text on a terminal, else json)")
    // migrate, topics ensure
    static let runtimeRole = Setting(
        "CSE_RUNTIME_ROLE", flag: "runtime-role", default: "csworker_runtime", "role migrate grants the workers' privileges to")
    static let consoleRole = Setting(
        "CSE_CONSOLE_ROLE", flag: "console-role", default: "csworker_console", "role migrate grants the console's read-mostly rights to")
    // csworker console
    static let consolePort = Setting("CSE_CONSOLE_PORT", flag: "port", default: "8090", "port of the web console")
    static let consoleHost = Setting("CSE_CONSOLE_HOST", flag: "host", default: "0.0.0.0", "address the web console listens on")
    static let consoleUsersFile = Setting(
        "CSE_CONSOLE_USERS_FILE", flag: "users-file", default: "console-users.json", "the console's users and password hashes")
    static let consoleSecureCookies = Setting(
        "CSE_CONSOLE_SECURE_COOKIES", flag: "secure-cookies", default: "false",
        "mark session cookies Secure and send HSTS (TLS terminated in front of the console); automatic with X-Forwarded-Proto: https")
    static let consoleTrustForwardedFor = Setting(
        "CSE_CONSOLE_TRUST_FORWARDED_FOR", flag: "trust-forwarded-for", default: "false",
        "sign-in limits per client take its address from the last X-Forwarded-For entry (the proxy in front appends it)")
    static let topicPartitions = Setting("CSE_TOPIC_PARTITIONS", flag: "partitions", default: "12", "partitions of topics created by topics ensure")
    static let topicReplicationFactor = Setting(
        "CSE_TOPIC_REPLICATION_FACTOR", flag: "replication-factor", default: "3", "replication factor of topics created by topics ensure")

    static let all: [Setting] = [
        .brokers, .databaseURL, .group, .topicPrefix, .ssnKey, .policyFile,
        .httpPort, .httpHost, .metricsInterval, .readyRetryLimit, .maxBatch, .caughtUpBatch, .cachedCases, .drainSeconds,
        .unknownCaseHorizon, .dailySweepAt, .kafkaProperties, .logLevel, .logFormat, .runtimeRole, .consoleRole, .consolePort, .consoleHost, .consoleUsersFile, .consoleSecureCookies,
        .consoleTrustForwardedFor, .topicPartitions,
        .topicReplicationFactor,
    ]

    /// A whole number setting, at least `minimum`; a usage error naming both spellings otherwise.
    func integer(flag: Int?, minimum: Int, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        let resolved = resolve(flag: flag.map(String.init), environment: environment)
        guard let text = resolved.value, let number = Int(text), number >= minimum else {
            throw ValidationError("\(self.environment) / --\(self.flag) must be a whole number, at least \(minimum), not '\(resolved.value ?? "")'")
        }
        return number
    }

    /// The `--kafka-property name=value` flags over the `CSE_KAFKA_<NAME>` variables.
    static func kafkaProperties(flags: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: String] {
        var properties = KafkaConfigurationOverrides.fromEnvironment(environment)
        for flag in flags {
            guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex else {
                throw ValidationError("--kafka-property must be name=value (a librdkafka property), not '\(flag)'")
            }
            properties[String(flag[..<equals])] = String(flag[flag.index(after: equals)...])
        }
        return properties
    }
}
