import CaseContract
import Foundation
import Testing
@testable import CaseScenarios

@Suite struct GeneratorTests {
    @Test func sameSeedGivesByteIdenticalStream() {
        let config = ScenarioConfiguration.demo(cases: 120, seed: 42, months: 6)
        let first = Array(ScenarioGenerator(config))
        let second = Array(ScenarioGenerator(config))
        #expect(first.count > 500)
        #expect(first == second)
    }

    @Test func differentSeedGivesDifferentStream() {
        let a = Array(ScenarioGenerator(.demo(cases: 60, seed: 1, months: 3)))
        let b = Array(ScenarioGenerator(.demo(cases: 60, seed: 2, months: 3)))
        #expect(a.map(\.value) != b.map(\.value))
        #expect(Set(a.map(\.eventId)).isDisjoint(with: b.map(\.eventId)))
    }

    @Test func everyContractEventTypeAppearsFor200Cases() {
        let types = Set(Streams.clean.map(\.type))
        for type in ScenarioTopic.allEventTypes {
            #expect(types.contains(type), "no \(type) in 200 cases")
        }
        #expect(Set(Streams.clean.map(\.topic)) == Set(ScenarioTopic.all))
        #expect(Streams.clean.allSatisfy { $0.poison == nil })
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func everyContractEventTypeAppearsWhateverTheSeed(_ seed: UInt64) {
        let types = Set(ScenarioGenerator(.benchmark(cases: 200, seed: seed)).map(\.type))
        #expect(types.isSuperset(of: ScenarioTopic.allEventTypes), "missing \(Set(ScenarioTopic.allEventTypes).subtracting(types))")
    }

    @Test func everyPoisonClassAppearsInTheDemoFeed() {
        let poison = Streams.demo.compactMap(\.poison)
        #expect(Set(poison) == Set(PoisonClass.allCases))
        let share = Double(poison.count) / Double(Streams.demo.count)
        #expect(share > 0.005 && share < 0.02, "poison share \(share)")
    }

    @Test func occurredAtNeverDecreasesAndStaysInThePeriod() {
        for (stream, config) in [(Streams.demo, ScenarioConfiguration.demo(cases: 200, seed: 7)), (Streams.clean, .benchmark(cases: 200, seed: 11))] {
            let start = config.startDate.at(hour: 0)
            let end = config.startDate.adding(months: 12).at(hour: 0)
            #expect(zip(stream, stream.dropFirst()).allSatisfy { $0.occurredAt <= $1.occurredAt })
            #expect(stream.first!.occurredAt >= start)
            #expect(stream.last!.occurredAt < end)
        }
    }

    /// Workers refuse an `occurredAt` past the time it was reported, so the
    /// demo's and feed's business time must end by the day they run.
    @Test(arguments: ["2026-12-07T18:00:00Z", "2027-02-28T00:00:00Z", "2030-03-03T12:00:00Z"])
    func theDemosBusinessTime_endsByTheDayItRuns(today text: String) throws {
        let today = try #require(ISO8601DateFormatter().date(from: text))
        for months in [1, 12, 24] {
            let config = ScenarioConfiguration.demo(cases: 20, seed: 3, months: months, today: today)
            #expect(config.startDate.weekday == 0, "starts on a Monday")
            #expect(config.endDate.at(hour: 0) <= today)
            let stream = Array(ScenarioGenerator(config))
            #expect(stream.allSatisfy { $0.occurredAt <= today }, "\(months) months before \(text)")
        }
        #expect(Array(ScenarioGenerator(.benchmark(cases: 20, seed: 3))).allSatisfy { $0.occurredAt <= today })
    }

    @Test func keysFollowTheContract() throws {
        for event in Streams.demo where event.poison == nil {
            let d = data(event)
            switch event.topic {
            case ScenarioTopic.intake, ScenarioTopic.courtOutcomes, ScenarioTopic.collections:
                #expect(event.keyString == event.caseId)
                #expect(json(event)?["caseId"] as? String == event.caseId)
            default:
                #expect(event.caseId == nil && json(event)?["caseId"] == nil)
                // The employer's (agency's, institution's) nine FEIN digits, never anything derived from an SSN.
                let reporter = d["employer"] ?? d["agency"] ?? d["institution"]
                let fein = try #require((reporter as? [String: Any])?["fein"] as? String)
                #expect(event.keyString == fein.filter(\.isNumber))
                #expect(event.key.count == 9 && event.key.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
                if let ssn = ((d["employee"] ?? d["claimant"] ?? d["accountHolder"]) as? [String: Any])?["ssn"] as? String {
                    #expect(event.keyString != ssn)
                }
            }
        }
    }

    @Test func valuesAreJSONEnvelopesWithUniqueUUIDs() {
        var ids = Set<String>()
        for event in Streams.demo {
            if event.poison == .malformedJSON {
                // Foundation's parser tolerates a trailing comma; the contract's JSON (RFC 8259) does not.
                #expect(json(event) == nil || event.value.suffix(2) == Array(",}".utf8))
                #expect(String(validating: event.value, as: UTF8.self) != nil)
                continue
            }
            guard let envelope = json(event) else {
                Issue.record("not JSON: \(event.type)")
                continue
            }
            #expect(envelope["type"] as? String == event.type)
            #expect(envelope["source"] is String)
            #expect(envelope["data"] is [String: Any])
            if event.poison != .schemaViolation {
                #expect(envelope["id"] as? String == event.eventId)
                #expect(UUID(uuidString: event.eventId) != nil)
            }
            #expect(ids.insert(event.eventId).inserted, "duplicate id")
        }
    }

    @Test func casesOpenBeforeAnythingNamesThem() throws {
        var opened = Set<String>()
        for event in Streams.clean {
            if event.type == "intake.application" {
                #expect(opened.insert(event.caseId!).inserted, "case opened twice")
            } else if let caseId = event.caseId {
                #expect(opened.contains(caseId), "\(event.type) before its intake")
            } else if event.type == "employer.withholding-remittance" {
                let payments = try #require(data(event)["payments"] as? [[String: Any]])
                #expect(!payments.isEmpty)
                for payment in payments {
                    #expect(opened.contains(payment["caseId"] as! String))
                    #expect((payment["amountCents"] as! Int) > 0)
                }
            } else if event.type == "employer.iwo-response" {
                #expect(opened.contains(data(event)["caseId"] as! String))
            }
        }
        #expect(opened.count == 200)
    }

    @Test func fakeIdentifiersAreSyntacticallyValidButNeverIssued() {
        for event in Streams.clean.prefix(3_000) {
            let text = event.valueString
            // Every SSN the feed writes is nine digits in areas 900-999.
            var rest = text[...]
            while let range = rest.range(of: #""ssn":""#) {
                let ssn = rest[range.upperBound...].prefix(9)
                #expect(ssn.count == 9 && ssn.allSatisfy(\.isNumber) && ssn.first == "9")
                rest = rest[range.upperBound...]
            }
            var feins = text[...]
            while let range = feins.range(of: #""fein":""#) {
                let fein = feins[range.upperBound...].prefix(10)
                #expect(fein.prefix(9).allSatisfy(\.isNumber) && fein.last == "\"")
                feins = feins[range.upperBound...]
            }
        }
    }

    @Test func remittancesGroupSeveralCasesAndMissOrExceedWhatIsDue() throws {
        let remittances = Streams.clean.filter { $0.type == "employer.withholding-remittance" }
        let sizes = remittances.map { (data($0)["payments"] as! [Any]).count }
        #expect(sizes.contains { $0 > 1 }, "no employer remitted for several cases at once")
        // Per case, the amounts withheld vary (short, over, skipped and doubled paydays).
        var amounts: [String: Set<Int>] = [:]
        for remittance in remittances {
            for payment in data(remittance)["payments"] as! [[String: Any]] {
                amounts[payment["caseId"] as! String, default: []].insert(payment["amountCents"] as! Int)
            }
        }
        #expect(amounts.values.contains { $0.count > 1 })
        for remittance in remittances {
            let d = data(remittance)
            let payDate = try #require(ScenarioDate(d["payDate"] as! String))
            let receivedOn = try #require(ScenarioDate(d["receivedOn"] as! String))
            #expect(payDate < receivedOn && receivedOn.daysSinceEpoch - payDate.daysSinceEpoch <= 16)
            #expect(ScenarioDate(remittance.occurredAt) == receivedOn)
        }
    }

    @Test func someNewHiresArriveBeforeTheirCaseAndSomeNameNoCaseAtAll() throws {
        var config = ScenarioConfiguration.benchmark(cases: 80, seed: 5, months: 6)
        config.newHireBeforeIntakeShare = 0.5
        config.unknownSSNShare = 0
        let events = Array(ScenarioGenerator(config))
        var hiresSeen: [String: Date] = [:]
        var early = 0
        var ncpSSNs = Set<String>()
        for event in events {
            if event.type == "employer.new-hire" {
                let ssn = (data(event)["employee"] as! [String: Any])["ssn"] as! String
                hiresSeen[ssn] = hiresSeen[ssn] ?? event.occurredAt
            } else if event.type == "intake.application" {
                let ncp = data(event)["noncustodialParty"] as! [String: Any]
                let ssn = try #require(ncp["ssn"] as? String)
                ncpSSNs.insert(ssn)
                if let hired = hiresSeen[ssn], hired < event.occurredAt {
                    early += 1
                    #expect(ncp["employer"] == nil, "the application should not already know the employer")
                }
            }
        }
        #expect(early >= 10)
        #expect(hiresSeen.keys.contains { !ncpSSNs.contains($0) }, "no new hire for a person without a case")
    }

    @Test func courtClerksStampLocalTimeWithItsOffset() {
        let court = Streams.clean.first { $0.topic == ScenarioTopic.courtOutcomes }!
        let stamp = json(court)!["occurredAt"] as! String
        #expect(stamp.hasSuffix("-06:00") || stamp.hasSuffix("-05:00"))
        let intake = Streams.clean.first { $0.topic == ScenarioTopic.intake }!
        #expect((json(intake)!["occurredAt"] as! String).hasSuffix("Z"))
    }

    @Test func summaryCountsWhatWasFed() {
        var summary = ScenarioSummary(cases: 200)
        for event in Streams.demo { summary.record(event) }
        #expect(summary.events == Streams.demo.count)
        #expect(summary.byTopic.values.reduce(0, +) == summary.events)
        #expect(summary.byType.values.reduce(0, +) + summary.poison == summary.events)
        #expect(summary.byType["intake.application"] == 200)
        #expect(summary.description.contains("employer.withholding-remittance"))
        #expect(ScenarioSummary(.demo(cases: 200, seed: 7)) == summary)
    }

    @Test func lifecycleMixIsPlausible() {
        let counts = Dictionary(grouping: Streams.clean, by: \.type).mapValues(\.count)
        let cases = 200
        // Every case opens once; most get an order; closures are rare.
        #expect(counts["intake.application"] == cases)
        #expect(counts["court.order-established", default: 0] > cases / 4)
        #expect(counts["intake.closure-request", default: 0] < cases / 5)
        #expect(counts["employer.withholding-remittance", default: 0] > counts["court.order-established", default: 0])
        // Remittances carry many cases each, so a case averages ten-odd messages a year.
        #expect(Streams.clean.count > 8 * cases)
    }
}
