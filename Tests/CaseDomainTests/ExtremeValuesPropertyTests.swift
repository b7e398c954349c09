import Foundation
import PropertyBased
import Testing

@testable import CaseDomain

/// The ledger and the rules driven with the most hostile values a domain type
/// can hold (not only what the decoder lets in): amounts at and past every
/// bound up to Int64.max, many payments in one remittance, dates at both ends
/// of the contract's range and far beyond. Every change is applied or
/// refused; nothing traps (a trap would end this test process).
@Suite("Rules: extreme values are refused, never a trap")
struct ExtremeValuesPropertyTests {
    static let amounts: [Cents] = [
        0, 1, 99, 40_000, Ledger.maximumAmountCents - 1, Ledger.maximumAmountCents, Ledger.maximumAmountCents + 1,
        Cents.max / 4, Cents.max / 2, Cents.max - 1, Cents.max, -1, Cents.min,
    ]
    static let days: [String] = ["1900-01-01", "1900-02-28", "2026-03-02", "2199-12-31", "0001-01-01", "9999-12-31"]

    static func amount(_ n: Int) -> Cents { amounts[n % amounts.count] }
    static func day(_ n: Int) -> String { days[n % days.count] }

    /// One hostile event per integer, against the open case.
    static func event(_ n: Int, _ step: Int) -> Event {
        let day = Self.day(step / 7)
        switch step % 6 {
        case 0:
            return Fx.event(n, on: "2026-03-03", .orderEstablished(Fx.order(
                "O-\(step % 3)", monthly: amount(step / 3), effectiveOn: Self.day(step / 5), arrearsPayment: amount(step / 11),
                judgment: amount(step / 13))))
        case 1:
            let count = 1 + step % 40
            return Fx.remittance(n, on: "2026-03-20", payDate: "2026-03-18", receivedOn: day,
                                 payments: (0..<count).map { (Fx.caseId, amount(step / 2 + $0)) })
        case 2:
            return Fx.event(n, on: "2026-03-21", .orderModified(OrderModification(
                orderId: "O-\(step % 3)", monthlySupportCents: amount(step / 5), effectiveOn: LocalDate(iso8601: day)!,
                monthlyArrearsPaymentCents: amount(step / 3), medicalSupportOrdered: step % 2 == 0)))
        case 3:
            return Fx.event(n, on: "2026-03-22", .contemptFinding(ContemptFinding(
                purgeAmountCents: amount(step / 3), complianceDueOn: LocalDate(iso8601: day)!)))
        case 4:
            return Fx.event(n, on: "2026-03-23", .orderTerminated(OrderTermination(
                orderId: "O-\(step % 3)", terminatedOn: LocalDate(iso8601: day)!, reason: .vacated)))
        default:
            return Fx.newHire(n, on: "2026-03-24", hireDate: day, receivedOn: "2026-03-24")
        }
    }

    @Test func hostileAmountsAndDates_areAppliedOrRefused_neverTrap() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...1_000_000).array(of: 1...25)) { steps in
            guard case .success(let opened) = CaseRules.apply(Fx.application(), to: nil, policy: Policy()) else {
                Issue.record("the application must open the case")
                return
            }
            var state = opened.state
            for (i, step) in steps.enumerated() {
                let event = Self.event(i + 2, step)
                switch CaseRules.apply(event, to: state, policy: Policy()) {
                case .success(let outcome):
                    state = outcome.state
                    // Nothing past the ledger's bound was taken in.
                    if case .withholdingRemittance(let remittance) = event.payload {
                        #expect(remittance.payments.allSatisfy { $0.amountCents > 0 }, "a non-positive payment was taken in")
                        #expect(Money.sum(remittance.payments.map(\.amountCents)).map { $0 <= Ledger.maximumAmountCents } == true)
                    }
                case .failure:
                    continue
                }
                // The time-driven rules and every reading as of hostile dates.
                for asOf in ["1900-01-01", "2199-12-31", "9999-12-31"] {
                    let date = LocalDate(iso8601: asOf)!
                    state = CaseRules.reevaluate(state, asOf: date, causationId: Fx.eventId(90_000 + i), policy: Policy()).state
                    _ = state.ledger.balance(asOf: date)
                    _ = state.ledger.arrears(asOf: date)
                }
            }
        }
    }

    @Test func aRemittanceWhosePaymentsOverflowWhenSummed_isRefused() {
        guard case .success(let opened) = CaseRules.apply(Fx.application(existingOrder: Fx.order()), to: nil, policy: Policy()) else {
            Issue.record("the application must open the case")
            return
        }
        let remittance = Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-18", payments: [(Fx.caseId, .max), (Fx.caseId, .max)])
        guard case .failure(let error) = CaseRules.apply(remittance, to: opened.state, policy: Policy()) else {
            Issue.record("two payments of Int64.max must be refused")
            return
        }
        #expect("\(error)".contains("implausibly large"))
    }

    @Test func checkedSums_reportOverflowInsteadOfTrapping() {
        #expect(Money.sum([Cents.max, 1]) == nil)
        #expect(Money.sum([Cents.max - 1, 1]) == Cents.max)
        #expect(Money.sum([Cents]()) == 0)
        #expect(Money.product(Cents.max / 2, 3) == nil)
        #expect(Money.product(40_000, 3) == 120_000)
    }
}
