import Foundation
import Postgres

extension OutboxStore {
    /// How many of these messages are still waiting for the relay: a one-off
    /// command that enqueued them waits for its own, not for the whole outbox.
    public func unpublishedCount(messageIds: [UUID]) throws -> Int {
        guard !messageIds.isEmpty else { return 0 }
        return try connection.execute(prepared: OutboxProgressSQL.unpublishedOf, parameters: [messageIds])[0]
            .decode(Int.self, column: 0)
    }
}

enum OutboxProgressSQL {
    static let unpublishedOf = PreparedStatement(
        name: "cs_outbox_unpublished_of",
        // Set-aside messages wait for an operator, not the relay (`csworker outbox`).
        sql: "SELECT count(*) FROM outbox WHERE message_id = ANY($1::uuid[]) AND published_at IS NULL AND set_aside_at IS NULL")
}
