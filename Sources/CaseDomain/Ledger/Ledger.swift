/// One case's account in integer cents: what the orders charge, what was collected,
/// and where each collection went.
///
/// The ledger stores only its inputs (orders with their terms, payments as received,
/// the TANF assignment) and derives everything else for any as-of date the caller
/// passes; there is no wall clock in here.
///
/// ## When support falls due
/// Current support falls due on the 1st of each month the order is in force. Months in
/// which something changes are prorated by day: a run of `d` consecutive days at a
/// monthly amount `m` in a month of `n` days costs `floor(m * d / n)` (a whole month
/// costs exactly `m`), and each change date is charged the difference between the month's
/// prorated total known after the change and the total charged before it, so a month's
/// entries always sum to its prorated total, to the cent.
/// - An order effective mid-month charges the prorated rest of the month (effective day
///   included) on its effective date, then the full amount each following 1st.
/// - A modification effective mid-month is an adjustment due on its effective date: old
///   amount for the days before, new amount from that day on, minus what the month was
///   already charged (negative for a reduction).
/// - A termination effective on T keeps T in force and charges nothing after it; if T
///   is before the month's last day the month is credited on T with the difference
///   between its full charge and the prorated charge through T.
///
/// Worked example: $500.00/month effective 2026-03-10, modified to $620.00 from
/// 2026-05-16, terminated 2026-06-20.
/// - 2026-03-10 accrual floor(50000 * 22 / 31) = 35483 (Mar 10-31 is 22 of 31 days)
/// - 2026-04-01 accrual 50000; 2026-05-01 accrual 50000
/// - 2026-05-16 adjustment: floor(50000 * 15 / 31) + floor(62000 * 16 / 31) - 50000
///   = 24193 + 32000 - 50000 = 6193
/// - 2026-06-01 accrual 62000
/// - 2026-06-20 adjustment: floor(62000 * 20 / 30) - 62000 = 41333 - 62000 = -20667
/// Total due from 2026-06-20 on: 35483 + 50000 + 56193 + 41333 = 183009.
///
/// Judgment arrears set by the order fall due on the business date the court entered
/// the order (`judgmentDueOn`), whatever the order's effective date.
///
/// ## Where a payment goes
/// Payments are allocated in order of receipt date (same date: payment id, so the
/// result never depends on the order they arrived in): first to the support of the
/// month of receipt that has fallen due, then to the oldest unpaid charges (earlier
/// months and judgments, oldest due date first, across all of the case's orders).
/// Nothing goes to charges not yet due: the rest is held as credit, never as negative
/// arrears, and applied, oldest charge first, to charges as they fall due (a parent
/// paying ahead, an employer remitting at a month's end for the next). Credit that no
/// charge will ever take (no order left in force) is for a caseworker to refund
/// (`creditToRefund`). A month's support is filled only up to the lowest total it will
/// have from that date on, so a later credit in the same month cannot leave it overpaid.
///
/// Allocations are derived from the orders as now known: `applyPayment` returns the
/// allocation under the terms known at that moment, and a later change effective in the
/// past (a retroactive modification or termination) can move money between current
/// support, arrears and held credit. Compare `allocation(ofPayment:)` before and after.
///
/// In a TANF case (`assignedToState`), arrears are assigned to the state: whatever a
/// payment applies to arrears is retained by the state, the rest is disbursed to the
/// family. The assignment is captured per payment when it is received.
public struct Ledger: Sendable {
    public private(set) var obligations: [Obligation] = []
    /// Payments in allocation order (receipt date, then payment id).
    public private(set) var payments: [Payment] = []
    /// Arrears are assigned to the state (TANF); applies to payments received from now on.
    public var assignedToState: Bool
    /// Reversals and added amounts, by due date then id.
    public private(set) var accountCharges: [AccountCharge] = []

    private var projection = LedgerProjection()

    public init(assignedToState: Bool = false) {
        self.assignedToState = assignedToState
    }

    /// A ledger restored from its stored inputs (storage's snapshot reader);
    /// everything derived is recomputed from them.
    public init(obligations: [Obligation], payments: [Payment], assignedToState: Bool, accountCharges: [AccountCharge] = []) {
        self.obligations = obligations
        self.payments = payments.sorted(by: Payment.allocationOrder)
        self.assignedToState = assignedToState
        self.accountCharges = accountCharges.sorted(by: AccountCharge.order)
        rebuild()
    }

    public func payment(id: String) -> Payment? { payments.first { $0.id == id } }

    public func obligation(orderId: String) -> Obligation? {
        obligations.first { $0.orderId == orderId }
    }

    // MARK: Changes

    /// Records a new order. Recording the same order with the same terms again changes nothing.
    /// Judgment arrears fall due on `enteredOn` (the business date the court entered the
    /// order; its effective date when not given).
    public mutating func establishOrder(
        orderId: String, monthlySupportCents: Cents, monthlyArrearsPaymentCents: Cents = 0,
        effectiveOn: LocalDate, judgmentArrearsCents: Cents = 0, enteredOn: LocalDate? = nil
    ) throws(LedgerError) {
        try Self.requireNonNegative("monthlySupportCents", monthlySupportCents)
        try Self.requireNonNegative("monthlyArrearsPaymentCents", monthlyArrearsPaymentCents)
        try Self.requireNonNegative("judgmentArrearsCents", judgmentArrearsCents)
        let order = Obligation(
            orderId: orderId,
            firstTerm: SupportTerm(effectiveOn: effectiveOn, monthlySupportCents: monthlySupportCents,
                                   monthlyArrearsPaymentCents: monthlyArrearsPaymentCents),
            judgmentArrearsCents: judgmentArrearsCents, judgmentDueOn: enteredOn ?? effectiveOn)
        if let existing = obligation(orderId: orderId) {
            guard existing.terms.first == order.terms.first, existing.judgmentArrearsCents == judgmentArrearsCents,
                existing.judgmentDueOn == order.judgmentDueOn
            else {
                throw .orderAlreadyEstablished(orderId: orderId)
            }
            return
        }
        obligations.append(order)
        rebuild()
    }

    /// New terms from `effectiveOn`; `monthlyArrearsPaymentCents` nil keeps the amount in force then.
    public mutating func modifyOrder(
        orderId: String, monthlySupportCents: Cents, monthlyArrearsPaymentCents: Cents? = nil, effectiveOn: LocalDate
    ) throws(LedgerError) {
        try Self.requireNonNegative("monthlySupportCents", monthlySupportCents)
        if let monthlyArrearsPaymentCents { try Self.requireNonNegative("monthlyArrearsPaymentCents", monthlyArrearsPaymentCents) }
        guard let index = obligations.firstIndex(where: { $0.orderId == orderId }) else { throw .unknownOrder(orderId: orderId) }
        guard effectiveOn >= obligations[index].effectiveOn else {
            throw .modificationBeforeOrderStart(orderId: orderId, effectiveOn: effectiveOn)
        }
        let previous = obligations[index].terms.last { $0.effectiveOn <= effectiveOn }!
        obligations[index].modify(SupportTerm(
            effectiveOn: effectiveOn, monthlySupportCents: monthlySupportCents,
            monthlyArrearsPaymentCents: monthlyArrearsPaymentCents ?? previous.monthlyArrearsPaymentCents))
        rebuild()
    }

    /// The order stays in force through `terminatedOn`. A second termination replaces the first.
    public mutating func terminateOrder(orderId: String, terminatedOn: LocalDate) throws(LedgerError) {
        guard let index = obligations.firstIndex(where: { $0.orderId == orderId }) else { throw .unknownOrder(orderId: orderId) }
        obligations[index].terminate(on: terminatedOn)
        rebuild()
    }

    /// Applies a collection (see the type's documentation for the order of application).
    /// The same payment id applied again has no second effect and returns its allocation.
    /// Tax offsets (`source.paysPastDueOnly`) go to past-due support only; what
    /// they cannot apply when received is for a caseworker to refund, never
    /// held for current support.
    @discardableResult
    public mutating func applyPayment(
        id: String, amountCents: Cents, receivedOn: LocalDate, source: CollectionSource = .employerWithholding
    ) throws(LedgerError) -> PaymentAllocation {
        if let existing = payments.first(where: { $0.id == id }) {
            guard existing.amountCents == amountCents, existing.receivedOn == receivedOn, existing.collectionSource == source else {
                throw .conflictingPayment(paymentId: id)
            }
            return allocation(ofPayment: id)!
        }
        guard amountCents > 0 else { throw .nonPositivePayment(paymentId: id, cents: amountCents) }
        try Self.requireNonNegative("amountCents", amountCents)
        let payment = Payment(id: id, amountCents: amountCents, receivedOn: receivedOn, arrearsAssignedToState: assignedToState, source: source)
        if let index = payments.firstIndex(where: { Payment.allocationOrder(payment, $0) }) {
            payments.insert(payment, at: index)
            rebuild()
        } else {
            payments.append(payment)
            // The usual collection, received after every other and fully applied: the
            // allocation walk goes on from where it stopped (the same result as a rebuild).
            if let next = projection.receivingLast(payment) { projection = next } else { rebuild() }
        }
        return allocation(ofPayment: id)!
    }

    /// Adds a line owed from `charge.dueOn`: an added amount, or a reversal
    /// (`referenceId` a payment received by then), which takes back what that
    /// payment paid. The same id again with the same line changes nothing.
    public mutating func addCharge(_ charge: AccountCharge) throws(LedgerError) {
        if let existing = accountCharges.first(where: { $0.id == charge.id }) {
            guard existing == charge else { throw .conflictingCharge(chargeId: charge.id) }
            return
        }
        guard charge.amountCents > 0 else { throw .negativeAmount(field: "amountCents", cents: charge.amountCents) }
        try Self.requireNonNegative("amountCents", charge.amountCents)
        accountCharges.insert(charge, at: accountCharges.firstIndex { AccountCharge.order(charge, $0) } ?? accountCharges.endIndex)
        rebuild()
    }

    /// What reversals have taken back of a payment so far.
    public func reversedCents(ofPayment id: String) -> Cents {
        accountCharges.reduce(0) { $0 + ($1.kind == .reversal && $1.referenceId == id ? $1.amountCents : 0) }
    }

    /// $10 billion: far above any real order or payment, far below where
    /// `amount * days` or centuries of accrual could overflow 64 bits.
    public static let maximumAmountCents: Cents = 1_000_000_000_000

    private static func requireNonNegative(_ field: String, _ cents: Cents) throws(LedgerError) {
        if cents < 0 { throw .negativeAmount(field: field, cents: cents) }
        if cents > maximumAmountCents { throw .amountTooLarge(field: field, cents: cents) }
    }

    private mutating func rebuild() {
        projection = LedgerProjection(obligations: obligations, payments: payments, accountCharges: accountCharges)
    }

    // MARK: Queries

    /// All charges (accruals, judgments, adjustments) due on or before `date`.
    public func amountDue(through date: LocalDate) -> Cents { projection.amountDue(through: date) }

    /// All payment money applied to charges by payments received on or before `date`.
    public func applied(through date: LocalDate) -> Cents { projection.applied(through: date) }

    /// All payments received on or before `date`.
    public func paid(through date: LocalDate) -> Cents { projection.paid(through: date) }

    /// Credit held on `date`: money received by then that no charge due by then has taken.
    public func unappliedCredit(asOf date: LocalDate) -> Cents { projection.heldCredit(asOf: date) }

    /// The part of the credit received by `date` that no charge known will ever take
    /// (no order left in force to take it): for a caseworker to refund.
    public func creditToRefund(asOf date: LocalDate) -> Cents { projection.neverApplied(through: date) }

    /// domain.md's "arrears": all amounts due through `date` minus all payments applied
    /// through `date`, including the current month's unpaid support. Never negative.
    public func balance(asOf date: LocalDate) -> Cents { amountDue(through: date) - applied(through: date) }

    /// Past-due support: unpaid charges of months that ended before `date`'s month began,
    /// plus unpaid judgments due by `date`. The current month's support is not past due
    /// until the month is over. Enforcement thresholds (tax offset, passport, credit
    /// bureau, license suspension) compare against this.
    public func arrears(asOf date: LocalDate) -> Cents {
        let monthStart = LedgerMonth(date).first
        let previousMonthEnd = monthStart.adding(days: -1)
        var pastDue = amountDue(through: previousMonthEnd)
        for judgment in projection.judgments where judgment.dueOn >= monthStart && judgment.dueOn <= date {
            pastDue += judgment.amountCents
        }
        // Money applied in earlier months went to charges now all past due; money applied
        // this month counts only where it went to arrears.
        let appliedToPastDue = applied(through: previousMonthEnd)
            + projection.appliedToArrears(through: date) - projection.appliedToArrears(through: previousMonthEnd)
        return pastDue - appliedToPastDue
    }

    /// When the oldest charge still (partly) unpaid on `date` fell due; nil when all is paid.
    /// Includes the current month's support (for the CCPA "arrears older than 12 weeks" test).
    public func oldestUnpaidDueDate(asOf date: LocalDate) -> LocalDate? { projection.oldestUnpaidDueDate(asOf: date) }

    /// Current support in force on `date` across the case's orders.
    public func monthlySupportCents(on date: LocalDate) -> Cents {
        obligations.reduce(0) { $0 + ($1.term(on: date)?.monthlySupportCents ?? 0) }
    }

    /// The monthly arrears repayment the orders in force on `date` set.
    public func monthlyArrearsPaymentCents(on date: LocalDate) -> Cents {
        obligations.reduce(0) { $0 + ($1.term(on: date)?.monthlyArrearsPaymentCents ?? 0) }
    }

    public func hasOrderInForce(on date: LocalDate) -> Bool { obligations.contains { $0.isInForce(on: date) } }

    /// The dates in `from..<before` on which arrears can change without any new
    /// fact: every 1st of a month (last month's support becomes past due, a month's
    /// support falls due) and every other date a charge falls due (a prorated first
    /// month, an adjustment, a judgment). Empty for a ledger with no order.
    public func arrearsChangeDates(from: LocalDate, before: LocalDate) -> [LocalDate] {
        let starts = obligations.map { min($0.effectiveOn, $0.judgmentDueOn) } + accountCharges.map(\.dueOn)
        guard from < before, let start = starts.min() else { return [] }
        var dates = Set<LocalDate>()
        var month = LedgerMonth(max(from, start))
        if month.first < from { month = month.adding(1) }
        while month.first < before {
            dates.insert(month.first)
            month = month.adding(1)
        }
        for charge in projection.charges where charge.dueOn >= from && charge.dueOn < before { dates.insert(charge.dueOn) }
        for date in projection.reversalDates where date >= from && date < before { dates.insert(date) }
        return dates.sorted()
    }

    public func allocation(ofPayment id: String) -> PaymentAllocation? {
        projection.allocationIndex[id].map { projection.allocations[$0] }
    }

    /// Allocations in the order the payments were applied (receipt date, then payment id).
    public var allocations: [PaymentAllocation] { projection.allocations }

    /// The account's lines through `date`, oldest first: charges, adjustments and payments.
    public func entries(through date: LocalDate) -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        for charge in projection.charges where charge.dueOn <= date {
            entries.append(LedgerEntry(kind: charge.kind, date: charge.dueOn, amountCents: charge.amountCents, referenceId: charge.orderId))
        }
        for run in projection.runs {
            let count = run.monthsDue(through: date)
            for offset in 0..<count {
                entries.append(LedgerEntry(kind: .accrual, date: run.first.adding(offset).first, amountCents: run.amountCents, referenceId: run.orderId))
            }
        }
        for payment in payments where payment.receivedOn <= date {
            entries.append(LedgerEntry(kind: payment.source == .accountCredit ? .accountCredit : .payment, date: payment.receivedOn,
                                       amountCents: payment.amountCents, referenceId: payment.id))
        }
        for reversal in accountCharges where reversal.kind == .reversal && reversal.dueOn <= date {
            entries.append(LedgerEntry(kind: .reversal, date: reversal.dueOn, amountCents: reversal.amountCents, referenceId: reversal.referenceId))
        }
        // Stable: charges before payments on the same day, as allocation sees them.
        return entries.enumerated().sorted { a, b in
            if a.element.date != b.element.date { return a.element.date < b.element.date }
            return a.offset < b.offset
        }.map(\.element)
    }
}

// The projection is derived, so equality, hashing and the stored form cover only the inputs.
extension Ledger: Hashable {
    public static func == (lhs: Ledger, rhs: Ledger) -> Bool {
        lhs.obligations == rhs.obligations && lhs.payments == rhs.payments && lhs.assignedToState == rhs.assignedToState
            && lhs.accountCharges == rhs.accountCharges
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(obligations)
        hasher.combine(payments)
        hasher.combine(assignedToState)
        hasher.combine(accountCharges)
    }
}

extension Ledger: Codable {
    private enum CodingKeys: String, CodingKey {
        case obligations, payments, assignedToState, accountCharges
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        obligations = try container.decode([Obligation].self, forKey: .obligations)
        payments = try container.decode([Payment].self, forKey: .payments)
        assignedToState = try container.decode(Bool.self, forKey: .assignedToState)
        accountCharges = try container.decodeIfPresent([AccountCharge].self, forKey: .accountCharges) ?? []
        rebuild()
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(obligations, forKey: .obligations)
        try container.encode(payments, forKey: .payments)
        try container.encode(assignedToState, forKey: .assignedToState)
        // Left out when empty, as the snapshot writer does: most accounts have none.
        if !accountCharges.isEmpty { try container.encode(accountCharges, forKey: .accountCharges) }
    }
}

extension AccountCharge {
    static func order(_ a: AccountCharge, _ b: AccountCharge) -> Bool {
        a.dueOn != b.dueOn ? a.dueOn < b.dueOn : a.id < b.id
    }
}
