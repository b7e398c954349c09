import CaseContract
import Foundation
import Testing

@testable import CaseDomain

/// The checkout's files as the tests see them, found from this source file's
/// path so the tests read fixtures and schemas straight from the repository
/// (no bundled resources).
enum EventFixtures {
    /// The repository root: the nearest ancestor of this file holding schemas/events.
    static let repositoryRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("schemas/events/event.json").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        fatalError("no schemas/events/event.json above \(#filePath)")
    }()

    static let directory = repositoryRoot.appendingPathComponent("Tests/CaseDomainTests/Fixtures/events")

    /// Sorted file names (`x.json`) in valid/, invalid/ or malformed/.
    static func names(in group: String) -> [String] {
        let url = directory.appendingPathComponent(group)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    static func url(_ group: String, _ name: String) -> URL {
        directory.appendingPathComponent(group).appendingPathComponent(name)
    }

    static func bytes(_ group: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(group, name)))
    }

    static func decode(_ group: String, _ name: String) throws -> Result<Event, EventDecodingError> {
        EventDecoder.decode(try bytes(group, name))
    }

    struct Expectation: Decodable, Sendable {
        var kind: String
        var field: String
    }

    /// invalid-expectations.json: for each invalid fixture, the dead-letter class and the field the decoder must blame.
    static func invalidExpectations() throws -> [String: Expectation] {
        try JSONDecoder().decode(
            [String: Expectation].self, from: Data(contentsOf: directory.appendingPathComponent("invalid-expectations.json")))
    }
}

extension Result where Failure == EventDecodingError {
    var event: Success? { try? get() }
    var error: EventDecodingError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
