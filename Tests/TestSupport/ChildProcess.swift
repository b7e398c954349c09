import Foundation
import Synchronization

/// A program run to completion, its output captured.
public enum ChildProcess {
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// `environment` nil inherits the test runner's.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) async throws -> Outcome {
        try await onThread { try runBlocking(executable, arguments, environment: environment) }
    }

    static func runBlocking(_ executable: URL, _ arguments: [String], environment: [String: String]?) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr alongside stdout so a chatty child never blocks on a full pipe.
        let stderrData = Mutex<Data>(Data())
        let drained = DispatchSemaphore(value: 0)
        Thread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            stderrData.withLock { $0 = data }
            drained.signal()
        }.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        let outcome = Outcome(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
        TestOutput.keep(outcome.stdout + outcome.stderr, as: "\(executable.lastPathComponent)-\(arguments.first ?? "")")
        return outcome
    }

    /// The `csworker` binary: the test runner is built into the same directory.
    public static var csworker: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("csworker")
    }
}
