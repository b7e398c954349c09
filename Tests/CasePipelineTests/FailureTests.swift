import CaseDomain
import CasePipeline
import CaseScenarios
import Foundation
import Testing
import TestSupport

/// Transient failures are retried, never dead-lettered; bad configuration and
/// unreachable services end `csworker run` with the contract's exit codes.
@Suite("Pipeline: failures", .timeLimit(.minutes(2)))
struct FailureTests {
    @Test func databaseSessionsKilledMidRun_areRetried_andNothingIsDeadLettered() async throws {
        try await withHarness { h in
            let events = DeliveryTests.caseEvents("RETRY-1", ssn: "934300001")
            try await h.feed(events[0])
            // Every other session on the test's database goes: the worker's and the relay's.
            _ = try h.connection.query(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                """)
            try await h.produce(Array(events[1...]))
            try await h.waitUntilProcessed(3)
            let view = try #require(try h.show("RETRY-1", asOf: "2026-04-30"))
            #expect(view.history.map(\.eventType) == ["intake.application", "court.order-established", "court.hearing-scheduled"])
            #expect(h.workerStatistics.retries >= 1)
            #expect(h.collector.deadLetters.isEmpty)
            #expect(try h.count("SELECT count(*) FROM outbox WHERE topic = $1", h.topics.deadLetter) == 0)
        }
    }

    @Test func runWithoutAnSSNKey_isAUsageError() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_HTTP_PORT"] = "0"
        environment["CSE_KAFKA_BROKERS"] = "127.0.0.1:1"
        environment["CSE_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
        environment["CSE_SSN_KEY"] = nil
        let outcome = try await WorkerProcess.run(["run"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("CSE_SSN_KEY"))
    }

    @Test func runWithAShortSSNKey_isAUsageError_thatDoesNotPrintTheKey() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_HTTP_PORT"] = "0"
        environment["CSE_KAFKA_BROKERS"] = "127.0.0.1:1"
        environment["CSE_DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
        environment["CSE_SSN_KEY"] = "0123456789abcdef"
        let outcome = try await WorkerProcess.run(["run"], environment: environment)
        #expect(outcome.status == 64)
        #expect(!outcome.stderr.contains("0123456789abcdef"))
    }

    @Test func runWithAnUnreachableDatabase_exits69() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_HTTP_PORT"] = "0"
        environment["CSE_KAFKA_BROKERS"] = try Services.brokers().joined(separator: ",")
        environment["CSE_DATABASE_URL"] = "postgresql://worker:s3cret@127.0.0.1:1/cases"
        environment["CSE_SSN_KEY"] = String(repeating: "ab", count: 32)
        let outcome = try await WorkerProcess.run(["run"], environment: environment)
        #expect(outcome.status == 69)
        #expect(!outcome.stderr.contains("s3cret"))
    }

    @Test func runAgainstAnUnmigratedDatabase_asksForMigrate() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_HTTP_PORT"] = "0"
        let database = try Services.freshDatabase()
        defer { Services.dropDatabase(database) }
        environment["CSE_DATABASE_URL"] = database
        environment["CSE_SSN_KEY"] = String(repeating: "ab", count: 32)
        _ = try Services.brokers()
        let outcome = try await WorkerProcess.run(["run"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("csworker migrate"))
    }
}

extension WorkerProcess {
    /// Runs the binary to completion (commands that fail fast).
    static func run(_ arguments: [String], environment: [String: String]) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(binary, arguments, environment: environment)
    }
}
