import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing

/// Shared tallies for the worker threads.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var applied: [String: Int] = [:]
    private var errors: [String] = []

    func record(_ caseIds: [String]) {
        lock.withLock { for caseId in caseIds { applied[caseId, default: 0] += 1 } }
    }

    func fail(_ error: any Error) { lock.withLock { errors.append("\(error)") } }

    var snapshot: (applied: [String: Int], errors: [String]) { lock.withLock { (applied, errors) } }
}

@Suite("Concurrent workers")
struct ConcurrentWorkersTests {
    @Test("two workers on overlapping cases, ids passed in any order: no deadlock, no lost update, gapless history")
    func overlappingBatches() throws {
        try withMigratedStore("workers") { scratch, store, protector in
            let builder = CaseBuilder()
            let caseIds = (0..<60).map { String(format: "CS-W%03d", $0) }
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: caseIds)
                try batch.save(
                    cases: try caseIds.map { caseId in
                        let (state, history) = try builder.apply(Array(lifeOfCase(caseId).prefix(2)))
                        return CaseChange(state: state, history: history)
                    })
            }
            let stores = [
                CaseStore(connection: try scratch.connect(), protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000),
                CaseStore(connection: try scratch.connect(), protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000),
            ]
            let tally = Tally()
            DispatchQueue.concurrentPerform(iterations: stores.count) { worker in
                let store = stores[worker]
                do {
                    for _ in 0..<12 {
                        let chosen = Array(caseIds.shuffled().prefix(30))
                        try store.withBatch { batch in
                            try batch.lockIdentities(ssnHashes: [SSNHash](), caseIds: chosen)
                            let states = try batch.lockAndLoad(caseIds: chosen.shuffled())
                            let changes = try chosen.map { caseId in
                                let payment = ScenarioEvents.remittance(
                                    payments: [(caseId: caseId, amountCents: 100)],
                                    occurredAt: ScenarioDate("2026-04-10").afternoon, id: UUID().uuidString.lowercased())
                                let (state, history) = try builder.apply([payment], to: states[caseId])
                                return CaseChange(state: state, history: history)
                            }
                            try batch.save(cases: changes.shuffled())
                        }
                        tally.record(chosen)
                    }
                } catch {
                    tally.fail(error)
                }
            }
            let (applied, errors) = tally.snapshot
            #expect(errors.isEmpty, "\(errors)")
            let rows = try scratch.connection.query(
                """
                SELECT c.case_id, c.version, count(h.seq), max(h.seq), c.state::text
                FROM cases c JOIN case_history h USING (case_id)
                GROUP BY c.case_id, c.version, c.state::text
                """)
            #expect(rows.count == caseIds.count)
            for row in rows {
                let caseId = try row.decode(String.self, column: 0)
                let expected = Int64(2 + applied[caseId, default: 0])
                #expect(try row.decode(Int64.self, column: 1) == expected, "\(caseId) version")
                #expect(try row.decode(Int64.self, column: 2) == expected, "\(caseId) history rows")
                #expect(try row.decode(Int64.self, column: 3) == expected, "\(caseId) last seq")
            }
            // Every payment reached the ledger exactly once.
            let payments = try scratch.connection.query(
                "SELECT case_id, json_array_length(state->'ledger'->'payments') FROM cases")
            for row in payments {
                let caseId = try row.decode(String.self, column: 0)
                #expect(try row.decode(Int.self, column: 1) == applied[caseId, default: 0], "\(caseId) payments")
            }
        }
    }
}
