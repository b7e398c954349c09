import CaseDomain
import CasePipeline
import CaseScenarios
import Foundation
import Kafka
import Testing
import TestSupport

/// The built `csworker run` binary, several processes in one group, one of
/// them killed without warning mid-run.
@Suite("Pipeline: worker processes", .timeLimit(.minutes(4)))
struct WorkerProcessTests {
    @Test func twoWorkers_oneKilledAndRestarted_applyEveryEventExactlyOnce() async throws {
        let h = try await PipelineHarness.make(partitions: 4)
        var processes: [WorkerProcess] = []
        do {
            try await run(h, spawning: &processes)
        } catch {
            processes.forEach { $0.kill() }
            await h.shutDown()
            throw error
        }
        processes.forEach { $0.kill() }
        await h.shutDown()
    }

    private func run(_ h: PipelineHarness, spawning processes: inout [WorkerProcess]) async throws {
        let logs = try WorkerProcess.logsDirectory("pipeline")
        let environment = h.processEnvironment(logLevel: "info")
        let first = try WorkerProcess(name: "first", environment: environment, logs: logs)
        let second = try WorkerProcess(name: "second", environment: environment, logs: logs)
        processes += [first, second]

        // Small batches: many commits, so the kill lands between some of them.
        let scenario = ScenarioConfiguration.benchmark(cases: 400, seed: 11, months: 6)
        let events = Array(ScenarioGenerator(scenario))
        let eventIds = Set(events.map(\.eventId))
        // The rest of the stream is produced only after the kill, so the kill
        // lands mid-run however fast this machine processes the first part.
        let firstPart = events.count / 3
        try await h.produce(Array(events[..<firstPart]))

        // A few batches in: most of the work is still ahead.
        try await eventually(timeout: .seconds(90), "the first batches are processed (logs in \(logs.path))") {
            try h.processedEvents >= 200
        }
        first.kill()
        let processedAtKill = try h.processedEvents
        #expect(processedAtKill < eventIds.count, "the kill came too late to land mid-run")
        try await h.produce(Array(events[firstPart...]))
        let restarted = try WorkerProcess(name: "restarted", environment: environment, logs: logs)
        processes.append(restarted)

        try await eventually(timeout: .seconds(150), "every event is processed and published (logs in \(logs.path))") {
            try h.processedEvents == eventIds.count && h.unpublished == 0
                && h.count("SELECT count(*) FROM parked_events WHERE match_kind = 'case'") == 0
        }
        #expect(second.isRunning && restarted.isRunning)
        #expect(try h.count("SELECT count(*) FROM processed_events") == eventIds.count)

        // Each event applied to a case at most once; versions count exactly the applied events.
        #expect(try h.count(
            "SELECT count(*) FROM (SELECT 1 FROM case_history GROUP BY case_id, event_id HAVING count(*) > 1) twice") == 0)
        #expect(try h.count(
            "SELECT count(*) FROM cases c WHERE c.version <> (SELECT count(*) FROM case_history h WHERE h.case_id = c.case_id)") == 0)
        #expect(try h.count("SELECT count(*) FROM cases") == scenario.cases)

        // Every task the history names is published; a task id is never published with two payloads.
        let recorded = Set(try h.connection.query("SELECT DISTINCT unnest(task_ids)::text FROM case_history").map {
            try $0.decode(String.self, column: 0)
        })
        try await eventually(timeout: .seconds(30), "the collector has read every task") {
            Set(h.collector.tasks.map(\.id)).isSuperset(of: recorded)
        }
        let published = Dictionary(grouping: h.collector.tasks, by: \.id)
        #expect(Set(published.keys) == recorded)
        let conflicting = published.filter { Set($0.value.map(\.bytes)).count > 1 }
        #expect(conflicting.isEmpty, "task ids published with different payloads: \(conflicting.keys.sorted().prefix(5))")
        let republished = published.values.filter { $0.count > 1 }.count
        print("worker processes: \(eventIds.count) events (\(processedAtKill) recorded when one worker was killed), "
            + "\(recorded.count) tasks, \(republished) published again after the kill")

        // The survivors stop cleanly on SIGTERM.
        #expect(second.terminate() == 0)
        #expect(restarted.terminate() == 0)
    }
}

extension PipelineHarness {
    /// The environment of a `csworker` child process in this test's world
    /// (database, topics, group, key), with group timings for the local broker.
    func processEnvironment(logLevel: String, logFormat: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_DATABASE_URL"] = databaseURL
        environment["CSE_TOPIC_PREFIX"] = topics.prefix
        environment["CSE_CONSUMER_GROUP"] = group
        environment["CSE_SSN_KEY"] = keyHex
        environment["CSE_KAFKA_MAX_POLL_INTERVAL_MS"] = "30000"
        environment["CSE_KAFKA_SESSION_TIMEOUT_MS"] = "6000"
        environment["CSE_LOG_LEVEL"] = logLevel
        environment["CSE_LOG_FORMAT"] = logFormat
        // Each child's /metrics and health endpoints on a free port: parallel workers never collide on 8080.
        environment["CSE_HTTP_PORT"] = "0"
        return environment
    }
}

/// A `csworker run` child process, logging to a file.
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    let log: URL

    static var binary: URL { ChildProcess.csworker }

    /// A new directory for one test's process logs (kept for reading after a failure).
    static func logsDirectory(_ name: String) throws -> URL {
        try TestOutput.makeDirectory(name)
    }

    init(name: String, environment: [String: String], logs: URL, arguments: [String] = ["run", "--max-batch", "100"]) throws {
        log = logs.appendingPathComponent("\(name).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    /// Running, and its log's latest group event is an assignment (not a join or a revocation).
    var isConsuming: Bool {
        guard process.isRunning, let text = try? String(contentsOf: log, encoding: .utf8) else { return false }
        let groupEvents = ["\"worker joined the consumer group\"", "\"partitions revoked\"", "\"partitions lost\"", "\"partitions assigned\""]
        let latest = text.split(separator: "\n").last { line in groupEvents.contains { line.contains($0) } }
        return latest?.contains(groupEvents[3]) ?? false
    }

    /// Consuming, with no group event for `quiet` (a rebalance round of Tansu
    /// follows another every few seconds while departed members expire).
    func isSettled(quiet: Duration = .seconds(7)) -> Bool {
        guard isConsuming, let text = try? String(contentsOf: log, encoding: .utf8) else { return false }
        let groupEvents = ["\"worker joined the consumer group\"", "\"partitions revoked\"", "\"partitions lost\"", "\"partitions assigned\""]
        guard let latest = text.split(separator: "\n").last(where: { line in groupEvents.contains { line.contains($0) } }),
            let stamp = latest.firstMatch(of: /"timestamp":"([^"]+)"/)?.1,
            let at = try? Date(String(stamp), strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        else { return false }
        let seconds = Double(quiet.components.seconds) + Double(quiet.components.attoseconds) / 1e18
        return Date().timeIntervalSince(at) >= seconds
    }

    /// How many assignments the worker has logged (a rebalance it took part in adds one).
    var assignments: Int {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").filter { $0.contains("\"partitions assigned\"") }.count
    }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then the exit status (waits at most 30 s, then kills).
    func terminate() -> Int32 {
        process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill() }
        return process.terminationStatus
    }
}
