import CaseContract
import Foundation
import Testing
@testable import CaseScenarios

@Suite struct BuilderTests {
    @Test func contentDerivedIdsMakeRebuildsLookLikeRedeliveries() {
        let a = ScenarioEvents.paternityEstablished(caseId: "CS-1")
        let b = ScenarioEvents.paternityEstablished(caseId: "CS-1")
        let c = ScenarioEvents.paternityEstablished(caseId: "CS-2")
        #expect(a.eventId == b.eventId && a.value == b.value)
        #expect(a.eventId != c.eventId)
        let explicit = ScenarioEvents.paternityEstablished(caseId: "CS-1", id: "6f1c2a52-0d3e-4b8e-9a57-1f0c8c1d2e3f")
        #expect(explicit.eventId == "6f1c2a52-0d3e-4b8e-9a57-1f0c8c1d2e3f")
        #expect(explicit.valueString.contains(#""id":"6f1c2a52-0d3e-4b8e-9a57-1f0c8c1d2e3f""#))
    }

    @Test func envelopeFieldsAndKeys() throws {
        let hire = ScenarioEvents.newHire(ssn: "934127765")
        #expect(hire.topic == "cse.employer-reports.v1")
        // Employer reports are keyed by the employer's nine FEIN digits, never by anything derived from an SSN.
        #expect(hire.keyString == ScenarioEmployer.sample.fein.filter(\.isNumber))
        #expect(hire.keyString.count == 9)
        #expect(hire.caseId == nil)
        let envelope = try #require(json(hire))
        #expect(Set(envelope.keys) == ["id", "type", "occurredAt", "source", "data"])
        #expect(envelope["occurredAt"] as? String == "2026-01-05T15:00:00Z")

        let remittance = ScenarioEvents.remittance(fein: "56-1234567", payments: [("CS-1", 100)])
        #expect(remittance.key == ScenarioKey.feinKey("561234567"))
        #expect(remittance.keyString == "561234567")
        #expect(ScenarioEvents.iwoResponse(caseId: "CS-1", fein: "56-1234567").key == Array("561234567".utf8))
        #expect(ScenarioEvents.quarterlyWage(ssn: "934127765", fein: "56-1234567").keyString == "561234567")

        let intake = ScenarioEvents.intakeApplication(caseId: "CS-9")
        #expect(intake.topic == "cse.intake.v1" && intake.keyString == "CS-9" && intake.caseId == "CS-9")
        let court = ScenarioEvents.hearingScheduled(caseId: "CS-9", scheduledFor: ScenarioDate("2026-07-01").at(hour: 14))
        #expect(court.topic == "cse.court-outcomes.v1")
        let d = data(court)
        // July: daylight time in Chicago.
        #expect(d["scheduledFor"] as? String == "2026-07-01T09:00:00-05:00")
        #expect(json(court)?["occurredAt"] as? String == "2026-01-05T09:00:00-06:00")
    }

    @Test func stringsAreEscapedAndStayUTF8() throws {
        let party = ScenarioParty(partyId: "P\"1\\", firstName: "Nguyễn\n", lastName: "tab\there\u{01}")
        let event = ScenarioEvents.intakeApplication(caseId: "CS-1", custodialParty: party)
        #expect(event.valueString.contains(#""partyId":"P\"1\\""#))
        #expect(event.valueString.contains(#""lastName":"tab\there\u0001""#))
        let parsed = try #require(data(event)["custodialParty"] as? [String: Any])
        #expect(parsed["firstName"] as? String == "Nguyễn\n")
        #expect(parsed["lastName"] as? String == "tab\there\u{01}")
    }

    @Test func newHireBeforeIntakeIsExpressible() {
        // The situation integration tests need: the directory reports the hire, the case opens a week later.
        let ssn = "934127765"
        let hire = ScenarioEvents.newHire(ssn: ssn, occurredAt: ScenarioDate("2026-02-02").at(hour: 15))
        let open = ScenarioEvents.intakeApplication(
            caseId: "CS-5", noncustodialParty: .sampleNoncustodial(caseId: "CS-5", ssn: ssn, employer: nil),
            occurredAt: ScenarioDate("2026-02-09").at(hour: 15))
        #expect(hire.occurredAt < open.occurredAt)
        let ncp = data(open)["noncustodialParty"] as! [String: Any]
        #expect(ncp["ssn"] as? String == ssn && ncp["employer"] == nil)
        #expect((data(hire)["hireDate"] as? String) == "2026-01-26")
    }

    @Test func calendarArithmetic() {
        let d: ScenarioDate = "2026-01-31"
        #expect(d.adding(months: 1).description == "2026-02-28")
        #expect(d.firstOfNextMonth.description == "2026-02-01")
        #expect(ScenarioDate("2026-01-05").weekday == 0)  // a Monday
        #expect(ScenarioDate("2026-01-09").addingWeekdays(1).description == "2026-01-12")
        let leapless = "2026-02-29"
        #expect(ScenarioDate(leapless) == nil)
        #expect(ScenarioDate(ScenarioDate("2026-03-08").at(hour: 23, minute: 59)).description == "2026-03-08")
        // Chicago switches to daylight time at 08:00 UTC on 2026-03-08.
        let switchover = Int64(ScenarioDate("2026-03-08").daysSinceEpoch) * 86_400 + 8 * 3600
        #expect(WireTime.centralOffsetSeconds(atUTC: switchover - 1) == -6 * 3600)
        #expect(WireTime.centralOffsetSeconds(atUTC: switchover) == -5 * 3600)
    }

    @Test func generatedSSNsAreDistinctPerPerson() {
        let ssns = (0..<20_000).map { FakePeople.ssn(person: $0, seed: 3) }
        #expect(Set(ssns).count == ssns.count)
        #expect(ssns.allSatisfy { $0.utf8.count == 9 && $0.hasPrefix("9") && !$0.hasSuffix("0000") })
    }
}

private func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Generation speed; run with CSE_SCENARIO_BENCH=1 (in release: `swift test -c release`).
@Suite struct GenerationSpeed {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CSE_SCENARIO_BENCH"] != nil))
    func oneMillionEvents() {
        let clock = ContinuousClock()
        var count = 0
        var bytes = 0
        var iterator: ScenarioGenerator.Iterator?
        let setup = clock.measure { iterator = ScenarioGenerator(.benchmark(cases: 100_000, seed: 1)).makeIterator() }
        // CPU time as well as wall time: the shared build machine is often busy.
        let cpuBefore = threadCPUSeconds()
        let elapsed = clock.measure {
            while let event = iterator!.next() {
                count += 1
                bytes += event.value.count
                if count == 1_000_000 { break }
            }
        }
        let cpu = threadCPUSeconds() - cpuBefore
        print("planned 100,000 cases in \(setup); generated \(count) events, \(bytes / 1_048_576) MiB in \(elapsed) (CPU \(cpu) s)")
        #expect(count == 1_000_000)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["CSE_SCENARIO_BENCH"] != nil))
    func demoFeedSummary() {
        let clock = ContinuousClock()
        var summary = ScenarioSummary(cases: 1_000)
        let elapsed = clock.measure { summary = ScenarioSummary(.demo(cases: 1_000)) }
        print("demo feed in \(elapsed):\n\(summary)")
        #expect(summary.events > 0)
        var shown = Set<String>()
        for event in Streams.demo where shown.insert(event.poison?.rawValue ?? event.type).inserted {
            print("\(event.topic) key=\(event.keyString)\n  \(event.valueString)")
        }
    }
}
