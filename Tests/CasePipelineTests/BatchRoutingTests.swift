import CaseContract
import CaseDomain
import CaseScenarios
import CaseStorage
import Foundation
import Logging
import Testing

@testable import CasePipeline

/// A batch's admission and routing decided in memory, without PostgreSQL:
/// what the phases would have loaded is passed in, what `save` would write
/// comes out.
@Suite("Batch routing without storage")
struct BatchRoutingTests {
    static let protector = SSNProtector(key: try! SSNKey(bytes: Array(repeating: 7, count: 32)))
    static let ncpSSN = "934127765"
    static var ncpHash: SSNHash { protector.hash(SSN(ncpSSN)!) }

    /// Wire events decoded as the worker decodes them, offsets in list order.
    static func decoded(_ events: [ScenarioEvent]) -> [(Event, DeadLetter.Source)] {
        events.enumerated().map { offset, scenario in
            guard case .success(let event) = EventDecoder.decode(scenario.value) else { fatalError("test event does not decode") }
            return (event, DeadLetter.Source(topic: scenario.topic, partition: 0, offset: Int64(offset), key: scenario.key, value: scenario.value))
        }
    }

    static func router(
        _ events: [(Event, DeadLetter.Source)], states: [String: CaseState] = [:], resolved: [SSNHash: [String]] = [:],
        parked: [ParkedEvent] = [], history: History = History()
    ) -> BatchRouter {
        let admission = BatchAdmission(events.map { .success($0.0) }, protector: protector)
        return BatchRouter(
            protector: protector, topics: PipelineTopics(), policy: Policy(), logger: Logger(label: "test"), states: states,
            resolved: resolved, parked: TakenFromParking(parked), identities: admission.byEventId, earlier: EarlierEvents(source: history),
            checkpoints: CaseTimeline.Checkpoints(capacity: 10), report: BatchReport())
    }

    static func route(
        _ events: [(Event, DeadLetter.Source)], states: [String: CaseState] = [:], resolved: [SSNHash: [String]] = [:],
        parked: [ParkedEvent] = [], history: History = History()
    ) throws -> BatchRouter {
        var router = router(events, states: states, resolved: resolved, parked: parked, history: history)
        try router.apply(events)
        return router
    }

    static func life(_ caseId: String = "C-1") -> [ScenarioEvent] {
        [
            ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ncpSSN),
                occurredAt: ScenarioDate("2026-01-05").at(hour: 15)),
            ScenarioEvents.orderEstablished(caseId: caseId, occurredAt: ScenarioDate("2026-01-20").at(hour: 15)),
            ScenarioEvents.newHire(ssn: ncpSSN, occurredAt: ScenarioDate("2026-03-10").at(hour: 15)),
            ScenarioEvents.remittance(
                payments: [(caseId: caseId, amountCents: 20_000)], occurredAt: ScenarioDate("2026-04-10").at(hour: 15)),
        ]
    }

    @Test("the claim names every person and case; a busy one defers its records and what follows about the same people")
    func admission() {
        let events = [
            ScenarioEvents.intakeApplication(
                caseId: "C-1", noncustodialParty: .sampleNoncustodial(caseId: "C-1", ssn: Self.ncpSSN),
                occurredAt: ScenarioDate("2026-01-05").at(hour: 15)),
            ScenarioEvents.remittance(
                payments: [(caseId: "C-2", amountCents: 5_000), (caseId: "C-1", amountCents: 1_000)],
                occurredAt: ScenarioDate("2026-01-06").at(hour: 15)),
            ScenarioEvents.newHire(ssn: Self.ncpSSN, occurredAt: ScenarioDate("2026-01-07").at(hour: 15)),
            ScenarioEvents.newHire(ssn: "934120001", occurredAt: ScenarioDate("2026-01-07").at(hour: 15)),
        ]
        let decoded = Self.decoded(events)
        var results: [Result<Event, EventDecodingError>] = decoded.map { .success($0.0) }
        results.append(EventDecoder.decode(Array("{".utf8)))
        let admission = BatchAdmission(results, protector: Self.protector)
        let other = Self.protector.hash(SSN("934120001")!)
        #expect(admission.claim == IdentityClaim(
            ssnHashes: [Self.ncpHash, other], caseIds: ["C-1", "C-2"], reported: [Self.ncpHash, other]))

        // Nothing busy: everything goes, the undecodable record too (it becomes a dead letter).
        let free = admission.admit(busySSNHashes: [], busyCaseIds: [], resolved: [:])
        #expect(free.admitted == [0, 1, 2, 3, 4] && free.deferred.isEmpty)
        // C-2 busy: the remittance waits, and after it everything about C-1 (its other case) and its people.
        let split = admission.admit(busySSNHashes: [], busyCaseIds: ["C-2"], resolved: [Self.ncpHash: ["C-1"]])
        #expect(split.admitted == [0, 3, 4])
        #expect(split.deferred == [1, 2])
        // The reported person busy: their report waits, the rest goes.
        let personBusy = admission.admit(busySSNHashes: [other], busyCaseIds: [], resolved: [:])
        #expect(personBusy.admitted == [0, 1, 2, 4] && personBusy.deferred == [3])

        let load = admission.load(decoded, resolved: [Self.ncpHash: ["C-9"]])
        #expect(load.events.map(\.eventId) == decoded.map(\.0.id))
        #expect(load.caseIds == ["C-1", "C-2", "C-9"])
        // The intake opens C-1 and brings its parent: what waited for either is taken.
        #expect(load.parked.caseIds == ["C-1"])
        #expect(load.parked.ssnHashes == [Self.ncpHash])
        #expect(load.parked.orders.isEmpty)
    }

    @Test("a case's events in one batch decide the same in every arrival order")
    func everyArrivalOrderDecidesTheSame() throws {
        let events = Self.decoded(Self.life())
        let expected = try Self.route(events).writes
        #expect(expected.cases.count == 1)
        #expect(expected.cases[0].history.map(\.eventType) == [
            "intake.application", "court.order-established", "employer.new-hire", "employer.withholding-remittance",
        ])
        #expect(expected.outbox.contains { $0.headers.contains { $0.value == TaskType.incomeWithholding.rawValue } })
        #expect(expected.parked.isEmpty)
        for order in permutations(of: Array(events.indices)) {
            let writes = try Self.route(order.map { events[$0] }).writes
            #expect(writes.cases == expected.cases, "arrival order \(order)")
            #expect(writes.outbox.map(\.messageId) == expected.outbox.map(\.messageId))
            #expect(writes.outbox.map(\.value) == expected.outbox.map(\.value))
        }
    }

    @Test("an event whose case or person is not there waits for it; the intake that brings them applies it")
    func waiting() throws {
        let life = Self.decoded(Self.life())
        let hearing = Self.decoded([ScenarioEvents.hearingScheduled(caseId: "C-1", occurredAt: ScenarioDate("2026-01-08").at(hour: 15))])
        // Alone: the hearing waits for its case, the new hire for its person.
        let alone = try Self.route(hearing + [life[2]]).writes
        #expect(alone.cases.isEmpty)
        #expect(Set(alone.parked.map(\.match)) == [.caseId("C-1"), .ssn(Self.ncpHash)])
        #expect(alone.outcomes.values.allSatisfy { $0 == .parked })

        // The next batch brings the intake and takes both out of parking: both apply, nothing is parked again.
        let next = try Self.route([life[0]], parked: alone.parked).writes
        #expect(next.parked.isEmpty)
        #expect(next.cases.map(\.caseId) == ["C-1"])
        #expect(Set(next.cases[0].history.map(\.eventType)) == ["intake.application", "court.hearing-scheduled", "employer.new-hire"])
        // Applied in the order they were unparked, decided as business order decides.
        #expect(next.cases[0].state == (try Self.route([life[0]] + hearing + [life[2]]).writes.cases[0].state))
        // Parked by an earlier batch and applied now: recorded as applied.
        #expect(Set(next.outcomes.keys) == Set(alone.parked.map(\.eventId)))
        #expect(next.outcomes.values.allSatisfy { $0 == .applied })
    }

    @Test("a waiting event released by the batch applies at its business position, so nothing after it turns late")
    func releasedInBusinessOrder() throws {
        let life = Self.decoded(Self.life())
        // The new hire (March) waited for its person; the batch brings the intake
        // (January), the order (January) and a payment (April).
        let waited = try Self.route([life[2]]).writes.parked
        #expect(waited.map(\.match) == [.ssn(Self.ncpHash)])
        let router = try Self.route([life[0], life[1], life[3]], parked: waited)
        // Applied at once after the intake, the new hire would make the order late.
        #expect(router.report.rederived == 0)
        #expect(router.writes.cases[0].history.map(\.eventType) == [
            "intake.application", "court.order-established", "employer.new-hire", "employer.withholding-remittance",
        ])
        #expect(router.writes.cases[0].state == (try Self.route(life).writes.cases[0].state))
    }

    @Test("a late event reads its case's committed events once and decides as business order does")
    func lateEvent() throws {
        let life = Self.decoded(Self.life())
        let committed = [life[0], life[1], life[3]]
        let loaded = try Self.route(committed).writes.cases[0].state
        // The new hire occurred before the payment already applied: the case's
        // committed events are read (once), and it decides as business order does.
        let history = History(events: ["C-1": committed.map(\.1.value)])
        #expect(Self.router([life[2]], states: ["C-1": loaded], resolved: [Self.ncpHash: ["C-1"]]).lateCases(of: [life[2]]) == ["C-1"])
        #expect(Self.router([life[3]], states: ["C-1": loaded], resolved: [Self.ncpHash: ["C-1"]]).lateCases(of: [life[3]]).isEmpty)
        let router = try Self.route([life[2]], states: ["C-1": loaded], resolved: [Self.ncpHash: ["C-1"]], history: history)
        #expect(history.reads == [["C-1"]])
        #expect(router.report.rederived == 1)
        let inOrder = try Self.route(life).writes.cases[0].state
        #expect(router.writes.cases[0].state == inOrder)

        // History that no longer decodes: the late event is refused, not mis-derived.
        let unreadable = try Self.route(
            [life[2]], states: ["C-1": loaded], resolved: [Self.ncpHash: ["C-1"]],
            history: History(events: ["C-1": committed.map(\.1.value) + [Array("{".utf8)]]))
        #expect(unreadable.writes.cases.isEmpty)
        #expect(unreadable.report.deadLettered == 1)
    }
}

/// Committed events in memory, with the reads asked of it.
final class History: CommittedEventSource {
    let events: [String: [[UInt8]]]
    private(set) var reads: [Set<String>] = []

    init(events: [String: [[UInt8]]] = [:]) { self.events = events }

    func version(of caseId: String) -> Int64? { events[caseId].map { Int64($0.count) } }

    func committedEvents(caseIds: some Collection<String>) throws -> [String: [[UInt8]]] {
        reads.append(Set(caseIds))
        return events.filter { caseIds.contains($0.key) }
    }
}

func permutations<T>(of items: [T]) -> [[T]] {
    guard items.count > 1 else { return [items] }
    return items.indices.flatMap { index -> [[T]] in
        var rest = items
        let first = rest.remove(at: index)
        return permutations(of: rest).map { [first] + $0 }
    }
}
