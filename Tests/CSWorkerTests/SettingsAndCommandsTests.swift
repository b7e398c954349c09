import ArgumentParser
import CaseScenarios
import Foundation
import JSON
import Postgres
import Testing
import TestSupport

@testable import csworker

/// One table of settings: every setting has a flag on a command and an
/// environment variable, flags win, secrets never print.
@Suite struct SettingsTests {
    @Test func flagOverEnvironmentOverDefault() {
        let environment = ["CSE_HTTP_PORT": "9100"]
        #expect(Setting.httpPort.resolve(flag: "9200", environment: environment).value == "9200")
        #expect(Setting.httpPort.resolve(flag: "9200", environment: environment).source == .flag)
        #expect(Setting.httpPort.resolve(flag: nil, environment: environment).value == "9100")
        #expect(Setting.httpPort.resolve(flag: nil, environment: environment).source == .environment)
        #expect(Setting.httpPort.resolve(flag: nil, environment: [:]).value == "8080")
        #expect(Setting.httpPort.resolve(flag: nil, environment: ["CSE_HTTP_PORT": ""]).source == .default)
    }

    @Test func passwordsAreCutOutOfConnectionStrings() {
        #expect(Setting.maskingPassword("postgresql://worker:s3cret@db:5432/cases") == "postgresql://worker:[REDACTED]@db:5432/cases")
        #expect(Setting.maskingPassword("host=db user=worker password=s3cret dbname=cases")
            == "host=db user=worker password=[REDACTED] dbname=cases")
        #expect(Setting.maskingPassword("postgresql://worker@db/cases") == "postgresql://worker@db/cases")
    }

    @Test func everySettingIsAFlagOfSomeCommand() {
        var flags = Set<String>()
        func collect(_ command: any ParsableCommand.Type) {
            let help = command.helpMessage(columns: 400)
            for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" })
            where word.hasPrefix("--") {
                flags.insert(String(word.drop(while: { $0 == "-" }).prefix(while: { $0 != "=" && $0 != "<" })))
            }
            for sub in command.configuration.subcommands { collect(sub) }
        }
        collect(CSWorker.self)
        for setting in Setting.all {
            #expect(flags.contains(setting.flag), "--\(setting.flag) (\(setting.environment)) is on no command")
        }
        #expect(Set(Setting.all.map(\.environment)).count == Setting.all.count)
    }

    @Test func eachCommandOffersOnlyTheConnectionsItUses() {
        func help(_ command: any ParsableCommand.Type) -> String { command.helpMessage(columns: 400) }
        #expect(!help(TopicsCommand.Ensure.self).contains("--database-url"))
        #expect(!help(TopicsCommand.Ensure.self).contains("--group"))
        #expect(!help(FeedCommand.self).contains("--database-url"))
        #expect(!help(FeedCommand.self).contains("--group"))
        #expect(!help(DeadLettersCommand.List.self).contains("--brokers"))
        #expect(!help(CaseCommand.Show.self).contains("--brokers"))
        #expect(!help(MigrateCommand.self).contains("--brokers"))
        #expect(help(StatusCommand.self).contains("--brokers"), "status reads the group's lag from the brokers")
        #expect(help(FeedCommand.self).contains("--allow-existing-data"))
        #expect(help(BenchCommand.self).contains("--allow-existing-data"))
    }

    @Test func runHoldsThreeDatabaseSessionsAndTheDeployBudgetCountsThat() throws {
        #expect(RunOptions.databaseSessions(dailySweep: false, httpOn: true) == 3)
        #expect(RunOptions.databaseSessions(dailySweep: true, httpOn: true) == 4)
        #expect(RunOptions.databaseSessions(dailySweep: false, httpOn: false) == 2)
        // deploy/'s budget check counts with the same figure.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("scripts/check-manifests.sh"), encoding: .utf8)
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("sessions_per_process=") })
        let figure = line.dropFirst("sessions_per_process=".count).prefix { $0.isNumber }
        #expect(Int(figure) == RunOptions.databaseSessions(dailySweep: false, httpOn: true))
    }

    @Test func logFlagsAreReadBeforeParsing() throws {
        #expect(LoggingOptions.scan("log-level", in: ["run", "--log-level", "debug"]) == "debug")
        #expect(LoggingOptions.scan("log-level", in: ["run", "--log-level=trace"]) == "trace")
        #expect(LoggingOptions.scan("log-level", in: ["run", "--", "--log-level", "x"]) == nil)
        let settings = try LoggingSettings.fromEnvironment(
            ["CSE_LOG_LEVEL": "error"], arguments: ["status", "--log-level", "debug"], stderrIsTerminal: false)
        #expect(settings.level == .debug)
        #expect(throws: ValidationError.self) {
            try LoggingSettings.fromEnvironment([:], arguments: ["--log-level", "loud"], stderrIsTerminal: false)
        }
    }
}

/// `events send` reads files the way operators write them and keys events as the contract says.
@Suite struct EventFileTests {
    @Test func oneObjectAnArrayOrLines() throws {
        let a = ScenarioEvents.intakeApplication(caseId: "CS-EF-1").valueString
        let b = ScenarioEvents.newHire(ssn: "934127765", fein: "56-1234567").valueString
        #expect(try EventFile.split(Array("\n  \(a)\n".utf8)).count == 1)
        #expect(try EventFile.split(Array("[\(a),\(b)]".utf8)).count == 2)
        #expect(try EventFile.split(Array("\(a)\n\n\(b)\n".utf8)).count == 2)
        #expect(throws: (any Error).self) { try EventFile.split(Array("   ".utf8)) }
        #expect(throws: (any Error).self) { try EventFile.split(Array("[]".utf8)) }
    }
}

/// The commands against the local broker and database (`eval "$(scripts/services.sh env)"`).
@Suite(.serialized) struct CommandsAgainstServicesTests {
    /// The services' environment with a topic prefix and a migrated scratch schema of its own (dropped by `drop`).
    static func environment(prefix: String) async throws -> (environment: [String: String], drop: () -> Void) {
        var environment = ProcessInfo.processInfo.environment
        for name in ["CSE_KAFKA_BROKERS", "CSE_DATABASE_URL", "CSE_SSN_KEY"] {
            try #require(environment[name]?.isEmpty == false, "\(name) is not set: eval \"$(scripts/services.sh env)\" first")
        }
        environment["CSE_TOPIC_PREFIX"] = prefix
        environment["CSE_TOPIC_REPLICATION_FACTOR"] = "1"
        let (url, drop) = try emptySchema("cli_")
        environment["CSE_DATABASE_URL"] = url
        let migrated = try await BuiltBinary.run(["migrate"], environment: environment)
        try #require(migrated.status == 0, "migrate: \(migrated.stderr)")
        return (environment, drop)
    }

    /// CSE_DATABASE_URL for a new, empty schema of its own, and how to drop it.
    static func emptySchema(_ prefix: String) throws -> (url: String, drop: () -> Void) {
        let schema = prefix + UUID().uuidString.prefix(8).lowercased()
        let admin = try TestDatabase.connect()
        try admin.executeScript("CREATE SCHEMA \(schema)")
        let url = try TestDatabase.url()
        return (url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)", {
            try? admin.executeScript("DROP SCHEMA \(schema) CASCADE")
            admin.close()
        })
    }

    static func inputRecords(_ environment: [String: String]) async throws -> Int64 {
        let outcome = try await BuiltBinary.run(["status", "--json"], environment: environment)
        try #require(outcome.status == 0, "status: \(outcome.stderr)")
        let status = try JSONValue.parse(Array(outcome.stdout.utf8))
        let partitions = try #require(status["consumerLag"]?["partitions"]?.arrayValue)
        return partitions.compactMap { $0["end"]?.intValue }.reduce(0, +)
    }

    /// `outbox list|retry|drop` on a message the relay set aside, and what
    /// `status` says of it; each retry and drop recorded with who and why.
    @Test func outboxVerbsListRetryAndDropSetAsideMessages() async throws {
        let (environment, drop) = try await Self.environment(prefix: "outbox-\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).")
        defer { drop() }
        let database = try PostgresConnection(connectionString: try #require(environment["CSE_DATABASE_URL"]), connectTimeout: .seconds(5))
        defer { database.close() }
        let ids = [UUID(), UUID()]
        for id in ids {
            try database.execute(
                """
                INSERT INTO outbox (message_id, shard, topic, sealed, key, value, headers, set_aside_at, set_aside_reason)
                VALUES ($1, 3, 'cse.deadletter.v1', false, '\\x00', '\\x00', '[]', now(), 'MSG_SIZE_TOO_LARGE: Broker: Message size too large')
                """, id)
        }
        let listed = try await BuiltBinary.run(["outbox", "list", "--json"], environment: environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.split(separator: "\n").count == 2 && listed.stdout.contains("MSG_SIZE_TOO_LARGE"))
        var status = try JSONValue.parse(Array(try await BuiltBinary.run(["status", "--json"], environment: environment).stdout.utf8))
        #expect(status["outbox"]?["setAside"]?.intValue == 2 && status["outbox"]?["waiting"]?.intValue == 0)

        let noReason = try await BuiltBinary.run(["outbox", "drop", "--id", ids[0].uuidString], environment: environment)
        #expect(noReason.status == 64, "a drop must say why")
        let dropped = try await BuiltBinary.run(["outbox", "drop", "--id", ids[0].uuidString, "--reason", "topic retired"], environment: environment)
        #expect(dropped.status == 0 && dropped.stdout.contains("dropped \(ids[0].uuidString.lowercased())"), "\(dropped.stderr)")
        let retried = try await BuiltBinary.run(["outbox", "retry", "--id", ids[1].uuidString], environment: environment)
        #expect(retried.status == 0, "\(retried.stderr)")
        let again = try await BuiltBinary.run(["outbox", "retry", "--id", ids[0].uuidString], environment: environment)
        #expect(again.status == 64 && again.stderr.contains("not set aside"))

        status = try JSONValue.parse(Array(try await BuiltBinary.run(["status", "--json"], environment: environment).stdout.utf8))
        #expect(status["outbox"]?["setAside"]?.intValue == 0 && status["outbox"]?["dropped"]?.intValue == 1)
        #expect(status["outbox"]?["waiting"]?.intValue == 1, "the retried message waits for the relay again")
        let record = try database.query("SELECT action, reason FROM outbox_interventions ORDER BY at")
        #expect(try record.map { try $0.decode(String.self, column: 0) } == ["drop", "retry"])
        #expect(try record[0].decode(String?.self, column: 1) == "topic retired")
    }

    @Test func eventsSendValidatesEverythingFirstThenKeysByContract() async throws {
        let prefix = "evsend-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))."
        let (environment, drop) = try await Self.environment(prefix: prefix)
        defer { drop() }
        let ensure = try await BuiltBinary.run(["topics", "ensure", "--partitions", "2", "--json"], environment: environment)
        #expect(ensure.status == 0, "\(ensure.stderr)")
        #expect(try JSONValue.parse(Array(ensure.stdout.utf8))["replicationFactor"]?.intValue == 1)

        // Not under the test output: the events carry (test) SSNs, and the output is scanned for them.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-send-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.json")
        let intake = ScenarioEvents.intakeApplication(caseId: "CS-EVSEND-1")
        let hire = ScenarioEvents.newHire(ssn: "934127765", fein: "56-1234567")
        try Data("[\(intake.valueString),\(hire.valueString)]".utf8).write(to: good)
        let bad = directory.appendingPathComponent("bad.json")
        try Data(#"{"id":"3f0c2a52-0d3e-4b8e-9a57-1f0c8c1d2e3f","type":"court.order-established","occurredAt":"2026-01-05T15:00:00Z","source":"clerk","data":{}}"#.utf8).write(to: bad)

        let refused = try await BuiltBinary.run(["events", "send", good.path, bad.path], environment: environment)
        #expect(refused.status == 65, "stdout: \(refused.stdout) stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("bad.json"))
        #expect(refused.stderr.contains("nothing sent"))
        #expect(try await Self.inputRecords(environment) == 0, "an invalid file must stop every send")

        let sent = try await BuiltBinary.run(["events", "send", good.path], environment: environment)
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.contains("intake.application"))
        #expect(sent.stdout.contains("key CS-EVSEND-1 -> \(prefix)cse.intake.v1["))
        #expect(sent.stdout.contains("key 561234567 -> \(prefix)cse.employer-reports.v1["), "\(sent.stdout)")
        #expect(try await Self.inputRecords(environment) == 2)

        // A development tool refuses topics that hold records unless told otherwise.
        let feed = try await BuiltBinary.run(["feed", "--cases", "1"], environment: environment)
        #expect(feed.status == 64, "\(feed.stderr)")
        #expect(feed.stderr.contains("--allow-existing-data"))
    }

    @Test func theConsoleRoleCannotBeTheRuntimeRole() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_DATABASE_URL"] = "postgresql://worker@127.0.0.1:1/cases"
        let outcome = try await BuiltBinary.run(["migrate", "--runtime-role", "csw_same", "--console-role", "csw_same"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("CSE_CONSOLE_ROLE"), "\(outcome.stderr)")
    }

    /// Each applied migration once: the JSON log record when logs are JSON,
    /// a line on stdout when they are text; never both.
    @Test(arguments: ["json", "text"])
    func migrateReportsEachMigrationOnce(logFormat: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        let (url, drop) = try Self.emptySchema("once_")
        defer { drop() }
        environment["CSE_DATABASE_URL"] = url
        environment["CSE_LOG_FORMAT"] = logFormat
        environment["CSE_LOG_LEVEL"] = "info"
        let outcome = try await BuiltBinary.run(["migrate"], environment: environment)
        try #require(outcome.status == 0, "\(outcome.stderr)")
        let printed = outcome.stdout.split(separator: "\n").filter { $0.hasPrefix("applied migration ") }
        let logged = outcome.stderr.split(separator: "\n").filter { $0.contains("applied migration") }
        #expect(logFormat == "json" ? printed.isEmpty : logged.isEmpty, "stdout: \(outcome.stdout) stderr: \(outcome.stderr)")
        let versions = try logFormat == "json"
            ? logged.map { line in
                try #require(try JSONValue.parse(Array(line.utf8))["metadata"]?["version"]?.stringValue, "not a JSON record: \(line)")
            }
            : printed.map { String($0.dropFirst("applied migration ".count).prefix { $0 != ":" }) }
        #expect(!versions.isEmpty && Set(versions).count == versions.count, "\(versions)")
        #expect(outcome.stdout.contains("schema migrated to version "))
    }

    @Test func readingAnUnmigratedDatabaseSaysToMigrate() async throws {
        var environment = ProcessInfo.processInfo.environment
        let (url, drop) = try Self.emptySchema("empty_")
        defer { drop() }
        environment["CSE_DATABASE_URL"] = url
        for arguments in [["status"], ["case", "show", "CS-1"]] {
            let outcome = try await BuiltBinary.run(arguments, environment: environment)
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("run csworker migrate"), "\(arguments)")
        }
        // An init container waits on `migrate --check`: 75 while pending, 0 once migrated.
        let pending = try await BuiltBinary.run(["migrate", "--check"], environment: environment)
        #expect(pending.status == 75, "\(pending.stdout) \(pending.stderr)")
        #expect(try await BuiltBinary.run(["migrate", "--json"], environment: environment).status == 0)
        let current = try await BuiltBinary.run(["migrate", "--check", "--json"], environment: environment)
        #expect(current.status == 0)
        #expect(try JSONValue.parse(Array(current.stdout.utf8))["current"] == .bool(true))
    }

    @Test func waitingForEventsTimesOutWithItsOwnExitCode() async throws {
        let (environment, drop) = try await Self.environment(prefix: "unused-")
        defer { drop() }
        let outcome = try await BuiltBinary.run(["status", "--wait-for-events", "50000000", "--timeout", "1"], environment: environment)
        #expect(outcome.status == 75, "\(outcome.stderr)")
    }

    @Test func configMasksSecretsAndNamesWhereEachValueCameFrom() async throws {
        var environment = SecretsInOutputTests.environment(
            databaseURL: "postgresql://worker:\(SecretsInOutputTests.databasePassword)@127.0.0.1:1/cases")
        environment["CSE_KAFKA_BROKERS"] = "127.0.0.1:1"
        let outcome = try await BuiltBinary.run(["config", "--http-port", "9123"], environment: environment)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        for secret in SecretsInOutputTests.secrets {
            #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret))
        }
        #expect(outcome.stdout.contains("9123  (flag)"))
        #expect(outcome.stdout.contains("[REDACTED]"))
        #expect(outcome.stdout.contains("database sessions per process: 3"))

        environment["CSE_MAX_BATCH"] = "0"
        let invalid = try await BuiltBinary.run(["config", "--json"], environment: environment)
        #expect(invalid.status == 64)
        let json = try JSONValue.parse(Array(invalid.stdout.utf8))
        #expect(json["valid"] == .bool(false))
        #expect(json["problem"]?.stringValue?.contains("CSE_MAX_BATCH") == true)
    }
}
