import Foundation
import JSON
import Postgres

/// One worker's membership of the consumer group, as `group_members` holds
/// it: written by the worker (`GroupMembers.record`), read by the console.
public struct GroupMember: Sendable, Hashable {
    public struct Partition: Sendable, Hashable {
        public var topic: String
        public var partition: Int32

        public init(topic: String, partition: Int32) {
            self.topic = topic
            self.partition = partition
        }
    }

    /// The last offset this member committed for a partition (the next offset to read), and when.
    public struct Commit: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var at: Date

        public init(topic: String, partition: Int32, offset: Int64, at: Date) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.at = at
        }
    }

    public var memberId: String
    public var group: String
    public var host: String
    public var pid: Int32
    public var startedAt: Date
    public var assigned: [Partition]
    /// When the assignment last changed; nil before the first.
    public var assignedAt: Date?
    public var commits: [Commit]
    /// Set by the database when read; ignored when written.
    public var lastSeen: Date = .distantPast
    /// Seconds since the member last reported, by the database's clock (read only).
    public var silentSeconds: Double = 0
    /// When it left the group cleanly; nil while it runs (or if it died).
    public var leftAt: Date?

    public init(
        memberId: String, group: String, host: String, pid: Int32, startedAt: Date, assigned: [Partition] = [],
        assignedAt: Date? = nil, commits: [Commit] = [], leftAt: Date? = nil
    ) {
        self.memberId = memberId
        self.group = group
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.assigned = assigned
        self.assignedAt = assignedAt
        self.commits = commits
        self.leftAt = leftAt
    }
}

/// `group_members`: each worker upserts its own row; the console reads them.
public enum GroupMembers {
    /// Members not refreshed for this long (a worker refreshes every few seconds) are gone.
    public static let goneAfterSeconds: Double = 30
    /// Rows of members gone longer than this are deleted when a worker starts.
    static let keptFor = "7 days"

    /// Upserts the member's row (`last_seen` is the database's now).
    public static func record(_ member: GroupMember, on connection: PostgresConnection) throws {
        let assigned = JSONValue.array(member.assigned.map {
            .object(["topic": .string($0.topic), "partition": .int(Int64($0.partition))])
        })
        let commits = JSONValue.array(member.commits.map {
            .object([
                "topic": .string($0.topic), "partition": .int(Int64($0.partition)), "offset": .int($0.offset),
                "at": .double($0.at.timeIntervalSince1970),
            ])
        })
        try connection.execute(
            """
            INSERT INTO group_members (member_id, group_id, host, pid, started_at, assigned, assigned_at, commits, last_seen, left_at)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, now(), $9)
            ON CONFLICT (member_id) DO UPDATE SET assigned = EXCLUDED.assigned, assigned_at = EXCLUDED.assigned_at,
                commits = EXCLUDED.commits, last_seen = now(), left_at = EXCLUDED.left_at
            """,
            member.memberId, member.group, member.host, member.pid, member.startedAt, assigned.serializedString(),
            member.assignedAt, commits.serializedString(), member.leftAt)
    }

    /// Forgets the group's members gone for a week (a worker starting tidies up; no schedule needed).
    public static func prune(group: String, on connection: PostgresConnection) throws {
        try connection.execute(
            "DELETE FROM group_members WHERE group_id = $1 AND last_seen < now() - interval '\(keptFor)'", group)
    }

    /// The group's members, running ones first (by host and pid), then those gone (latest first).
    public static func read(group: String, on connection: PostgresConnection) throws -> [GroupMember] {
        let rows = try connection.query(
            """
            SELECT member_id, group_id, host, pid, started_at, assigned::text, assigned_at, commits::text, last_seen,
                   greatest(0, extract(epoch FROM now() - last_seen))::float8, left_at
            FROM group_members WHERE group_id = $1
            ORDER BY (left_at IS NULL AND last_seen > now() - make_interval(secs => $2)) DESC, host, pid, last_seen DESC
            """, group, goneAfterSeconds)
        return try rows.map { row in
            func json(_ column: Int) throws -> [JSONValue] {
                (try? JSONValue.parse(Array(try row.decode(String.self, column: column).utf8)))?.arrayValue ?? []
            }
            func number(_ value: JSONValue?) -> Double {
                switch value {
                case .int(let n): Double(n)
                case .double(let d): d
                default: 0
                }
            }
            var member = GroupMember(
                memberId: try row.decode(String.self, column: 0), group: try row.decode(String.self, column: 1),
                host: try row.decode(String.self, column: 2), pid: try row.decode(Int32.self, column: 3),
                startedAt: try row.decode(Date.self, column: 4),
                assigned: try json(5).compactMap { item in
                    guard let topic = item["topic"]?.stringValue, let partition = item["partition"]?.intValue else { return nil }
                    return GroupMember.Partition(topic: topic, partition: Int32(partition))
                },
                assignedAt: try row.decode(Date?.self, column: 6),
                commits: try json(7).compactMap { item in
                    guard let topic = item["topic"]?.stringValue, let partition = item["partition"]?.intValue,
                        let offset = item["offset"]?.intValue
                    else { return nil }
                    return GroupMember.Commit(
                        topic: topic, partition: Int32(partition), offset: offset,
                        at: Date(timeIntervalSince1970: number(item["at"])))
                },
                leftAt: try row.decode(Date?.self, column: 10))
            member.lastSeen = try row.decode(Date.self, column: 8)
            member.silentSeconds = try row.decode(Double.self, column: 9)
            return member
        }
    }
}

/// The outbox per topic: messages waiting to be published, and those the
/// relay set aside (the broker refused them for good).
public struct OutboxTopicCounts: Sendable, Hashable {
    public var topic: String
    public var waiting: Int
    public var oldestWaitingSeconds: Double
    public var setAside: Int

    public init(topic: String, waiting: Int, oldestWaitingSeconds: Double, setAside: Int) {
        self.topic = topic
        self.waiting = waiting
        self.oldestWaitingSeconds = oldestWaitingSeconds
        self.setAside = setAside
    }

    /// Waiting and set-aside counts by topic, topics in name order (one
    /// statement; the unpublished rows' partial index answers it). Dropped
    /// messages are neither: they will never be published.
    public static func read(_ connection: PostgresConnection) throws -> [OutboxTopicCounts] {
        let rows = try connection.query(
            """
            SELECT topic,
                   count(*) FILTER (WHERE set_aside_at IS NULL),
                   coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE set_aside_at IS NULL))::float8, 0),
                   count(*) FILTER (WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL)
            FROM outbox WHERE published_at IS NULL
            GROUP BY topic ORDER BY topic
            """)
        var counts: [OutboxTopicCounts] = []
        for row in rows {
            counts.append(OutboxTopicCounts(
                topic: try row.decode(String.self, column: 0), waiting: try row.decode(Int.self, column: 1),
                oldestWaitingSeconds: max(0, try row.decode(Double.self, column: 2)), setAside: try row.decode(Int.self, column: 3)))
        }
        return counts
    }
}
