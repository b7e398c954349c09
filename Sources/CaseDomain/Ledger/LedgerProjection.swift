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
    /// Payments in allocation order (received date, then payment id), with running totals.
    var paymentDates: [LocalDate] = []
    var paidTotals: [Cents] = []
    /// Running totals of what each payment could not apply when it was received.
    var heldAtReceiptTotals: [Cents] = []

    /// Every application of money to a charge, in date order, with running totals of all
    /// applications, of those to arrears (anything but the support of the month applied in)
    /// and of those made later from held credit.
    var applicationDates: [LocalDate] = []
    var appliedTotals: [Cents] = []
    var appliedToArrearsTotals: [Cents] = []
    var creditApplicationDates: [LocalDate] = []
    var creditAppliedTotals: [Cents] = []
    /// Running totals (in `paymentDates` order) of the credit no known charge will ever take.
    var neverAppliedTotals: [Cents] = []
    /// Credit (held, or a tax offset's refund) taken back by reversals, by date.
    var creditReversalDates: [LocalDate] = []
    var creditReversedTotals: [Cents] = []
    /// Per allocation, each application of its money to a bucket, in order:
    /// what a reversal undoes. Kept only when the account has reversals.
    private var applied: [[(bucket: Int, amount: Cents)]] = []
    private var keepsApplications = false
    /// The dates reversals take money back on.
    var reversalDates: [LocalDate] = []

    /// Charges grouped per support month (and judgment), through the last month money reached.
    var buckets: [Bucket] = []
    var horizon: LedgerMonth?
    /// Held credit meets charges at most this far ahead (a century after the last
    /// payment or explicit charge); beyond it, it stays held.
    private var extensionLimit: LedgerMonth?
    /// Buckets before it can take nothing more, ever.
    private var oldestOpen = 0
    /// No credit was held after the last payment, so the walk through time ended
    /// exactly where this projection stands: a payment received after every
    /// other can carry the walk on (`receivingLast`) instead of a rebuild.
    private var walkIsResumable = false

    init() {}

    init(obligations: [Obligation], payments: [Payment], accountCharges: [AccountCharge] = []) {
        for obligation in obligations {
            let schedule = obligation.chargeSchedule()
            charges += schedule.charges
            runs += schedule.runs
        }
        // Amounts the agency added are past due from their date, like a judgment;
        // reversals are not charges: they undo what a payment paid (`reverse`).
        for charge in accountCharges where charge.kind == .adjustment {
            charges.append(ScheduledCharge(orderId: charge.id, kind: .accountAdjustment, dueOn: charge.dueOn,
                                           amountCents: charge.amountCents, month: nil))
        }
        let reversals = accountCharges.filter { $0.kind == .reversal }.sorted(by: AccountCharge.order)
        reversalDates = reversals.map(\.dueOn)
        keepsApplications = !reversals.isEmpty
        // Deterministic order for history: by date, then order, the judgment before support.
        charges.sort { a, b in
            if a.dueOn != b.dueOn { return a.dueOn < b.dueOn }
            if a.orderId != b.orderId { return a.orderId < b.orderId }
            return a.kind == .judgment && b.kind != .judgment
        }
        chargeTotals = Self.runningTotals(charges.map(\.amountCents))
        judgments = charges.filter { $0.month == nil }

        let ordered = payments.sorted(by: Payment.allocationOrder)
        if let last = ordered.last {
            // Every explicit charge gets a bucket, so later months are plain run months only.
            var reach = LedgerMonth(last.receivedOn)
            for charge in charges { reach = max(reach, charge.month ?? LedgerMonth(charge.dueOn)) }
            // Reversals undo applications in the walk's date order, so the walk reaches them on buckets that exist.
            for reversal in reversals { reach = max(reach, LedgerMonth(reversal.dueOn)) }
            horizon = reach
            extensionLimit = reach.adding(1_200)
        }
        buckets = Self.buckets(charges: charges, runs: runs, through: horizon)
        allocate(ordered, reversals: reversals)
    }

    // MARK: Allocation

    /// The part of a payment still held, oldest payment first.
    private struct HeldCredit {
        var allocation: Int
        var remaining: Cents
    }

    /// One walk through time: on each date, charges falling due take held credit
    /// first (oldest charge first), then the payments received that day are applied
    /// (the month's support, then the oldest arrears); what they cannot apply is held.
    /// Reversals come in the same walk: on their date, after that day's
    /// charges and the payments received before it.
    private mutating func allocate(_ payments: [Payment], reversals: [AccountCharge]) {
        var held: [HeldCredit] = []
        var rooms = Self.roomEvents(buckets, from: 0)
        var nextRoom = 0, nextReversal = 0
        for payment in payments {
            while nextReversal < reversals.count, reversals[nextReversal].dueOn < payment.receivedOn {
                meetCharges(through: reversals[nextReversal].dueOn, rooms: rooms, next: &nextRoom, held: &held)
                reverse(reversals[nextReversal], holding: &held)
                nextReversal += 1
            }
            meetCharges(through: payment.receivedOn, rooms: rooms, next: &nextRoom, held: &held)
            receive(payment, holding: &held)
        }
        for reversal in reversals[nextReversal...] {
            meetCharges(through: reversal.dueOn, rooms: rooms, next: &nextRoom, held: &held)
            reverse(reversal, holding: &held)
        }
        walkIsResumable = held.isEmpty && reversals.isEmpty
        // After the last payment, held credit keeps meeting charges as they fall due,
        // into months no payment reached: they get buckets as far as the credit goes.
        while !held.isEmpty {
            if nextRoom == rooms.count {
                let first = buckets.count
                extendBuckets(toCover: held.reduce(0) { $0 + $1.remaining })
                guard buckets.count > first else { break }
                rooms += Self.roomEvents(buckets, from: first)
            }
            applyHeld(toBucket: rooms[nextRoom].bucket, on: rooms[nextRoom].date, from: &held)
            nextRoom += 1
        }
        for credit in held { allocations[credit.allocation].neverAppliedCents = credit.remaining }
        // Past-due-only remainders were set when received.
        neverAppliedTotals = Self.runningTotals(allocations.map(\.neverAppliedCents))
    }

    /// Charges due on or before `date` take held credit (charges before payments on one day).
    private mutating func meetCharges(
        through date: LocalDate, rooms: [(date: LocalDate, bucket: Int)], next: inout Int, held: inout [HeldCredit]
    ) {
        while next < rooms.count, rooms[next].date <= date {
            if !held.isEmpty { applyHeld(toBucket: rooms[next].bucket, on: rooms[next].date, from: &held) }
            next += 1
        }
    }

    /// The projection with `payment` applied, when it was received after every
    /// payment so far (allocation order) and nothing was held: the walk goes on
    /// from where it stopped, months the payment reaches past the horizon get
    /// their buckets, and the result equals a rebuild. Nil when the walk cannot
    /// simply go on (credit held before, or left by this payment): rebuild then.
    func receivingLast(_ payment: Payment) -> LedgerProjection? {
        guard walkIsResumable, let horizon, paymentDates.last.map({ $0 <= payment.receivedOn }) ?? false else { return nil }
        var next = self
        let month = LedgerMonth(payment.receivedOn)
        if month > horizon {
            next.appendRunBuckets(after: horizon, through: month)
            next.horizon = month
            next.extensionLimit = month.adding(1_200)
        }
        var held: [HeldCredit] = []
        next.receive(payment, holding: &held)
        guard held.isEmpty else { return nil }
        next.neverAppliedTotals.append((next.neverAppliedTotals.last ?? 0) + next.allocations[next.allocations.count - 1].neverAppliedCents)
        return next
    }

    /// Buckets for the plain run months in `(after, through]` (no explicit charge
    /// falls there: the horizon already covers every one).
    private mutating func appendRunBuckets(after start: LedgerMonth, through end: LedgerMonth) {
        var month = start
        while month < end {
            month = month.adding(1)
            buckets += runBuckets(in: month)
        }
    }

    /// The buckets of a month past the horizon: one per order whose regular
    /// support runs that month, in order id order (after every earlier month's).
    private func runBuckets(in month: LedgerMonth) -> [Bucket] {
        runs.filter { $0.first <= month && ($0.last.map { month <= $0 } ?? true) }.map { run in
            var bucket = Bucket(orderId: run.orderId, month: month, firstDue: month.first, changes: [(month.first, run.amountCents)])
            bucket.finishSteps()
            return bucket
        }.sorted { $0.orderId < $1.orderId }
    }

    /// Applies one payment on its receipt date: the receipt month's support,
    /// then everything else due, oldest first; what is left is held.
    private mutating func receive(_ payment: Payment, holding held: inout [HeldCredit]) {
        var remaining = payment.amountCents
        var allocation = PaymentAllocation(paymentId: payment.id, receivedOn: payment.receivedOn, amountCents: payment.amountCents,
                                           arrearsAssignedToState: payment.arrearsAssignedToState, source: payment.collectionSource,
                                           toCurrentSupport: [], toArrears: [], unappliedCents: 0)
        // A tax offset pays past-due support only: no current month, and nothing
        // not yet past due (this month's other charges wait for other money).
        let pastDueOnly = payment.collectionSource.paysPastDueOnly
        let month = LedgerMonth(payment.receivedOn)
        // An agency's credit (an audit, a write-off) goes to the oldest debt first.
        let passes = pastDueOnly ? [false] : payment.collectionSource == .accountCredit ? [false, true] : [true, false]
        for currentPass in passes {
            var i = oldestOpen
            while remaining > 0, i < buckets.count, buckets[i].firstDue <= payment.receivedOn {
                defer { i += 1 }
                guard (buckets[i].month == month) == currentPass else { continue }
                if pastDueOnly, let owed = buckets[i].month, owed >= month { continue }
                let room = buckets[i].payable(asOf: payment.receivedOn) - buckets[i].applied
                guard room > 0 else { continue }
                let amount = min(room, remaining)
                remaining -= amount
                record(amount, bucket: i, on: payment.receivedOn, arrears: !currentPass, payment: allocations.count)
                let application = ChargeApplication(orderId: buckets[i].orderId, kind: buckets[i].chargeKind,
                                                    dueOn: buckets[i].firstDue, amountCents: amount)
                if currentPass { allocation.toCurrentSupport.append(application) } else { allocation.toArrears.append(application) }
            }
        }
        while oldestOpen < buckets.count, buckets[oldestOpen].applied >= buckets[oldestOpen].finalPayable { oldestOpen += 1 }
        allocation.unappliedCents = remaining
        allocationIndex[payment.id] = allocations.count
        if pastDueOnly {
            // More than was past due: refunded to the parent, never held for support to come.
            allocation.neverAppliedCents = remaining
        } else if remaining > 0 {
            held.append(HeldCredit(allocation: allocations.count, remaining: remaining))
        }
        allocations.append(allocation)
        paymentDates.append(payment.receivedOn)
        paidTotals.append((paidTotals.last ?? 0) + payment.amountCents)
        heldAtReceiptTotals.append((heldAtReceiptTotals.last ?? 0) + remaining)
    }

    private mutating func record(_ amount: Cents, bucket i: Int, on date: LocalDate, arrears: Bool, payment: Int) {
        if keepsApplications {
            while applied.count <= payment { applied.append([]) }
            applied[payment].append((i, amount))
        }
        buckets[i].applied += amount
        buckets[i].applications.append(.init(date: date, amountCents: amount))
        applicationDates.append(date)
        appliedTotals.append((appliedTotals.last ?? 0) + amount)
        appliedToArrearsTotals.append((appliedToArrearsTotals.last ?? 0) + (arrears ? amount : 0))
    }

    /// Held credit meets a charge that just fell due (or grew).
    private mutating func applyHeld(toBucket i: Int, on date: LocalDate, from held: inout [HeldCredit]) {
        var room = buckets[i].payable(asOf: date) - buckets[i].applied
        let arrears = buckets[i].month.map { $0 != LedgerMonth(date) } ?? true
        while room > 0, !held.isEmpty {
            let amount = min(room, held[0].remaining)
            room -= amount
            held[0].remaining -= amount
            record(amount, bucket: i, on: date, arrears: arrears, payment: held[0].allocation)
            allocations[held[0].allocation].creditApplications.append(CreditApplication(
                appliedOn: date,
                charge: ChargeApplication(orderId: buckets[i].orderId, kind: buckets[i].chargeKind,
                                          dueOn: buckets[i].firstDue, amountCents: amount)))
            creditApplicationDates.append(date)
            creditAppliedTotals.append((creditAppliedTotals.last ?? 0) + amount)
            if held[0].remaining == 0 { held.removeFirst() }
        }
    }

    /// Takes `reversal.amountCents` of a payment back on `reversal.dueOn`: first
    /// what it has not applied (held credit, a tax offset's refund), then what
    /// it paid, the last application first. What it paid is owed again as it
    /// was (this month's support stays current, earlier months past due), and
    /// credit other payments hold meets it at once.
    private mutating func reverse(_ reversal: AccountCharge, holding held: inout [HeldCredit]) {
        guard let index = allocationIndex[reversal.referenceId] else { return }
        let date = reversal.dueOn
        var left = reversal.amountCents
        var unappliedTaken: Cents = 0
        if let h = held.firstIndex(where: { $0.allocation == index }) {
            unappliedTaken = min(left, held[h].remaining)
            held[h].remaining -= unappliedTaken
            if held[h].remaining == 0 { held.remove(at: h) }
        } else if allocations[index].neverAppliedCents > 0 {
            unappliedTaken = min(left, allocations[index].neverAppliedCents)
            allocations[index].neverAppliedCents -= unappliedTaken
        }
        if unappliedTaken > 0 {
            left -= unappliedTaken
            creditReversalDates.append(date)
            creditReversedTotals.append((creditReversedTotals.last ?? 0) + unappliedTaken)
        }
        var reopened: [Int] = []
        while left > 0, index < applied.count, let last = applied[index].last {
            let amount = min(left, last.amount)
            left -= amount
            if amount == last.amount { applied[index].removeLast() } else { applied[index][applied[index].count - 1].amount -= amount }
            let i = last.bucket
            buckets[i].applied -= amount
            buckets[i].applications.append(.init(date: date, amountCents: -amount))
            applicationDates.append(date)
            appliedTotals.append((appliedTotals.last ?? 0) - amount)
            let arrears = buckets[i].month.map { $0 != LedgerMonth(date) } ?? true
            appliedToArrearsTotals.append((appliedToArrearsTotals.last ?? 0) - (arrears ? amount : 0))
            oldestOpen = min(oldestOpen, i)
            reopened.append(i)
        }
        for i in Set(reopened).sorted() where !held.isEmpty { applyHeld(toBucket: i, on: date, from: &held) }
    }

    /// The dates on which each bucket's charge falls due or grows, in date order
    /// (on one date, the older bucket first).
    private static func roomEvents(_ buckets: [Bucket], from first: Int) -> [(date: LocalDate, bucket: Int)] {
        var events: [(date: LocalDate, bucket: Int)] = []
        for i in first..<buckets.count {
            for step in buckets[i].steps { events.append((step.date, i)) }
        }
        events.sort { ($0.date, $0.bucket) < ($1.date, $1.bucket) }
        return events
    }

    /// Buckets for the plain run months after the horizon, enough to take `credit`
    /// (or until every order has ended, or the extension limit).
    private mutating func extendBuckets(toCover credit: Cents) {
        guard let start = horizon, let limit = extensionLimit else { return }
        var month = start
        var covered: Cents = 0
        while covered < credit, month < limit {
            month = month.adding(1)
            let inMonth = runBuckets(in: month)
            buckets += inMonth
            covered += inMonth.reduce(0) { $0 + $1.finalPayable }
            if inMonth.isEmpty, !runs.contains(where: { $0.last.map { month < $0 } ?? true }) { break }
        }
        horizon = month
    }

    private static func buckets(charges: [ScheduledCharge], runs: [RegularRun], through horizon: LedgerMonth?) -> [Bucket] {
        guard let horizon else { return [] }
        var result: [Bucket] = []
        var monthBuckets: [String: [LedgerMonth: Int]] = [:]
        for charge in charges {
            guard let month = charge.month else {
                result.append(Bucket(orderId: charge.orderId, month: nil, firstDue: charge.dueOn, changes: [(charge.dueOn, charge.amountCents)],
                                     chargeKind: ChargeApplication.ChargeKind(charge.kind)))
                continue
            }
            guard month <= horizon else { continue }
            if let index = monthBuckets[charge.orderId]?[month] {
                result[index].changes.append((charge.dueOn, charge.amountCents))
            } else {
                monthBuckets[charge.orderId, default: [:]][month] = result.count
                result.append(Bucket(orderId: charge.orderId, month: month, firstDue: charge.dueOn, changes: [(charge.dueOn, charge.amountCents)]))
            }
        }
        for run in runs {
            let last = min(run.last ?? horizon, horizon)
            guard last >= run.first else { continue }
            for index in run.first.index...last.index {
                let month = LedgerMonth(index: index)
                result.append(Bucket(orderId: run.orderId, month: month, firstDue: month.first, changes: [(month.first, run.amountCents)]))
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

    /// Credit held on `date`: what payments received by then could not apply when
    /// received, less what charges falling due by then have taken from it.
    func heldCredit(asOf date: LocalDate) -> Cents {
        Self.total(heldAtReceiptTotals, first: Self.count(paymentDates, through: date))
            - Self.total(creditAppliedTotals, first: Self.count(creditApplicationDates, through: date))
            - Self.total(creditReversedTotals, first: Self.count(creditReversalDates, through: date))
    }

    /// Credit from payments received by `date` that no charge known will ever take.
    func neverApplied(through date: LocalDate) -> Cents {
        Self.total(neverAppliedTotals, first: Self.count(paymentDates, through: date))
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
        // Charges with no bucket (months no money reached, or everything when nothing
        // was ever paid) have had nothing applied to them.
        for charge in charges where charge.amountCents > 0 && charge.dueOn <= date {
            if horizon != nil, charge.month.map({ $0 <= horizon! }) ?? true { continue }
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
    /// nil for a judgment (and the account's own lines).
    let month: LedgerMonth?
    let firstDue: LocalDate
    var changes: [(LocalDate, Cents)]
    var steps: [Step] = []
    var applied: Cents = 0
    var applications: [Application] = []
    let chargeKind: ChargeApplication.ChargeKind

    init(orderId: String, month: LedgerMonth?, firstDue: LocalDate, changes: [(LocalDate, Cents)],
         chargeKind: ChargeApplication.ChargeKind = .support) {
        self.orderId = orderId
        self.month = month
        self.firstDue = firstDue
        self.changes = changes
        self.chargeKind = chargeKind
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

extension ChargeApplication.ChargeKind {
    init(_ kind: LedgerEntry.Kind) {
        switch kind {
        case .reversal: self = .reversal
        case .accountAdjustment: self = .adjustment
        case .judgment: self = .judgment
        default: self = .support
        }
    }
}
