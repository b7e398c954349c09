/// Money is always integer cents: no floating point anywhere on a money path.
public typealias Cents = Int64

public enum Money {
    /// `$1234.05`, `-$0.50`: for people reading history and case views, never for the wire.
    public static func dollars(_ cents: Cents) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)$\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
