/// Everything the ledger's queries read, derived from its orders and payments in one
/// pass after each change. Queries then cost a few binary searches however old the order.
struct LedgerProjection: Sendable {
    /// Explicit charges (judgments, months with changes), by due date, with running totals.
    var charges: [ScheduledCharge] = []
    var chargeTotals: [Cents] = []
    var runs: [RegularRun] = []
    var judgments: [ScheduledCharge] = []

    var allocations: [PaymentAllocation] = []
    var allocationIndex: [String: Int] = [:]
    /// Payments in allocation order (received date, then arrival), with running totals.
    var paymentDates: [LocalDate] = []
    var paidTotals: [Cents] = []
    var unappliedTotals: [Cents] = []

    /// Every application of money to a charge, in date order, with running totals of all
    /// applications and of those to arrears (anything but the receipt month's support).
    var applicationDates: [LocalDate] = []
    var appliedTotals: [Cents] = []
    var appliedToArrearsTotals: [Cents] = []

    /// Charges grouped per support month (and judgment), through the month of the latest payment.
    var buckets: [Bucket] = []
    var horizon: LedgerMonth?

    init() {}

    init(obligations: [Obligation], payments: [Payment]) {
        for obligation in obligations {
            let schedule = obligation.chargeSchedule()
            charges += schedule.charges
            runs += schedule.runs
        }
        // Deterministic order for history: by date, then order, the judgment before support.
        charges.sort { a, b in
            if a.dueOn != b.dueOn { return a.dueOn < b.dueOn }
            if a.orderId != b.orderId { return a.orderId < b.orderId }
            return a.kind == .judgment && b.kind != .judgment
        }
        chargeTotals = Self.runningTotals(charges.map(\.amountCents))
        judgments = charges.filter { $0.kind == .judgment }

        let ordered = payments.enumerated().sorted { ($0.element.receivedOn, $0.offset) < ($1.element.receivedOn, $1.offset) }.map(\.element)
        horizon = ordered.last.map { LedgerMonth($0.receivedOn) }
        buckets = Self.buckets(charges: charges, runs: runs, through: horizon)
        allocate(ordered)
    }

    // MARK: Allocation

    /// Allocates every payment in date order against the charges as now known.
    private mutating func allocate(_ payments: [Payment]) {
        var oldestOpen = 0  // buckets before it can take nothing more, ever
        var applied: [Cents] = []
        var toArrears: [Cents] = []
        for payment in payments {
            var remaining = payment.amountCents
            var allocation = PaymentAllocation(paymentId: payment.id, receivedOn: payment.receivedOn, amountCents: payment.amountCents,
                                               arrearsAssignedToState: payment.arrearsAssignedToState,
                                               toCurrentSupport: [], toArrears: [], unappliedCents: 0)
            let month = LedgerMonth(payment.receivedOn)
            // First pass: the receipt month's support; second pass: everything else due, oldest first.
            for currentPass in [true, false] {
                var i = oldestOpen
                while remaining > 0, i < buckets.count, buckets[i].firstDue <= payment.receivedOn {
                    defer { i += 1 }
                    guard (buckets[i].month == month) == currentPass else { continue }
                    let room = buckets[i].payable(asOf: payment.receivedOn) - buckets[i].applied
                    guard room > 0 else { continue }
                    let amount = min(room, remaining)
                    remaining -= amount
                    buckets[i].applied += amount
                    buckets[i].applications.append(.init(date: payment.receivedOn, amountCents: amount))
                    let application = ChargeApplication(orderId: buckets[i].orderId, kind: buckets[i].month == nil ? .judgment : .support,
                                                        dueOn: buckets[i].firstDue, amountCents: amount)
                    if currentPass { allocation.toCurrentSupport.append(application) } else { allocation.toArrears.append(application) }
                    applicationDates.append(payment.receivedOn)
                    applied.append(amount)
                    toArrears.append(currentPass ? 0 : amount)
                }
            }
            while oldestOpen < buckets.count, buckets[oldestOpen].applied >= buckets[oldestOpen].finalPayable { oldestOpen += 1 }
            allocation.unappliedCents = remaining
            allocationIndex[payment.id] = allocations.count
            allocations.append(allocation)
            paymentDates.append(payment.receivedOn)
        }
        appliedTotals = Self.runningTotals(applied)
        appliedToArrearsTotals = Self.runningTotals(toArrears)
        paidTotals = Self.runningTotals(allocations.map(\.amountCents))
        unappliedTotals = Self.runningTotals(allocations.map(\.unappliedCents))
    }

    private static func buckets(charges: [ScheduledCharge], runs: [RegularRun], through horizon: LedgerMonth?) -> [Bucket] {
        var result: [Bucket] = []
        var monthBuckets: [String: [LedgerMonth: Int]] = [:]
        for charge in charges {
            guard let month = charge.month else {
                result.append(Bucket(orderId: charge.orderId, month: nil, firstDue: charge.dueOn, changes: [(charge.dueOn, charge.amountCents)]))
                continue
            }
            guard let horizon, month <= horizon else { continue }
            if let index = monthBuckets[charge.orderId]?[month] {
                result[index].changes.append((charge.dueOn, charge.amountCents))
            } else {
                monthBuckets[charge.orderId, default: [:]][month] = result.count
                result.append(Bucket(orderId: charge.orderId, month: month, firstDue: charge.dueOn, changes: [(charge.dueOn, charge.amountCents)]))
            }
        }
        if let horizon {
            for run in runs {
                let last = min(run.last ?? horizon, horizon)
                guard last >= run.first else { continue }
                for index in run.first.index...last.index {
                    let month = LedgerMonth(index: index)
                    result.append(Bucket(orderId: run.orderId, month: month, firstDue: month.first, changes: [(month.first, run.amountCents)]))
                }
            }
        }
        for i in result.indices { result[i].finishSteps() }
        // Oldest first; on the same day the judgment (older debt) before support, then by order.
        result.sort { a, b in
            if a.firstDue != b.firstDue { return a.firstDue < b.firstDue }
            if (a.month == nil) != (b.month == nil) { return a.month == nil }
            return a.orderId < b.orderId
        }
        return result
    }

    // MARK: Lookups

    static func runningTotals(_ amounts: [Cents]) -> [Cents] {
        var totals: [Cents] = []
        totals.reserveCapacity(amounts.count)
        var sum: Cents = 0
        for amount in amounts {
            sum += amount
            totals.append(sum)
        }
        return totals
    }

    /// Number of leading elements of the sorted `dates` on or before `date`.
    static func count(_ dates: some RandomAccessCollection<LocalDate>, through date: LocalDate) -> Int {
        var low = dates.startIndex, high = dates.endIndex
        while low < high {
            let mid = dates.index(low, offsetBy: dates.distance(from: low, to: high) / 2)
            if dates[mid] <= date { low = dates.index(after: mid) } else { high = mid }
        }
        return dates.distance(from: dates.startIndex, to: low)
    }

    static func total(_ totals: [Cents], first count: Int) -> Cents { count == 0 ? 0 : totals[count - 1] }

    func amountDue(through date: LocalDate) -> Cents {
        var due = Self.total(chargeTotals, first: Self.count(charges.lazy.map(\.dueOn), through: date))
        for run in runs { due += Cents(run.monthsDue(through: date)) * run.amountCents }
        return due
    }

    func applied(through date: LocalDate) -> Cents {
        Self.total(appliedTotals, first: Self.count(applicationDates, through: date))
    }

    func appliedToArrears(through date: LocalDate) -> Cents {
        Self.total(appliedToArrearsTotals, first: Self.count(applicationDates, through: date))
    }

    func paid(through date: LocalDate) -> Cents {
        Self.total(paidTotals, first: Self.count(paymentDates, through: date))
    }

    func unapplied(through date: LocalDate) -> Cents {
        Self.total(unappliedTotals, first: Self.count(paymentDates, through: date))
    }

    /// The earliest due date of a charge not fully paid as of `date`.
    func oldestUnpaidDueDate(asOf date: LocalDate) -> LocalDate? {
        var oldest: LocalDate?
        for bucket in buckets {
            guard bucket.firstDue <= date else { break }
            if bucket.due(asOf: date) > bucket.applied(through: date) {
                oldest = bucket.firstDue
                break
            }
        }
        // Months after the latest payment have no bucket; nothing has been applied to them.
        for charge in charges where charge.amountCents > 0 && charge.dueOn <= date {
            if let month = charge.month, let horizon, month <= horizon { continue }
            if charge.month == nil { continue }  // judgments always have a bucket
            if oldest == nil || charge.dueOn < oldest! { oldest = charge.dueOn }
            break
        }
        for run in runs {
            let first = horizon.map { max(run.first, $0.adding(1)) } ?? run.first
            if let last = run.last, first > last { continue }
            if first.first <= date, oldest == nil || first.first < oldest! { oldest = first.first }
        }
        return oldest
    }
}

/// The charges of one support month of one order (or one judgment) and what has been
/// applied to them. A month's charges can go down inside the month (termination credit,
/// downward modification), so a payment may fill a month only up to the lowest total the
/// month will have from the payment's date on: no later credit can leave it overpaid.
struct Bucket: Sendable {
    struct Step: Sendable {
        let date: LocalDate
        let cumulative: Cents
        /// min(cumulative of this and every later step).
        var floor: Cents
    }

    struct Application: Sendable {
        let date: LocalDate
        let amountCents: Cents
    }

    let orderId: String
    /// nil for a judgment.
    let month: LedgerMonth?
    let firstDue: LocalDate
    var changes: [(LocalDate, Cents)]
    var steps: [Step] = []
    var applied: Cents = 0
    var applications: [Application] = []

    init(orderId: String, month: LedgerMonth?, firstDue: LocalDate, changes: [(LocalDate, Cents)]) {
        self.orderId = orderId
        self.month = month
        self.firstDue = firstDue
        self.changes = changes
    }

    mutating func finishSteps() {
        changes.sort { $0.0 < $1.0 }
        var sum: Cents = 0
        steps = changes.map { change in
            sum += change.1
            return Step(date: change.0, cumulative: sum, floor: sum)
        }
        var lowest = Cents.max
        for i in steps.indices.reversed() {
            lowest = min(lowest, steps[i].cumulative)
            steps[i].floor = lowest
        }
        changes = []
    }

    var finalPayable: Cents { steps.last?.cumulative ?? 0 }

    private func lastStep(through date: LocalDate) -> Step? { steps.last { $0.date <= date } }

    func payable(asOf date: LocalDate) -> Cents { max(0, lastStep(through: date)?.floor ?? 0) }

    func due(asOf date: LocalDate) -> Cents { lastStep(through: date)?.cumulative ?? 0 }

    func applied(through date: LocalDate) -> Cents {
        applications.reduce(0) { $0 + ($1.date <= date ? $1.amountCents : 0) }
    }
}
