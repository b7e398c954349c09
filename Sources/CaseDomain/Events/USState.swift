/// A USPS two-letter code for a state, the District of Columbia, a territory
/// or an armed-forces postal region: the places a IV-D agency mails notices to.
public struct USState: Hashable, Sendable, CustomStringConvertible {
    public let code: String

    public init?(_ text: some StringProtocol) {
        let code = String(text)
        guard USState.codes.contains(code) else { return nil }
        self.code = code
    }

    public var description: String { code }

    /// Kept in one list so the JSON Schema enum can be checked against it.
    public static let allCodes: [String] = [
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA",
        "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD",
        "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
        "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC",
        "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
        "DC", "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
    ]

    private static let codes = Set(allCodes)
}
