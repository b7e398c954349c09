import Foundation

/// The agency's working days and time zone. Every timeframe counted in business
/// days (income withholding notices, remittances, distribution) goes through here.
///
/// A business day is a Monday-Friday that is not an observed holiday. Holidays
/// come from rules evaluated for any year (`HolidayRule.federal` by default) plus
/// individually listed dates (state holidays, closures); listed exclusions reopen
/// a date a rule would close.
public struct BusinessCalendar: Sendable, Hashable {
    public let timeZone: TimeZone
    public let holidayRules: [HolidayRule]
    /// Extra closed dates: state holidays, one-off closures.
    public let additionalHolidays: Set<LocalDate>
    /// Dates that stay open even though a rule observes a holiday on them.
    public let openDates: Set<LocalDate>
    /// Days (since 1970-01-01) the rules close in `precomputedYears`: deciding a
    /// business day is then a set lookup instead of evaluating every rule for
    /// the date's year and its neighbours (they showed in the workers' profile).
    private let ruleClosedDays: Set<Int>
    static let precomputedYears = 1970...2150

    public static let defaultTimeZoneIdentifier = "America/Chicago"

    public init(
        timeZone: TimeZone = TimeZone(identifier: BusinessCalendar.defaultTimeZoneIdentifier)!,
        holidayRules: [HolidayRule] = HolidayRule.federal,
        additionalHolidays: Set<LocalDate> = [],
        openDates: Set<LocalDate> = []
    ) {
        self.timeZone = timeZone
        self.holidayRules = holidayRules
        self.additionalHolidays = additionalHolidays
        self.openDates = openDates
        var closed = Set<Int>()
        for rule in holidayRules {
            for year in Self.precomputedYears {
                if let date = rule.observedDate(in: year) { closed.insert(date.daysSinceEpoch) }
            }
        }
        ruleClosedDays = closed
    }

    /// Nil when the identifier names no time zone known to the system (a configuration error).
    public init?(
        timeZoneIdentifier: String,
        holidayRules: [HolidayRule] = HolidayRule.federal,
        additionalHolidays: Set<LocalDate> = [],
        openDates: Set<LocalDate> = []
    ) {
        guard let zone = TimeZone(identifier: timeZoneIdentifier) else { return nil }
        self.init(timeZone: zone, holidayRules: holidayRules, additionalHolidays: additionalHolidays, openDates: openDates)
    }

    public var timeZoneIdentifier: String { timeZone.identifier }

    /// The same calendar without the given rules (a state that does not close for Columbus Day).
    public func removing(_ rules: HolidayRule...) -> BusinessCalendar {
        BusinessCalendar(timeZone: timeZone, holidayRules: holidayRules.filter { !rules.contains($0) },
                         additionalHolidays: additionalHolidays, openDates: openDates)
    }

    /// The same calendar with more closed dates.
    public func adding(holidays dates: some Sequence<LocalDate>) -> BusinessCalendar {
        BusinessCalendar(timeZone: timeZone, holidayRules: holidayRules,
                         additionalHolidays: additionalHolidays.union(dates), openDates: openDates)
    }

    // MARK: Holidays

    /// The rule observed on `date`, if any. An observed date is at most a day from the
    /// actual one, so only rules of this or a neighbouring month are asked, and a rule's
    /// date can move into the neighbouring year (New Year's Day on a Saturday closes Dec 31).
    public func observedHoliday(on date: LocalDate) -> HolidayRule? {
        for rule in holidayRules {
            let monthsApart = (date.month - rule.month + 12) % 12
            guard monthsApart <= 1 || monthsApart == 11 else { continue }
            if rule.observedDate(in: date.year) == date { return rule }
            if date.month == 12, rule.observedDate(in: date.year + 1) == date { return rule }
            if date.month == 1, rule.observedDate(in: date.year - 1) == date { return rule }
        }
        return nil
    }

    public func isHoliday(_ date: LocalDate) -> Bool {
        if !openDates.isEmpty, openDates.contains(date) { return false }
        if !additionalHolidays.isEmpty, additionalHolidays.contains(date) { return true }
        // Years at the range's edge may hold a neighbouring year's observed date: the rules decide those.
        guard Self.precomputedYears.contains(date.year), date.year != Self.precomputedYears.lowerBound,
            date.year != Self.precomputedYears.upperBound
        else { return observedHoliday(on: date) != nil }
        return ruleClosedDays.contains(date.daysSinceEpoch)
    }

    /// Every closed weekday-or-weekend date of `year`, sorted: observed rule dates that fall in
    /// `year` and the additional dates of that year.
    public func holidays(in year: Int) -> [LocalDate] {
        var dates = Set(additionalHolidays.filter { $0.year == year })
        for rule in holidayRules {
            for y in [year - 1, year, year + 1] {
                if let d = rule.observedDate(in: y), d.year == year { dates.insert(d) }
            }
        }
        return dates.subtracting(openDates).sorted()
    }

    // MARK: Business days

    public func isBusinessDay(_ date: LocalDate) -> Bool {
        !date.isWeekend && !isHoliday(date)
    }

    /// The `n`-th business day after `date`. Counting starts the day after `date`, and
    /// `date` itself need not be a business day: 2 business days from Saturday 2026-11-21
    /// is Tuesday 2026-11-24 (Mon = 1, Tue = 2). `n == 0` returns `date` unchanged;
    /// a negative `n` counts backwards like `subtractingBusinessDays`.
    public func addingBusinessDays(_ n: Int, to date: LocalDate) -> LocalDate {
        if n < 0 { return subtractingBusinessDays(-n, from: date) }
        var day = date
        var remaining = n
        while remaining > 0 {
            day = day.adding(days: 1)
            if isBusinessDay(day) { remaining -= 1 }
        }
        return day
    }

    /// The `n`-th business day before `date` ("10 business days before the hearing"):
    /// counting starts the day before `date`. `n == 0` returns `date` unchanged.
    public func subtractingBusinessDays(_ n: Int, from date: LocalDate) -> LocalDate {
        if n < 0 { return addingBusinessDays(-n, to: date) }
        var day = date
        var remaining = n
        while remaining > 0 {
            day = day.adding(days: -1)
            if isBusinessDay(day) { remaining -= 1 }
        }
        return day
    }

    /// Business days in the half-open range (`start`, `end`]: the same convention as
    /// `addingBusinessDays`, so `businessDays(from: d, to: addingBusinessDays(n, to: d)) == n`.
    /// Negative when `end` is before `start`.
    public func businessDays(from start: LocalDate, to end: LocalDate) -> Int {
        if end < start { return -businessDays(from: end, to: start) }
        let first = start.adding(days: 1)
        let span = start.days(until: end)
        // Whole weeks hold five weekdays each; walk only the leftover days.
        let weeks = span / 7
        var weekdays = weeks * 5
        var day = first.adding(days: weeks * 7)
        while day <= end {
            if !day.isWeekend { weekdays += 1 }
            day = day.adding(days: 1)
        }
        var closed = 0
        if span > 0 {
            for year in first.year...end.year {
                for holiday in holidays(in: year) where holiday >= first && holiday <= end && !holiday.isWeekend {
                    closed += 1
                }
            }
        }
        return weekdays - closed
    }

    // MARK: Instants

    /// The agency's date at `instant`: an event's `occurredAt` of 2026-11-24T04:30Z is
    /// still 2026-11-23 in Chicago (22:30 CST).
    public func businessDate(of instant: Date) -> LocalDate {
        let offset = timeZone.secondsFromGMT(for: instant)
        let local = instant.timeIntervalSince1970 + Double(offset)
        return LocalDate(daysSinceEpoch: Int((local / 86_400).rounded(.down)))
    }

    /// The first instant of `date` in the agency's time zone (midnight, or the end of a
    /// transition gap in zones that change clocks at midnight).
    public func startOfDay(_ date: LocalDate) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let noon = calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: 12))!
        return calendar.startOfDay(for: noon)
    }
}
