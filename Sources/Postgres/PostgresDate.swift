import CivilDate
import Foundation

/// `Date` <-> timestamptz with microsecond precision (the server's).
///
/// Formatting and parsing are done by hand: DateFormatter is slow, locale
/// sensitive and not needed for one fixed ISO layout. Values go out in UTC;
/// values come back in the session's TimeZone with an explicit offset, which
/// is applied, so the session time zone does not matter. The connection sets
/// DateStyle to ISO so the layout is always `YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM[:SS]]`.
/// `infinity` and `-infinity` read as `.distantFuture` / `.distantPast`.
extension Date: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .timestamptzArray }
    public static var postgresElementType: PostgresTypeOID { .timestamptz }

    public var postgresParameter: PostgresParameterValue {
        PostgresParameterValue(type: .timestamptz, text: PostgresTimestamp.format(self))
    }

    public var postgresArrayElementText: String? { PostgresTimestamp.format(self) }
    /// timestamptz's binary form: microseconds since 2000-01-01 00:00 UTC.
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        PostgresBinaryArray.append(PostgresTimestamp.micros(self) - PostgresTimestamp.postgresEpochMicros, to: &out)
        return true
    }

    public init(postgresCell cell: PostgresCell) throws {
        guard let date = PostgresTimestamp.parse(try cell.nonNullBytes()) else {
            throw cell.decodingError("is not an ISO timestamp")
        }
        self = date
    }
}

enum PostgresTimestamp {
    static let microsPerSecond: Int64 = 1_000_000
    static let microsPerDay: Int64 = 86_400 * microsPerSecond
    /// Seconds between 1970-01-01 and Foundation's 2001-01-01 reference date.
    static let referenceOffsetMicros: Int64 = 978_307_200 * microsPerSecond
    /// Microseconds between 1970-01-01 and the server's epoch, 2000-01-01.
    static let postgresEpochMicros: Int64 = 946_684_800 * microsPerSecond

    static func micros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + referenceOffsetMicros
    }

    static func date(micros: Int64) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(micros - referenceOffsetMicros) / 1_000_000)
    }

    static func format(_ date: Date) -> String {
        let micros = micros(date)
        let days = micros.floorDivided(by: microsPerDay)
        var timeOfDay = micros - days * microsPerDay
        let (year, month, day) = civil(fromDays: days)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        // Year 0 is 1 BC in the server's calendar.
        append(&out, year > 0 ? year : 1 - year, width: 4)
        out.append(UInt8(ascii: "-"))
        append(&out, month, width: 2)
        out.append(UInt8(ascii: "-"))
        append(&out, day, width: 2)
        out.append(UInt8(ascii: " "))
        append(&out, timeOfDay / (3_600 * microsPerSecond), width: 2)
        timeOfDay %= 3_600 * microsPerSecond
        out.append(UInt8(ascii: ":"))
        append(&out, timeOfDay / (60 * microsPerSecond), width: 2)
        timeOfDay %= 60 * microsPerSecond
        out.append(UInt8(ascii: ":"))
        append(&out, timeOfDay / microsPerSecond, width: 2)
        out.append(UInt8(ascii: "."))
        append(&out, timeOfDay % microsPerSecond, width: 6)
        out.append(contentsOf: "+00".utf8)
        if year <= 0 { out.append(contentsOf: " BC".utf8) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func append(_ out: inout [UInt8], _ value: Int64, width: Int) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if digits.count < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        out.append(contentsOf: digits.reversed())
    }

    /// Parses timestamptz, timestamp (read as UTC) and date (midnight UTC) output.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Date? {
        if bytes.elementsEqual("infinity".utf8) { return .distantFuture }
        if bytes.elementsEqual("-infinity".utf8) { return .distantPast }
        var i = 0
        func number(maxDigits: Int) -> Int64? {
            var value: Int64 = 0
            let start = i
            while i < bytes.count, i - start < maxDigits, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
                i += 1
            }
            return i > start ? value : nil
        }
        func expect(_ c: Character) -> Bool {
            guard i < bytes.count, bytes[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard var year = number(maxDigits: 9), expect("-"), let month = number(maxDigits: 2), expect("-"),
            let day = number(maxDigits: 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var micros: Int64 = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "T"),
            i + 1 < bytes.count, bytes[i + 1] != UInt8(ascii: "B")
        {
            i += 1
            guard let hour = number(maxDigits: 2), expect(":"), let minute = number(maxDigits: 2), expect(":"),
                let second = number(maxDigits: 2)
            else { return nil }
            micros = ((hour * 60 + minute) * 60 + second) * microsPerSecond
            if expect(".") {
                let start = i
                guard var fraction = number(maxDigits: 6) else { return nil }
                for _ in (i - start)..<6 { fraction *= 10 }
                micros += fraction
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                let sign: Int64 = bytes[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let offsetHours = number(maxDigits: 2) else { return nil }
                var offset = offsetHours * 3_600
                if expect(":") {
                    guard let offsetMinutes = number(maxDigits: 2) else { return nil }
                    offset += offsetMinutes * 60
                    if expect(":") {
                        guard let offsetSeconds = number(maxDigits: 2) else { return nil }
                        offset += offsetSeconds
                    }
                }
                micros -= sign * offset * microsPerSecond
            }
        }
        if i < bytes.count {
            guard bytes.count - i == 3, expect(" "), expect("B"), expect("C") else { return nil }
            year = 1 - year
        }
        return date(micros: days(year: year, month: month, day: day) * microsPerDay + micros)
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let (year, month, day) = CivilDate.civil(daysSinceEpoch: Int(days))
        return (Int64(year), Int64(month), Int64(day))
    }

    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        Int64(CivilDate.daysSinceEpoch(year: Int(year), month: Int(month), day: Int(day)))
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
