/// At most `capacity` values by key; when full, the least recently used half
/// goes in one sweep (amortised O(1) per insertion, no list to maintain).
/// What the workers keep of cases between batches (states, part-way
/// derivations, decoded events) is held in these. Not thread-safe.
public struct RecentlyUsed<Key: Hashable, Value> {
    private var entries: [Key: (value: Value, used: UInt64)] = [:]
    private var tick: UInt64 = 0
    public let capacity: Int

    public init(capacity: Int) { self.capacity = max(0, capacity) }

    public var count: Int { entries.count }

    /// The value, marked used.
    public mutating func use(_ key: Key) -> Value? {
        guard let value = entries[key]?.value else { return nil }
        tick += 1
        entries[key]!.used = tick
        return value
    }

    /// The value, leaving its recency as it is.
    public func peek(_ key: Key) -> Value? { entries[key]?.value }

    public mutating func put(_ key: Key, _ value: Value) {
        guard capacity > 0 else { return }
        tick += 1
        entries[key] = (value, tick)
        if entries.count > capacity {
            let cutoff = entries.values.map(\.used).sorted()[entries.count / 2]
            entries = entries.filter { $0.value.used >= cutoff }
        }
    }

    public mutating func remove(_ key: Key) { entries[key] = nil }
}

extension RecentlyUsed: Sendable where Key: Sendable, Value: Sendable {}
