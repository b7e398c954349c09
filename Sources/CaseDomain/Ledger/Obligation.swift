/// The monthly terms of a support order from one effective date on.
public struct SupportTerm: Sendable, Hashable, Codable {
    public let effectiveOn: LocalDate
    public let monthlySupportCents: Cents
    /// The monthly amount the order sets toward arrears (used for withholding); it is a
    /// repayment schedule, not a charge, so it never accrues.
    public let monthlyArrearsPaymentCents: Cents

    public init(effectiveOn: LocalDate, monthlySupportCents: Cents, monthlyArrearsPaymentCents: Cents = 0) {
        self.effectiveOn = effectiveOn
        self.monthlySupportCents = monthlySupportCents
        self.monthlyArrearsPaymentCents = monthlyArrearsPaymentCents
    }
}

/// One support order's obligation over its life: the original terms, each
/// modification, an optional termination, and the judgment arrears it set.
public struct Obligation: Sendable, Hashable, Codable {
    public let orderId: String
    /// Sorted by `effectiveOn`, one term per date; never empty.
    public private(set) var terms: [SupportTerm]
    /// Last day the order is in force; nothing falls due after it.
    public private(set) var terminatedOn: LocalDate?
    /// Arrears the court found owed when it set the order: past-due support from
    /// the day the court entered the order (`judgmentDueOn`), whatever the date
    /// current support starts.
    public let judgmentArrearsCents: Cents
    /// The business date the order was entered (its event's date).
    public let judgmentDueOn: LocalDate

    init(orderId: String, firstTerm: SupportTerm, judgmentArrearsCents: Cents, judgmentDueOn: LocalDate) {
        self.orderId = orderId
        self.terms = [firstTerm]
        self.judgmentArrearsCents = judgmentArrearsCents
        self.judgmentDueOn = judgmentDueOn
    }

    /// An obligation restored from storage. nil unless `terms` keeps the
    /// invariant the ledger relies on: not empty, one term per date, sorted.
    public init?(
        orderId: String, terms: [SupportTerm], terminatedOn: LocalDate?, judgmentArrearsCents: Cents, judgmentDueOn: LocalDate
    ) {
        guard !terms.isEmpty, zip(terms, terms.dropFirst()).allSatisfy({ $0.effectiveOn < $1.effectiveOn }) else {
            return nil
        }
        self.orderId = orderId
        self.terms = terms
        self.terminatedOn = terminatedOn
        self.judgmentArrearsCents = judgmentArrearsCents
        self.judgmentDueOn = judgmentDueOn
    }

    public var effectiveOn: LocalDate { terms[0].effectiveOn }

    /// The term in force on `date`, nil before the order starts or after it ends.
    public func term(on date: LocalDate) -> SupportTerm? {
        guard date >= effectiveOn else { return nil }
        if let terminatedOn, date > terminatedOn { return nil }
        return terms.last { $0.effectiveOn <= date }
    }

    public func isInForce(on date: LocalDate) -> Bool { term(on: date) != nil }

    /// A modification replaces a term with the same effective date (a corrected order).
    mutating func modify(_ term: SupportTerm) {
        terms.removeAll { $0.effectiveOn == term.effectiveOn }
        let index = terms.firstIndex { $0.effectiveOn > term.effectiveOn } ?? terms.endIndex
        terms.insert(term, at: index)
    }

    mutating func terminate(on date: LocalDate) { terminatedOn = date }
}

// MARK: Charge schedule

/// A calendar month as one integer (year * 12 + month - 1) so spans of months are arithmetic.
struct LedgerMonth: Hashable, Comparable, Sendable {
    let index: Int

    init(index: Int) { self.index = index }
    init(_ date: LocalDate) { index = date.year * 12 + date.month - 1 }

    var first: LocalDate {
        let year = index >= 0 ? index / 12 : (index - 11) / 12
        return LocalDate(year: year, month: index - year * 12 + 1, day: 1)!
    }
    var dayCount: Int { first.daysInMonth }
    var last: LocalDate { first.adding(days: dayCount - 1) }
    func adding(_ months: Int) -> LedgerMonth { LedgerMonth(index: index + months) }

    static func < (lhs: LedgerMonth, rhs: LedgerMonth) -> Bool { lhs.index < rhs.index }
}

/// A charge that falls due on one date: an accrual, a judgment, or a proration adjustment.
struct ScheduledCharge: Sendable {
    let orderId: String
    let kind: LedgerEntry.Kind
    let dueOn: LocalDate
    let amountCents: Cents
    /// The support month the charge belongs to; nil for a judgment.
    let month: LedgerMonth?
}

/// Months charged the same full amount on each 1st: stored as a span, not expanded,
/// so a ten-year-old order costs the same to query as a new one.
struct RegularRun: Sendable {
    let orderId: String
    let first: LedgerMonth
    /// Inclusive; nil while the order runs on.
    let last: LedgerMonth?
    let amountCents: Cents

    /// Months of the run whose 1st is on or before `date`.
    func monthsDue(through date: LocalDate) -> Int {
        var end = LedgerMonth(date).index
        if let last { end = min(end, last.index) }
        return max(0, end - first.index + 1)
    }
}

extension Obligation {
    /// The order's charges: explicit ones for the months where something changes
    /// (start, modification, termination) and the judgment, plus runs of plain months.
    func chargeSchedule() -> (charges: [ScheduledCharge], runs: [RegularRun]) {
        var charges: [ScheduledCharge] = []
        var runs: [RegularRun] = []
        let start = effectiveOn
        if judgmentArrearsCents != 0 {
            charges.append(ScheduledCharge(orderId: orderId, kind: .judgment, dueOn: judgmentDueOn, amountCents: judgmentArrearsCents, month: nil))
        }
        if let terminatedOn, terminatedOn < start { return (charges, runs) }

        let firstMonth = LedgerMonth(start)
        let lastMonth = terminatedOn.map(LedgerMonth.init)
        var special: Set<LedgerMonth> = [firstMonth]
        for term in terms { special.insert(LedgerMonth(term.effectiveOn)) }
        if let lastMonth { special.insert(lastMonth) }
        let specialMonths = special.filter { month in lastMonth.map { month <= $0 } ?? true }.sorted()

        for month in specialMonths {
            charges += monthCharges(in: month)
        }
        // Plain months between (and after) the special ones: the term in force on
        // the 1st cannot change inside a gap, because every change makes a month special.
        for (i, month) in specialMonths.enumerated() {
            let gapStart = month.adding(1)
            let gapEnd: LedgerMonth? = i + 1 < specialMonths.count ? specialMonths[i + 1].adding(-1) : nil
            if let gapEnd, gapEnd < gapStart { continue }
            if gapEnd == nil, lastMonth != nil { continue }
            guard let term = term(on: gapStart.first), term.monthlySupportCents != 0 else { continue }
            runs.append(RegularRun(orderId: orderId, first: gapStart, last: gapEnd, amountCents: term.monthlySupportCents))
        }
        return (charges, runs)
    }

    /// Charges of a month in which the order starts, changes or ends. Each change
    /// date gets the difference between the month's prorated total known after it and
    /// the total known before it, so the month's charges always sum to exactly
    /// `sum over segments of floor(amount * days / days in month)`.
    private func monthCharges(in month: LedgerMonth) -> [ScheduledCharge] {
        let firstDue = max(effectiveOn, month.first)
        if let terminatedOn, terminatedOn < firstDue { return [] }
        var changeDates: Set<LocalDate> = [firstDue]
        for term in terms where term.effectiveOn > firstDue && term.effectiveOn <= month.last {
            if let terminatedOn, term.effectiveOn > terminatedOn { continue }
            changeDates.insert(term.effectiveOn)
        }
        if let terminatedOn, terminatedOn >= firstDue, terminatedOn < month.last { changeDates.insert(terminatedOn) }

        var result: [ScheduledCharge] = []
        var chargedSoFar: Cents = 0
        for date in changeDates.sorted() {
            let known = proratedTotal(of: month, from: firstDue, knownOn: date)
            let amount = known - chargedSoFar
            chargedSoFar = known
            guard amount != 0 else { continue }
            result.append(ScheduledCharge(orderId: orderId, kind: date == firstDue ? .accrual : .adjustment,
                                          dueOn: date, amountCents: amount, month: month))
        }
        return result
    }

    /// The month's support from `from` on, as known on `knownOn`: terms effective by then,
    /// and the termination if it has happened by then. Each run of days at one monthly
    /// amount is `floor(amount * days / days in month)`; a whole month is exactly `amount`.
    /// Adjacent terms with the same amount form one run, so a modification that changes
    /// only the arrears repayment leaves the month's charge untouched.
    private func proratedTotal(of month: LedgerMonth, from: LocalDate, knownOn: LocalDate) -> Cents {
        let known = terms.filter { $0.effectiveOn <= knownOn }
        var end = month.last
        if let terminatedOn, terminatedOn <= knownOn { end = min(end, terminatedOn) }
        guard end >= from else { return 0 }
        let daysInMonth = Cents(month.dayCount)
        var total: Cents = 0
        var runAmount: Cents?
        var runDays: Cents = 0
        for (i, term) in known.enumerated() {
            let segmentStart = max(term.effectiveOn, from)
            var segmentEnd = end
            if i + 1 < known.count { segmentEnd = min(segmentEnd, known[i + 1].effectiveOn.adding(days: -1)) }
            guard segmentEnd >= segmentStart else { continue }
            if term.monthlySupportCents != runAmount {
                if let runAmount { total += runAmount * runDays / daysInMonth }
                runAmount = term.monthlySupportCents
                runDays = 0
            }
            runDays += Cents(segmentStart.days(until: segmentEnd) + 1)
        }
        if let runAmount { total += runAmount * runDays / daysInMonth }
        return total
    }
}
