import ArgumentParser
import Foundation
import JSON
import Kafka

/// `csworker config`: what a `run` with the same environment and flags would
/// use, every setting with where its value came from, secrets masked.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration: every setting, its value (secrets masked) and where it came from.",
        discussion: """
            Takes the same flags as `csworker run`, so `csworker config <run's flags>` shows what that run
            would use. Ends with the database sessions one `run` process holds (the connection budget in
            deploy/README.md). Exits 64 after printing when a setting is invalid, naming it.
            """
    )

    @OptionGroup var options: RunOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let flags = options.flags
        var rows: [(setting: Setting, shown: String, source: Setting.Source)] = []
        for setting in Setting.all {
            if setting == .kafkaProperties {
                // Every CSE_KAFKA_<NAME> and --kafka-property, as the librdkafka property it sets.
                let properties = (try? Setting.kafkaProperties(flags: options.kafka.propertyFlags, environment: environment)) ?? [:]
                let shown = properties.sorted { $0.key < $1.key }.map { "\($0.key)=\(KafkaConfigurationOverrides.isSecret($0.key) ? "[REDACTED]" : $0.value)" }
                rows.append((setting, shown.isEmpty ? "(none)" : shown.joined(separator: " "),
                             options.kafka.propertyFlags.isEmpty ? (properties.isEmpty ? .default : .environment) : .flag))
                continue
            }
            let value = setting.resolve(flag: flags[setting], environment: environment)
            rows.append((setting, value.shown, value.source))
        }
        let sweepAt = Setting.dailySweepAt.resolve(flag: flags[.dailySweepAt], environment: environment).value
        let httpOn = Setting.httpPort.resolve(flag: flags[.httpPort], environment: environment).value?.lowercased() != "off"
        let sessions = RunOptions.databaseSessions(dailySweep: sweepAt != nil, httpOn: httpOn)
        var problem: String?
        do {
            _ = try options.resolved(environment: environment)
        } catch {
            problem = "\(error)"
        }

        if json {
            print(JSONValue.object([
                "settings": .array(rows.map { row in
                    .object([
                        "environment": .string(row.setting.environment), "flag": .string("--\(row.setting.flag)"),
                        "value": .string(row.shown), "source": .string(row.source.rawValue),
                    ])
                }),
                "databaseSessionsPerProcess": .int(Int64(sessions)),
                "valid": .bool(problem == nil),
                "problem": problem.map { .string($0) } ?? .null,
            ]).serializedString())
        } else {
            let width = rows.map(\.setting.environment.count).max() ?? 0
            let flagWidth = rows.map { $0.setting.flag.count + 2 }.max() ?? 0
            for row in rows {
                print(row.setting.environment.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                    + "--\(row.setting.flag)".padding(toLength: flagWidth + 2, withPad: " ", startingAt: 0)
                    + "\(row.shown)  (\(row.source.rawValue))")
            }
            print("database sessions per process: \(sessions) (batch, outbox relay\(httpOn ? ", operations watch" : "")\(sweepAt != nil ? ", daily sweep" : ""))")
            if let problem { print("invalid: \(problem)") }
        }
        if problem != nil { throw ServiceExit.usage }
    }
}
