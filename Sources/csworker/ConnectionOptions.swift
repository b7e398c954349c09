import ArgumentParser
import CaseStorage
import Foundation

/// `--database-url` (CSE_DATABASE_URL): for the commands that use the database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: ArgumentHelp("libpq connection string or URI (env CSE_DATABASE_URL).", valueName: "url"))
    var databaseURLFlag: String?

    func url(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        guard let url = Setting.databaseURL.resolve(flag: databaseURLFlag, environment: environment).value else {
            throw ValidationError("no database configured: set CSE_DATABASE_URL or pass --database-url")
        }
        return url
    }
}

/// `--brokers` (CSE_KAFKA_BROKERS) and librdkafka properties: for the commands that use Kafka.
struct KafkaOptions: ParsableArguments {
    @Option(name: .customLong("brokers"), help: "Kafka bootstrap servers, host:port[,host:port] (env CSE_KAFKA_BROKERS).")
    var brokersFlag: String?

    @Option(name: .customLong("kafka-property"), parsing: .singleValue, help: ArgumentHelp(
        "A librdkafka property, repeatable (env CSE_KAFKA_<NAME>: CSE_KAFKA_SECURITY_PROTOCOL=ssl is security.protocol=ssl).",
        valueName: "name=value"))
    var propertyFlags: [String] = []

    /// Bootstrap servers, or a usage error (exit 64) naming the missing setting.
    func brokers(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String] {
        guard let raw = Setting.brokers.resolve(flag: brokersFlag, environment: environment).value else {
            throw ValidationError("no Kafka brokers configured: set CSE_KAFKA_BROKERS or pass --brokers host:port")
        }
        let list = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for broker in list where !broker.contains(":") {
            throw ValidationError("Kafka broker '\(broker)' must be host:port")
        }
        return list
    }

    /// Whether brokers are set at all (for commands where Kafka is optional).
    var isConfigured: Bool { Setting.brokers.resolve(flag: brokersFlag).value != nil }

    func properties(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: String] {
        try Setting.kafkaProperties(flags: propertyFlags, environment: environment)
    }
}

/// `--group` (CSE_CONSUMER_GROUP): the consumer group the workers form.
struct GroupOptions: ParsableArguments {
    @Option(name: .customLong("group"), help: "Kafka consumer group (env CSE_CONSUMER_GROUP, default csworker).")
    var groupFlag: String?

    var group: String { Setting.group.text(flag: groupFlag) }
}

/// `--ssn-key-file` (CSE_SSN_KEY holds the key itself; the flag names a file
/// holding it, so the key never shows in a process list).
struct SSNKeyOptions: ParsableArguments {
    @Option(name: .customLong("ssn-key-file"), help: ArgumentHelp(
        "File holding the SSN key (32+ bytes, hex or base64); default: env CSE_SSN_KEY.", valueName: "path"))
    var keyFile: String?

    /// The key's text (hex or base64), from the file or the environment.
    func encodedKey(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        guard let keyFile else { return environment[SSNKey.environmentVariable] }
        guard let contents = FileManager.default.contents(atPath: keyFile) else {
            throw ValidationError("--ssn-key-file \(keyFile) cannot be read")
        }
        return String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func key(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SSNKey {
        let text = try encodedKey(environment: environment)
        do {
            guard let text else { return try SSNKey.fromEnvironment([:]) }
            return try SSNKey(encoded: text, variable: keyFile == nil ? SSNKey.environmentVariable : "--ssn-key-file")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// Durations as operators write them: `90s`, `30m`, `48h`, `2d`, or whole seconds.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int64)] = [("ms", 0), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            guard let value = Int64(trimmed.dropLast(suffix.count)), value >= 0 else { return nil }
            return seconds == 0 ? .milliseconds(value) : .seconds(value * seconds)
        }
        return Int64(trimmed).flatMap { $0 >= 0 ? .seconds($0) : nil }
    }
}
