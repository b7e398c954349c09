import ArgumentParser
import CaseStorage
import Foundation
import Logging

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the database schema (safe to run again, and concurrently)."
    )

    @Option(name: .customLong("database-url"), help: ArgumentHelp("libpq connection string or URI (env CSE_DATABASE_URL).", valueName: "url"))
    var databaseURLFlag: String?

    @Option(name: .customLong("runtime-role"), help: ArgumentHelp(
        "The role the workers connect as; granted exactly the rights they need after migrating (env CSE_RUNTIME_ROLE, default csworker_runtime). Skipped when no such role exists.",
        valueName: "role"))
    var runtimeRoleFlag: String?

    var runtimeRole: String {
        runtimeRoleFlag ?? ProcessInfo.processInfo.environment["CSE_RUNTIME_ROLE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "csworker_runtime"
    }

    func run() async throws {
        guard let url = databaseURLFlag ?? ProcessInfo.processInfo.environment["CSE_DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database configured: set CSE_DATABASE_URL or pass --database-url")
        }
        let logger = Logger(label: "csworker.migrate")
        try await reportingFailures {
            let connection = try connectDatabase(url: url, logger: logger)
            defer { connection.close() }
            let applied = try Migrator.migrate(connection, logger: logger)
            for migration in applied { print("applied migration \(migration.version): \(migration.name)") }
            let latest = Migrator.migrations.map(\.version).max() ?? 0
            print(applied.isEmpty ? "schema is current (version \(latest))" : "schema migrated to version \(latest)")
            do {
                switch try RuntimeGrants.apply(connection, role: runtimeRole) {
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
