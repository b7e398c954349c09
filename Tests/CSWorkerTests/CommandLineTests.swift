import Foundation
import Testing
import TestSupport

/// Runs the built `csworker` binary the way an operator would.
enum BuiltBinary {
    static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(ChildProcess.csworker, arguments, environment: environment)
    }
}

@Suite struct CommandLineTests {
    @Test func versionShowsTheLoadedLibrariesWithLibrdkafkaAtLeast2_1() async throws {
        // No LD_LIBRARY_PATH: the binary must find librdkafka >= 2.1 by itself.
        var environment = ProcessInfo.processInfo.environment
        environment["LD_LIBRARY_PATH"] = nil
        let outcome = try await BuiltBinary.run(["--version"], environment: environment)
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let line = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix("csworker "))

        let rdkafka = try #require(Self.version(after: "librdkafka ", in: line), "no librdkafka version in '\(line)'")
        #expect(rdkafka.lexicographicallyPrecedes([2, 1]) == false, "librdkafka \(rdkafka) is older than 2.1")
        let libpq = try #require(Self.version(after: "libpq ", in: line), "no libpq version in '\(line)'")
        #expect(libpq.first ?? 0 >= 14, "libpq \(libpq) has no pipeline mode")
    }

    @Test func missingBrokerSettingIsAUsageError() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_KAFKA_BROKERS"] = nil
        let outcome = try await BuiltBinary.run(["topics", "ensure"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("CSE_KAFKA_BROKERS"))
    }

    @Test func anInvalidDailySweepTimeIsAUsageError() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_DAILY_SWEEP_AT"] = "25:00"
        environment["CSE_SSN_KEY"] = String(repeating: "ab", count: 32)
        let outcome = try await BuiltBinary.run(
            ["run", "--brokers", "127.0.0.1:1", "--database-url", "postgresql://worker@127.0.0.1:1/cases"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("CSE_DAILY_SWEEP_AT"), "\(outcome.stderr)")
    }

    @Test func unreachableDatabaseExits69AndHidesThePassword() async throws {
        let outcome = try await BuiltBinary.run([
            "selfcheck", "--brokers", "127.0.0.1:1", "--database-url", "postgresql://worker:s3cret-pw@127.0.0.1:1/cases",
        ])
        #expect(outcome.status == 69)
        #expect(outcome.stderr.contains("127.0.0.1:1"))
        #expect(outcome.stderr.contains("unreachable"))
        #expect(!outcome.stderr.contains("s3cret-pw"))
    }

    static func version(after marker: String, in line: String) -> [Int]? {
        guard let range = line.range(of: marker) else { return nil }
        let digits = line[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        let parts = digits.split(separator: ".").compactMap { Int($0) }
        return parts.isEmpty ? nil : parts
    }
}
