import Foundation
import PropertyBased
import Testing

@testable import CaseDomain

private func day(_ text: String) -> LocalDate { LocalDate(iso8601: text)! }

private func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    return formatter.date(from: text)!
}

@Suite("Business calendar: federal holidays")
struct CalendarHolidayTests {
    let calendar = BusinessCalendar()

    // Observed dates checked against OPM's published federal holiday schedules.
    static let observed: [Int: [String]] = [
        2022: ["2021-12-31", "2022-01-17", "2022-02-21", "2022-05-30", "2022-06-20", "2022-07-04", "2022-09-05", "2022-10-10", "2022-11-11", "2022-11-24", "2022-12-26"],
        2026: ["2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"],
        2027: ["2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24"],
        2028: ["2027-12-31", "2028-01-17", "2028-02-21", "2028-05-29", "2028-06-19", "2028-07-04", "2028-09-04", "2028-10-09", "2028-11-10", "2028-11-23", "2028-12-25"],
    ]

    @Test("each federal rule's observed date", arguments: [2022, 2026, 2027, 2028])
    func observedDates(year: Int) {
        let expected = Self.observed[year]!.map(day)
        let actual = HolidayRule.federal.map { $0.observedDate(in: year) }
        #expect(actual == expected)
        for date in expected {
            #expect(calendar.isHoliday(date))
            #expect(!calendar.isBusinessDay(date))
        }
    }

    /// The precomputed closed days say what the rules say, for every day of 1965-2155
    /// (the table's edges and beyond included), with a removed rule and open and extra dates too.
    @Test func precomputedClosedDaysAgreeWithTheRules() {
        let calendars = [
            BusinessCalendar(), BusinessCalendar().removing(.columbusDay),
            BusinessCalendar(additionalHolidays: [LocalDate(year: 2026, month: 11, day: 27)!], openDates: [LocalDate(year: 2026, month: 12, day: 25)!]),
        ]
        var day = LocalDate(year: 1965, month: 1, day: 1)!
        let end = LocalDate(year: 2155, month: 12, day: 31)!
        while day <= end {
            for calendar in calendars {
                let byRules = !calendar.openDates.contains(day)
                    && (calendar.additionalHolidays.contains(day) || calendar.observedHoliday(on: day) != nil)
                if calendar.isHoliday(day) != byRules { Issue.record("\(day): isHoliday \(calendar.isHoliday(day)), rules \(byRules)") }
            }
            day = day.adding(days: 1)
        }
    }

    @Test func weekendShifts() {
        #expect(HolidayRule.independenceDay.actualDate(in: 2026) == day("2026-07-04"))
        #expect(calendar.isBusinessDay(day("2026-07-06")))  // Monday after: not a holiday
        #expect(calendar.observedHoliday(on: day("2026-07-03")) == .independenceDay)
        #expect(calendar.observedHoliday(on: day("2027-12-24")) == .christmasDay)
        #expect(calendar.observedHoliday(on: day("2027-07-05")) == .independenceDay)
        // New Year's Day 2022 (Saturday) closes Friday 2021-12-31, and Monday 2022-01-03 stays open.
        #expect(calendar.observedHoliday(on: day("2021-12-31")) == .newYearsDay)
        #expect(calendar.isBusinessDay(day("2022-01-03")))
        #expect(calendar.observedHoliday(on: day("2027-12-31")) == .newYearsDay)
    }

    @Test func holidaysOfAYearIncludeNextYearsNewYearsObservance() {
        #expect(calendar.holidays(in: 2027).count == 12)
        #expect(calendar.holidays(in: 2027).last == day("2027-12-31"))
        #expect(calendar.holidays(in: 2028).count == 10)
        #expect(calendar.holidays(in: 2021).count == 12)
        #expect(calendar.holidays(in: 2026) == Self.observed[2026]!.map(day))
    }

    @Test func juneteenthOnlySince2021() {
        #expect(HolidayRule.juneteenth.observedDate(in: 2020) == nil)
        #expect(calendar.isBusinessDay(day("2020-06-19")))
        #expect(!calendar.isBusinessDay(day("2021-06-18")))  // 2021-06-19 was a Saturday
    }

    @Test func farYearsNeedNoTables() {
        #expect(HolidayRule.thanksgivingDay.observedDate(in: 2100) == day("2100-11-25"))
        #expect(HolidayRule.memorialDay.observedDate(in: 1999) == day("1999-05-31"))
        #expect(HolidayRule.martinLutherKingJrDay.observedDate(in: 2400) == day("2400-01-17"))
    }

    @Test func ruleValidity() {
        #expect(HolidayRule.federal.allSatisfy { $0.isValid })
        #expect(!HolidayRule(name: "x", placement: .fixed(month: 13, day: 1)).isValid)
        #expect(!HolidayRule(name: "x", placement: .fixed(month: 4, day: 31)).isValid)
        #expect(!HolidayRule(name: "x", placement: .nthWeekday(month: 1, isoWeekday: 8, ordinal: 1)).isValid)
        #expect(!HolidayRule(name: "x", placement: .nthWeekday(month: 1, isoWeekday: 1, ordinal: 0)).isValid)
        // Feb 29 is a valid rule; common years keep it on Feb 28.
        let leapDay = HolidayRule(name: "x", placement: .fixed(month: 2, day: 29), shiftsOffWeekend: false)
        #expect(leapDay.isValid)
        #expect(leapDay.observedDate(in: 2027) == day("2027-02-28"))
        // A fifth Friday that does not exist spills into the next month, and is still found.
        let fifthFriday = HolidayRule(name: "x", placement: .nthWeekday(month: 2, isoWeekday: 5, ordinal: 5))
        #expect(fifthFriday.observedDate(in: 2026) == day("2026-03-06"))
        #expect(!BusinessCalendar(holidayRules: [fifthFriday]).isBusinessDay(day("2026-03-06")))
    }

    @Test func weekendsAreNotBusinessDays() {
        #expect(!calendar.isBusinessDay(day("2026-11-21")))
        #expect(!calendar.isBusinessDay(day("2026-11-22")))
        #expect(calendar.isBusinessDay(day("2026-11-23")))
    }

    @Test func configurableHolidays() {
        let noColumbus = calendar.removing(.columbusDay)
        #expect(noColumbus.isBusinessDay(day("2026-10-12")))
        #expect(!noColumbus.isBusinessDay(day("2026-11-26")))

        let withStateHoliday = calendar.adding(holidays: [day("2026-11-27")])
        #expect(!withStateHoliday.isBusinessDay(day("2026-11-27")))
        #expect(withStateHoliday.addingBusinessDays(1, to: day("2026-11-25")) == day("2026-11-30"))

        let custom = BusinessCalendar(holidayRules: [], additionalHolidays: [day("2026-03-02")])
        #expect(custom.isBusinessDay(day("2026-07-03")))
        #expect(!custom.isBusinessDay(day("2026-03-02")))

        let reopened = BusinessCalendar(openDates: [day("2026-12-25")])
        #expect(reopened.isBusinessDay(day("2026-12-25")))
    }
}

@Suite("Business calendar: counting business days")
struct CalendarCountingTests {
    let calendar = BusinessCalendar()

    @Test func countingStartsTheDayAfter() {
        // Received Saturday: Monday is day 1, Tuesday day 2.
        #expect(calendar.addingBusinessDays(2, to: day("2026-11-21")) == day("2026-11-24"))
        #expect(calendar.addingBusinessDays(1, to: day("2026-11-23")) == day("2026-11-24"))
        #expect(calendar.addingBusinessDays(0, to: day("2026-11-21")) == day("2026-11-21"))
    }

    @Test func acrossHolidaysAndObservedHolidays() {
        // Thanksgiving 2026-11-26.
        #expect(calendar.addingBusinessDays(2, to: day("2026-11-25")) == day("2026-11-30"))
        // Independence Day observed Friday 2026-07-03.
        #expect(calendar.addingBusinessDays(2, to: day("2026-07-02")) == day("2026-07-07"))
        // Christmas observed Fri 2027-12-24, New Year's Day 2028 observed Fri 2027-12-31.
        #expect(calendar.addingBusinessDays(7, to: day("2027-12-23")) == day("2028-01-05"))
        // Veterans Day 2028 (Saturday) observed Friday 2028-11-10.
        #expect(calendar.addingBusinessDays(1, to: day("2028-11-09")) == day("2028-11-13"))
    }

    @Test func monthEndsAndLeapDay() {
        #expect(calendar.addingBusinessDays(1, to: day("2026-01-30")) == day("2026-02-02"))
        #expect(calendar.addingBusinessDays(2, to: day("2028-02-25")) == day("2028-02-29"))
        #expect(calendar.addingBusinessDays(1, to: day("2028-02-29")) == day("2028-03-01"))
        #expect(calendar.addingBusinessDays(2, to: day("2026-02-26")) == day("2026-03-02"))
    }

    @Test func countingBackwards() {
        // 10 business days before a Tuesday 2026-11-24 hearing, skipping Veterans Day.
        #expect(calendar.subtractingBusinessDays(10, from: day("2026-11-24")) == day("2026-11-09"))
        #expect(calendar.subtractingBusinessDays(1, from: day("2026-07-06")) == day("2026-07-02"))
        #expect(calendar.addingBusinessDays(-1, to: day("2026-07-06")) == day("2026-07-02"))
        #expect(calendar.subtractingBusinessDays(0, from: day("2026-07-04")) == day("2026-07-04"))
    }

    @Test func countingBetweenDates() {
        #expect(calendar.businessDays(from: day("2026-11-20"), to: day("2026-11-30")) == 5)
        #expect(calendar.businessDays(from: day("2026-11-30"), to: day("2026-11-20")) == -5)
        #expect(calendar.businessDays(from: day("2026-11-20"), to: day("2026-11-20")) == 0)
        // 2026: 261 weekdays, all 11 observed holidays on weekdays.
        #expect(calendar.businessDays(from: day("2025-12-31"), to: day("2026-12-31")) == 250)
        // A weekend state holiday does not remove a business day.
        let withSaturday = calendar.adding(holidays: [day("2026-11-28")])
        #expect(withSaturday.businessDays(from: day("2026-11-20"), to: day("2026-11-30")) == 5)
    }

    @Test func addingAndCountingAgree() async {
        let start = day("2020-01-01").daysSinceEpoch
        await propertyCheck(count: 300, input: Gen.int(in: 0...4000), Gen.int(in: 0...60)) { offset, n in
            let date = LocalDate(daysSinceEpoch: start + offset)
            let due = calendar.addingBusinessDays(n, to: date)
            #expect(calendar.businessDays(from: date, to: due) == n)
            if n > 0 {
                #expect(calendar.isBusinessDay(due))
                // Back n from the due date lands on the last business day on or before `date`.
                let back = calendar.subtractingBusinessDays(n, from: due)
                #expect(back <= date && calendar.isBusinessDay(back))
                #expect(calendar.businessDays(from: back, to: date) == 0)
            }
            // Brute force over the half-open range.
            var count = 0
            var d = date
            while d < due {
                d = d.adding(days: 1)
                if calendar.isBusinessDay(d) { count += 1 }
            }
            #expect(count == n)
        }
    }

    @Test func subtractingInvertsAddingOnBusinessDays() async {
        let start = day("2020-01-01").daysSinceEpoch
        await propertyCheck(count: 300, input: Gen.int(in: 0...4000), Gen.int(in: 0...40)) { offset, n in
            let date = LocalDate(daysSinceEpoch: start + offset)
            guard calendar.isBusinessDay(date) else { return }
            #expect(calendar.addingBusinessDays(n, to: calendar.subtractingBusinessDays(n, from: date)) == date)
            #expect(calendar.subtractingBusinessDays(n, from: calendar.addingBusinessDays(n, to: date)) == date)
        }
    }
}

@Suite("Business calendar: dates of instants")
struct CalendarInstantTests {
    let chicago = BusinessCalendar()

    @Test func lateEveningLocalIsNextDayUTC() {
        // 23:30 CST on 2026-03-02 is 05:30 UTC on 2026-03-03.
        #expect(chicago.businessDate(of: instant("2026-03-03T05:30:00Z")) == day("2026-03-02"))
        #expect(chicago.businessDate(of: instant("2026-11-24T05:59:59Z")) == day("2026-11-23"))
        #expect(chicago.businessDate(of: instant("2026-11-24T06:00:00Z")) == day("2026-11-24"))
        // Daylight time is UTC-5.
        #expect(chicago.businessDate(of: instant("2026-07-15T04:59:59Z")) == day("2026-07-14"))
        #expect(chicago.businessDate(of: instant("2026-07-15T05:00:00Z")) == day("2026-07-15"))
    }

    @Test func aroundDaylightSavingTransitions() {
        // Spring forward 2026-03-08 02:00 CST; fall back 2026-11-01 02:00 CDT.
        #expect(chicago.businessDate(of: instant("2026-03-08T05:30:00Z")) == day("2026-03-07"))
        #expect(chicago.businessDate(of: instant("2026-03-09T04:30:00Z")) == day("2026-03-08"))
        #expect(chicago.businessDate(of: instant("2026-03-09T05:00:00Z")) == day("2026-03-09"))
        #expect(chicago.businessDate(of: instant("2026-11-01T07:30:00Z")) == day("2026-11-01"))
        #expect(chicago.businessDate(of: instant("2026-11-02T05:30:00Z")) == day("2026-11-01"))
        #expect(chicago.businessDate(of: instant("2026-11-02T06:00:00Z")) == day("2026-11-02"))

        #expect(chicago.startOfDay(day("2026-03-08")) == instant("2026-03-08T06:00:00Z"))
        #expect(chicago.startOfDay(day("2026-03-09")) == instant("2026-03-09T05:00:00Z"))
        #expect(chicago.startOfDay(day("2026-11-01")) == instant("2026-11-01T05:00:00Z"))
        #expect(chicago.startOfDay(day("2026-11-02")) == instant("2026-11-02T06:00:00Z"))
    }

    @Test func startOfDayRoundTrips() async {
        let start = day("2020-01-01").daysSinceEpoch
        await propertyCheck(count: 200, input: Gen.int(in: 0...3000)) { offset in
            let date = LocalDate(daysSinceEpoch: start + offset)
            let midnight = chicago.startOfDay(date)
            #expect(chicago.businessDate(of: midnight) == date)
            #expect(chicago.businessDate(of: midnight.addingTimeInterval(-1)) == date.adding(days: -1))
        }
    }

    @Test func otherZones() throws {
        let pacific = try #require(BusinessCalendar(timeZoneIdentifier: "America/Los_Angeles"))
        #expect(pacific.timeZoneIdentifier == "America/Los_Angeles")
        #expect(pacific.businessDate(of: instant("2026-11-24T07:30:00Z")) == day("2026-11-23"))
        #expect(chicago.businessDate(of: instant("2026-11-24T07:30:00Z")) == day("2026-11-24"))
        #expect(BusinessCalendar(timeZoneIdentifier: "Mars/Olympus_Mons") == nil)
        #expect(chicago.timeZoneIdentifier == "America/Chicago")
    }
}
