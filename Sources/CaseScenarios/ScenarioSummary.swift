import Foundation

/// What a feed contained, for the demo to print and tests to check.
public struct ScenarioSummary: Sendable, Hashable, CustomStringConvertible {
    public var cases: Int
    public var events = 0
    public var bytes = 0
    public var byType: [String: Int] = [:]
    public var byTopic: [String: Int] = [:]
    public var poisonByClass: [PoisonClass: Int] = [:]
    /// Mutated records mixed in (`Mutations`), by kind; counted apart from `events`.
    public var mutantsByKind: [Mutations.Kind: Int] = [:]
    public var firstOccurredAt: Date?
    public var lastOccurredAt: Date?

    public init(cases: Int) { self.cases = cases }

    /// Runs the whole generator (nothing is kept but the counts).
    public init(_ configuration: ScenarioConfiguration) {
        self.init(cases: configuration.cases)
        for event in ScenarioGenerator(configuration) { record(event) }
    }

    public var poison: Int { poisonByClass.values.reduce(0, +) }

    public mutating func record(_ event: ScenarioEvent) {
        events += 1
        bytes += event.value.count
        byTopic[event.topic, default: 0] += 1
        if let poison = event.poison {
            poisonByClass[poison, default: 0] += 1
        } else {
            byType[event.type, default: 0] += 1
        }
        if firstOccurredAt == nil { firstOccurredAt = event.occurredAt }
        lastOccurredAt = event.occurredAt
    }

    public mutating func recordMutant(_ kind: Mutations.Kind) {
        mutantsByKind[kind, default: 0] += 1
    }

    public var description: String {
        var lines = ["\(events) events (\(bytes / 1024) KiB) for \(cases) cases"]
        if let first = firstOccurredAt, let last = lastOccurredAt {
            lines.append("business time \(ScenarioDate(first)) .. \(ScenarioDate(last))")
        }
        for topic in ScenarioTopic.all {
            lines.append("\(topic): \(byTopic[topic, default: 0])")
            for type in ScenarioTopic.eventTypes[topic]! {
                lines.append("  \(type): \(byType[type, default: 0])")
            }
        }
        lines.append("poison: \(poison)")
        for kind in PoisonClass.allCases where poisonByClass[kind, default: 0] > 0 {
            lines.append("  \(kind.rawValue): \(poisonByClass[kind]!)")
        }
        if !mutantsByKind.isEmpty {
            lines.append("mutants: \(mutantsByKind.values.reduce(0, +))")
            for kind in Mutations.Kind.allCases where mutantsByKind[kind, default: 0] > 0 {
                lines.append("  \(kind.rawValue): \(mutantsByKind[kind]!)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
