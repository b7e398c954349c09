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
        let root = EventFixtures.repositoryRoot
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("scripts/validate-json-schemas.py").path]
            + fixtures.map { EventFixtures.directory.appendingPathComponent($0).path }
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
        let prefix = EventFixtures.directory.path + "/"
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
        for type in EventType.allCases {
            let schema = try load("\(type.rawValue).json")
            #expect(schema["$id"]?.stringValue?.hasSuffix("/\(type.rawValue).json") == true)
            #expect(schema["properties"]?["type"]?["const"]?.stringValue == type.rawValue)
            let envelope = schema["$ref"]?.stringValue
            #expect(envelope == (type.requiresCaseId ? "common.json#/$defs/caseEventEnvelope" : "common.json#/$defs/envelope"))
        }
    }
}
