import CaseScenarios
import Foundation
import Testing
import TestSupport

/// Every log line about an event names it the same way -- `eventId`,
/// `eventType`, `caseId` -- so an operator can follow one event through
/// parking, applying, refusing and replaying. Read from the JSON logs of a
/// real `csworker run` (debug level) over a mixed feed with poison records,
/// plus a replay and a sweep through the binary.
@Suite("Pipeline: every log line about an event carries its id, type and case id", .timeLimit(.minutes(3)))
struct EventLogKeysTests {
    static let keys = ["eventId", "eventType", "caseId"]

    /// Messages that are about one event: they name an event, a dead letter,
    /// a parked event, or a case a sweep re-evaluated.
    static func isAboutAnEvent(_ message: String) -> Bool {
        message.lowercased().contains(/\bevent\b|dead[- ]letter|\bparked\b|re-evaluated a case/)
    }

    @Test func aWorkersReplaysAndSweepsEventLinesCarryTheKeys() async throws {
        let h = try await PipelineHarness.make()
        var worker: WorkerProcess? = nil
        do {
            let logs = try WorkerProcess.logsDirectory("eventkeys")
            let environment = h.processEnvironment(logLevel: "debug", logFormat: "json")

            let scenario = ScenarioConfiguration.benchmark(cases: 6, seed: 41, months: 4)
            var events = Array(ScenarioGenerator(scenario))
            let late = scenario.caseId(90)
            let lateSSN = "934400077"
            // Parked by SSN (it names a person), applied when the intake below brings the SSN.
            let newHire = ScenarioEvents.newHire(ssn: lateSSN)
            events += [
                newHire,
                // Undecodable.
                ScenarioEvents.malformedJSON(caseId: scenario.caseId(1)),
                ScenarioEvents.schemaViolation(.amountAsString, caseId: scenario.caseId(2)),
                ScenarioEvents.unknownType(caseId: scenario.caseId(3)),
                // Parked by case, then given up on after the grace period.
                ScenarioEvents.unknownCase(caseId: "CS-NEVER-\(Services.uniqueLabel())"),
            ]
            let deadLetters = 5

            worker = try WorkerProcess(
                name: "worker", environment: environment, logs: logs,
                arguments: ["run", "--unknown-case-horizon", "1s", "--daily-sweep-at", "00:00"])
            try await h.produce(events)
            try await eventually(timeout: .seconds(60), "the new hire waits for its employee") {
                try h.count("SELECT count(*) FROM processed_events WHERE event_id = $1::uuid AND outcome = 'parked'", newHire.eventId) == 1
            }
            let arriving = [
                ScenarioEvents.intakeApplication(caseId: late, noncustodialParty: .sampleNoncustodial(caseId: late, ssn: lateSSN)),
                // Refused by the rules: a second application for an open case.
                ScenarioEvents.intakeApplication(caseId: late, occurredAt: ScenarioEvents.defaultOccurredAt.addingTimeInterval(60)),
            ]
            try await h.produce(arriving)
            events += arriving
            try await eventually(timeout: .seconds(120), "every event is handled and published (logs in \(logs.path))") {
                try h.count("SELECT count(*) FROM outbox WHERE topic = $1", h.topics.deadLetter) >= deadLetters
                    && h.processedEvents >= events.count - 3  // all but the undecodable
                    && h.unpublished == 0
            }
            #expect(worker?.terminate() == 0)

            let replay = try await ChildProcess.run(WorkerProcess.binary, ["deadletters", "replay", "--all"], environment: environment)
            #expect(replay.status == 0, "\(replay.stderr)")
            let sweep = try await ChildProcess.run(WorkerProcess.binary, ["sweep", "--as-of", "2028-01-03"], environment: environment)
            #expect(sweep.status == 0, "\(sweep.stderr)")

            let workerLog = try String(contentsOf: logs.appendingPathComponent("worker.log"), encoding: .utf8)
            let lines = (workerLog + replay.stderr + sweep.stderr).split(separator: "\n").map(String.init)
            var messages: [String: Int] = [:]
            var parkedByPerson = false
            var appliedAfterParking = false
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                let message = try #require(object["message"] as? String)
                let metadata = try #require(object["metadata"] as? [String: String], "\(line)")
                guard Self.isAboutAnEvent(message) else { continue }
                messages[message, default: 0] += 1
                for key in Self.keys {
                    #expect(metadata[key]?.isEmpty == false, "\(key) missing: \(line)")
                }
                guard let id = metadata["eventId"], let type = metadata["eventType"], let caseId = metadata["caseId"] else { continue }
                if id == "unknown" {
                    // Only a record that could not be decoded has nothing trustworthy to name.
                    #expect(type == "unknown" && caseId == "unknown", "\(line)")
                    #expect(["dead-lettering an undecodable record", "dead letter replayed"].contains(message), "\(line)")
                } else {
                    #expect(UUID(uuidString: id) != nil, "\(line)")
                    #expect(type != "unknown" && caseId != "unknown", "\(line)")
                }
                #expect(caseId.contains(/^\d{9}$/) == false, "a case id that looks like an SSN: \(line)")
                if message == "event waiting for its case, order or person" && type == "employer.new-hire" && caseId == "none" { parkedByPerson = true }
                if message == "event applied" && type == "employer.new-hire" && caseId == late && metadata["unparked"] == "true" {
                    appliedAfterParking = true
                }
            }
            for expected in [
                "event applied", "event waiting for its case, order or person", "dead-lettering an undecodable record",
                "dead-lettering an event that waited past the horizon for its case or order", "dead-lettering an event the rules refused",
                "dead letter replayed", "sweep re-evaluated a case",
            ] {
                #expect(messages[expected] != nil, "no '\(expected)' line among \(messages.keys.sorted())")
            }
            #expect(parkedByPerson, "the new hire waited for its employee, naming no case")
            #expect(appliedAfterParking, "the new hire applied to the case that brought its SSN")
            #expect(workerLog.contains("\"daily sweep starting\""), "the in-process schedule caught up on today at start")
            #expect(try h.count("SELECT count(*) FROM sweep_runs") >= 1)
        } catch {
            worker?.kill()
            await h.shutDown()
            throw error
        }
        worker?.kill()
        await h.shutDown()
    }
}
