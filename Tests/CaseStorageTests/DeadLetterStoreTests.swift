import CaseContract
@testable import CaseStorage
import Foundation
import Postgres
import Testing

/// Dead letters read back for `csworker deadletters`: listed without payload,
/// opened only with the key, replays recorded, and only a dead-lettered
/// event's dedupe record ever forgotten.
@Suite struct DeadLetterStoreTests {
    static let topic = "cse.deadletter.v1"

    static func letter(_ n: Int, eventId: UUID) -> OutboxMessage {
        OutboxMessage(
            messageId: UUID(), topic: topic, key: Array("CS-\(n)".utf8),
            value: Array(#"{"ssn":"93450000\#(n)"}"#.utf8),
            headers: [
                OutboxHeader(name: "source-topic", value: "cse.intake.v1"),
                OutboxHeader(name: "error-class", value: "unknown-case"),
                OutboxHeader(name: "event-id", value: eventId.uuidString.lowercased()),
            ],
            containsPersonalData: true)
    }

    @Test func listsOldestFirst_opensTheOriginal_andRecordsReplays() throws {
        try withMigratedStore("deadletters") { scratch, store, protector in
            let letters = (1...3).map { Self.letter($0, eventId: UUID()) }
            let task = OutboxMessage(
                messageId: UUID(), topic: "cse.tasks.locate.v1", key: Array("CS-1".utf8), value: Array("{}".utf8),
                headers: [], containsPersonalData: false)
            try store.withBatch { try $0.enqueueOutbox(letters + [task]) }

            let deadLetters = DeadLetterStore(connection: try scratch.connect(), protector: protector)
            let listed = try deadLetters.list(topic: Self.topic)
            #expect(listed.map(\.messageId) == letters.map(\.messageId))
            #expect(listed.first?.header("error-class") == "unknown-case")
            #expect(try deadLetters.list(topic: Self.topic, limit: 2).map(\.messageId) == letters.suffix(2).map(\.messageId))

            let original = try #require(try deadLetters.original(messageId: letters[0].messageId))
            #expect(original.key == letters[0].key)
            #expect(original.value == letters[0].value)
            // Sealed at rest: another key cannot open it.
            let stranger = DeadLetterStore(connection: try scratch.connect(), protector: SSNProtector(key: .random()))
            #expect(throws: (any Error).self) { try stranger.original(messageId: letters[0].messageId) }

            try deadLetters.markReplayed(messageId: letters[1].messageId, by: "test")
            #expect(try deadLetters.list(topic: Self.topic).map { $0.replayedAt != nil } == [false, true, false])
        }
    }

    @Test func onlyADeadLetteredEventIsLetThroughAgain() throws {
        try withMigratedStore("reprocess") { scratch, store, protector in
            let refused = UUID(), applied = UUID()
            try store.withBatch { batch in
                _ = try batch.recordEvents([
                    ProcessedEvent(eventId: refused, topic: "cse.court-outcomes.v1", partition: 0, offset: 1),
                    ProcessedEvent(eventId: applied, topic: "cse.court-outcomes.v1", partition: 0, offset: 2),
                ])
                try batch.save(cases: [], outcomes: [refused: .deadLettered])
            }
            let deadLetters = DeadLetterStore(connection: try scratch.connect(), protector: protector)
            #expect(try deadLetters.allowReprocessing(eventId: applied) == false)
            #expect(try deadLetters.allowReprocessing(eventId: refused) == true)
            let remaining = try scratch.connection.query("SELECT event_id FROM processed_events").map {
                try $0.decode(UUID.self, column: 0)
            }
            #expect(remaining == [applied])
        }
    }
}
