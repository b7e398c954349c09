import Foundation
import Testing

/// Runs the built `csworker` binary the way an operator would.
enum BuiltBinary {
    /// The test runner lives in the same build directory as the executable.
    static var url: URL {
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("csworker")
    }

    struct Outcome: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Waits on a thread of its own so a parallel run's shared pool stays free.
    static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runBlocking(arguments, environment: environment) }) }.start()
        }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String]?) throws -> Outcome {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
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
