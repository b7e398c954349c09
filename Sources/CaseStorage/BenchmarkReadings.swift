import Foundation
import Postgres

/// What the server counted for one database, so a benchmark can report the
/// work the workers asked of PostgreSQL: `pg_stat_database`, and statements
/// from `pg_stat_statements` when the server loads it (`shared_preload_libraries`).
public struct DatabaseActivity: Sendable, Hashable {
    public var transactionsCommitted: Int64
    /// Rows inserted, updated and deleted.
    public var rowsWritten: Int64
    /// Statements executed, BEGIN and COMMIT included; nil without pg_stat_statements.
    public var statements: Int64?

    public init(transactionsCommitted: Int64, rowsWritten: Int64, statements: Int64? = nil) {
        self.transactionsCommitted = transactionsCommitted
        self.rowsWritten = rowsWritten
        self.statements = statements
    }

    public static func - (a: DatabaseActivity, b: DatabaseActivity) -> DatabaseActivity {
        DatabaseActivity(
            transactionsCommitted: a.transactionsCommitted - b.transactionsCommitted,
            rowsWritten: a.rowsWritten - b.rowsWritten,
            statements: a.statements.flatMap { a in b.statements.map { a - $0 } })
    }
}

/// One normalized statement's totals in a database (`pg_stat_statements`).
public struct StatementReading: Sendable, Hashable {
    public var query: String
    public var calls: Int64
    public var totalMilliseconds: Double
    public var rows: Int64
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

    /// Makes `pg_stat_statements` readable from this session's database when
    /// the server loads the module; without it statements are not counted.
    public init(connection: PostgresConnection) {
        self.connection = connection
        statementsAvailable = (try? connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")) != nil
    }

    let statementsAvailable: Bool

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
        var statements: Int64?
        if statementsAvailable {
            // Counted when each statement ends, sessions still open included.
            statements = try connection.query(
                """
                SELECT coalesce(sum(calls), 0)::int8 FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
                """, name)[0].decode(Int64.self, column: 0)
        }
        return DatabaseActivity(
            transactionsCommitted: try row.decode(Int64.self, column: 0), rowsWritten: try row.decode(Int64.self, column: 1),
            statements: statements)
    }

    /// The statements that took the most server time in `name`; empty without pg_stat_statements.
    public func topStatements(of name: String, limit: Int) throws -> [StatementReading] {
        guard statementsAvailable else { return [] }
        return try connection.query(
            """
            SELECT query, calls, total_exec_time, rows FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
            ORDER BY total_exec_time DESC LIMIT $2
            """, name, Int64(limit)
        ).map { row in
            StatementReading(
                query: try row.decode(String.self, column: 0), calls: try row.decode(Int64.self, column: 1),
                totalMilliseconds: try row.decode(Double.self, column: 2), rows: try row.decode(Int64.self, column: 3))
        }
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

    /// When each event's batch transaction began (`processed_at` is the
    /// transaction's `now()`), for splitting latency into waiting for a batch
    /// and the batch plus publishing.
    public func recordedTimes() throws -> [UUID: Date] {
        var recorded: [UUID: Date] = [:]
        for row in try connection.query("SELECT event_id, processed_at FROM processed_events") {
            recorded[try row.decode(UUID.self, column: 0)] = try row.decode(Date.self, column: 1)
        }
        return recorded
    }

    /// Events first applied in a later transaction than the one that recorded
    /// them: they waited (parked) for a case or person that did not exist yet.
    public func eventsThatWaited() throws -> Set<UUID> {
        var waited = Set<UUID>()
        for row in try connection.query(
            """
            SELECT p.event_id FROM processed_events p
            JOIN (SELECT event_id, min(applied_at) AS applied_at FROM case_history GROUP BY event_id) h USING (event_id)
            WHERE h.applied_at > p.processed_at
            """)
        {
            waited.insert(try row.decode(UUID.self, column: 0))
        }
        return waited
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
