/// The one place a `Duration` becomes a number: librdkafka and libpq take
/// milliseconds, Foundation and the metrics take seconds.
extension Duration {
    /// Whole milliseconds, rounded toward zero.
    public var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, rounded toward zero.
    public var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Seconds with their fraction (a `TimeInterval`).
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// "250 ms" below a second, "2.5 s" from one on: for messages to people.
    public var humanReadable: String {
        let ms = inMilliseconds
        return ms < 1000 ? "\(ms) ms" : "\(ms / 1000).\(ms % 1000 / 100) s"
    }
}
