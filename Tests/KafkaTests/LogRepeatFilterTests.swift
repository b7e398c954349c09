@testable import Kafka
import Testing

@Suite struct LogRepeatFilterTests {
    @Test func dropsRepeatsWithinTheWindowAndCountsThem() {
        let filter = LogRepeatFilter(window: .seconds(30))
        let start = ContinuousClock.now
        let refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused"
        #expect(filter.admit(refused + " (after 0ms in state CONNECT)", now: start) == 0)
        #expect(filter.admit(refused + " (after 1ms in state CONNECT)", now: start + .seconds(1)) == nil)
        #expect(filter.admit(refused + " (after 0ms in state CONNECT)", now: start + .seconds(2)) == nil)
        // A different message is not held back by the first.
        #expect(filter.admit("1/1 brokers are down", now: start + .seconds(3)) == 0)
        // After the window the message is logged again with the count it swallowed.
        #expect(filter.admit(refused + " (after 0ms in state CONNECT)", now: start + .seconds(31)) == 2)
        #expect(filter.admit(refused + " (after 0ms in state CONNECT)", now: start + .seconds(32)) == nil)
    }
}
