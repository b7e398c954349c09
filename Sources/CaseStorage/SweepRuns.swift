import CaseDomain
import Postgres

/// The daily schedule's record of finished sweeps, and the lock that lets one
/// process at a time run one. The sweep itself is idempotent, so the record
/// only saves the other processes the work; the lock keeps two from doing it
/// at the same moment.
public struct SweepRuns: Sendable {
    let connection: PostgresConnection

    /// Session advisory lock key, in the migrations' two-int4 key space
    /// (`Migrator.lockClass`; object 1 is the migration lock).
    static let lockObject: Int32 = 2

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Whether a sweep as of `asOf` (or a later date, which covers it: the
    /// rules never go backwards) has finished.
    public func isDone(asOf: LocalDate) throws -> Bool {
        try connection.query("SELECT EXISTS (SELECT FROM sweep_runs WHERE as_of >= $1::date)", asOf.sqlText)[0]
            .decode(Bool.self, column: 0)
    }

    public func recordDone(asOf: LocalDate, casesEvaluated: Int, tasks: Int) throws {
        try connection.execute(
            """
            INSERT INTO sweep_runs (as_of, cases_evaluated, tasks) VALUES ($1::date, $2::int4, $3::int4)
            ON CONFLICT (as_of) DO UPDATE SET finished_at = now(), cases_evaluated = EXCLUDED.cases_evaluated, tasks = EXCLUDED.tasks
            """, asOf.sqlText, Int32(casesEvaluated), Int32(tasks))
    }

    /// Runs `body` holding the sweep lock; nil without running it when another
    /// session holds the lock. The lock is the session's: it goes with a lost
    /// connection, so a process that dies mid-sweep blocks nobody.
    public func whileLocked<T>(_ body: () throws -> T) throws -> T? {
        let acquired = try connection.query("SELECT pg_try_advisory_lock($1, $2)", Migrator.lockClass, Self.lockObject)[0]
            .decode(Bool.self, column: 0)
        guard acquired else { return nil }
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1, $2)", Migrator.lockClass, Self.lockObject) }
        return try body()
    }
}
