import ArgumentParser
import CaseStorage
import Foundation
import JSON
import Logging

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the database schema (safe to run again, and concurrently)."
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(help: "Print the outcome as one JSON object.")
    var json = false

    @Flag(help: "Change nothing: exit 0 when the schema is current, 75 while migrations are pending (an init container waits on it).")
    var check = false

    /// `--check` found migrations pending (sysexits' EX_TEMPFAIL: try again later).
    static let pendingExit = ExitCode(75)

    @Option(name: .customLong("runtime-role"), help: ArgumentHelp(
        "The role the workers connect as; granted exactly the rights they need after migrating (env CSE_RUNTIME_ROLE, default csworker_runtime). Skipped when no such role exists.",
        valueName: "role"))
    var runtimeRoleFlag: String?

    @Option(name: .customLong("console-role"), help: ArgumentHelp(
        "The role `csworker console` connects as; granted read access and the dead-letter replay record only (env CSE_CONSOLE_ROLE, default csworker_console). Skipped when no such role exists.",
        valueName: "role"))
    var consoleRoleFlag: String?

    var consoleRole: String { Setting.consoleRole.text(flag: consoleRoleFlag) }

    var runtimeRole: String {
        Setting.runtimeRole.text(flag: runtimeRoleFlag)
    }

    func run() async throws {
        let url = try database.url()
        guard consoleRole != runtimeRole else {
            throw ValidationError("--console-role / CSE_CONSOLE_ROLE must not be the runtime role \(runtimeRole): the console's grants would replace the workers' rights")
        }
        let logger = Logger(label: "csworker.migrate")
        try await reportingFailures {
            let connection = try connectDatabase(url: url, logger: logger)
            defer { connection.close() }
            if check {
                let pending = try Migrator.pending(connection)
                let latest = Migrator.migrations.map(\.version).max() ?? 0
                if json {
                    print(JSONValue.object([
                        "current": .bool(pending.isEmpty), "pending": .array(pending.map { .int(Int64($0.version)) }),
                        "schemaVersion": .int(Int64(latest)),
                    ]).serializedString())
                } else {
                    print(pending.isEmpty
                        ? "schema is current (version \(latest))"
                        : "\(pending.count) migrations pending (\(pending.map { String($0.version) }.joined(separator: ", "))): run csworker migrate")
                }
                if !pending.isEmpty { throw Self.pendingExit }
                return
            }
            // Each applied migration is reported once: with JSON logs (a Job, a
            // unit) as the migrator's info record, which a log collector keeps;
            // otherwise (a terminal, or info records turned off) as a plain
            // line on stdout.
            let loggedAsJSON = (try? LoggingSettings.ofThisProcess()).map { $0.format == .json && $0.level <= .info } ?? false
            var migratorLogger = logger
            if !loggedAsJSON { migratorLogger.logLevel = max(logger.logLevel, .notice) }
            let applied = try Migrator.migrate(connection, logger: migratorLogger)
            let latest = Migrator.migrations.map(\.version).max() ?? 0
            if !json {
                if !loggedAsJSON {
                    for migration in applied { print("applied migration \(migration.version): \(migration.name)") }
                }
                print(applied.isEmpty ? "schema is current (version \(latest))" : "schema migrated to version \(latest)")
            }
            do {
                let grants = try RuntimeGrants.apply(connection, role: runtimeRole)
                let consoleGrants = try RuntimeGrants.apply(
                    connection, role: consoleRole, tables: RuntimeGrants.consoleTables, sequences: [],
                    hiddenColumns: RuntimeGrants.consoleHiddenColumns)
                if json {
                    print(JSONValue.object([
                        "schemaVersion": .int(Int64(latest)),
                        "applied": .array(applied.map { .object(["version": .int(Int64($0.version)), "name": .string($0.name)]) }),
                        "runtimeRole": .string(runtimeRole), "runtimeGrants": .string(grants == .granted ? "granted" : "role-missing"),
                        "consoleRole": .string(consoleRole),
                        "consoleGrants": .string(consoleGrants == .granted ? "granted" : "role-missing"),
                    ]).serializedString())
                    return
                }
                switch consoleGrants {
                case .granted:
                    print("granted the console role \(consoleRole) read access and the dead-letter replay record")
                case .roleMissing:
                    print("no role \(consoleRole) on this server: console grants skipped (set --console-role or CSE_CONSOLE_ROLE)")
                }
                switch grants {
                case .granted:
                    print("granted the runtime role \(runtimeRole) its rights (no CREATE, ALTER, DROP or TRUNCATE)")
                case .roleMissing:
                    print("no role \(runtimeRole) on this server: runtime grants skipped (set --runtime-role or CSE_RUNTIME_ROLE)")
                }
            } catch let error as RuntimeGrants.GrantError {
                printError("csworker: \(error)")
                throw ServiceExit.usage
            }
        }
    }
}
