import Foundation
import Postgres
import Testing
import TestSupport

/// A schema of its own for one test, so tests run in parallel without
/// stepping on each other. Every connection it hands out has its search_path
/// pointed there; `drop()` closes them and drops the schema.
final class ScratchSchema {
    let name: String
    let connection: PostgresConnection
    private var others: [PostgresConnection] = []

    init(_ label: String) throws {
        name = "pgtest_\(label)_" + UUID().uuidString.prefix(8).lowercased()
        connection = try TestDatabase.connect()
        // Identifiers cannot be parameters; the name is ours, not input.
        try connection.executeScript("CREATE SCHEMA \(name)")
        try Self.usePrivateSchema(connection, name)
    }

    private static func usePrivateSchema(_ connection: PostgresConnection, _ name: String) throws {
        try connection.execute("SELECT set_config('search_path', $1, false)", name)
    }

    /// Another session on the same schema.
    func connect() throws -> PostgresConnection {
        let connection = try TestDatabase.connect()
        try Self.usePrivateSchema(connection, name)
        others.append(connection)
        return connection
    }

    func drop() {
        // Close first: an open transaction elsewhere would block DROP SCHEMA.
        others.forEach { $0.close() }
        connection.close()
        do {
            let admin = try TestDatabase.connect()
            try admin.executeScript("DROP SCHEMA \(name) CASCADE")
            admin.close()
        } catch {
            Issue.record("could not drop \(name): \(error)")
        }
    }
}

func withScratchSchema<T>(_ label: String, _ body: (ScratchSchema) throws -> T) throws -> T {
    let scratch = try ScratchSchema(label)
    defer { scratch.drop() }
    return try body(scratch)
}

/// Runs `body` expecting a `PostgresError`; records an issue otherwise.
func postgresError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> PostgresError? {
    do {
        try body()
        Issue.record("expected a PostgresError, but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as PostgresError {
        return error
    } catch {
        Issue.record("expected a PostgresError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
