import Foundation
import Postgres
import Testing
import TestSupport

/// Each retriable kind is provoked for real on the server, not simulated.
@Suite("Postgres: error classification")
struct ErrorClassificationTests {
    @Test func serializationFailureUnderRepeatableRead() throws {
        try withScratchSchema("serialization") { scratch in
            let writer = scratch.connection
            let reader = try scratch.connect()
            try writer.execute("CREATE TABLE obligation (id int8 PRIMARY KEY, arrears_cents int8 NOT NULL)")
            try writer.execute("INSERT INTO obligation VALUES ($1, $2)", Int64(1), Int64(0))

            let error = postgresError {
                try reader.transaction(isolation: .repeatableRead) { reader in
                    _ = try reader.query("SELECT arrears_cents FROM obligation WHERE id = $1", Int64(1))
                    // Another session commits a change after our snapshot...
                    try writer.execute("UPDATE obligation SET arrears_cents = arrears_cents + $1 WHERE id = 1", Int64(100))
                    // ...so updating the same row here cannot be serialized.
                    try reader.execute("UPDATE obligation SET arrears_cents = arrears_cents + $1 WHERE id = 1", Int64(5))
                }
            }
            #expect(error?.kind == .serializationFailure)
            #expect(error?.sqlState == "40001")
            #expect(error?.isRetriable == true)
            #expect(reader.transactionStatus == .idle)
            let arrears = try writer.query("SELECT arrears_cents FROM obligation")[0].decode(Int64.self, column: 0)
            #expect(arrears == 100)
        }
    }

    @Test func serializationFailureFromWriteSkew() throws {
        try withScratchSchema("writeskew") { scratch in
            let first = scratch.connection
            let second = try scratch.connect()
            try first.execute("CREATE TABLE on_call (worker text PRIMARY KEY, on_duty bool NOT NULL)")
            try first.execute("INSERT INTO on_call SELECT * FROM unnest($1::text[], $2::bool[])", ["a", "b"], [true, true])
            let goOffDuty = "UPDATE on_call SET on_duty = false WHERE worker = $1 AND (SELECT count(*) FROM on_call WHERE on_duty) > 1"
            try first.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try second.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try first.execute(goOffDuty, "a")
            try second.execute(goOffDuty, "b")
            try first.execute("COMMIT")
            let error = postgresError { try second.execute("COMMIT") }
            #expect(error?.kind == .serializationFailure)
            #expect(error?.isRetriable == true)
            #expect(error?.operation == "COMMIT")
        }
    }

    @Test func deadlockBetweenTwoThreads() throws {
        try withScratchSchema("deadlock") { scratch in
            let setup = scratch.connection
            try setup.execute("CREATE TABLE ledger (id int8 PRIMARY KEY, cents int8 NOT NULL)")
            try setup.execute("INSERT INTO ledger SELECT * FROM unnest($1::int8[], $2::int8[])", [Int64(1), 2], [Int64(0), 0])
            let left = try scratch.connect()
            let right = try scratch.connect()
            for connection in [left, right] {
                // A safety net: a broken test fails instead of hanging.
                try connection.execute("SELECT set_config('lock_timeout', '20s', false)")
                try connection.execute("BEGIN")
            }
            try left.execute("UPDATE ledger SET cents = cents + 1 WHERE id = 1")
            try right.execute("UPDATE ledger SET cents = cents + 1 WHERE id = 2")

            // Each thread now wants the row the other holds. Real threads, not
            // tasks: both calls block, and blocked tasks could starve the pool.
            let outcomes = Outcomes()
            let done = DispatchGroup()
            for (connection, row) in [(left, Int64(2)), (right, Int64(1))] {
                done.enter()
                Thread.detachNewThread {
                    var failure: PostgresError?
                    do {
                        try connection.execute("UPDATE ledger SET cents = cents + 1 WHERE id = $1", row)
                    } catch let error as PostgresError {
                        failure = error
                    } catch {}
                    outcomes.append(failure)
                    done.leave()
                }
            }
            try #require(done.wait(timeout: .now() + 30) == .success)
            let errors = outcomes.all.compactMap { $0 }
            #expect(errors.count == 1)
            #expect(errors.first?.kind == .deadlock)
            #expect(errors.first?.sqlState == "40P01")
            #expect(errors.first?.isRetriable == true)
            try left.execute("ROLLBACK")
            try right.execute("ROLLBACK")
        }
    }

    @Test func terminatedBackendIsConnectionLossAndResetRecovers() throws {
        let victim = try TestDatabase.connect()
        let admin = try TestDatabase.connect()
        let pid = victim.backendPID
        #expect(try admin.query("SELECT pg_terminate_backend($1)", pid)[0].decode(Bool.self, column: 0))
        #expect(victim.isHealthy)  // libpq has not noticed yet...
        let error = postgresError { try victim.ping() }  // ...until the next round trip
        #expect(error?.kind == .connectionLost)
        #expect(error?.isRetriable == true)
        #expect(error?.isConnectionFailure == true)
        #expect(victim.status == .bad)
        #expect(!victim.isHealthy)

        try victim.reset()
        #expect(victim.isHealthy)
        #expect(victim.backendPID != pid)
        #expect(try victim.query("SELECT 41 + 1")[0].decode(Int.self, column: 0) == 42)
    }

    /// A worker that lost its session mid-transaction retries the batch: BEGIN
    /// on the lost session is a retriable connection loss (not "a transaction
    /// is already open"), every statement too, until `reset()` reconnects; the
    /// session then has no transaction and no prepared statements left over.
    @Test func aLostSessionRefusesWorkAsConnectionLossUntilReset() throws {
        let victim = try TestDatabase.connect()
        let admin = try TestDatabase.connect()
        let statement = PreparedStatement(name: "lost_session_probe", sql: "SELECT $1::int + 1")
        #expect(try victim.execute(statement, 1)[0].decode(Int.self, column: 0) == 2)
        let inFlight = postgresError {
            try victim.transaction { connection in
                _ = try connection.query("SELECT 1")
                _ = try admin.query("SELECT pg_terminate_backend($1)", victim.backendPID)
                _ = try connection.query("SELECT 2")
            }
        }
        #expect(inFlight?.kind == .connectionLost)
        for attempt in [
            { try victim.transaction { _ = try $0.query("SELECT 1") } },
            { _ = try victim.execute(statement, 1) },
            { _ = try victim.query("SELECT 1") },
        ] as [() throws -> Void] {
            let error = postgresError(attempt)
            #expect(error?.kind == .connectionLost && error?.isRetriable == true, "\(error.map(String.init(describing:)) ?? "no error")")
        }
        try victim.reset()
        #expect(victim.transactionStatus == .idle)
        #expect(try victim.transaction { try $0.execute(statement, 41)[0].decode(Int.self, column: 0) } == 42)
    }

    @Test func uniqueViolationIsFinalAndKeepsTheValueOutOfItsDescription() throws {
        try withScratchSchema("unique") { scratch in
            let db = scratch.connection
            try db.execute("CREATE TABLE participant (ssn text PRIMARY KEY)")
            try db.execute("INSERT INTO participant VALUES ($1)", "987-65-4321")
            let error = try #require(postgresError { try db.execute("INSERT INTO participant VALUES ($1)", "987-65-4321") })
            #expect(error.kind == .uniqueViolation)
            #expect(error.sqlState == "23505")
            #expect(!error.isRetriable)
            #expect(error.constraint == "participant_pkey")
            #expect(error.detail?.contains("987-65-4321") == true)
            #expect(!error.description.contains("987-65-4321"))
            #expect(!"\(error)".contains("4321"))
        }
    }

    @Test func integrityAndStatementKinds() throws {
        try withScratchSchema("kinds") { scratch in
            let db = scratch.connection
            try db.executeScript(
                """
                CREATE TABLE docket (id int8 PRIMARY KEY);
                CREATE TABLE hearing (
                    id int8 PRIMARY KEY,
                    docket_id int8 NOT NULL REFERENCES docket(id),
                    minutes int4 CHECK (minutes > 0)
                );
                INSERT INTO docket VALUES (1);
                """)
            let insert = "INSERT INTO hearing VALUES ($1, $2, $3)"
            let noDocket: Int64? = nil
            #expect(postgresError { try db.execute(insert, Int64(1), Int64(99), Int32(5)) }?.kind == .foreignKeyViolation)
            #expect(postgresError { try db.execute(insert, Int64(1), Int64(1), Int32(-5)) }?.kind == .checkViolation)
            #expect(postgresError { try db.execute(insert, Int64(1), noDocket, Int32(5)) }?.kind == .notNullViolation)
            #expect(postgresError { try db.execute("SELECT * FROM no_such_table") }?.kind == .undefinedTable)
            let syntax = postgresError { try db.execute("SELEC 1") }
            #expect(syntax?.kind == .syntaxError)
            #expect(syntax?.isRetriable == false)
            #expect(syntax?.severity == "ERROR")
        }
    }

    @Test func statementTimeoutIsQueryCanceledAndNotRetriable() throws {
        let db = try TestDatabase.connect()
        try db.execute("SELECT set_config('statement_timeout', '100ms', false)")
        let error = postgresError { try db.execute("SELECT pg_sleep(5)") }
        #expect(error?.kind == .queryCanceled)
        #expect(error?.sqlState == "57014")
        #expect(error?.isRetriable == false)
        #expect(db.isHealthy)
    }

    @Test func dataExceptionsDoNotEchoInputInTheirDescription() throws {
        let db = try TestDatabase.connect()
        let error = try #require(postgresError { try db.execute("SELECT $1::int8", "923-45-6789") })
        #expect(error.sqlState == "22P02")
        #expect(error.message.contains("923-45-6789"))  // still there for code that needs it
        #expect(!error.description.contains("923-45-6789"))
    }
}

/// Results collected from threads.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [PostgresError?] = []

    func append(_ item: PostgresError?) { lock.withLock { items.append(item) } }
    var all: [PostgresError?] { lock.withLock { items } }
}
