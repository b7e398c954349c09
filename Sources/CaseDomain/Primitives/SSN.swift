/// A Social Security number. Its `description` is masked so that string
/// interpolation into a log line or error message can never leak it; the raw
/// digits are reachable only through `digits`, on purpose, for matching and
/// keyed hashing.
public struct SSN: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let digits: String

    /// Exactly nine ASCII digits, no separators.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 9, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        self.digits = String(text)
    }

    public var lastFour: Substring { digits.suffix(4) }

    /// `***-**-1234`.
    public var masked: String { "***-**-\(lastFour)" }
    public var description: String { masked }
    public var debugDescription: String { "SSN(\(masked))" }
}
