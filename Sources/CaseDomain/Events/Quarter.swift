/// A calendar quarter as employers report wages: `2026Q3`.
public struct Quarter: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    /// 1...4
    public let quarter: Int

    public init?(year: Int, quarter: Int) {
        guard (1...4).contains(quarter), (0...9999).contains(year) else { return nil }
        self.year = year
        self.quarter = quarter
    }

    /// Parses exactly `YYYYQn` with n in 1...4.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8[4] == UInt8(ascii: "Q") else { return nil }
        var year = 0
        for byte in utf8[0..<4] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            year = year * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard utf8[5] >= UInt8(ascii: "1"), utf8[5] <= UInt8(ascii: "4") else { return nil }
        self.init(year: year, quarter: Int(utf8[5] - UInt8(ascii: "0")))
    }

    public var firstDay: LocalDate { LocalDate(year: year, month: (quarter - 1) * 3 + 1, day: 1)! }
    public var lastDay: LocalDate { firstDay.adding(months: 3).adding(days: -1) }

    public var description: String {
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "Q\(quarter)"
    }

    public static func < (lhs: Quarter, rhs: Quarter) -> Bool {
        (lhs.year, lhs.quarter) < (rhs.year, rhs.quarter)
    }
}
