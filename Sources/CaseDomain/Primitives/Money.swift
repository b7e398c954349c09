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

extension Money {
    /// The sum of amounts, or nil when it does not fit in 64 bits: a refusal
    /// for the caller to report, never a trap that stops the process.
    public static func sum(_ amounts: some Sequence<Cents>) -> Cents? {
        var total: Cents = 0
        for amount in amounts {
            let (sum, overflow) = total.addingReportingOverflow(amount)
            if overflow { return nil }
            total = sum
        }
        return total
    }

    /// `amount * factor`, or nil when it does not fit.
    public static func product(_ amount: Cents, _ factor: Int64) -> Cents? {
        let (product, overflow) = amount.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }
}
