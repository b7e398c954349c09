import CivilDate
import Foundation

/// A calendar date (no time, no zone) as event data carries it: `receivedOn`,
/// `hireDate`, `effectiveOn`. Days are counted on the proleptic Gregorian
/// calendar so nothing here touches the wall clock or the machine's zone.
/// Tests can write dates as literals: `let payDay: ScenarioDate = "2026-02-13"`.
public struct ScenarioDate: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// Nil when the parts do not name a real day.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= ScenarioDate.daysIn(month: month, year: year) else { return nil }
        daysSinceEpoch = ScenarioDate.days(year: year, month: month, day: day)
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// For literals in tests and defaults; an invalid literal is a programming error.
    public init(stringLiteral text: String) {
        guard let date = ScenarioDate(text) else { preconditionFailure("not a YYYY-MM-DD date: \(text)") }
        self = date
    }

    /// The UTC calendar day of an instant.
    public init(_ instant: Date) {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down))
        daysSinceEpoch = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    }

    public var year: Int { civil.year }
    public var month: Int { civil.month }
    public var day: Int { civil.day }

    public func adding(days: Int) -> ScenarioDate { ScenarioDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// Same day `months` later, clamped to the month's last day.
    public func adding(months: Int) -> ScenarioDate {
        let (y0, m0, d0) = civil
        let total = y0 * 12 + (m0 - 1) + months
        let y = total >= 0 ? total / 12 : (total - 11) / 12
        let m = total - y * 12 + 1
        return ScenarioDate(daysSinceEpoch: ScenarioDate.days(year: y, month: m, day: min(d0, ScenarioDate.daysIn(month: m, year: y))))
    }

    /// The 1st of the month after this date's month.
    public var firstOfNextMonth: ScenarioDate {
        let (y, m, _) = civil
        return m == 12 ? ScenarioDate(daysSinceEpoch: ScenarioDate.days(year: y + 1, month: 1, day: 1))
            : ScenarioDate(daysSinceEpoch: ScenarioDate.days(year: y, month: m + 1, day: 1))
    }

    /// 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
    public var weekday: Int { ((daysSinceEpoch % 7) + 7 + 3) % 7 }
    public var isWeekend: Bool { weekday >= 5 }

    /// This day if it is a weekday, else the following Monday.
    public var nextWeekday: ScenarioDate { weekday == 5 ? adding(days: 2) : weekday == 6 ? adding(days: 1) : self }

    /// `count` weekdays later (holidays are the worker's business, not the feed's).
    public func addingWeekdays(_ count: Int) -> ScenarioDate {
        var d = self
        var left = count
        while left > 0 {
            d = d.adding(days: 1)
            if !d.isWeekend { left -= 1 }
        }
        return d
    }

    /// This date at a UTC time of day.
    public func at(hour: Int, minute: Int = 0, second: Int = 0) -> Date {
        Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second))
    }

    public var description: String {
        var out = [UInt8]()
        out.reserveCapacity(10)
        appendISO(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func appendISO(to out: inout [UInt8]) {
        let (y, m, d) = civil
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
    }

    public static func < (a: ScenarioDate, b: ScenarioDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    static func daysIn(month: Int, year: Int) -> Int { CivilDate.daysIn(month: month, year: year) }

    static func days(year: Int, month: Int, day: Int) -> Int { CivilDate.daysSinceEpoch(year: year, month: month, day: day) }

    var civil: (year: Int, month: Int, day: Int) { CivilDate.civil(daysSinceEpoch: daysSinceEpoch) }
}

@inline(__always)
func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
    var divisor = 1
    for _ in 1..<width { divisor *= 10 }
    var v = value
    while divisor > 0 {
        out.append(UInt8(48 + (v / divisor) % 10))
        v %= divisor
        divisor /= 10
    }
}

/// Business time on the wire. Agency and employer systems stamp UTC (`Z`);
/// court clerks stamp their local America/Chicago time with its offset, so
/// consumers see both forms RFC 3339 allows.
enum WireTime {
    /// UTC offset of America/Chicago at a UTC instant: US rules since 2007
    /// (daylight time from the second Sunday of March, 2:00 local, to the
    /// first Sunday of November, 2:00 local).
    static func centralOffsetSeconds(atUTC seconds: Int64) -> Int {
        let day = ScenarioDate(daysSinceEpoch: Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400))
        let year = day.year
        let march1 = ScenarioDate(year: year, month: 3, day: 1)!
        let secondSundayMarch = march1.adding(days: (6 - march1.weekday + 7) % 7 + 7)
        let nov1 = ScenarioDate(year: year, month: 11, day: 1)!
        let firstSundayNov = nov1.adding(days: (6 - nov1.weekday + 7) % 7)
        let start = Int64(secondSundayMarch.daysSinceEpoch) * 86_400 + 8 * 3600  // 2:00 CST
        let end = Int64(firstSundayNov.daysSinceEpoch) * 86_400 + 7 * 3600  // 2:00 CDT
        return seconds >= start && seconds < end ? -5 * 3600 : -6 * 3600
    }

    /// RFC 3339 with whole seconds: `2026-01-05T15:04:05Z` or `2026-01-05T09:04:05-06:00`.
    static func append(seconds utc: Int64, offsetSeconds: Int, to out: inout [UInt8]) {
        let local = utc + Int64(offsetSeconds)
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = Int(local - days * 86_400)
        ScenarioDate(daysSinceEpoch: Int(days)).appendISO(to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, to: &out)
        if offsetSeconds == 0 {
            out.append(UInt8(ascii: "Z"))
        } else {
            out.append(offsetSeconds < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let magnitude = abs(offsetSeconds)
            appendDigits(magnitude / 3600, width: 2, to: &out)
            out.append(UInt8(ascii: ":"))
            appendDigits(magnitude / 60 % 60, width: 2, to: &out)
        }
    }
}
