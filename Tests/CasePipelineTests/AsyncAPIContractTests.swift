import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Kafka
import Testing
import TestSupport

@testable import CasePipeline

/// schemas/asyncapi.yaml against the code: scripts/check-asyncapi.py checks
/// the document's AsyncAPI 3 structure (references, payload schemas, bindings)
/// and prints its channels; this suite holds them equal to the topics, event
/// and task types, keys and headers the code has. Here rather than beside the
/// JSON Schema tests because the headers are read from the messages the
/// pipeline builds (CaseStorage, CasePipeline), so a header added there fails
/// this until the document lists it.
@Suite struct AsyncAPIContractTests {
    /// One channel as check-asyncapi.py prints it.
    struct Channel: Decodable, Equatable, CustomStringConvertible {
        var action: String?
        var messages: [String]
        var headers: [String]
        var requiredHeaders: [String]
        var key: String?

        var description: String {
            "\(action ?? "-") \(messages.sorted()) headers \(headers.sorted()) required \(requiredHeaders.sorted()) key \(key ?? "-")"
        }

        /// Order-insensitive, as the document's order carries no meaning.
        func same(as other: Channel) -> Bool {
            action == other.action && Set(messages) == Set(other.messages) && messages.count == other.messages.count
                && Set(headers) == Set(other.headers) && Set(requiredHeaders) == Set(other.requiredHeaders) && key == other.key
        }
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func declaredChannels() async throws -> [String: Channel] {
        let outcome = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", repositoryRoot.appendingPathComponent("scripts/check-asyncapi.py").path,
             repositoryRoot.appendingPathComponent("schemas/asyncapi.yaml").path])
        switch outcome.status {
        case 0: break
        case 3: Issue.record("PyYAML or jsonschema is missing (scripts/setup.sh installs them): \(outcome.stderr)")
        default: Issue.record("schemas/asyncapi.yaml is not a valid AsyncAPI 3 document (exit \(outcome.status)):\n\(outcome.stderr)")
        }
        try #require(outcome.status == 0)
        return try JSONDecoder().decode([String: Channel].self, from: Data(outcome.stdout.utf8))
    }

    /// The contract's key per input topic; a new topic does not compile until it has one.
    static func keyTitle(_ topic: EventTopic) -> String {
        switch topic {
        case .intake, .courtOutcomes, .collections: "caseId"
        case .employerReports, .dataMatches: "FEIN"
        }
    }

    /// A task as the outbox publishes it; every type gets the same headers.
    static let sampleTask = OutboxMessage(task: CaseTask(
        type: .locate, action: .issue, caseId: "C-1", target: "party:P-1", causationId: UUID(),
        createdAt: Date(timeIntervalSince1970: 0), dueBy: LocalDate(year: 2026, month: 1, day: 2)!,
        data: .locate(LocateRequest(
            partyId: "P-1", role: .custodialParty, firstName: "A", lastName: "B", dateOfBirth: nil,
            reason: .serviceFailed, ssnKnown: false, lastKnownAddress: nil)),
        basis: .timeframe("45 CFR 303.3(b)(3)", from: LocalDate(year: 2026, month: 1, day: 2)!, days: 75)))

    /// Every channel the code reads or writes, as the document must declare it.
    static func expectedChannels() -> [String: Channel] {
        let topics = PipelineTopics.contract
        var expected: [String: Channel] = [:]
        for topic in EventTopic.allCases {
            expected[topic.rawValue] = Channel(
                action: "receive", messages: topic.eventTypes.map(\.rawValue), headers: [], requiredHeaders: [],
                key: keyTitle(topic))
        }
        // Every task has these; a task an input record caused also carries its trace (the sweep's do not).
        let taskHeaders = sampleTask.headers.map(\.name)
        let traced = TraceContext(traceId: String(repeating: "a", count: 32), parentId: String(repeating: "b", count: 16), flags: "01", state: "s=1")
        let traceHeaders = traced.headers(for: UUID()).map(\.name)
        for type in TaskType.allCases {
            expected[topics.tasks(type)] = Channel(
                action: "send", messages: [type.rawValue], headers: taskHeaders + traceHeaders, requiredHeaders: taskHeaders,
                key: "caseId")
        }
        var plain = DeadLetter.Source(topic: topics.intake, partition: 0, offset: 1, key: Array("k".utf8), value: Array("v".utf8))
        var replayed = plain
        // A replay that failed again, with a trace: every optional header present.
        replayed.headers = [KafkaHeader("traceparent", "00-\(String(repeating: "a", count: 32))-\(String(repeating: "b", count: 16))-01"),
                            KafkaHeader("tracestate", "s=1"), KafkaHeader("replay-of", UUID().uuidString.lowercased())]
        replayed.timestampMilliseconds = 1
        plain.headers = []
        let provenance = DeadLetter.Provenance(consumerGroup: "g")
        // `original-<name>` headers are a pattern in the document, not names.
        func names(_ message: OutboxMessage) -> [String] {
            message.headers.map(\.name).filter { !$0.hasPrefix("original-") || $0 == DeadLetter.Header.originalTimestamp }
        }
        let full = DeadLetter.message(for: replayed, eventId: UUID(), errorClass: "c", reason: "r", topics: topics, provenance: provenance)
        let least = DeadLetter.message(for: plain, eventId: nil, errorClass: "c", reason: "r", topics: topics, provenance: provenance)
        expected[topics.deadLetter] = Channel(
            action: "send", messages: ["dead-letter"], headers: names(full), requiredHeaders: names(least), key: "source key")
        return expected
    }

    @Test("the document is valid AsyncAPI 3 and declares exactly the code's channels")
    func documentMatchesTheCode() async throws {
        let declared = try await Self.declaredChannels()
        let expected = Self.expectedChannels()
        #expect(Set(expected.keys) == Set(PipelineTopics.contract.all))
        let missing = Set(expected.keys).subtracting(declared.keys).sorted()
        let extra = Set(declared.keys).subtracting(expected.keys).sorted()
        #expect(missing.isEmpty, "topics the code uses that schemas/asyncapi.yaml lacks: \(missing)")
        #expect(extra.isEmpty, "topics in schemas/asyncapi.yaml the code does not use: \(extra)")
        for (address, channel) in expected.sorted(by: { $0.key < $1.key }) {
            guard let found = declared[address] else { continue }
            #expect(found.same(as: channel), "\(address): the document says \(found), the code \(channel)")
        }
    }

    @Test("the keys the document names are the ones the pipeline writes")
    func keysAreTheCodes() {
        let topics = PipelineTopics.contract
        #expect(Self.sampleTask.key == Array("C-1".utf8), "tasks are keyed by caseId")
        let source = DeadLetter.Source(topic: topics.intake, partition: 3, offset: 9, key: Array("CS-1".utf8), value: [0xFF])
        let letter = DeadLetter.message(
            for: source, eventId: nil, errorClass: "c", reason: "r", topics: topics, provenance: DeadLetter.Provenance(consumerGroup: "g"))
        #expect(letter.key == source.key && letter.value == source.value, "a dead letter keeps the refused message's key and bytes")
    }
}
