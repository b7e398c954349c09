/// Capped exponential backoff for retrying transient failures: the first
/// wait is `initial`, each next one doubles, none exceeds `maximum`.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public private(set) var attempts = 0

    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait before the next attempt; counts the attempt.
    public mutating func next() -> Duration {
        defer { attempts += 1 }
        var delay = initial
        for _ in 0..<min(attempts, 40) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    public mutating func reset() { attempts = 0 }
}
