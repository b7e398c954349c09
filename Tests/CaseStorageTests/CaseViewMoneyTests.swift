import CaseDomain
import Foundation
import Testing

@testable import CaseStorage

/// `case show`'s money and pending parts, derived from a state without a
/// database: every collection with where it went, the adjustments, and what
/// waits for a date or an answer.
@Suite("Case view: collections, adjustments, pending")
struct CaseViewMoneyTests {
    static func date(_ text: String) -> LocalDate { LocalDate(iso8601: text)! }

    static let state: CaseState = {
        var state = CaseState(
            caseId: "CS-V1", program: .tanf, applicationReceivedOn: date("2026-03-02"), openedOn: date("2026-03-02"),
            custodialParty: PartyRecord(partyId: "CP", firstName: "A", lastName: "B"),
            noncustodialParty: PartyRecord(partyId: "NCP", firstName: "C", lastName: "D"), children: [],
            ledger: Ledger(assignedToState: true))
        try! state.ledger.establishOrder(orderId: "O-1", monthlySupportCents: 40_000, effectiveOn: date("2026-03-01"),
                                         judgmentArrearsCents: 60_000, enteredOn: date("2026-03-02"))
        try! state.ledger.applyPayment(id: "collection:IRS-1", amountCents: 30_000, receivedOn: date("2026-03-10"), source: .federalTaxOffset)
        try! state.ledger.applyPayment(id: "collection:SDU-1", amountCents: 50_000, receivedOn: date("2026-03-12"), source: .directPayment)
        try! state.ledger.addCharge(AccountCharge(
            id: "reversal:SDU-1:e", kind: .reversal, referenceId: "collection:SDU-1", dueOn: date("2026-03-20"), amountCents: 10_000, reason: "NSF"))
        try! state.ledger.addCharge(AccountCharge(
            id: "adjustment:ADJ-1", kind: .adjustment, referenceId: "ADJ-1", dueOn: date("2026-03-21"), amountCents: 2_500, reason: "AUDIT"))
        state.collections = [
            CollectionRecord(collectionId: "IRS-1", eventId: UUID(), taxYear: 2025,
                             heldUntil: date("2026-09-06"), disbursementDueOn: date("2026-09-06")),
            CollectionRecord(collectionId: "SDU-1", eventId: UUID(), taxYear: nil,
                             heldUntil: nil, disbursementDueOn: date("2026-03-16")),
        ]
        state.returnedDisbursements = [ReturnedDisbursement(
            taskId: UUID(), paymentId: "collection:SDU-1", familyCents: 40_000, returnedOn: date("2026-03-25"), reason: .undeliverable)]
        return state
    }()

    @Test func everyCollectionWithWhereItWent() {
        let collections = CaseReadModel.collections(of: Self.state, asOf: Self.date("2026-03-31"))
        #expect(collections.map(\.collectionId) == ["IRS-1", "SDU-1"])
        let offset = collections[0]
        #expect(offset.source == "FEDERAL_TAX_OFFSET")
        #expect(offset.toCurrentSupportCents == 0 && offset.toArrearsCents == 30_000)
        #expect(offset.retainedByStateCents == 30_000 && offset.disbursedToFamilyCents == 0)  // assigned arrears, TANF
        #expect(offset.heldUntil == "2026-09-06")
        let direct = collections[1]
        #expect(direct.toCurrentSupportCents == 40_000 && direct.toArrearsCents == 10_000)
        // The reversal takes back what it paid last: the state's $100 of arrears.
        #expect(direct.reversedCents == 10_000 && direct.retainedByStateCents == 0 && direct.disbursedToFamilyCents == 40_000)
        #expect(direct.returned?.reissuedOn == nil)
        #expect(CaseReadModel.collections(of: Self.state, asOf: Self.date("2026-03-11")).count == 1)
        #expect(CaseReadModel.adjustments(of: Self.state, asOf: Self.date("2026-03-31")).map(\.amountCents) == [2_500])
    }

    @Test func pendingProcesses_byDate() {
        let pending = CaseReadModel.pending(of: Self.state, asOf: Self.date("2026-03-31"))
        #expect(pending.map(\.process) == ["DISBURSEMENT_HELD", "JOINT_RETURN_HOLD"])
        #expect(pending.last?.dueOn == "2026-09-06")
        #expect(CaseReadModel.pending(of: Self.state, asOf: Self.date("2026-09-07")).map(\.process) == ["DISBURSEMENT_HELD"])
    }
}
