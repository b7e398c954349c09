import Foundation
import Logging
import CaseStorage
import Postgres
import TimeUnits

/// Connects at startup, retrying while the server is unreachable (it may be
/// starting next to us), then gives up with the connection error, which the
/// contract maps to exit 69.
func connectDatabase(url: String, logger: Logger, attempts: Int = 6) throws -> PostgresConnection {
    var wait = Duration.milliseconds(250)
    for attempt in 1... {
        do {
            return try PostgresConnection(connectionString: url, connectTimeout: .seconds(5), logger: logger)
        } catch let error as PostgresError where error.isRetriable && attempt < attempts {
            logger.warning("database unreachable; retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
            Thread.sleep(forTimeInterval: wait.inSeconds)
            wait = min(wait * 2, .seconds(4))
        }
    }
    fatalError("unreachable")
}

/// Commands that read or write the cases stop with exit 64 and say what to
/// do when the schema is missing or behind, instead of failing on a missing table.
func requireCurrentSchema(_ connection: PostgresConnection) throws {
    let pending = try Migrator.pending(connection)
    guard pending.isEmpty else {
        printError("csworker: the database schema is not current (\(pending.count) migrations missing): run csworker migrate")
        throw ServiceExit.usage
    }
}
