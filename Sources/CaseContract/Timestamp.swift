import CaseDomain
import Foundation

/// RFC 3339 timestamps as the wire carries them: `2026-03-14T09:30:00Z`,
/// `2026-03-14T09:30:00.250-05:00`. A zone (Z or an offset) is mandatory:
/// business time without a zone cannot be placed on the agency's calendar.
public enum Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (upper-case `T` and `Z`),
    /// checking that the day exists and the time and offset are in range. Leap
    /// seconds (`:60`) are rejected: `Date` cannot hold them.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Date? {
        guard b.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for i in start..<(start + count) {
                let byte = b[i]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = digits(0, 4), year >= 1, let month = digits(5, 2), let day = digits(8, 2),
            let date = LocalDate(year: year, month: month, day: day),
            let hour = digits(11, 2), hour < 24, let minute = digits(14, 2), minute < 60,
            let second = digits(17, 2), second < 60
        else { return nil }

        var pos = 19
        var fraction = 0.0
        if b[pos] == UInt8(ascii: ".") {
            pos += 1
            // Nanosecond resolution is plenty; further digits are read and ignored.
            let fractionStart = pos
            var nanos = 0
            var scale = 100_000_000
            while pos < b.count, b[pos] >= UInt8(ascii: "0"), b[pos] <= UInt8(ascii: "9") {
                nanos += Int(b[pos] - UInt8(ascii: "0")) * scale
                scale /= 10
                pos += 1
            }
            guard pos > fractionStart else { return nil }
            fraction = Double(nanos) / 1_000_000_000
        }
        guard pos < b.count else { return nil }
        var offsetSeconds = 0
        if b[pos] == UInt8(ascii: "Z") {
            guard pos + 1 == b.count else { return nil }
        } else {
            guard b.count - pos == 6, b[pos] == UInt8(ascii: "+") || b[pos] == UInt8(ascii: "-"),
                b[pos + 3] == UInt8(ascii: ":"),
                let offsetHours = digits(pos + 1, 2), offsetHours < 24,
                let offsetMinutes = digits(pos + 4, 2), offsetMinutes < 60
            else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (b[pos] == UInt8(ascii: "-") ? -1 : 1)
        }
        let seconds = date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
