import Foundation
import Logging
import Postgres

/// A dead letter as an operator sees it: where it came from and why it was
/// refused, never its payload.
public struct DeadLetterRecord: Sendable, Hashable {
    public var id: Int64
    public var messageId: UUID
    public var createdAt: Date
    public var publishedAt: Date?
    public var replayedAt: Date?
    /// The contract's headers: source topic/partition/offset, error class, reason, event id.
    public var headers: [OutboxHeader]

    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// Dead letters are outbox rows on the dead-letter topic (sealed when they
/// carry personal data). Reading their payload back and recording replays is
/// all this does; publishing is the caller's.
public final class DeadLetterStore: @unchecked Sendable {
    public let connection: PostgresConnection
    let protector: SSNProtector

    public init(connection: PostgresConnection, protector: SSNProtector) {
        self.connection = connection
        self.protector = protector
    }

    /// Dead letters on `topic`, oldest first; `limit` keeps the newest.
    public func list(topic: String, limit: Int? = nil) throws -> [DeadLetterRecord] {
        let result = try connection.execute(
            prepared: DeadLetterSQL.list, parameters: [topic, Int64(limit ?? Int(Int64.max))])
        return try result.map { row in
            DeadLetterRecord(
                id: try row.decode(Int64.self, column: 0), messageId: try row.decode(UUID.self, column: 1),
                createdAt: try row.decode(Date.self, column: 2), publishedAt: try row.decode(Date?.self, column: 3),
                replayedAt: try row.decode(Date?.self, column: 4),
                headers: try OutboxHeader.list(json: try row.decode(PostgresJSON.self, column: 5).bytes))
        }.reversed()
    }

    /// The original Kafka key and value of a dead letter, opened.
    public func original(messageId: UUID) throws -> (key: [UInt8], value: [UInt8])? {
        let result = try connection.execute(prepared: DeadLetterSQL.original, parameters: [messageId])
        guard result.rowCount > 0 else { return nil }
        let row = result[0]
        var key = try row.decode([UInt8].self, column: 1)
        var value = try row.decode([UInt8].self, column: 2)
        if try row.decode(Bool.self, column: 0) {
            let context = "outbox:\(messageId.lowercasedText)"
            key = try protector.open(key, context: context + ":key")
            value = try protector.open(value, context: context)
        }
        return (key, value)
    }

    /// Before re-injecting a dead-lettered event: forget that it was
    /// dead-lettered, so the worker's dedupe lets it through once more. An
    /// event recorded as applied (or parked) is left alone, so replaying it
    /// has no effect. Returns whether the event will be processed again.
    @discardableResult
    public func allowReprocessing(eventId: UUID) throws -> Bool {
        try connection.execute(prepared: DeadLetterSQL.forgetDeadLettered, parameters: [eventId]).affectedRows > 0
    }

    /// Marks the dead letter replayed and records who did it (an operator's
    /// name in the console, `cli:<user>` from the command line).
    public func markReplayed(messageId: UUID, by who: String) throws {
        try connection.execute(prepared: DeadLetterSQL.markReplayed, parameters: [messageId])
        try connection.execute(prepared: DeadLetterSQL.recordReplay, parameters: [messageId, who])
    }

    /// The latest replay of each of these dead letters: who and when.
    public func replays(of messageIds: [UUID]) throws -> [UUID: (by: String, at: Date)] {
        guard !messageIds.isEmpty else { return [:] }
        var latest: [UUID: (by: String, at: Date)] = [:]
        for row in try connection.query(
            """
            SELECT DISTINCT ON (message_id) message_id, replayed_by, replayed_at FROM dead_letter_replays
            WHERE message_id = ANY($1::uuid[]) ORDER BY message_id, replayed_at DESC
            """, messageIds.map { $0.uuidString.lowercased() })
        {
            latest[try row.decode(UUID.self, column: 0)] = (try row.decode(String.self, column: 1), try row.decode(Date.self, column: 2))
        }
        return latest
    }
}

enum DeadLetterSQL {
    static let list = PreparedStatement(
        name: "cs_deadletters_list",
        sql: """
            SELECT id, message_id, created_at, published_at, replayed_at, headers FROM outbox
            WHERE sealed AND topic = $1::text  -- dead letters are the sealed rows: their own index
            ORDER BY id DESC
            LIMIT $2::int8
            """)
    static let original = PreparedStatement(
        name: "cs_deadletters_original", sql: "SELECT sealed, key, value FROM outbox WHERE message_id = $1::uuid")
    static let forgetDeadLettered = PreparedStatement(
        name: "cs_deadletters_forget",
        sql: "DELETE FROM processed_events WHERE event_id = $1::uuid AND outcome = 'dead-lettered'")
    static let recordReplay = PreparedStatement(
        name: "cs_deadletters_record_replay", sql: "INSERT INTO dead_letter_replays (message_id, replayed_by) VALUES ($1::uuid, $2::text)")
    static let markReplayed = PreparedStatement(
        name: "cs_deadletters_mark_replayed", sql: "UPDATE outbox SET replayed_at = now() WHERE message_id = $1::uuid")
}
