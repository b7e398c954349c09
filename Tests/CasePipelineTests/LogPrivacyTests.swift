import CaseDomain
import CasePipeline
import CaseScenarios
import Foundation
import Testing
import TestSupport

/// Everything a `csworker` process writes while handling people's SSNs, read
/// back: the worker (JSON logs at trace level), a sweep and the dead-letter
/// list. Every log line is a JSON object with the contract's fields, and no
/// SSN of the input appears anywhere, with or without dashes.
@Suite("Pipeline: logs are JSON and never carry an SSN", .timeLimit(.minutes(3)))
struct LogPrivacyTests {
    @Test func aWorkerSweepAndDeadLetterList_logNoSSN() async throws {
        let h = try await PipelineHarness.make()
        var worker: WorkerProcess? = nil
        do {
            let logs = try WorkerProcess.logsDirectory("logscan")
            let environment = h.processEnvironment(logLevel: "trace", logFormat: "json")

            let scenario = ScenarioConfiguration.benchmark(cases: 25, seed: 29, months: 5)
            var events = Array(ScenarioGenerator(scenario))
            // Refused events too: their dead letters carry SSNs, their reasons must not.
            let ssnOfNobody = "934400001"
            events.append(ScenarioEvents.schemaViolation(.amountAsString, caseId: scenario.caseId(0)))
            events.append(ScenarioEvents.intakeApplication(
                caseId: scenario.caseId(0), noncustodialParty: .sampleNoncustodial(caseId: scenario.caseId(0), ssn: ssnOfNobody)))
            let ssns = Self.ssns(in: events)
            try #require(ssns.count >= 25, "the scenario carries SSNs")

            // With the daily schedule on: it catches up on today at start, so its lines are scanned too.
            worker = try WorkerProcess(name: "worker", environment: environment, logs: logs, arguments: ["run", "--daily-sweep-at", "00:00"])
            try await h.produce(events)
            let eventIds = Set(events.map(\.eventId))
            try await eventually(timeout: .seconds(120), "every event is recorded and published (logs in \(logs.path))") {
                try h.processedEvents >= eventIds.count - 1 && h.unpublished == 0
                    && h.count("SELECT count(*) FROM outbox WHERE topic = $1", h.topics.deadLetter) >= 2
            }
            #expect(worker?.terminate() == 0)

            // Far enough ahead that arrears referrals fall due; published by the command itself.
            let sweep = try await Self.runBinary(["sweep", "--as-of", "2028-01-03", "--publish"], environment: environment)
            #expect(sweep.status == 0, "\(sweep.stderr)")
            #expect(sweep.stdout.contains("open cases evaluated"))
            #expect(sweep.stdout.contains("published: "))
            #expect(try h.unpublished == 0)
            let list = try await Self.runBinary(["deadletters", "list", "--json"], environment: environment)
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.split(separator: "\n").count >= 2)
            let replay = try await Self.runBinary(["deadletters", "replay", "--all"], environment: environment)
            #expect(replay.status == 0, "\(replay.stderr)")
            #expect(replay.stdout.contains("replayed"))
            #expect(try h.count("SELECT count(*) FROM outbox WHERE replayed_at IS NOT NULL") >= 2)

            // Migrate again (nothing to apply; grants, or the line saying they were skipped).
            let migrate = try await Self.runBinary(["migrate"], environment: environment)
            #expect(migrate.status == 0, "\(migrate.stderr)")

            let workerLog = try String(contentsOf: logs.appendingPathComponent("worker.log"), encoding: .utf8)
            // The lines added for operators are among those scanned.
            for message in ["event applied", "daily sweep starting", "sweep re-evaluated a case", "dead letter replayed"] {
                #expect((workerLog + sweep.stderr + replay.stderr).contains("\"message\":\"\(message)\""), "no '\(message)' line scanned")
            }
            var lines = workerLog.split(separator: "\n").map(String.init)
            lines += migrate.stderr.split(separator: "\n").map(String.init)
            lines += sweep.stderr.split(separator: "\n").map(String.init)
            lines += list.stderr.split(separator: "\n").map(String.init)
            lines += replay.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count > 10, "the worker logged at trace level")
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                #expect(["timestamp", "level", "label", "message"].allSatisfy { object[$0] is String }, "\(line)")
                #expect(object["metadata"] is [String: String], "\(line)")
            }
            let everything = workerLog + migrate.stderr + migrate.stdout + sweep.stderr + sweep.stdout + list.stderr + list.stdout + replay.stderr + replay.stdout
            let leaked = ssns.filter { everything.contains($0) || everything.contains(Self.dashed($0)) }
            #expect(leaked.isEmpty, "unmasked SSNs in the output (logs in \(logs.path))")
        } catch {
            worker?.kill()
            await h.shutDown()
            throw error
        }
        worker?.kill()
        await h.shutDown()
    }

    /// The nine-digit values of every `"ssn"` field in the events.
    static func ssns(in events: [ScenarioEvent]) -> Set<String> {
        let pattern = /"ssn"\s*:\s*"([0-9-]{9,11})"/
        var found = Set<String>()
        for event in events {
            let text = String(decoding: event.value, as: UTF8.self)
            for match in text.matches(of: pattern) {
                let digits = String(match.1.filter(\.isNumber))
                if digits.count == 9 { found.insert(digits) }
            }
        }
        return found
    }

    static func dashed(_ ssn: String) -> String {
        let s = Array(ssn)
        return String(s[0..<3]) + "-" + String(s[3..<5]) + "-" + String(s[5...])
    }

    static func runBinary(_ arguments: [String], environment: [String: String]) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(WorkerProcess.binary, arguments, environment: environment)
    }
}
