import CaseContract
import CaseScenarios
import JSON
import Foundation
import Testing

@testable import CaseDomain

/// The published JSON Schemas (schemas/events) and `EventDecoder` must accept
/// and reject exactly the same documents. Every fixture is judged by both: by
/// the decoder here, and by scripts/validate-json-schemas.py (Python
/// `jsonschema`, draft 2020-12, formats asserted) in one subprocess run.
@Suite struct SchemaAgreementTests {
    static let groups = ["valid", "invalid", "malformed"]
    static let fixtures: [String] = groups.flatMap { group in EventFixtures.names(in: group).map { "\(group)/\($0)" } }

    /// Verdicts of the schema validator keyed by `group/name`, or why it could not run.
    static let schemaVerdicts: Result<[String: String], ValidatorFailure> = runValidator()

    struct ValidatorFailure: Error, CustomStringConvertible {
        var description: String
    }

    static func runValidator() -> Result<[String: String], ValidatorFailure> {
        runValidator(on: fixtures.map { EventFixtures.directory.appendingPathComponent($0) }, relativeTo: EventFixtures.directory)
    }

    /// Verdicts keyed by path relative to `base`.
    static func runValidator(on files: [URL], relativeTo base: URL) -> Result<[String: String], ValidatorFailure> {
        let root = EventFixtures.repositoryRoot
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/validate-json-schemas.py").path] + files.map(\.path)
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return .failure(ValidatorFailure(description: "could not start /usr/bin/env python3: \(error)"))
        }
        // Read before waiting: a full pipe would otherwise block the child.
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errText = String(decoding: err, as: UTF8.self)
        switch process.terminationStatus {
        case 0: break
        case 127:
            return .failure(ValidatorFailure(description: "python3 is not installed (needed to check the JSON Schemas): \(errText)"))
        case 3:
            return .failure(ValidatorFailure(description: "the Python package jsonschema is missing; run `pip install jsonschema`: \(errText)"))
        default:
            return .failure(ValidatorFailure(description: "validate-json-schemas.py exited \(process.terminationStatus): \(errText)"))
        }
        var verdicts: [String: String] = [:]
        let prefix = base.path + "/"
        for line in String(decoding: out, as: UTF8.self).split(separator: "\n") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let path = String(line[..<space])
            verdicts[path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path] = String(line[line.index(after: space)...])
        }
        return .success(verdicts)
    }

    static func decoderVerdict(_ result: Result<Event, EventDecodingError>) -> String {
        switch result {
        case .success: "valid"
        case .failure(let error) where error.kind == .malformedJSON: "malformed"
        case .failure: "invalid"
        }
    }

    @Test("the corpus is large enough to mean something")
    func corpusSize() throws {
        #expect(EventFixtures.names(in: "invalid").count >= 40)
        #expect(EventFixtures.names(in: "malformed").count >= 5)
        var typesCovered = Set<EventType>()
        for name in EventFixtures.names(in: "valid") {
            if let event = try EventFixtures.decode("valid", name).event { typesCovered.insert(event.type) }
        }
        #expect(typesCovered == Set(EventType.allCases), "valid/ lacks a sample of \(Set(EventType.allCases).subtracting(typesCovered))")
        #expect(EventFixtures.names(in: "valid").filter { $0.hasPrefix("intake.application") }.count >= 3)
    }

    @Test("decoder and JSON Schema give the same verdict", arguments: fixtures)
    func sameVerdict(fixture: String) throws {
        let verdicts = try Self.schemaVerdicts.get()
        let schemaVerdict = try #require(verdicts[fixture], "validate-json-schemas.py printed no verdict for \(fixture)")
        let group = String(fixture.prefix(while: { $0 != "/" }))
        let name = String(fixture.dropFirst(group.count + 1))
        let result = try EventFixtures.decode(group, name)
        let decoderVerdict = Self.decoderVerdict(result)
        #expect(
            decoderVerdict == schemaVerdict,
            "\(fixture): decoder says \(decoderVerdict) (\(result.error?.reason ?? "-")), schema says \(schemaVerdict)")
        let expected = group == "valid" ? "valid" : group == "invalid" ? "invalid" : "malformed"
        #expect(schemaVerdict == expected, "\(fixture) is filed under \(group)/ but the schema says \(schemaVerdict)")
    }

    @Test("each invalid fixture fails for the documented reason", arguments: EventFixtures.names(in: "invalid"))
    func invalidFixtureKindAndField(name: String) throws {
        let expectation = try #require(
            try EventFixtures.invalidExpectations()[name], "invalid-expectations.json has no entry for \(name)")
        let error = try #require(try EventFixtures.decode("invalid", name).error, "\(name) decoded without error")
        #expect(error.kind.rawValue == expectation.kind, "\(name): \(error.reason)")
        #expect(error.field == expectation.field, "\(name): \(error.reason)")
        #expect(error.reason.hasPrefix("\(expectation.field): "), "\(name): reason should lead with the field: \(error.reason)")
    }

    @Test("invalid-expectations.json names exactly the invalid fixtures")
    func expectationsMatchFiles() throws {
        #expect(Set(try EventFixtures.invalidExpectations().keys) == Set(EventFixtures.names(in: "invalid")))
    }

    @Test("each malformed fixture is malformed-json with no field", arguments: EventFixtures.names(in: "malformed"))
    func malformedFixture(name: String) throws {
        let error = try #require(try EventFixtures.decode("malformed", name).error, "\(name) decoded without error")
        #expect(error.kind == .malformedJSON, "\(name): \(error.reason)")
        #expect(error.field == nil)
    }

    @Test("the schemas' enums are the decoder's enums")
    func enumsAgree() throws {
        func load(_ name: String) throws -> JSONValue {
            try JSONValue.parse([UInt8](Data(contentsOf: EventFixtures.repositoryRoot.appendingPathComponent("schemas/events/\(name)"))))
        }
        func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let common = try load("common.json")
        #expect(strings(common["$defs"]?["usState"]?["enum"]) == USState.allCodes)
        #expect(strings(try load("event.json")["properties"]?["type"]?["enum"]).sorted() == EventType.allCases.map(\.rawValue).sorted())
        func dataEnum(_ type: EventType, _ field: String) throws -> [String] {
            strings(try load("\(type.rawValue).json")["properties"]?["data"]?["properties"]?[field]?["enum"])
        }
        #expect(try dataEnum(.intakeApplication, "program") == Program.allCases.map(\.rawValue))
        #expect(try dataEnum(.employerIWOResponse, "status") == IWOStatus.allCases.map(\.rawValue))
        #expect(try dataEnum(.employerIWOResponse, "medicalCoverage") == MedicalCoverage.allCases.map(\.rawValue))
        #expect(try dataEnum(.courtOrderTerminated, "reason") == OrderTerminationReason.allCases.map(\.rawValue))
        #expect(try dataEnum(.courtPaternityEstablished, "method") == PaternityMethod.allCases.map(\.rawValue))
        #expect(try dataEnum(.courtHearingScheduled, "hearingType") == HearingType.allCases.map(\.rawValue))
        #expect(try dataEnum(.intakeReviewRequested, "requestedBy") == Requester.allCases.map(\.rawValue))
        #expect(try dataEnum(.intakeRemedyContested, "remedy") == TaskType.remedies.map(\.rawValue))
        #expect(try dataEnum(.intakeContestDecided, "remedy") == TaskType.remedies.map(\.rawValue))
        #expect(try dataEnum(.intakeContestDecided, "outcome") == ContestOutcome.allCases.map(\.rawValue))
        for type in EventType.allCases {
            let schema = try load("\(type.rawValue).json")
            #expect(schema["$id"]?.stringValue?.hasSuffix("/\(type.rawValue).json") == true)
            #expect(schema["properties"]?["type"]?["const"]?.stringValue == type.rawValue)
            let envelope = schema["$ref"]?.stringValue
            #expect(envelope == (type.requiresCaseId ? "common.json#/$defs/caseEventEnvelope" : "common.json#/$defs/envelope"))
        }
    }

    /// Beyond the hand-written corpus: random damage to the valid samples
    /// (fields dropped, values swapped for others of every kind that matters
    /// here, unknown fields added, the type changed) must still get the same
    /// verdict from both sides. Deterministic: a fixed seed, unless
    /// EVENT_MUTANT_SEED is set; EVENT_MUTANTS sets how many (default 400).
    @Test("random mutations of valid events get the same verdict from decoder and schema")
    func mutantsAgree() throws {
        let environment = ProcessInfo.processInfo.environment
        var rng = SplitMix(seed: environment["EVENT_MUTANT_SEED"].flatMap { UInt64($0) } ?? 0x1D_2026)
        let count = environment["EVENT_MUTANTS"].flatMap { Int($0) } ?? 400
        let valid = try EventFixtures.names(in: "valid").map { try JSONValue.parse(EventFixtures.bytes("valid", $0)) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("event-mutants-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var mutants: [String: [UInt8]] = [:]
        for n in 0..<count {
            var document = valid[rng.next(below: valid.count)]
            for _ in 0...rng.next(below: 2) { document = Mutation.apply(to: document, using: &rng) }
            let bytes = document.serialized()
            let name = "mutant-\(n).json"
            mutants[name] = bytes
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        let verdicts = try Self.runValidator(on: mutants.keys.sorted().map { directory.appendingPathComponent($0) }, relativeTo: directory).get()
        var verdictCounts: [String: Int] = [:]
        for (name, bytes) in mutants.sorted(by: { $0.key < $1.key }) {
            let result = EventDecoder.decode(bytes)
            let decoderVerdict = Self.decoderVerdict(result)
            verdictCounts[decoderVerdict, default: 0] += 1
            #expect(
                verdicts[name] == decoderVerdict,
                "decoder: \(decoderVerdict) (\(result.error?.reason ?? "-")), schema: \(verdicts[name] ?? "none") for \(String(decoding: bytes, as: UTF8.self))")
        }
        // The mutations must exercise both outcomes, or the test proves little.
        #expect(
            verdictCounts["valid", default: 0] >= count / 12 && verdictCounts["invalid", default: 0] >= count / 3, "\(verdictCounts)")
    }
}

/// A small deterministic generator, so a failing mutant can be reproduced.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

enum Mutation {
    /// Values that sit on either side of the rules: formats, enums, numbers of each JSON kind.
    static let replacements: [JSONValue] = [
        .null, true, false, 0, -1, 100, 12.5, 100.0, .int(.max), .double(1e19), "", " ", "x", "100", "TANF", "tanf", "ACCEPTED",
        "EMANCIPATION", "GENETIC_TEST", "CONTEMPT", "ENROLLED", "NC", "nc", "XX", "28208", "28208-1234", "2820", "123456789", "12345678",
        "923-45-6789", "12-3456789", "561234567", "2026Q3", "2026Q5", "2026-03-02", "2026-02-30", "2026-02-29", "2024-02-29",
        "0000-01-01", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00", "2026-03-02T10:00:00.25+05:30", "2026-03-02T25:00:00Z",
        "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b11", "0B9F2C3E-6A41-4B8E-9D0F-2F1E7C5A9B11", "0b9f2c3e6a414b8e9d0f2f1e7c5a9b11",
        "intake.application", "court.order-established", "employer.new-hire", "intake.party-update", "court.unknown",
        [], [[:]], [:], ["fein": "561234567"], ["ssn": "923456789"],
        ["line1": "1 Main St", "city": "Raleigh", "state": "NC", "postalCode": "27601"],
        // The bounds of issue 20: control characters, lengths, amounts, date ranges.
        "Ro\u{0}bert", "Smith\nJones", "tab\there", "esc\u{1B}[2J", "c1\u{85}", .string(String(repeating: "x", count: 100)),
        .string(String(repeating: "x", count: 101)), .string(String(repeating: "y", count: 201)), .int(1),
        .int(100_000_000_000), .int(100_000_000_001), "1899-12-31", "1900-01-01", "2199-12-31", "2200-01-01", "0000Q1", "2199Q4",
        "2200Q1", "0001-01-01T00:00:00Z", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
    ]

    static func apply(to document: JSONValue, using rng: inout SplitMix) -> JSONValue {
        let paths = leafPaths(document, prefix: [])
        let path = paths[rng.next(below: paths.count)]
        switch rng.next(below: 10) {
        case 0...1: return removing(document, at: path)
        case 2: return setting(document, at: Array(path.dropLast()) + ["unexpectedField"], to: replacements[rng.next(below: replacements.count)])
        default: return setting(document, at: path, to: replacements[rng.next(below: replacements.count)])
        }
    }

    // The document walking is the fuzzer's (CaseScenarios.Mutations): one copy.
    static func leafPaths(_ value: JSONValue, prefix: [String]) -> [[String]] { Mutations.leafPaths(value, prefix: prefix) }
    static func setting(_ value: JSONValue, at path: [String], to replacement: JSONValue) -> JSONValue {
        Mutations.setting(value, at: path, to: replacement)
    }
    static func removing(_ value: JSONValue, at path: [String]) -> JSONValue { Mutations.removing(value, at: path) }
}
