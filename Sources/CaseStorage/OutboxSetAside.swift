import Foundation
import Postgres

/// An outbox message the broker refused for good, as the operator sees it:
/// never its key or value (a dead letter's may carry an SSN).
public struct SetAsideMessage: Sendable, Hashable {
    public var messageId: UUID
    public var shard: Int16
    public var topic: String
    /// Bytes of the value as stored (sealed dead letters: a little more than published).
    public var valueBytes: Int
    public var createdAt: Date
    public var setAsideAt: Date
    public var reason: String
    /// Dropped by an operator: kept for audit, never published.
    public var droppedAt: Date?
}

/// What an operator did to a set-aside message.
public enum OutboxIntervention: String, Sendable, Hashable {
    case retry, drop
}

public enum OutboxInterventionOutcome: Sendable, Hashable {
    case done
    /// No outbox message with that id.
    case unknown
    /// The message is not set aside (published, waiting, or already dropped).
    case notSetAside
}

/// Set-aside outbox messages: listing them, and the operator's retry (the
/// relay takes the message again) or drop (it stays, marked, never published).
/// Each retry and drop is recorded in `outbox_interventions` with who did it
/// and why, in the same transaction as the change.
///
/// Ordering: a set-aside message gives up its place in its shard. Messages
/// after it (the same case's later tasks included) are published without it;
/// a retried one is published after them. Tasks carry their own identity and
/// action, so a consumer that sees a WITHDRAW before its ISSUE can tell.
public struct OutboxSetAside {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Set-aside messages, oldest first; dropped ones too when `includingDropped`.
    public func list(includingDropped: Bool = false, limit: Int? = nil) throws -> [SetAsideMessage] {
        try connection.query(
            """
            SELECT message_id, shard, topic, octet_length(value), created_at, set_aside_at, coalesce(set_aside_reason, ''),
                   dropped_at
            FROM outbox
            WHERE set_aside_at IS NOT NULL AND ($1 OR dropped_at IS NULL)
            ORDER BY id
            LIMIT $2
            """, includingDropped, limit.map(Int64.init)
        ).map { row in
            SetAsideMessage(
                messageId: try row.decode(UUID.self, column: 0), shard: try row.decode(Int16.self, column: 1),
                topic: try row.decode(String.self, column: 2), valueBytes: try row.decode(Int.self, column: 3),
                createdAt: try row.decode(Date.self, column: 4), setAsideAt: try row.decode(Date.self, column: 5),
                reason: try row.decode(String.self, column: 6), droppedAt: try row.decode(Date?.self, column: 7))
        }
    }

    /// Messages set aside and not dropped (the index of migration 11).
    public func count() throws -> Int {
        try connection.query(
            "SELECT count(*) FROM outbox WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL"
        )[0].decode(Int.self, column: 0)
    }

    /// Retries (clears the mark; the relay publishes it at its next pass) or
    /// drops the message, recording `actor` and `reason`.
    public func intervene(
        _ action: OutboxIntervention, messageId: UUID, actor: String, reason: String?
    ) throws -> OutboxInterventionOutcome {
        try connection.transaction { connection -> OutboxInterventionOutcome in
            let update = switch action {
            case .retry: "UPDATE outbox SET set_aside_at = NULL, set_aside_reason = NULL"
            case .drop: "UPDATE outbox SET dropped_at = now()"
            }
            let changed = try connection.query(
                update + """
                     WHERE message_id = $1 AND set_aside_at IS NOT NULL AND dropped_at IS NULL AND published_at IS NULL
                    RETURNING id
                    """, messageId)
            guard !changed.isEmpty else {
                let exists = try connection.query("SELECT 1 FROM outbox WHERE message_id = $1", messageId)
                return exists.isEmpty ? .unknown : .notSetAside
            }
            try connection.execute(
                "INSERT INTO outbox_interventions (message_id, action, actor, reason) VALUES ($1, $2, $3, $4)",
                messageId, action.rawValue, actor, reason)
            return .done
        }
    }
}
