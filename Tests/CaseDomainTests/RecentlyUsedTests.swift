import Testing

@testable import CaseDomain

@Suite("Recently used: bounded caches of the workers")
struct RecentlyUsedTests {
    @Test func staysWithinItsCapacity_keepingWhatWasUsedLast() {
        var cache = RecentlyUsed<Int, String>(capacity: 10)
        for key in 0..<10 { cache.put(key, "v\(key)") }
        // Touch the oldest three: they outlive the ones put after them but never used.
        for key in 0..<3 { #expect(cache.use(key) == "v\(key)") }
        cache.put(10, "v10")
        #expect(cache.count <= 10)
        for key in 0..<3 { #expect(cache.peek(key) == "v\(key)", "key \(key) was used last") }
        #expect(cache.peek(10) == "v10")
        #expect(cache.peek(3) == nil, "the least recently used go first")
        for key in 11..<1_000 { cache.put(key, "v\(key)") }
        #expect(cache.count <= 10 && cache.count >= 5)
        #expect(cache.peek(999) == "v999")
    }

    @Test func peekLeavesRecencyAlone_removeAndZeroCapacity() {
        var cache = RecentlyUsed<String, Int>(capacity: 2)
        cache.put("a", 1)
        cache.put("b", 2)
        _ = cache.peek("a")
        cache.put("c", 3)
        #expect(cache.peek("a") == nil, "peek does not count as a use")
        cache.remove("c")
        #expect(cache.peek("c") == nil)
        var none = RecentlyUsed<String, Int>(capacity: 0)
        none.put("a", 1)
        #expect(none.count == 0 && none.use("a") == nil)
    }
}
