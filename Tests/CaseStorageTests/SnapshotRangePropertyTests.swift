import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import PropertyBased
import Testing

/// Issue 20: everything the worker writes reads back. Over the whole range the
/// door accepts -- every date from 1900-01-01 to 2199-12-31 (and what rules
/// compute past it), every amount up to the contract's bound, names of any
/// accepted characters at full length -- a case state encoded to its snapshot
/// decodes to the same state. Pure: no database.
@Suite("Case snapshot: encode then decode is the identity over the accepted range")
struct SnapshotRangePropertyTests {
    static let firstDay = InputLimits.earliestDate.daysSinceEpoch
    /// The last accepted day plus the longest horizon a rule adds (20 years of review months).
    static let lastDay = InputLimits.latestDate.adding(months: 240).daysSinceEpoch

    static let dayGen = Gen.int(in: firstDay...lastDay)
    static let centsGen = Gen.int(in: 0...Int(InputLimits.maximumCents))
    static let alphabet: [Character] = ["a", "Z", "é", "Ñ", "中", "👩🏽‍⚖️", "'", "\"", "\\", "/", " ", "-", "\u{2028}", "e\u{301}"]
    static let nameGen = Gen.int(in: 0...(alphabet.count - 1)).array(of: 1...InputLimits.textLength).map { String($0.map { alphabet[$0] }) }

    static func date(_ day: Int) -> LocalDate { LocalDate(daysSinceEpoch: day) }

    static func state(days: [Int], cents: [Int], names: [String]) throws -> CaseState {
        func day(_ n: Int) -> LocalDate { date(days[n % days.count]) }
        func amount(_ n: Int) -> Cents { Cents(cents[n % cents.count]) }
        func name(_ n: Int) -> String { names[n % names.count] }
        var ledger = Ledger(assignedToState: days[0] % 2 == 0)
        try ledger.establishOrder(
            orderId: "O-1", monthlySupportCents: amount(0), monthlyArrearsPaymentCents: amount(1), effectiveOn: day(0),
            judgmentArrearsCents: amount(2), enteredOn: day(1))
        try ledger.modifyOrder(orderId: "O-1", monthlySupportCents: amount(3), effectiveOn: max(day(0), day(2)))
        for n in 0..<3 where amount(4 + n) > 0 {
            _ = try ledger.applyPayment(id: "P-\(n)", amountCents: amount(4 + n), receivedOn: day(3 + n))
        }
        var state = CaseState(
            caseId: String(repeating: "C", count: InputLimits.identifierLength), program: .tanf, applicationReceivedOn: day(4),
            openedOn: day(5),
            custodialParty: PartyRecord(partyId: "P-CP", firstName: name(0), lastName: name(1), dateOfBirth: day(6), deceasedOn: day(7)),
            noncustodialParty: PartyRecord(partyId: "P-NCP", firstName: name(2), lastName: name(3), dateOfBirth: day(8)),
            children: [ChildRecord(childId: "K-1", firstName: name(4), lastName: name(5), dateOfBirth: day(9), paternity: .open)],
            ledger: ledger)
        state.referralsEvaluatedThrough = day(10)
        state.closedOn = day(11)
        return state
    }

    @Test func everyDateAmountAndNameInRange_readsBack() async throws {
        await propertyCheck(count: 300, input: zip(Self.dayGen.array(of: 12...12), Self.centsGen.array(of: 7...7), Self.nameGen.array(of: 6...6))) { days, cents, names in
            do {
                let state = try Self.state(days: days, cents: cents, names: names)
                let decoded = try CaseSnapshotReader.decode(try CaseSnapshotWriter.encode(state))
                #expect(decoded == state)
            } catch {
                Issue.record("\(type(of: error)): a state within the accepted range did not read back")
            }
        }
    }

    @Test func theRangesEnds_readBack() throws {
        let ends = [Self.firstDay, Self.firstDay + 1, InputLimits.latestDate.daysSinceEpoch, Self.lastDay]
        for first in ends {
            for second in ends {
                let state = try Self.state(
                    days: [first, second, max(first, second), first, second, first, second, first, second, first, second, second],
                    cents: [Int(InputLimits.maximumCents), 0, Int(InputLimits.maximumCents), 1, Int(InputLimits.maximumCents), 1, 0],
                    names: [String(repeating: "👩🏽‍⚖️", count: InputLimits.textLength), "A"])
                #expect(try CaseSnapshotReader.decode(try CaseSnapshotWriter.encode(state)) == state)
            }
        }
    }
}
