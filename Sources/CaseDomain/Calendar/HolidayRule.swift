/// How a holiday's date is found in any given year, so no year tables are needed.
public struct HolidayRule: Hashable, Sendable {
    public enum Placement: Hashable, Sendable {
        /// The same month and day every year (Juneteenth, Christmas).
        case fixed(month: Int, day: Int)
        /// The `ordinal`-th (1-based) given ISO weekday of the month (MLK Day: 3rd Monday of January).
        case nthWeekday(month: Int, isoWeekday: Int, ordinal: Int)
        /// The last given ISO weekday of the month (Memorial Day).
        case lastWeekday(month: Int, isoWeekday: Int)
    }

    public let name: String
    public let placement: Placement
    /// Federal rule (5 USC 6103(b)): a fixed-date holiday on a Saturday is observed
    /// the Friday before, on a Sunday the Monday after. Weekday rules never fall on weekends.
    public let shiftsOffWeekend: Bool
    /// The first year the holiday is kept (Juneteenth: 2021); nil when it always was.
    public let firstYear: Int?

    public init(name: String, placement: Placement, shiftsOffWeekend: Bool = true, firstYear: Int? = nil) {
        self.name = name
        self.placement = placement
        self.shiftsOffWeekend = shiftsOffWeekend
        self.firstYear = firstYear
    }

    /// Whether the placement names a real day every year (month 1-12, day 1-31,
    /// ISO weekday 1-7, ordinal 1-5). Check rules read from configuration before use:
    /// dates are computed assuming it.
    public var isValid: Bool {
        switch placement {
        case let .fixed(month, day): (1...12).contains(month) && (1...31).contains(day) && day <= LocalDate.daysIn(month: month, year: 2000)
        case let .nthWeekday(month, isoWeekday, ordinal): (1...12).contains(month) && (1...7).contains(isoWeekday) && (1...5).contains(ordinal)
        case let .lastWeekday(month, isoWeekday): (1...12).contains(month) && (1...7).contains(isoWeekday)
        }
    }

    /// The month the holiday falls in before any weekend shift.
    public var month: Int {
        switch placement {
        case let .fixed(month, _), let .nthWeekday(month, _, _), let .lastWeekday(month, _): month
        }
    }

    /// The holiday's calendar date in `year`, before any weekend shift.
    public func actualDate(in year: Int) -> LocalDate {
        switch placement {
        case let .fixed(month, day):
            // Feb 29 rules (unlikely, but custom) fall back to Feb 28 in common years.
            return LocalDate(year: year, month: month, day: min(day, LocalDate.daysIn(month: month, year: year)))!
        case let .nthWeekday(month, isoWeekday, ordinal):
            let first = LocalDate(year: year, month: month, day: 1)!
            let offset = (isoWeekday - first.isoWeekday + 7) % 7
            return first.adding(days: offset + 7 * (ordinal - 1))
        case let .lastWeekday(month, isoWeekday):
            let last = LocalDate(year: year, month: month, day: LocalDate.daysIn(month: month, year: year))!
            let offset = (last.isoWeekday - isoWeekday + 7) % 7
            return last.adding(days: -offset)
        }
    }

    /// The day offices close for the holiday of `year` (nil before `firstYear`). New Year's Day 2022 fell on a
    /// Saturday, so it was observed on Friday 2021-12-31: the result can lie in `year - 1`.
    public func observedDate(in year: Int) -> LocalDate? {
        if let firstYear, year < firstYear { return nil }
        let actual = actualDate(in: year)
        guard shiftsOffWeekend else { return actual }
        switch actual.isoWeekday {
        case 6: return actual.adding(days: -1)
        case 7: return actual.adding(days: 1)
        default: return actual
        }
    }
}

extension HolidayRule {
    public static let newYearsDay = HolidayRule(name: "New Year's Day", placement: .fixed(month: 1, day: 1))
    public static let martinLutherKingJrDay = HolidayRule(name: "Birthday of Martin Luther King, Jr.", placement: .nthWeekday(month: 1, isoWeekday: 1, ordinal: 3))
    public static let washingtonsBirthday = HolidayRule(name: "Washington's Birthday", placement: .nthWeekday(month: 2, isoWeekday: 1, ordinal: 3))
    public static let memorialDay = HolidayRule(name: "Memorial Day", placement: .lastWeekday(month: 5, isoWeekday: 1))
    public static let juneteenth = HolidayRule(name: "Juneteenth National Independence Day", placement: .fixed(month: 6, day: 19), firstYear: 2021)
    public static let independenceDay = HolidayRule(name: "Independence Day", placement: .fixed(month: 7, day: 4))
    public static let laborDay = HolidayRule(name: "Labor Day", placement: .nthWeekday(month: 9, isoWeekday: 1, ordinal: 1))
    public static let columbusDay = HolidayRule(name: "Columbus Day", placement: .nthWeekday(month: 10, isoWeekday: 1, ordinal: 2))
    public static let veteransDay = HolidayRule(name: "Veterans Day", placement: .fixed(month: 11, day: 11))
    public static let thanksgivingDay = HolidayRule(name: "Thanksgiving Day", placement: .nthWeekday(month: 11, isoWeekday: 4, ordinal: 4))
    public static let christmasDay = HolidayRule(name: "Christmas Day", placement: .fixed(month: 12, day: 25))

    /// The 11 legal public holidays of 5 USC 6103(a).
    public static let federal: [HolidayRule] = [
        .newYearsDay, .martinLutherKingJrDay, .washingtonsBirthday, .memorialDay, .juneteenth,
        .independenceDay, .laborDay, .columbusDay, .veteransDay, .thanksgivingDay, .christmasDay,
    ]
}
