import Foundation
import JSON

/// Hostile records made from valid ones, for fuzzing the whole pipeline
/// (`csworker feed --mutations`, FuzzTests): fields deleted, types swapped,
/// boundary and overflowing numbers, NUL and control characters, 10 KB
/// strings, deep nesting, arrays of 50,000 items, dates at and past both ends
/// of the accepted range, duplicate keys, invalid UTF-8, 900 KB records, an
/// `occurredAt` years ahead.
///
/// A mutant never touches the valid part of a run: it gets an id of its own,
/// every case id it names is moved to the `FZ-` namespace, and every SSN to
/// serial 0000 (never issued, and never generated for a valid person). So a
/// mutant that is still valid opens or changes only mutant cases, and a run
/// with mutants ends with the valid cases exactly as a run without them.
public enum Mutations {
    public enum Kind: String, CaseIterable, Sendable, Hashable {
        case deleteField = "delete-field"
        case swapType = "swap-type"
        case boundaryNumber = "boundary-number"
        case overflowNumber = "overflow-number"
        case nulCharacter = "nul-character"
        case controlCharacter = "control-character"
        case longString = "long-string"
        case deepNesting = "deep-nesting"
        case hugeArray = "huge-array"
        case dateAtEnds = "date-at-ends"
        case duplicateKey = "duplicate-key"
        case invalidUTF8 = "invalid-utf8"
        case hugeRecord = "huge-record"
        case futureOccurredAt = "future-occurred-at"
    }

    /// Mixes mutants into a stream so they make `share` of it (0..<1): after
    /// each valid event, the mutants owed by then, made from it, every kind in
    /// turn. The same seed and stream give the same bytes.
    public struct Mixer: Sendable {
        let perEvent: Double
        var owed = 0.0
        var made = 0
        var random: SplitMix64

        public init(share: Double, seed: UInt64) {
            perEvent = share > 0 && share < 1 ? share / (1 - share) : 0
            random = SplitMix64(seed: seed ^ 0x6D75_7461_6E74)
        }

        /// Every kind in turn, but a 900 KB record only once in ten rounds: the
        /// heaviest kind for the broker, the outbox and the dead-letter topic.
        static let rotation: [Kind] = Array(
            repeating: Kind.allCases.filter { $0 != .hugeRecord }, count: 10).joined() + [.hugeRecord]

        /// The mutants to send right after `event`.
        public mutating func mutants(after event: ScenarioEvent) -> [(event: ScenarioEvent, kind: Kind)] {
            guard perEvent > 0, event.poison == nil else { return [] }
            owed += perEvent
            var result: [(event: ScenarioEvent, kind: Kind)] = []
            while owed >= 1 {
                owed -= 1
                let kind = Self.rotation[made % Self.rotation.count]
                made += 1
                result.append((Mutations.mutant(of: event, kind: kind, random: &random), kind))
            }
            return result
        }
    }

    /// `events` with mutants mixed in (see `Mixer`), and each mutant's kind by its event id.
    public static func mixed(
        into events: [ScenarioEvent], share: Double, seed: UInt64
    ) -> (events: [ScenarioEvent], kinds: [String: Kind]) {
        var mixer = Mixer(share: share, seed: seed)
        var result: [ScenarioEvent] = []
        var kinds: [String: Kind] = [:]
        for event in events {
            result.append(event)
            for (mutant, kind) in mixer.mutants(after: event) {
                result.append(mutant)
                kinds[mutant.eventId] = kind
            }
        }
        return (result, kinds)
    }

    /// A mutant made from `event` by `kind`, with `seed` for every choice.
    public static func mutant(of event: ScenarioEvent, kind: Kind, seed: UInt64) -> ScenarioEvent {
        var random = SplitMix64(seed: seed)
        return mutant(of: event, kind: kind, random: &random)
    }

    static func mutant(of event: ScenarioEvent, kind: Kind, random: inout SplitMix64) -> ScenarioEvent {
        var out = event
        out.poison = nil
        guard var document = try? JSONValue.parse(event.value), case .object = document else {
            return out  // poison already: left as it is
        }
        let mutantId = random.uuid()
        out.eventId = mutantId
        document = isolated(document, id: mutantId)
        if let caseId = document["caseId"]?.stringValue { out.caseId = caseId }
        out.value = mutate(document, kind: kind, random: &random)
        return out
    }

    // MARK: Isolation from the valid part

    static func isolated(_ document: JSONValue, id: String) -> JSONValue {
        var copy = rewrite(document)
        if case .object(var fields) = copy {
            fields["id"] = .string(id)
            copy = .object(fields)
        }
        return copy
    }

    /// Case ids into `FZ-`, SSNs to serial 0000, everywhere in the document.
    static func rewrite(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            var result: [String: JSONValue] = [:]
            for (key, member) in fields {
                switch (key, member) {
                case ("caseId", .string(let caseId)): result[key] = .string("FZ-" + caseId)
                case ("ssn", .string(let ssn)) where ssn.utf8.count == 9: result[key] = .string(String(ssn.prefix(5)) + "0000")
                default: result[key] = rewrite(member)
                }
            }
            return .object(result)
        case .array(let elements):
            return .array(elements.map(rewrite))
        default:
            return value
        }
    }

    // MARK: The mutations

    static let boundaryNumbers: [JSONValue] = [0, 1, -1, .int(100_000_000_000), .int(100_000_000_001), .int(99_999_999_999)]
    static let overflowingNumbers: [JSONValue] = [
        .int(.max), .int(.min), .double(9_223_372_036_854_775_808), .double(-9.3e18), .double(1e300), .double(0.5),
    ]
    static let hostileDates = ["1900-01-01", "2199-12-31", "1899-12-31", "2200-01-01", "0000-01-01", "9999-12-31", "0001-01-01"]
    static let controlCharacters = ["\u{1B}[2J", "\u{07}", "\u{85}", "\u{7F}", "\n", "\r", "\t", "\u{9B}31m", "\u{08}"]

    static func mutate(_ document: JSONValue, kind: Kind, random: inout SplitMix64) -> [UInt8] {
        let paths = leafPaths(document, prefix: [])
        let strings = paths.filter { if case .string? = value(document, at: $0) { true } else { false } }
        let numbers = paths.filter {
            switch value(document, at: $0) {
            case .int?, .double?: true
            default: false
            }
        }
        let dates = strings.filter { value(document, at: $0)?.stringValue.map(isDateLike) ?? false }
        func pick(_ candidates: [[String]]) -> [String] {
            candidates.isEmpty ? paths[random.below(paths.count)] : candidates[random.below(candidates.count)]
        }
        func changing(_ path: [String], _ transform: (JSONValue) -> JSONValue) -> [UInt8] {
            setting(document, at: path, to: transform(value(document, at: path) ?? .null)).serialized()
        }
        switch kind {
        case .deleteField:
            return removing(document, at: pick(paths)).serialized()
        case .swapType:
            let swaps: [JSONValue] = [.null, true, 7, 12.5, "text", [], [:]]
            return changing(pick(paths)) { _ in swaps[random.below(swaps.count)] }
        case .boundaryNumber:
            return changing(pick(numbers)) { _ in boundaryNumbers[random.below(boundaryNumbers.count)] }
        case .overflowNumber:
            return changing(pick(numbers)) { _ in overflowingNumbers[random.below(overflowingNumbers.count)] }
        case .nulCharacter:
            return changing(pick(strings)) { .string(($0.stringValue ?? "") + "\u{0}x") }
        case .controlCharacter:
            let control = controlCharacters[random.below(controlCharacters.count)]
            return changing(pick(strings)) { .string("A" + control + ($0.stringValue ?? "")) }
        case .longString:
            return changing(pick(strings)) { _ in .string(String(repeating: "L", count: 10_240)) }
        case .deepNesting:
            return changing(pick(paths)) { _ in
                var nested: JSONValue = "deep"
                for level in 0..<200 { nested = level % 2 == 0 ? .array([nested]) : .object(["n": nested]) }
                return nested
            }
        case .hugeArray:
            let arrays = paths.filter { if case .array? = value(document, at: $0) { true } else { false } }
            let path = arrays.isEmpty ? ["data", "items"] : arrays[random.below(arrays.count)]
            // Small items, so the record stays well under the broker's limit.
            return setting(document, at: path, to: .array(Array(repeating: 1, count: 50_000))).serialized()
        case .dateAtEnds:
            let date = hostileDates[random.below(hostileDates.count)]
            return changing(pick(dates)) { old in
                guard let text = old.stringValue, text.utf8.count > 10 else { return .string(date) }
                return .string(date + String(text.dropFirst(10)))  // a timestamp keeps its time of day
            }
        case .duplicateKey:
            // The same member twice: a strict reader refuses, a lax one takes either.
            var bytes = document.serialized()
            let extra = Array(#""type":"court.order-established","#.utf8)
            bytes.insert(contentsOf: extra, at: 1)
            return bytes
        case .invalidUTF8:
            var bytes = document.serialized()
            let quote = bytes.lastIndex(of: UInt8(ascii: "\"")) ?? 1
            bytes.insert(contentsOf: [0xC3, 0x28, 0xFF], at: quote)
            return bytes
        case .hugeRecord:
            return setting(document, at: ["padding"], to: .string(String(repeating: "P", count: 900 * 1024))).serialized()
        case .futureOccurredAt:
            return setting(document, at: ["occurredAt"], to: .string("2099-06-01T12:00:00Z")).serialized()
        }
    }

    static func isDateLike(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        return utf8.count >= 10 && utf8[4] == UInt8(ascii: "-") && utf8[7] == UInt8(ascii: "-")
            && utf8[0..<4].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    // MARK: Paths in a document

    /// Every value's path (objects and arrays included), keys and decimal indexes.
    public static func leafPaths(_ value: JSONValue, prefix: [String]) -> [[String]] {
        switch value {
        case .object(let fields):
            return fields.keys.sorted().flatMap { key in [prefix + [key]] + leafPaths(fields[key]!, prefix: prefix + [key]) }
        case .array(let elements):
            return elements.indices.flatMap { n in [prefix + ["\(n)"]] + leafPaths(elements[n], prefix: prefix + ["\(n)"]) }
        default:
            return []
        }
    }

    static func value(_ root: JSONValue, at path: [String]) -> JSONValue? {
        var current: JSONValue? = root
        for step in path {
            switch current {
            case .object(let fields)?: current = fields[step]
            case .array(let elements)?: current = Int(step).flatMap { elements.indices.contains($0) ? elements[$0] : nil }
            default: return nil
            }
        }
        return current
    }

    public static func setting(_ value: JSONValue, at path: [String], to replacement: JSONValue) -> JSONValue {
        guard let head = path.first else { return replacement }
        switch value {
        case .object(var fields):
            fields[head] = setting(fields[head] ?? .null, at: Array(path.dropFirst()), to: replacement)
            return .object(fields)
        case .array(var elements):
            guard let n = Int(head), elements.indices.contains(n) else { return value }
            elements[n] = setting(elements[n], at: Array(path.dropFirst()), to: replacement)
            return .array(elements)
        default:
            return value
        }
    }

    public static func removing(_ value: JSONValue, at path: [String]) -> JSONValue {
        guard let head = path.first else { return value }
        switch value {
        case .object(var fields):
            fields[head] = path.count == 1 ? nil : fields[head].map { removing($0, at: Array(path.dropFirst())) }
            return .object(fields)
        case .array(var elements):
            guard let n = Int(head), elements.indices.contains(n) else { return value }
            if path.count == 1 { elements.remove(at: n) } else { elements[n] = removing(elements[n], at: Array(path.dropFirst())) }
            return .array(elements)
        default:
            return value
        }
    }
}
