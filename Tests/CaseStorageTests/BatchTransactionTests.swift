import CaseContract
import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing

/// A case's life so far: application (both SSNs known), order, new hire, payment.
func lifeOfCase(_ caseId: String, ncpSSN: String = "934127765") -> [ScenarioEvent] {
    [
        ScenarioEvents.intakeApplication(
            caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ncpSSN),
            occurredAt: ScenarioDate("2026-01-05").afternoon),
        ScenarioEvents.orderEstablished(caseId: caseId, occurredAt: ScenarioDate("2026-01-20").afternoon),
        ScenarioEvents.newHire(ssn: ncpSSN, occurredAt: ScenarioDate("2026-03-10").afternoon),
        ScenarioEvents.remittance(
            payments: [(caseId: caseId, amountCents: 20_000)], occurredAt: ScenarioDate("2026-04-10").afternoon),
    ]
}

func processed(_ ids: [UUID], topic: String = "cse.intake.v1") -> [ProcessedEvent] {
    ids.enumerated().map { ProcessedEvent(eventId: $1, topic: topic, partition: 0, offset: Int64($0)) }
}

func count(_ connection: PostgresConnection, _ table: String) throws -> Int {
    try connection.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, column: 0)
}

@Suite("Batch transaction")
struct BatchTransactionTests {
    let builder = CaseBuilder()

    @Test("recordEvents returns only new ids: redeliveries and repeats within a call are not new")
    func dedupe() throws {
        try withMigratedStore("dedupe") { scratch, store, protector in
            let (a, b, c) = (UUID(), UUID(), UUID())
            let first = try store.withBatch { try $0.recordEvents(processed([a, b, a])) }
            #expect(first == [a, b])
            let second = try store.withBatch { try $0.recordEvents(processed([b, c])) }
            #expect(second == [c])
            #expect(try count(scratch.connection, "processed_events") == 3)
            let outcome = try scratch.connection.query("SELECT outcome FROM processed_events WHERE event_id = $1", a)
            #expect(try outcome[0].decode(String.self, column: 0) == "applied")
        }
    }

    @Test("outcomes other than applied are recorded by save")
    func outcomes() throws {
        try withMigratedStore("outcomes") { scratch, store, protector in
            let (applied, dead, parked) = (UUID(), UUID(), UUID())
            try store.withBatch { batch in
                _ = try batch.recordEvents(processed([applied, dead, parked]))
                try batch.save(cases: [], outcomes: [applied: .applied, dead: .deadLettered, parked: .parked])
            }
            let rows = try scratch.connection.query("SELECT event_id, outcome FROM processed_events")
            var outcomes: [UUID: String] = [:]
            for row in rows { outcomes[try row.decode(UUID.self, column: 0)] = try row.decode(String.self, column: 1) }
            #expect(outcomes == [applied: "applied", dead: "dead-lettered", parked: "parked"])

            // The parked event applies in a later batch.
            try store.withBatch { try $0.save(cases: [], outcomes: [parked: .applied]) }
            let later = try scratch.connection.query("SELECT outcome FROM processed_events WHERE event_id = $1", parked)
            #expect(try later[0].decode(String.self, column: 0) == "applied")
        }
    }

    @Test("a state built by the rules from real events saves and loads back equal, SSNs included")
    func roundTrip() throws {
        try withMigratedStore("roundtrip") { scratch, store, protector in
            let (state, history) = try builder.apply(lifeOfCase("CS-100"))
            #expect(state.noncustodialParty.ssn?.digits == "934127765")
            try store.withBatch { batch in
                #expect(try batch.lockAndLoad(caseIds: ["CS-100"]).isEmpty)
                try batch.save(cases: [CaseChange(state: state, history: history)])
            }
            let loaded = try store.withBatch { try $0.lockAndLoad(caseIds: ["CS-100", "CS-404"]) }
            #expect(loaded.count == 1)
            #expect(loaded["CS-100"] == state)

            let row = try scratch.connection.query(
                "SELECT program, stage, version, monthly_support_cents, arrears_cents, arrears_as_of::text FROM cases")
            #expect(try row[0].decode(String.self, column: 0) == state.program.rawValue)
            #expect(try row[0].decode(String.self, column: 1) == state.stage.rawValue)
            #expect(try row[0].decode(Int64.self, column: 2) == 4)
            #expect(try row[0].decode(Int64.self, column: 3) == 45_000)
            #expect(try row[0].decode(Int64.self, column: 4) == state.ledger.balance(asOf: LocalDate("2026-04-10")!))
            #expect(try row[0].decode(String.self, column: 5) == "2026-04-10")
        }
    }

    @Test("snapshots with non-ASCII text keep their boundaries when several travel in one batch")
    func nonASCIISnapshots() throws {
        try withMigratedStore("unicode") { scratch, _, protector in
            let store = CaseStore(connection: scratch.connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 0)
            let names = [("Zoë", "Nguyễn"), ("José", "Muñoz-O'Brien \"Jr\""), ("Amélie", "Ødegård 🙂")]
            var states: [String: CaseState] = [:]
            let changes = try names.enumerated().map { index, name in
                let caseId = "CS-U\(index)"
                let custodial = ScenarioParty(
                    partyId: caseId + "-CP", firstName: name.0, lastName: name.1, ssn: "912450318",
                    address: ScenarioAddress.sample)
                let (state, history) = try builder.apply([
                    ScenarioEvents.intakeApplication(caseId: caseId, custodialParty: custodial)
                ])
                states[caseId] = state
                return CaseChange(state: state, history: history)
            }
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: Array(states.keys))
                try batch.save(cases: changes)
            }
            let loaded = try store.withBatch { try $0.lockAndLoad(caseIds: Array(states.keys)) }
            #expect(loaded == states)
            let lastName = try scratch.connection.query(
                "SELECT state->'custodialParty'->>'lastName' FROM cases WHERE case_id = 'CS-U2'")
            #expect(try lastName[0].decode(String.self, column: 0) == "Ødegård 🙂")
        }
    }

    @Test("a wrong CSE_SSN_KEY cannot open the stored SSNs")
    func wrongKeyFails() throws {
        try withMigratedStore("wrongkey") { scratch, store, protector in
            let (state, history) = try builder.apply(lifeOfCase("CS-101"))
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: ["CS-101"])
                try batch.save(cases: [CaseChange(state: state, history: history)])
            }
            let other = CaseStore(connection: scratch.connection, protector: SSNProtector(key: .random()), calendar: BusinessCalendar(), cachedStates: 2_000)
            #expect(throws: SealError.self) { try other.withBatch { try $0.lockAndLoad(caseIds: ["CS-101"]) } }
        }
    }

    @Test("case show derives the account's lines from the stored ledger: a backdated payment shows in its place")
    func caseShowDerivesTheAccount() throws {
        try withMigratedStore("ledgerlines") { scratch, store, _ in
            let events = lifeOfCase("CS-210")
            let (state, history) = try builder.apply(events)
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: ["CS-210"])
                try batch.save(cases: [CaseChange(state: state, history: history)])
            }
            let reader = CaseReadModel(connection: scratch.connection)
            let asOf = LocalDate("2026-04-12")!
            let before = try #require(try reader.show(caseId: "CS-210", asOf: asOf)).ledger

            // Received in March, reported after April's payment: it sorts between March's and April's lines.
            let backdated = ScenarioEvents.remittance(
                payments: [(caseId: "CS-210", amountCents: 5_000)], receivedOn: "2026-03-20",
                occurredAt: ScenarioDate("2026-04-12").afternoon)
            try store.withBatch { batch in
                let loaded = try batch.lockAndLoad(caseIds: ["CS-210"])
                let (next, more) = try builder.apply([backdated], to: loaded["CS-210"])
                try batch.save(cases: [CaseChange(state: next, history: more)])
            }
            let view = try #require(try reader.show(caseId: "CS-210", asOf: asOf))
            let after = view.ledger
            // Both forms carry the lines: `ledger` in JSON, "Account through" in text.
            #expect(try view.json().contains(#""ledger" : ["#))
            #expect(view.text.contains("Account through 2026-04-12:"))
            #expect(view.text.contains("2026-03-20 payment $50.00"))

            let (final, _) = try builder.apply(events + [backdated])
            let expected = final.ledger.entries(through: asOf)
            #expect(after.map { "\($0.kind) \($0.date) \($0.amountCents) \($0.referenceId)" }
                == expected.map { "\($0.kind.rawValue) \($0.date) \($0.amountCents) \($0.referenceId)" })
            #expect(after.count == before.count + 1)
            let inserted = try #require(after.firstIndex { $0.date == "2026-03-20" && $0.kind == "payment" && $0.amountCents == 5_000 })
            #expect(inserted > 0 && inserted < after.count - 1, "the backdated payment sits between earlier and later lines")
            // Charges fall due with time: a later as-of date shows months no event wrote.
            let later = try #require(try reader.show(caseId: "CS-210", asOf: LocalDate("2026-07-02")!)).ledger
            #expect(later.filter { $0.kind == "accrual" }.count > after.filter { $0.kind == "accrual" }.count)
        }
    }

    @Test("projections reflect the saved state and follow later changes")
    func projections() throws {
        try withMigratedStore("projections") { scratch, store, protector in
            let events = lifeOfCase("CS-200")
            let (first, firstHistory) = try builder.apply(Array(events.prefix(2)))
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: ["CS-200"])
                try batch.save(cases: [CaseChange(state: first, history: firstHistory)])
            }
            #expect(try count(scratch.connection, "employments") == 0)

            try store.withBatch { batch in
                let loaded = try batch.lockAndLoad(caseIds: ["CS-200"])
                let (next, history) = try builder.apply(Array(events.dropFirst(2)), to: loaded["CS-200"])
                try batch.save(cases: [CaseChange(state: next, history: history)])
            }
            let (state, _) = try builder.apply(events)
            let c = scratch.connection

            let parties = try c.query("SELECT role, party_id, ssn_hash, ssn_last4 FROM parties ORDER BY role")
            #expect(parties.count == 2)
            #expect(try parties[1].decode(String.self, column: 0) == "NONCUSTODIAL")
            #expect(try parties[1].decode(String.self, column: 1) == state.noncustodialParty.partyId)
            #expect(try parties[1].decode(SSNHash.self, column: 2) == protector.hash(SSN("934127765")!))
            #expect(try parties[1].decode(String.self, column: 3) == "7765")
            #expect(try parties[0].decode(String.self, column: 3) == "0318")

            let children = try c.query("SELECT child_id, paternity FROM children")
            #expect(children.count == state.children.count)
            #expect(try children[0].decode(String.self, column: 1) == "ESTABLISHED")

            let orders = try c.query("SELECT order_id, monthly_support_cents, status, effective_on::text FROM support_orders")
            #expect(orders.count == 1)
            #expect(try orders[0].decode(String.self, column: 0) == "CS-200-O1")
            #expect(try orders[0].decode(Int64.self, column: 1) == 45_000)
            #expect(try orders[0].decode(String.self, column: 2) == "ACTIVE")
            #expect(try orders[0].decode(String.self, column: 3) == "2026-02-01")

            let employments = try c.query("SELECT fein, withholding_status FROM employments")
            #expect(employments.count == 1)
            #expect(try employments[0].decode(String.self, column: 0) == state.employments[0].fein.digits)

            let referrals = try c.query("SELECT task_type FROM referrals ORDER BY task_type")
            #expect(try referrals.map { try $0.decode(String.self, column: 0) } == state.referrals.map(\.type.rawValue))

            let history = try c.query("SELECT seq, event_type, cardinality(task_ids), tasks FROM case_history ORDER BY seq")
            #expect(try history.map { try $0.decode(Int64.self, column: 0) } == [1, 2, 3, 4])
            #expect(
                try history.map { try $0.decode(String.self, column: 1) } == [
                    "intake.application", "court.order-established", "employer.new-hire",
                    "employer.withholding-remittance",
                ])
            let newHireTasks = try history[2].decode(Int.self, column: 2)
            #expect(newHireTasks > 0)  // income withholding at least
            #expect(try history[2].decode(PostgresJSON.self, column: 3).text.contains("income-withholding"))
            let version = try c.query("SELECT version FROM cases")[0].decode(Int64.self, column: 0)
            #expect(version == 4)
        }
    }

    @Test("noncustodialCases finds every case where the person is the NCP, and only those")
    func resolveSSN() throws {
        try withMigratedStore("resolve") { scratch, store, protector in
            let (a, ha) = try builder.apply(Array(lifeOfCase("CS-301", ncpSSN: "934127765").prefix(1)))
            let (b, hb) = try builder.apply(Array(lifeOfCase("CS-302", ncpSSN: "934127765").prefix(1)))
            let (c, hc) = try builder.apply(Array(lifeOfCase("CS-303", ncpSSN: "923456781").prefix(1)))
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: ["CS-301", "CS-302", "CS-303"])
                try batch.save(cases: [
                    CaseChange(state: a, history: ha), CaseChange(state: b, history: hb),
                    CaseChange(state: c, history: hc),
                ])
            }
            let shared = protector.hash(SSN("934127765")!)
            let other = protector.hash(SSN("923456781")!)
            let custodial = protector.hash(SSN("912450318")!)  // the CP on all three: never an NCP match
            let unknown = protector.hash(SSN("900000001")!)
            let cases = try store.withBatch { try $0.noncustodialCases(forSSNHashes: [shared, other, custodial, unknown]) }
            #expect(cases == [shared: ["CS-301", "CS-302"], other: ["CS-303"]])
        }
    }

    @Test("parked events come back, opened, when their SSN or case appears, and only then")
    func parking() throws {
        try withMigratedStore("parking") { scratch, store, protector in
            let report = ScenarioEvents.newHire(ssn: "934127765")
            let remittance = ScenarioEvents.remittance(payments: [(caseId: "CS-401", amountCents: 5_000)])
            let hash = protector.hash(SSN("934127765")!)
            let reportId = UUID(uuidString: report.eventId)!
            let remittanceId = UUID(uuidString: remittance.eventId)!
            try store.withBatch { batch in
                try batch.park([
                    ParkedEvent(
                        eventId: reportId, match: .ssn(hash), topic: report.topic, partition: 2, offset: 7,
                        key: report.key, value: report.value),
                    ParkedEvent(
                        eventId: remittanceId, match: .caseId("CS-401"), topic: remittance.topic, partition: 1,
                        offset: 3, key: remittance.key, value: remittance.value),
                ])
            }
            let unrelated = try store.withBatch {
                try $0.takeParked(forSSNHashes: [protector.hash(SSN("900000001")!)], caseIds: ["CS-999"])
            }
            #expect(unrelated.isEmpty)
            #expect(try count(scratch.connection, "parked_events") == 2)

            // A batch that takes them but fails puts them back.
            #expect(throws: Abort.self) {
                try store.withBatch { batch in
                    #expect(try batch.takeParked(forSSNHashes: [hash], caseIds: []).count == 1)
                    throw Abort()
                }
            }
            #expect(try count(scratch.connection, "parked_events") == 2)

            let taken = try store.withBatch { try $0.takeParked(forSSNHashes: [hash], caseIds: ["CS-401"]) }
            #expect(taken.count == 2)
            let byId = Dictionary(uniqueKeysWithValues: taken.map { ($0.eventId, $0) })
            #expect(byId[reportId]?.value == report.value)
            #expect(byId[reportId]?.key == report.key)
            #expect(byId[reportId]?.match == .ssn(hash))
            #expect(byId[reportId]?.partition == 2)
            #expect(byId[reportId]?.offset == 7)
            #expect(byId[reportId]?.parkedAt != nil)
            #expect(byId[remittanceId]?.value == remittance.value)
            #expect(byId[remittanceId]?.match == .caseId("CS-401"))
            #expect(try count(scratch.connection, "parked_events") == 0)
        }
    }

    struct Abort: Error {}

    @Test("a batch that throws leaves nothing behind")
    func rollback() throws {
        try withMigratedStore("rollback") { scratch, store, protector in
            let (state, history) = try builder.apply(lifeOfCase("CS-500"))
            let task = try #require(history.flatMap(\.tasks).first)
            #expect(throws: Abort.self) {
                try store.withBatch { batch in
                    _ = try batch.recordEvents(processed(history.map(\.eventId)))
                    _ = try batch.lockAndLoad(caseIds: ["CS-500"])
                    try batch.save(
                        cases: [CaseChange(state: state, history: history)], outbox: [OutboxMessage(task: task)],
                        parked: [
                            ParkedEvent(
                                eventId: UUID(), match: .caseId("CS-501"), topic: "t", partition: 0, offset: 0, key: [],
                                value: [1])
                        ])
                    throw Abort()
                }
            }
            for table in [
                "cases", "parties", "children", "support_orders", "employments", "referrals",
                "case_history", "processed_events", "parked_events", "outbox",
            ] {
                #expect(try count(scratch.connection, table) == 0, "\(table) kept rows")
            }
            // The same batch can then run again and commit.
            try store.withBatch { batch in
                #expect(try batch.recordEvents(processed(history.map(\.eventId))).count == history.count)
                _ = try batch.lockAndLoad(caseIds: ["CS-500"])
                try batch.save(cases: [CaseChange(state: state, history: history)])
            }
            #expect(try count(scratch.connection, "cases") == 1)
        }
    }

    @Test("saving a case that was not locked and loaded, or without its history, is refused")
    func saveMisuse() throws {
        try withMigratedStore("misuse") { scratch, store, _ in
            let (state, history) = try builder.apply(Array(lifeOfCase("CS-650").prefix(1)))
            for (load, entries) in [(false, history), (true, [HistoryEntry]())] {
                let error = #expect(throws: PostgresError.self) {
                    try store.withBatch { batch in
                        if load { _ = try batch.lockAndLoad(caseIds: ["CS-650"]) }
                        try batch.save(cases: [CaseChange(state: state, history: entries)])
                    }
                }
                #expect(error?.kind == .misuse)
            }
            #expect(try count(scratch.connection, "cases") == 0)
        }
    }

    @Test("cached states: another worker's save is seen, a rolled-back save is not")
    func cachedStatesStayCurrent() throws {
        try withMigratedStore("cache") { scratch, store, protector in
            let events = lifeOfCase("CS-660")
            let (opened, openHistory) = try builder.apply(Array(events.prefix(1)))
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: ["CS-660"])
                try batch.save(cases: [CaseChange(state: opened, history: openHistory)])
            }
            // Served from the cache (same version) and equal.
            #expect(try store.withBatch { try $0.lockAndLoad(caseIds: ["CS-660"]) }["CS-660"] == opened)

            // A second worker applies the order.
            let other = CaseStore(connection: try scratch.connect(), protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000)
            let ordered = try other.withBatch { batch in
                let (state, history) = try builder.apply([events[1]], to: try batch.lockAndLoad(caseIds: ["CS-660"])["CS-660"])
                try batch.save(cases: [CaseChange(state: state, history: history)])
                return state
            }
            #expect(ordered != opened)
            #expect(try store.withBatch { try $0.lockAndLoad(caseIds: ["CS-660"]) }["CS-660"] == ordered)

            // A batch that saves and then fails leaves the committed state in force.
            #expect(throws: Abort.self) {
                try store.withBatch { batch in
                    let (state, history) = try builder.apply([events[2]], to: try batch.lockAndLoad(caseIds: ["CS-660"])["CS-660"])
                    try batch.save(cases: [CaseChange(state: state, history: history)])
                    throw Abort()
                }
            }
            #expect(try store.withBatch { try $0.lockAndLoad(caseIds: ["CS-660"]) }["CS-660"] == ordered)
            let uncached = CaseStore(connection: try scratch.connect(), protector: protector, calendar: BusinessCalendar(), cachedStates: 0)
            #expect(try uncached.withBatch { try $0.lockAndLoad(caseIds: ["CS-660"]) }["CS-660"] == ordered)
        }
    }

    @Test("identity locks serialise two batches naming the same SSN")
    func identityLocks() throws {
        try withMigratedStore("locks") { scratch, store, protector in
            let other = try scratch.connect()
            try other.execute("SET lock_timeout = '200ms'")
            let otherStore = CaseStore(connection: other, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000)
            let hash = protector.hash(SSN("934127765")!)
            try store.withBatch { batch in
                try batch.lockIdentities(ssnHashes: [hash], caseIds: ["CS-600"])
                // While this batch is open, another session cannot take either identity...
                for (hashes, caseIds) in [([hash], [String]()), ([], ["CS-600"])] {
                    let error = #expect(throws: PostgresError.self) {
                        try otherStore.withBatch { try $0.lockIdentities(ssnHashes: hashes, caseIds: caseIds) }
                    }
                    #expect(error?.sqlState == "55P03")  // lock_not_available: it waited
                }
                // ...but unrelated identities pass.
                try otherStore.withBatch {
                    try $0.lockIdentities(ssnHashes: [protector.hash(SSN("900000001")!)], caseIds: ["CS-601"])
                }
            }
            try otherStore.withBatch { try $0.lockIdentities(ssnHashes: [hash], caseIds: ["CS-600"]) }
        }
    }
}
