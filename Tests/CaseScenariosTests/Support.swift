import Foundation
@testable import CaseScenarios

/// Generated streams shared by the tests (generation is deterministic, so sharing is safe).
enum Streams {
    /// 200 cases over a year with 1% poison: every event type and every poison class.
    static let demo: [ScenarioEvent] = Array(ScenarioGenerator(.demo(cases: 200, seed: 7)))
    /// Clean input, as the benchmark feeds it.
    static let clean: [ScenarioEvent] = Array(ScenarioGenerator(.benchmark(cases: 200, seed: 11)))
}

func json(_ event: ScenarioEvent) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(event.value))) as? [String: Any]
}

func data(_ event: ScenarioEvent) -> [String: Any] {
    json(event)?["data"] as? [String: Any] ?? [:]
}
