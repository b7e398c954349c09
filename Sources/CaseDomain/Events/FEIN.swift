/// A federal employer identification number: nine digits. The wire accepts
/// the printed form `NN-NNNNNNN` too; both normalise to the bare digits so an
/// employer named two ways is still one employer.
public struct FEIN: Hashable, Sendable, CustomStringConvertible {
    public let digits: String

    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        switch utf8.count {
        case 9 where utf8.allSatisfy(isDigit):
            digits = String(decoding: utf8, as: UTF8.self)
        case 10 where utf8[2] == UInt8(ascii: "-") && utf8[..<2].allSatisfy(isDigit) && utf8[3...].allSatisfy(isDigit):
            digits = String(decoding: utf8[..<2] + utf8[3...], as: UTF8.self)
        default:
            return nil
        }
    }

    /// `NN-NNNNNNN`, the form printed on employer forms.
    public var description: String { "\(digits.prefix(2))-\(digits.dropFirst(2))" }
}
