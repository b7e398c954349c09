import JSON
import CaseDomain
import CaseStorage
import Foundation
import Testing

/// Old (Codable) against new (hand-written) snapshot codec on the generated
/// corpus, printed for a person to read: run it in release mode with
/// `CSE_SNAPSHOT_TIMING=1`. Not a timing assertion; it checks only that both
/// paths agree, and is off unless asked for.
@Suite("Case snapshot timing", .enabled(if: ProcessInfo.processInfo.environment["CSE_SNAPSHOT_TIMING"] != nil))
struct CaseSnapshotTiming {
    @Test("µs per state: JSONEncoder/JSONDecoder vs CaseSnapshotWriter/Reader")
    func compare() throws {
        let states = SnapshotCorpus.generated.map { state in
            var state = state
            state.custodialParty.ssn = nil
            state.noncustodialParty.ssn = nil
            return state
        }
        let rounds = 5
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        var oldBytes: [Data] = []
        var newBytes: [[UInt8]] = []

        let oldEncode = try measure(rounds) { oldBytes = try states.map { try encoder.encode($0) } }
        let newEncode = try measure(rounds) { newBytes = try states.map { try CaseSnapshotWriter.encode($0) } }
        var oldDecoded: [CaseState] = []
        var newDecoded: [CaseState] = []
        let oldDecode = try measure(rounds) { oldDecoded = try oldBytes.map { try decoder.decode(CaseState.self, from: $0) } }
        let newDecode = try measure(rounds) { newDecoded = try newBytes.map { try CaseSnapshotReader.decode($0) } }
        // The tree parser alone, for comparison: the reader's pull parser builds no tree.
        var parsed: [JSONValue] = []
        let parseOnly = try measure(rounds) { parsed = try newBytes.map { try JSONValue.parse($0) } }
        #expect(parsed.count == states.count)
        #expect(oldDecoded == states)
        #expect(newDecoded == states)

        let perState = { (seconds: Double) in String(format: "%.2f", seconds / Double(states.count) * 1e6) }
        let averageBytes = newBytes.reduce(0) { $0 + $1.count } / max(1, states.count)
        print("""
            case snapshot codec, \(states.count) states (avg \(averageBytes) bytes), best of \(rounds):
              encode  JSONEncoder \(perState(oldEncode)) µs/state   CaseSnapshotWriter \(perState(newEncode)) µs/state
              decode  JSONDecoder \(perState(oldDecode)) µs/state   CaseSnapshotReader \(perState(newDecode)) µs/state \
            (tree parser JSONValue.parse alone \(perState(parseOnly)) µs/state)
            """)
    }

    /// Best wall time of `rounds` runs (the least disturbed by other work on the machine).
    private func measure(_ rounds: Int, _ body: () throws -> Void) throws -> Double {
        var best = Double.infinity
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }
}
