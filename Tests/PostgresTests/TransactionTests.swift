import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres: transactions and prepared statements")
struct TransactionTests {
    struct Abandoned: Error {}

    static let schema = "CREATE TABLE payment (id int8 PRIMARY KEY, cents int8 NOT NULL CHECK (cents > 0))"

    func count(_ db: PostgresConnection) throws -> Int {
        try db.query("SELECT count(*) FROM payment")[0].decode(Int.self, column: 0)
    }

    @Test func commitKeepsWork() throws {
        try withScratchSchema("commit") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let total = try db.transaction(isolation: .serializable) { tx in
                try tx.execute("INSERT INTO payment VALUES ($1, $2), ($3, $4)", Int64(1), Int64(500), Int64(2), Int64(700))
                #expect(try tx.query("SHOW transaction_isolation")[0].decode(String.self, column: 0) == "serializable")
                return try tx.query("SELECT sum(cents) FROM payment")[0].decode(Int64.self, column: 0)
            }
            #expect(total == 1200)
            #expect(try count(try scratch.connect()) == 2)
        }
    }

    @Test func bodyThrowingMidwayLeavesNothing() throws {
        try withScratchSchema("bodythrows") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            #expect(throws: Abandoned.self) {
                try db.transaction { tx in
                    try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(1), Int64(500))
                    try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(2), Int64(600))
                    throw Abandoned()
                }
            }
            #expect(db.transactionStatus == .idle)
            #expect(try count(db) == 0)
        }
    }

    @Test func failingStatementMidwayLeavesNothing() throws {
        try withScratchSchema("stmtfails") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let error = postgresError {
                try db.transaction(isolation: .repeatableRead) { tx in
                    try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(1), Int64(500))
                    try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(2), Int64(-1))  // CHECK fails
                    try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(3), Int64(900))
                }
            }
            #expect(error?.kind == .checkViolation)
            #expect(db.transactionStatus == .idle)
            #expect(try count(db) == 0)
        }
    }

    @Test func swallowedErrorMakesCommitFail() throws {
        try withScratchSchema("swallowed") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let error = postgresError {
                try db.transaction { tx in
                    try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(1), Int64(500))
                    _ = try? tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(1), Int64(500))
                }
            }
            #expect(error?.operation == "COMMIT")
            #expect(try count(db) == 0)
        }
    }

    @Test func nestedTransactionIsRefused() throws {
        let db = try TestDatabase.connect()
        let error = postgresError {
            try db.transaction { tx in
                try tx.transaction { _ in }
            }
        }
        #expect(error?.kind == .misuse)
        #expect(db.transactionStatus == .idle)
    }

    @Test func asyncTransaction() async throws {
        let scratch = try ScratchSchema("async")
        defer { scratch.drop() }
        let db = scratch.connection
        try db.execute(Self.schema)
        try await db.transaction { tx in
            try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(1), Int64(500))
            await Task.yield()
        }
        await #expect(throws: Abandoned.self) {
            try await db.transaction { tx in
                try tx.execute("INSERT INTO payment VALUES ($1, $2)", Int64(2), Int64(500))
                await Task.yield()
                throw Abandoned()
            }
        }
        #expect(try count(db) == 1)
    }

    @Test func preparedStatementIsPreparedOnceAndReused() throws {
        try withScratchSchema("prepared") { scratch in
            let db = scratch.connection
            try db.execute(Self.schema)
            let insert = PreparedStatement(sql: "INSERT INTO payment VALUES ($1, $2)")
            #expect(!db.isPrepared(insert))
            for id in Int64(1)...20 {
                try db.execute(insert, id, id * 100)
            }
            #expect(db.isPrepared(insert))
            let onServer = try db.query(
                "SELECT count(*) FROM pg_prepared_statements WHERE name = $1", insert.name)[0].decode(Int.self, column: 0)
            #expect(onServer == 1)
            #expect(try count(db) == 20)

            let lookup = try db.prepare(name: "payment_by_id", sql: "SELECT cents FROM payment WHERE id = $1")
            #expect(try db.execute(lookup, Int64(7))[0].decode(Int64.self, column: 0) == 700)
            #expect(try db.query(lookup, Int64(8))[0].decode(Int64.self, column: 0) == 800)

            let clash = PreparedStatement(name: "payment_by_id", sql: "SELECT 1")
            #expect(postgresError { try db.execute(clash) }?.kind == .misuse)

            // A new session has no statements; the cache starts over.
            try db.reset()
            try db.execute("SELECT set_config('search_path', $1, false)", scratch.name)
            #expect(!db.isPrepared(insert))
            try db.execute(insert, Int64(21), Int64(2100))
            #expect(try count(db) == 21)
        }
    }

    @Test func copyInEscapesEverything() throws {
        try withScratchSchema("copy") { scratch in
            let db = scratch.connection
            try db.execute("CREATE TABLE note (id int8, body text, raw bytea)")
            let bodies: [String?] = ["tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", nil, "ünï ✓", ""]
            let copied = try db.copyIn(
                "COPY note (id, body) FROM STDIN",
                rows: bodies.enumerated().map { [String($0.offset), $0.element] })
            #expect(copied == bodies.count)
            let back = try db.query("SELECT body FROM note ORDER BY id").map { try $0.decode(String?.self, column: 0) }
            #expect(back == bodies)

            let typed: [[any PostgresEncodable]] = [[Int64(100), "typed", [UInt8]([0, 9, 10, 92, 255])]]
            #expect(try db.copyIn("COPY note (id, body, raw) FROM STDIN", rows: typed) == 1)
            let raw = try db.query("SELECT raw FROM note WHERE id = 100")[0].decode([UInt8].self, column: 0)
            #expect(raw == [0, 9, 10, 92, 255])

            let error = postgresError { try db.copyIn("COPY note (id) FROM STDIN", rows: [["not a number"]]) }
            #expect(error?.sqlState == "22P02")
            #expect(db.isHealthy)
            #expect(db.transactionStatus == .idle)

            // COPY through the wrong door is refused and the session survives.
            #expect(postgresError { try db.execute("COPY note (id) FROM STDIN") }?.kind == .misuse)
            #expect(postgresError { try db.execute("COPY note TO STDOUT") }?.kind == .misuse)
            #expect(try db.query("SELECT count(*) FROM note")[0].decode(Int.self, column: 0) == 9)
        }
    }

    @Test func scriptsRunSeveralStatements() throws {
        try withScratchSchema("script") { scratch in
            let db = scratch.connection
            try db.executeScript("CREATE TABLE a (x int); CREATE TABLE b (y int); INSERT INTO a VALUES (1);")
            #expect(try db.query("SELECT count(*) FROM a")[0].decode(Int.self, column: 0) == 1)
            let error = postgresError { try db.executeScript("CREATE TABLE c (z int); SELEC 1;") }
            #expect(error?.kind == .syntaxError)
        }
    }
}
