import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres: pipeline mode")
struct PipelineTests {
    static let schema = "CREATE TABLE task (id int8 PRIMARY KEY, kind text NOT NULL)"

    func count(_ db: PostgresConnection) throws -> Int {
        try db.query("SELECT count(*) FROM task")[0].decode(Int.self, column: 0)
    }

    @Test func resultsComeBackInOrder() throws {
        let db = try TestDatabase.connect()
        let double = PreparedStatement(sql: "SELECT $1::int8 * 2")
        let results = try db.pipeline { pipeline in
            for value in Int64(0)..<300 {
                if value % 2 == 0 {
                    pipeline.query("SELECT $1::int8, $2::text", value, "row \(value)")
                } else {
                    pipeline.execute(double, value)
                }
            }
        }
        #expect(results.count == 300)
        for (index, result) in results.enumerated() {
            let value = Int64(index)
            if value % 2 == 0 {
                #expect(try result[0].decode(Int64.self, column: 0) == value)
                #expect(try result[0].decode(String.self, column: 1) == "row \(value)")
            } else {
                #expect(try result[0].decode(Int64.self, column: 0) == value * 2)
            }
        }
        #expect(db.isPrepared(double))
        // Prepared once in the first pipeline, reused by the next one.
        let again = try db.pipeline { $0.execute(double, Int64(21)) }
        #expect(try again[0][0].decode(Int64.self, column: 0) == 42)
        #expect(try db.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(Int.self, column: 0) == 1)
        #expect(try db.pipeline { _ in }.isEmpty)
    }

    @Test func largeBatchDoesNotDeadlock() throws {
        // Enough results to fill socket buffers both ways before we read any.
        let db = try TestDatabase.connect()
        let filler = String(repeating: "x", count: 500)
        let results = try db.pipeline { pipeline in
            for value in 0..<5_000 { pipeline.query("SELECT $1::int8, $2::text", value, filler) }
        }
        #expect(results.count == 5_000)
        #expect(try results[4_999][0].decode(Int.self, column: 0) == 4_999)
    }

    @Test func failureMidPipelineNamesTheStatementAndRollsBack() throws {
        try withScratchSchema("pipefail") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let insert = PreparedStatement(sql: "INSERT INTO task VALUES ($1, $2)")
            let error = try #require(postgresError {
                _ = try db.pipeline(isolation: .readCommitted) { pipeline in
                    pipeline.execute(insert, Int64(1), "referral")
                    pipeline.execute(insert, Int64(2), "referral")
                    pipeline.execute(insert, Int64(1), "duplicate")
                    pipeline.execute(insert, Int64(3), "never runs")
                }
            })
            #expect(error.kind == .uniqueViolation)
            #expect(error.pipelineIndex == 2)
            #expect(error.operation.contains("pipeline statement 3 of 4"), "\(error.operation)")
            #expect(error.operation.contains(insert.name))
            #expect(db.transactionStatus == .idle)
            #expect(try count(db) == 0)
            // The session is fine afterwards and the statement stays prepared.
            #expect(db.isPrepared(insert))
            _ = try db.pipeline(isolation: .readCommitted) { $0.execute(insert, Int64(9), "ok") }
            #expect(try count(db) == 1)
        }
    }

    @Test func conflictingStatementNamesAreRefusedBeforeAnythingRuns() throws {
        try withScratchSchema("pipeclash") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let error = postgresError {
                _ = try db.pipeline { pipeline in
                    pipeline.query("INSERT INTO task VALUES ($1, $2)", Int64(1), "a")
                    pipeline.execute(PreparedStatement(name: "same", sql: "SELECT 1"))
                    pipeline.execute(PreparedStatement(name: "same", sql: "SELECT 2"))
                }
            }
            #expect(error?.kind == .misuse)
            #expect(try count(db) == 0)
        }
    }

    @Test func failureWithoutExplicitTransactionUndoesTheWholeBatch() throws {
        // Statements up to a sync point share one implicit transaction.
        try withScratchSchema("pipeimplicit") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let error = postgresError {
                _ = try db.pipeline { pipeline in
                    pipeline.query("INSERT INTO task VALUES ($1, $2)", Int64(1), "a")
                    pipeline.query("INSERT INTO task VALUES ($1, $2)", Int64(2), "b")
                    pipeline.query("INSERT INTO missing_table VALUES ($1)", Int64(3))
                }
            }
            #expect(error?.kind == .undefinedTable)
            #expect(error?.pipelineIndex == 2)
            #expect(try count(db) == 0)
        }
    }

    @Test func pipelineInsideTransactionRollsBackWithIt() throws {
        try withScratchSchema("pipetx") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let error = postgresError {
                try db.transaction(isolation: .serializable) { tx in
                    try tx.execute("INSERT INTO task VALUES ($1, $2)", Int64(100), "before")
                    _ = try tx.pipeline { pipeline in
                        pipeline.query("INSERT INTO task VALUES ($1, $2)", Int64(1), "a")
                        pipeline.query("INSERT INTO task VALUES ($1, $2)", Int64(1), "dup")
                    }
                }
            }
            #expect(error?.kind == .uniqueViolation)
            #expect(db.transactionStatus == .idle)
            #expect(try count(db) == 0)

            try db.transaction { tx in
                _ = try tx.pipeline { pipeline in
                    for id in Int64(1)...10 { pipeline.query("INSERT INTO task VALUES ($1, $2)", id, "batch") }
                }
            }
            #expect(try count(db) == 10)
            // Pipelined BEGIN is refused inside an open transaction.
            let nested = postgresError {
                try db.transaction { tx in _ = try tx.pipeline(isolation: .serializable) { _ in } }
            }
            #expect(nested?.kind == .misuse)
        }
    }

    @Test func connectionLossDuringPipelineIsRetriableAndResetRecovers() throws {
        let db = try TestDatabase.connect()
        let pid = db.backendPID
        let error = postgresError {
            // The session terminates itself partway through the batch.
            _ = try db.pipeline { pipeline in
                pipeline.query("SELECT pg_terminate_backend($1)", pid)
                pipeline.query("SELECT pg_sleep(0.1)")
                pipeline.query("SELECT 1")
            }
        }
        #expect(error?.kind == .connectionLost)
        #expect(error?.isRetriable == true)
        #expect(db.status == .bad)

        try db.reset()
        #expect(try db.query("SELECT 2")[0].decode(Int.self, column: 0) == 2)
        let results = try db.pipeline { $0.query("SELECT $1::int8", Int64(3)) }
        #expect(try results[0][0].decode(Int64.self, column: 0) == 3)
    }

    /// 1,000 small inserts four ways; prints the timings for the report.
    @Test func insertThroughputComparison() throws {
        try withScratchSchema("throughput") { scratch in
            let db = scratch.connection
            try db.execute("CREATE TABLE event (id int8 PRIMARY KEY, case_id text NOT NULL, cents int8 NOT NULL)")
            let n: Int64 = 1_000
            let insert = PreparedStatement(sql: "INSERT INTO event VALUES ($1, $2, $3)")
            var timings: [(String, Duration)] = []
            func measure(_ name: String, _ body: (Int64) throws -> Void) throws {
                try db.execute("TRUNCATE event")
                let start = ContinuousClock.now
                try body(n)
                timings.append((name, ContinuousClock.now - start))
                #expect(try db.query("SELECT count(*) FROM event")[0].decode(Int64.self, column: 0) == n, "\(name)")
            }
            try measure("one by one, autocommit") { n in
                for id in 0..<n { try db.execute(insert, id, "C-\(id)", id * 10) }
            }
            try measure("one by one, one transaction") { n in
                try db.transaction { tx in
                    for id in 0..<n { try tx.execute(insert, id, "C-\(id)", id * 10) }
                }
            }
            try measure("pipelined, one transaction") { n in
                _ = try db.pipeline(isolation: .readCommitted) { pipeline in
                    for id in 0..<n { pipeline.execute(insert, id, "C-\(id)", id * 10) }
                }
            }
            try measure("set-based unnest, one statement") { n in
                let ids = Array(0..<n)
                try db.execute(
                    "INSERT INTO event SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[])",
                    ids, ids.map { "C-\($0)" }, ids.map { $0 * 10 })
            }
            try measure("COPY FROM STDIN") { n in
                try db.copyIn("COPY event FROM STDIN", rows: (0..<n).map { [String($0), "C-\($0)", String($0 * 10)] })
            }
            for (name, duration) in timings {
                let ms = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1e3
                print("insert 1000 rows, \(name): \(String(format: "%.1f", ms)) ms (\(Int(Double(n) / ms * 1000)) rows/s)")
            }
        }
    }
}
