import CaseContract
import CaseDomain
import Foundation
import JSON
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
    /// An ISSUE task's `dueBy` (`OutboxMessage.dueBy`).
    public var dueBy: LocalDate?
}

/// The relay's side of the outbox: claims shards with transaction-scoped
/// advisory locks, so one relay per shard publishes at a time (per-case order holds: a WITHDRAW never overtakes its ISSUE) and two
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
    public func withShard<T>(_ shard: Int, _ body: (ClaimedShards) throws -> T) throws -> T? {
        try withShards([shard], body)
    }

    /// Claims those of `shards` no other session holds and runs `body` with
    /// them, in one transaction that commits when `body` returns; nil, without
    /// calling `body`, when another session holds them all. One claim of many
    /// shards lets a relay publish them in one round trip to the broker.
    public func withShards<T>(_ shards: [Int], _ body: (ClaimedShards) throws -> T) throws -> T? {
        for shard in shards {
            precondition((0..<OutboxMessage.shardCount).contains(shard), "shard \(shard) out of range")
        }
        guard !shards.isEmpty else { return nil }
        return try connection.transaction(isolation: .readCommitted) { connection -> T? in
            let claimed = try connection.execute(
                prepared: OutboxSQL.claim, parameters: [Self.shardLockClass, shards.map(Int32.init)]
            ).map { Int16(try $0.decode(Int32.self, column: 0)) }
            guard !claimed.isEmpty else { return nil }
            let claim = ClaimedShards(store: self, shards: claimed)
            defer { claim.isOpen = false }
            return try body(claim)
        }
    }

    /// Rows not yet published and not set aside, all shards (for draining and metrics).
    public func unpublishedCount() throws -> Int {
        try connection.execute(prepared: OutboxSQL.unpublishedCount, parameters: [])[0].decode(Int.self, column: 0)
    }

    /// Shards that have unpublished rows, so an idle relay claims only those.
    public func shardsWithWork() throws -> [Int] {
        try connection.execute(prepared: OutboxSQL.shardsWithWork, parameters: [Int32(OutboxMessage.shardCount)]).map {
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

/// A row the broker refused for good, and why (librdkafka's code and text,
/// never the payload).
public struct OutboxRefusal: Sendable, Hashable {
    public var id: Int64
    public var reason: String

    public init(id: Int64, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// Shards claimed by `OutboxStore.withShards`; valid only inside it.
public final class ClaimedShards {
    let store: OutboxStore
    public let shards: [Int16]
    var isOpen = true

    init(store: OutboxStore, shards: [Int16]) {
        self.store = store
        self.shards = shards
    }

    /// Each claimed shard's oldest unpublished rows (at most `limit` per
    /// shard), in id (= enqueue) order within each shard.
    public func unpublished(limit: Int) throws -> [OutboxRow] {
        try checkOpen("unpublished")
        let result = try store.connection.execute(
            prepared: OutboxSQL.unpublished, parameters: [shards, Int64(limit)])
        var rows: [OutboxRow] = []
        rows.reserveCapacity(result.rowCount)
        for row in result {
            let messageId = try row.decode(UUID.self, column: 1)
            let sealed = try row.decode(Bool.self, column: 3)
            var key = try row.decode([UInt8].self, column: 4)
            var value = try row.decode([UInt8].self, column: 5)
            if sealed {
                let context = "outbox:\(messageId.lowercasedText)"
                key = try store.protector.open(key, context: context + ":key")
                value = try store.protector.open(value, context: context)
            }
            rows.append(
                OutboxRow(
                    id: try row.decode(Int64.self, column: 0), messageId: messageId, shard: try row.decode(Int16.self, column: 8),
                    topic: try row.decode(String.self, column: 2), key: key, value: value,
                    headers: try OutboxHeader.list(json: try row.decode(PostgresJSON.self, column: 6).bytes),
                    createdAt: try row.decode(Date.self, column: 7),
                    dueBy: try row.decode(String?.self, column: 9).flatMap(LocalDate.init)))
        }
        return rows
    }

    /// Marks rows published (call only for rows the broker acknowledged).
    public func markPublished(_ ids: [Int64]) throws {
        try checkOpen("markPublished")
        guard !ids.isEmpty else { return }
        try store.connection.execute(prepared: OutboxSQL.markPublished, parameters: [ids, shards])
    }

    /// Sets rows aside with the broker's reason (call only for permanent
    /// refusals): the relay's selection skips them from now on.
    public func markSetAside(_ refusals: [OutboxRefusal]) throws {
        try checkOpen("markSetAside")
        guard !refusals.isEmpty else { return }
        try store.connection.execute(
            prepared: OutboxSQL.markSetAside, parameters: [refusals.map(\.id), refusals.map(\.reason), shards])
    }

    private func checkOpen(_ operation: String) throws {
        guard isOpen else {
            throw PostgresError(kind: .misuse, message: "shard claim already ended", operation: operation)
        }
    }
}

enum OutboxSQL {
    /// The shards whose locks were free (and are now held).
    static let claim = PreparedStatement(
        name: "cs_outbox_claim",
        sql: "SELECT s FROM unnest($2::int4[]) AS s WHERE pg_try_advisory_xact_lock($1::int4, s)")
    /// Per shard an index range scan of the unpublished rows, not one sort of them all.
    static let unpublished = PreparedStatement(
        name: "cs_outbox_unpublished",
        sql: """
            SELECT o.id, o.message_id, o.topic, o.sealed, o.key, o.value, o.headers, o.created_at, o.shard,
                   o.due_by::text
            FROM unnest($1::int2[]) AS s(shard)
            CROSS JOIN LATERAL (
                SELECT * FROM outbox
                WHERE outbox.shard = s.shard AND published_at IS NULL AND set_aside_at IS NULL
                ORDER BY id
                LIMIT $2::int8
            ) AS o
            ORDER BY o.shard, o.id
            """)
    static let markPublished = PreparedStatement(
        name: "cs_outbox_mark_published",
        sql: """
            UPDATE outbox SET published_at = now()
            WHERE id = ANY($1::int8[]) AND shard = ANY($2::int2[]) AND published_at IS NULL
            """)
    /// Only rows still unpublished and not set aside: a retry that cleared the
    /// mark meanwhile, or another relay's publish, leaves the row alone.
    static let markSetAside = PreparedStatement(
        name: "cs_outbox_mark_set_aside",
        sql: """
            UPDATE outbox SET set_aside_at = now(), set_aside_reason = r.reason
            FROM unnest($1::int8[], $2::text[]) AS r(id, reason)
            WHERE outbox.id = r.id AND outbox.shard = ANY($3::int2[]) AND published_at IS NULL AND set_aside_at IS NULL
            """)
    static let unpublishedCount = PreparedStatement(
        name: "cs_outbox_unpublished_count",
        sql: "SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL")
    /// One index probe per shard, rather than DISTINCT over every unpublished row.
    static let shardsWithWork = PreparedStatement(
        name: "cs_outbox_shards_with_work",
        sql: """
            SELECT s::int2 FROM generate_series(0, $1::int4 - 1) AS s
            WHERE EXISTS (SELECT 1 FROM outbox WHERE shard = s AND published_at IS NULL AND set_aside_at IS NULL)
            """)
    static let deletePublished = PreparedStatement(
        name: "cs_outbox_delete_published",
        sql: "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1::timestamptz")
}

extension OutboxHeader {
    /// The `headers` column (`[{"name": ..., "value": ...}]`), read with the
    /// project's pull reader: the relay reads every row's headers, and
    /// Foundation's JSONDecoder, then a JSON tree per row, showed in its profile.
    static func list(json bytes: [UInt8]) throws -> [OutboxHeader] {
        do {
            return try JSONPullReader.read(bytes) { reader in
                var headers: [OutboxHeader] = []
                try reader.beginArray()
                while try reader.nextElement() {
                    var name: String?, value: String?
                    try reader.beginObject()
                    while let key = try reader.nextKey() {
                        switch key {
                        case "name": name = try reader.readString()
                        case "value": value = try reader.readString()
                        default: try reader.skipValue()
                        }
                    }
                    guard let name, let value else {
                        throw PostgresError(kind: .misuse, message: "an outbox header lacks name or value", operation: "decode headers")
                    }
                    headers.append(OutboxHeader(name: name, value: value))
                }
                return headers
            }
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(kind: .misuse, message: "outbox headers are not a JSON array of name/value objects: \(error)", operation: "decode headers")
        }
    }
}
