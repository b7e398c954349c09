import Foundation
import Postgres

/// What the server counted for one database (`pg_stat_database`), so a
/// benchmark can report the work the workers asked of PostgreSQL without
/// `pg_stat_statements` (which needs `shared_preload_libraries`).
public struct DatabaseActivity: Sendable, Hashable {
    public var transactionsCommitted: Int64
    /// Rows inserted, updated and deleted.
    public var rowsWritten: Int64

    public init(transactionsCommitted: Int64, rowsWritten: Int64) {
        self.transactionsCommitted = transactionsCommitted
        self.rowsWritten = rowsWritten
    }

    public static func - (a: DatabaseActivity, b: DatabaseActivity) -> DatabaseActivity {
        DatabaseActivity(
            transactionsCommitted: a.transactionsCommitted - b.transactionsCommitted,
            rowsWritten: a.rowsWritten - b.rowsWritten)
    }
}

public enum BenchmarkDatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(String)

    public var description: String {
        switch self {
        case .invalidName(let name):
            "benchmark database name '\(name)' must be lower-case letters, digits and underscores"
        }
    }
}

/// Throwaway databases for benchmark runs, created and dropped from a session
/// on another database of the same server.
public struct BenchmarkDatabases {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public func create(_ name: String) throws {
        try connection.execute("CREATE DATABASE \(try Self.identifier(name))")
    }

    /// Ends sessions still connected (a worker that did not stop) rather than failing.
    public func drop(_ name: String) throws {
        try connection.execute("DROP DATABASE IF EXISTS \(try Self.identifier(name)) WITH (FORCE)")
    }

    /// The server's cumulative counters for `name`; they reach the view up to
    /// a second after the sessions that did the work go idle.
    public func activity(of name: String) throws -> DatabaseActivity {
        let rows = try connection.query(
            """
            SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = $1
            """, name)
        guard let row = rows.first else { return DatabaseActivity(transactionsCommitted: 0, rowsWritten: 0) }
        return DatabaseActivity(
            transactionsCommitted: try row.decode(Int64.self, column: 0), rowsWritten: try row.decode(Int64.self, column: 1))
    }

    /// Identifiers cannot be bound as parameters, so only a safe alphabet is accepted.
    static func identifier(_ name: String) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
        guard !name.isEmpty, name.count <= 63, name.allSatisfy(allowed.contains), !(name.first?.isNumber ?? true) else {
            throw BenchmarkDatabaseError.invalidName(name)
        }
        return name
    }
}

/// Timestamps the worker's tables keep, read back to time a benchmark run on
/// the database's clock.
public struct BenchmarkReadings {
    public struct Window: Sendable, Hashable {
        public var firstProcessedAt: Date?
        public var lastProcessedAt: Date?
        /// The last outbox message (task or dead letter) published.
        public var lastPublishedAt: Date?
    }

    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public func window() throws -> Window {
        let row = try connection.query(
            """
            SELECT (SELECT min(processed_at) FROM processed_events), (SELECT max(processed_at) FROM processed_events),
                   (SELECT max(published_at) FROM outbox)
            """)[0]
        return Window(
            firstProcessedAt: try row.decode(Date?.self, column: 0), lastProcessedAt: try row.decode(Date?.self, column: 1),
            lastPublishedAt: try row.decode(Date?.self, column: 2))
    }

    /// For each event that caused published tasks: when its first task was
    /// published. Tasks name their event in the `causation-id` header.
    public func firstTaskPublications() throws -> [UUID: Date] {
        let rows = try connection.query(
            """
            SELECT (h->>'value')::uuid, min(o.published_at)
            FROM outbox o, jsonb_array_elements(o.headers) h
            WHERE h->>'name' = $1 AND o.published_at IS NOT NULL
            GROUP BY 1
            """, OutboxMessage.TaskHeader.causationId)
        var first: [UUID: Date] = [:]
        for row in rows {
            first[try row.decode(UUID.self, column: 0)] = try row.decode(Date.self, column: 1)
        }
        return first
    }
}
