import Foundation
import PropertyBased
import Testing

@testable import CaseDomain

/// Random orders, modifications, terminations and payments, checked against invariants
/// and against a day-by-day recomputation of each month's charge.
@Suite("Ledger: properties")
struct LedgerPropertyTests {
    struct OrderSpec: Sendable, CustomStringConvertible {
        var startOffset: Int
        var monthly: Int
        var judgment: Int
        var modifications: [(offset: Int, monthly: Int)]
        var terminationOffset: Int?

        var description: String {
            "order(start +\(startOffset), \(monthly)/mo, judgment \(judgment), mods \(modifications.map { "+\($0.offset):\($0.monthly)" }), end \(terminationOffset.map(String.init) ?? "-"))"
        }
    }

    struct PaymentSpec: Sendable, CustomStringConvertible {
        var offset: Int
        var amount: Int
        var assigned: Bool
        var description: String { "pay(+\(offset), \(amount)\(assigned ? ", TANF" : ""))" }
    }

    static let base = LocalDate(year: 2020, month: 1, day: 1)!

    static let orders = zip(
        Gen.int(in: 0...700),
        Gen.int(in: 0...150_000),
        Gen.int(in: 0...400_000).optional(valueRate: 0.4),
        zip(Gen.int(in: 0...900), Gen.int(in: 0...150_000)).array(of: 0...3),
        Gen.int(in: -40...1_500).optional(valueRate: 0.5)
    ).map { start, monthly, judgment, mods, end in
        OrderSpec(startOffset: start, monthly: monthly, judgment: judgment ?? 0,
                  modifications: mods.map { (offset: $0.0, monthly: $0.1) }, terminationOffset: end)
    }.array(of: 1...3)

    static let payments = zip(Gen.int(in: -60...1_700), Gen.int(in: 1...250_000), Gen.bool(0.3))
        .map { PaymentSpec(offset: $0, amount: $1, assigned: $2) }
        .array(of: 0...25)

    static func ledger(_ orders: [OrderSpec], _ payments: [PaymentSpec]) throws -> Ledger {
        var ledger = Ledger()
        for (i, order) in orders.enumerated() {
            let start = base.adding(days: order.startOffset)
            try ledger.establishOrder(orderId: "O\(i)", monthlySupportCents: Cents(order.monthly), effectiveOn: start,
                                      judgmentArrearsCents: Cents(order.judgment))
            for modification in order.modifications {
                try ledger.modifyOrder(orderId: "O\(i)", monthlySupportCents: Cents(modification.monthly),
                                       effectiveOn: start.adding(days: modification.offset))
            }
            if let end = order.terminationOffset {
                try ledger.terminateOrder(orderId: "O\(i)", terminatedOn: start.adding(days: end))
            }
        }
        for (i, payment) in payments.enumerated() {
            ledger.assignedToState = payment.assigned
            try ledger.applyPayment(id: "P\(i)", amountCents: Cents(payment.amount), receivedOn: base.adding(days: payment.offset))
        }
        return ledger
    }

    /// A month's charge recomputed day by day: each run of days at one amount is
    /// floor(amount * days / days in month).
    static func monthCharge(_ obligation: Obligation, month first: LocalDate) -> Cents {
        let days = Cents(first.daysInMonth)
        var total: Cents = 0
        var run: (amount: Cents, days: Cents)?
        for offset in 0..<first.daysInMonth {
            let amount = obligation.term(on: first.adding(days: offset))?.monthlySupportCents
            if let current = run, current.amount == amount {
                run!.days += 1
                continue
            }
            if let current = run { total += current.amount * current.days / days }
            run = amount.map { ($0, 1) }
        }
        if let current = run { total += current.amount * current.days / days }
        return total
    }

    static let months: [LocalDate] = (0..<80).map { LocalDate(year: 2019, month: 12, day: 1)!.adding(months: $0) }

    @Test func monthlyChargesMatchADayByDayRecomputation() async throws {
        await propertyCheck(count: 150, input: Self.orders) { orders in
            let ledger = try Self.ledger(orders, [])
            var expected: Cents = 0
            for month in Self.months {
                let last = month.adding(days: month.daysInMonth - 1)
                for obligation in ledger.obligations {
                    expected += Self.monthCharge(obligation, month: month)
                    if (month...last).contains(obligation.effectiveOn) { expected += obligation.judgmentArrearsCents }
                }
                #expect(ledger.amountDue(through: last) == expected, "through \(last)")
                // The history's lines add up to the same amount on any day.
                let mid = month.adding(days: 14)
                let listed = ledger.entries(through: mid).reduce(Cents(0)) { $0 + $1.amountCents }
                #expect(listed == ledger.amountDue(through: mid))
            }
        }
    }

    @Test func paymentsAreFullyAccountedFor() async throws {
        await propertyCheck(count: 200, input: Self.orders, Self.payments) { orders, payments in
            let ledger = try Self.ledger(orders, payments)
            var paid: Cents = 0
            for allocation in ledger.allocations {
                #expect(allocation.appliedCents <= allocation.amountCents)
                #expect(allocation.unappliedCents >= 0)
                #expect(allocation.appliedCents + allocation.unappliedCents == allocation.amountCents)
                #expect(allocation.retainedByStateCents + allocation.disbursedToFamilyCents == allocation.appliedCents)
                for application in allocation.toCurrentSupport + allocation.toArrears {
                    #expect(application.amountCents > 0)
                    #expect(application.dueOn <= allocation.receivedOn, "nothing is applied before it falls due")
                }
                for application in allocation.toCurrentSupport {
                    #expect(application.dueOn.year == allocation.receivedOn.year && application.dueOn.month == allocation.receivedOn.month)
                }
                paid += allocation.amountCents
            }
            #expect(paid == payments.reduce(0) { $0 + Cents($1.amount) })

            // No support month or judgment receives more than it finally charges.
            var appliedPerCharge: [String: Cents] = [:]
            for application in ledger.allocations.flatMap({ $0.toCurrentSupport + $0.toArrears + $0.creditApplications.map(\.charge) }) {
                let key = application.kind == .judgment
                    ? "\(application.orderId) judgment"
                    : "\(application.orderId) \(application.dueOn.year)-\(application.dueOn.month)"
                appliedPerCharge[key, default: 0] += application.amountCents
            }
            for obligation in ledger.obligations {
                if let judgment = appliedPerCharge["\(obligation.orderId) judgment"] {
                    #expect(judgment <= obligation.judgmentArrearsCents)
                }
                for month in Self.months {
                    if let applied = appliedPerCharge["\(obligation.orderId) \(month.year)-\(month.month)"] {
                        #expect(applied <= Self.monthCharge(obligation, month: month))
                    }
                }
            }
        }
    }

    @Test func balancesAndArrearsAreConsistentOnAnyDate() async throws {
        await propertyCheck(count: 200, input: Self.orders, Self.payments, Gen.int(in: -60...1_800).array(of: 20)) { orders, payments, offsets in
            let ledger = try Self.ledger(orders, payments)
            let dates = offsets.map { Self.base.adding(days: $0) } + payments.map { Self.base.adding(days: $0.offset) }
            for date in dates {
                let applied = ledger.applied(through: date)
                let appliedByAllocations = ledger.allocations.filter { $0.receivedOn <= date }.reduce(Cents(0)) { $0 + $1.appliedCents }
                    + ledger.allocations.flatMap(\.creditApplications).filter { $0.appliedOn <= date }.reduce(Cents(0)) { $0 + $1.charge.amountCents }
                #expect(applied == appliedByAllocations)
                #expect(applied <= ledger.paid(through: date))
                #expect(applied + ledger.unappliedCredit(asOf: date) == ledger.paid(through: date))

                let balance = ledger.balance(asOf: date)
                #expect(balance == ledger.amountDue(through: date) - applied)
                #expect(balance >= 0, "balance \(balance) on \(date)")
                let arrears = ledger.arrears(asOf: date)
                #expect(arrears >= 0, "arrears \(arrears) on \(date)")
                #expect(arrears <= balance)
                let oldest = ledger.oldestUnpaidDueDate(asOf: date)
                #expect((oldest == nil) == (balance == 0), "oldest unpaid \(oldest.map(String.init(describing:)) ?? "none"), balance \(balance) on \(date)")
                if let oldest { #expect(oldest <= date) }
            }
        }
    }

    /// Past-due arrears on the first of a month are last month's closing balance, less what
    /// was paid that day toward arrears.
    @Test func arrearsOnTheFirstAreLastMonthsClosingBalance() async throws {
        await propertyCheck(count: 150, input: Self.orders, Self.payments) { orders, payments in
            let ledger = try Self.ledger(orders, payments)
            for month in Self.months.dropFirst() {
                let previousEnd = month.adding(days: -1)
                let judgmentsToday = ledger.obligations.filter { $0.effectiveOn == month }.reduce(Cents(0)) { $0 + $1.judgmentArrearsCents }
                let paidTodayToArrears = ledger.allocations.filter { $0.receivedOn == month }.reduce(Cents(0)) { $0 + $1.toArrearsCents }
                    + ledger.allocations.flatMap(\.creditApplications).filter {
                        $0.appliedOn == month && ($0.charge.kind == .judgment || $0.charge.dueOn < month)
                    }.reduce(Cents(0)) { $0 + $1.charge.amountCents }
                #expect(ledger.arrears(asOf: month) == ledger.balance(asOf: previousEnd) + judgmentsToday - paidTodayToArrears)
            }
        }
    }

    @Test func arrivalOrderOfTheSameFactsDoesNotMatter() async throws {
        await propertyCheck(count: 100, input: Self.orders, Self.payments) { orders, payments in
            let forward = try Self.ledger(orders, payments)
            // Same payments, arriving in reverse; same-day payments keep their relative order.
            var reversed = Ledger()
            for obligation in forward.obligations.reversed() {
                let first = obligation.terms[0]
                try reversed.establishOrder(orderId: obligation.orderId, monthlySupportCents: first.monthlySupportCents,
                                            effectiveOn: first.effectiveOn, judgmentArrearsCents: obligation.judgmentArrearsCents)
                if let end = obligation.terminatedOn { try reversed.terminateOrder(orderId: obligation.orderId, terminatedOn: end) }
                for term in obligation.terms.dropFirst().reversed() {
                    try reversed.modifyOrder(orderId: obligation.orderId, monthlySupportCents: term.monthlySupportCents, effectiveOn: term.effectiveOn)
                }
            }
            let byDate = forward.payments.enumerated().sorted { ($0.element.receivedOn, $0.offset) < ($1.element.receivedOn, $1.offset) }
            let dayGroups = Dictionary(grouping: byDate, by: \.element.receivedOn).sorted { $0.key > $1.key }
            for (_, group) in dayGroups {
                for (_, payment) in group {
                    reversed.assignedToState = payment.arrearsAssignedToState
                    try reversed.applyPayment(id: payment.id, amountCents: payment.amountCents, receivedOn: payment.receivedOn)
                }
            }
            #expect(reversed.allocations == forward.allocations)
            for month in Self.months {
                #expect(reversed.arrears(asOf: month) == forward.arrears(asOf: month))
                #expect(reversed.balance(asOf: month) == forward.balance(asOf: month))
            }
        }
    }
    /// A payment received after every other is applied by carrying the allocation
    /// walk on (`LedgerProjection.receivingLast`), not by a rebuild: every query
    /// must answer as a ledger rebuilt from the same orders and payments.
    @Test func paymentsInReceiptOrderMatchARebuild() async throws {
        let carriedOn = Counter()
        await propertyCheck(count: 200, input: Self.orders, Self.payments, Gen.int(in: -60...1_800).array(of: 12)) { orders, payments, offsets in
            let inReceiptOrder = payments.sorted { $0.offset < $1.offset }
            let ledger = try Self.ledger(orders, inReceiptOrder)
            let rebuilt = Ledger(obligations: ledger.obligations, payments: ledger.payments, assignedToState: ledger.assignedToState)
            #expect(ledger.allocations == rebuilt.allocations)
            let dates = offsets.map { Self.base.adding(days: $0) } + payments.map { Self.base.adding(days: $0.offset) } + Self.months
            for date in dates {
                #expect(ledger.amountDue(through: date) == rebuilt.amountDue(through: date))
                #expect(ledger.applied(through: date) == rebuilt.applied(through: date))
                #expect(ledger.paid(through: date) == rebuilt.paid(through: date))
                #expect(ledger.unappliedCredit(asOf: date) == rebuilt.unappliedCredit(asOf: date))
                #expect(ledger.creditToRefund(asOf: date) == rebuilt.creditToRefund(asOf: date))
                #expect(ledger.arrears(asOf: date) == rebuilt.arrears(asOf: date), "arrears on \(date)")
                #expect(ledger.oldestUnpaidDueDate(asOf: date) == rebuilt.oldestUnpaidDueDate(asOf: date))
                #expect(ledger.entries(through: date) == rebuilt.entries(through: date))
            }
            #expect(ledger.arrearsChangeDates(from: Self.base, before: Self.base.adding(days: 2_000))
                == rebuilt.arrearsChangeDates(from: Self.base, before: Self.base.adding(days: 2_000)))
            // The check means something only if the walk was carried on.
            for count in inReceiptOrder.indices {
                let earlier = Array(ledger.payments.prefix(count))
                let projection = LedgerProjection(obligations: ledger.obligations, payments: earlier)
                if projection.receivingLast(ledger.payments[count]) != nil { carriedOn.add() }
            }
        }
        #expect(carriedOn.value > 100, "payments applied by carrying the walk on: \(carriedOn.value)")
    }
}

/// Counts across property-check iterations.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
