import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing

/// What one batch of 500 case saves costs: the statement count is constant
/// per batch (5 before the rules, one pipelined save), so time grows with rows
/// written, not with round trips.
@Suite("Batch cost")
struct BatchCostTests {
    @Test("500 cases: open them in one batch, then apply a payment to each in another")
    func fiveHundredCases() throws {
        try withMigratedStore("cost") { scratch, store, protector in
            let builder = CaseBuilder()
            let caseIds = (0..<500).map { String(format: "CS-%06d", $0) }
            var states: [String: CaseState] = [:]
            var changes: [CaseChange] = []
            for (index, caseId) in caseIds.enumerated() {
                let ssn = String(format: "9%08d", index)
                let (state, history) = try builder.apply(lifeOfCase(caseId, ncpSSN: ssn))
                states[caseId] = state
                changes.append(CaseChange(state: state, history: history))
            }
            let ssnHashes = states.values.compactMap { $0.noncustodialParty.ssn.map(protector.hash) }

            func batch(_ changes: [CaseChange]) throws -> Duration {
                let clock = ContinuousClock()
                return try clock.measure {
                    try store.withBatch { batch in
                        let ids = changes.flatMap { $0.history.map(\.eventId) }
                        #expect(try batch.recordEvents(processed(ids)).count == ids.count)
                        try batch.lockIdentities(ssnHashes: ssnHashes, caseIds: caseIds)
                        _ = try batch.noncustodialCases(forSSNHashes: ssnHashes)
                        _ = try batch.takeParked(forSSNHashes: ssnHashes, caseIds: caseIds)
                        _ = try batch.lockAndLoad(caseIds: caseIds)
                        try batch.save(
                            cases: changes,
                            outbox: changes.flatMap { $0.history.flatMap(\.tasks) }.map(OutboxMessage.init(task:)))
                    }
                }
            }
            let open = try batch(changes)

            // One more payment per case: the common steady-state batch.
            var payments: [CaseChange] = []
            for caseId in caseIds {
                let (state, history) = try builder.apply(
                    [ScenarioEvents.remittance(
                        payments: [(caseId: caseId, amountCents: 45_000)], occurredAt: ScenarioDate("2026-05-08").afternoon)],
                    to: states[caseId])
                payments.append(CaseChange(state: state, history: history))
            }
            let pay = try batch(payments)

            print("batch cost: 500 new cases \(open.milliseconds) ms, 500 payments \(pay.milliseconds) ms")
            #expect(try count(scratch.connection, "cases") == 500)
            #expect(try count(scratch.connection, "case_history") == 2_500)
            let versions = try scratch.connection.query("SELECT DISTINCT version FROM cases")
            #expect(try versions.map { try $0.decode(Int64.self, column: 0) } == [5])
            // Generous bound for a debug build on a shared 2-core machine.
            #expect(pay < .seconds(3))
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
