import ArgumentParser
import Foundation

/// The settings every command that talks to the services shares. Each comes
/// from the environment (the contract's names) and can be overridden by a flag.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("brokers"), help: "Kafka bootstrap servers, host:port[,host:port] (env CSE_KAFKA_BROKERS).")
    var brokersFlag: String?

    @Option(name: .customLong("database-url"), help: ArgumentHelp("libpq connection string or URI (env CSE_DATABASE_URL).", valueName: "url"))
    var databaseURLFlag: String?

    @Option(name: .customLong("group"), help: "Kafka consumer group (env CSE_CONSUMER_GROUP, default csworker).")
    var groupFlag: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Bootstrap servers, or a usage error (exit 64) naming the missing setting.
    func brokers() throws -> [String] {
        guard let raw = brokersFlag ?? environment["CSE_KAFKA_BROKERS"], !raw.isEmpty else {
            throw ValidationError("no Kafka brokers configured: set CSE_KAFKA_BROKERS or pass --brokers host:port")
        }
        let list = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for broker in list where !broker.contains(":") {
            throw ValidationError("Kafka broker '\(broker)' must be host:port")
        }
        return list
    }

    func databaseURL() throws -> String {
        guard let url = databaseURLFlag ?? environment["CSE_DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database configured: set CSE_DATABASE_URL or pass --database-url")
        }
        return url
    }

    var group: String { groupFlag ?? environment["CSE_CONSUMER_GROUP"] ?? "csworker" }
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
