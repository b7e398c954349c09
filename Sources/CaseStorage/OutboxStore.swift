import Foundation
import Logging
import Postgres

/// An unpublished outbox row, key and value opened.
public struct OutboxRow: Sendable, Hashable {
    public var id: Int64
    public var messageId: UUID
    public var shard: Int16
    public var topic: String
    public var key: [UInt8]
    public var value: [UInt8]
    public var headers: [OutboxHeader]
    public var createdAt: Date
}

/// The relay's side of the outbox: claims one shard at a time with a
/// transaction-scoped advisory lock, so one relay per shard publishes at a
/// time (per-case order holds: a WITHDRAW never overtakes its ISSUE) and two
/// processes never publish the same row concurrently. A crash between publish
/// and `markPublished` rolls the claim back: the rows are published again with
/// the same message ids.
///
/// Ids come from a sequence, so rows of different cases may commit out of id
/// order; nothing is skipped (the relay reads every unpublished row, not past
/// a watermark), and rows of one case are in order because batches touching
/// a case are serialised by its row lock: the later batch allocates its ids
/// after the earlier one committed.
public final class OutboxStore: @unchecked Sendable {
    public let connection: PostgresConnection
    let protector: SSNProtector
    let logger: Logger

    /// Advisory lock class for shard claims (two-int4 form, its own key space).
    static let shardLockClass: Int32 = 0x6373_6f62  // "csob"

    public init(
        connection: PostgresConnection, protector: SSNProtector, logger: Logger = Logger(label: "csworker.outbox")
    ) {
        self.connection = connection
        self.protector = protector
        self.logger = logger
    }

    /// Runs `body` with `shard` claimed, in one transaction that commits when
    /// `body` returns. Returns nil, without calling `body`, when another
    /// session holds the shard.
    public func withShard<T>(_ shard: Int, _ body: (ClaimedShard) throws -> T) throws -> T? {
        precondition((0..<OutboxMessage.shardCount).contains(shard), "shard \(shard) out of range")
        return try connection.transaction(isolation: .readCommitted) { connection -> T? in
            let claimed = try connection.execute(
                prepared: OutboxSQL.claim, parameters: [Self.shardLockClass, Int32(shard)])
            guard try claimed[0].decode(Bool.self, column: 0) else { return nil }
            let claim = ClaimedShard(store: self, shard: Int16(shard))
            defer { claim.isOpen = false }
            return try body(claim)
        }
    }

    /// Rows not yet published, all shards (for draining and metrics).
    public func unpublishedCount() throws -> Int {
        try connection.execute(prepared: OutboxSQL.unpublishedCount, parameters: [])[0].decode(Int.self, column: 0)
    }

    /// Shards that have unpublished rows, so an idle relay claims only those.
    public func shardsWithWork() throws -> [Int] {
        try connection.execute(prepared: OutboxSQL.shardsWithWork, parameters: []).map {
            Int(try $0.decode(Int16.self, column: 0))
        }
    }

    /// Deletes rows published before `cutoff`; returns how many. Housekeeping:
    /// published rows have no further use once Kafka holds them.
    @discardableResult
    public func deletePublished(before cutoff: Date) throws -> Int {
        try connection.execute(prepared: OutboxSQL.deletePublished, parameters: [cutoff]).affectedRows
    }
}

/// A shard claimed by `OutboxStore.withShard`; valid only inside it.
public final class ClaimedShard {
    let store: OutboxStore
    public let shard: Int16
    var isOpen = true

    init(store: OutboxStore, shard: Int16) {
        self.store = store
        self.shard = shard
    }

    /// The shard's oldest unpublished rows, in id (= enqueue) order.
    public func unpublished(limit: Int) throws -> [OutboxRow] {
        try checkOpen("unpublished")
        let result = try store.connection.execute(
            prepared: OutboxSQL.unpublished, parameters: [shard, Int64(limit)])
        let decoder = JSONDecoder()
        var rows: [OutboxRow] = []
        rows.reserveCapacity(result.rowCount)
        for row in result {
            let messageId = try row.decode(UUID.self, column: 1)
            let sealed = try row.decode(Bool.self, column: 3)
            var key = try row.decode([UInt8].self, column: 4)
            var value = try row.decode([UInt8].self, column: 5)
            if sealed {
                let context = "outbox:\(messageId.uuidString.lowercased())"
                key = try store.protector.open(key, context: context + ":key")
                value = try store.protector.open(value, context: context)
            }
            rows.append(
                OutboxRow(
                    id: try row.decode(Int64.self, column: 0), messageId: messageId, shard: shard,
                    topic: try row.decode(String.self, column: 2), key: key, value: value,
                    headers: try decoder.decode(
                        [OutboxHeader].self, from: Data(try row.decode(PostgresJSON.self, column: 6).bytes)),
                    createdAt: try row.decode(Date.self, column: 7)))
        }
        return rows
    }

    /// Marks rows published (call only for rows the broker acknowledged).
    public func markPublished(_ ids: [Int64]) throws {
        try checkOpen("markPublished")
        guard !ids.isEmpty else { return }
        try store.connection.execute(prepared: OutboxSQL.markPublished, parameters: [ids, shard])
    }

    private func checkOpen(_ operation: String) throws {
        guard isOpen else {
            throw PostgresError(kind: .misuse, message: "shard claim already ended", operation: operation)
        }
    }
}

enum OutboxSQL {
    static let claim = PreparedStatement(
        name: "cs_outbox_claim", sql: "SELECT pg_try_advisory_xact_lock($1::int4, $2::int4)")
    static let unpublished = PreparedStatement(
        name: "cs_outbox_unpublished",
        sql: """
            SELECT id, message_id, topic, sealed, key, value, headers, created_at FROM outbox
            WHERE shard = $1::int2 AND published_at IS NULL
            ORDER BY id
            LIMIT $2::int8
            """)
    static let markPublished = PreparedStatement(
        name: "cs_outbox_mark_published",
        sql: """
            UPDATE outbox SET published_at = now()
            WHERE id = ANY($1::int8[]) AND shard = $2::int2 AND published_at IS NULL
            """)
    static let unpublishedCount = PreparedStatement(
        name: "cs_outbox_unpublished_count", sql: "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    static let shardsWithWork = PreparedStatement(
        name: "cs_outbox_shards_with_work",
        sql: "SELECT DISTINCT shard FROM outbox WHERE published_at IS NULL ORDER BY shard")
    static let deletePublished = PreparedStatement(
        name: "cs_outbox_delete_published",
        sql: "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1::timestamptz")
}
