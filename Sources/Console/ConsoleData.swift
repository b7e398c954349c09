import CaseContract
import CaseDomain
import CasePipeline
import CaseStorage
import Dispatch
import Foundation
import JSON
import Kafka
import Logging
import Postgres

/// The console's one database session, used by one request at a time on a
/// thread of its own (libpq calls block), reconnected after a failure. Each
/// page's data is built here as the JSON its API answers.
public final class ConsoleData: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var databaseURL: String
        public var policy: Policy
        public var topics: PipelineTopics
        public var group: String
        /// nil: no brokers configured (no lag, no replay).
        public var brokers: [String]?
        public var kafkaProperties: [String: String]
        public var ssnKey: SSNKey?

        public init(
            databaseURL: String, policy: Policy, topics: PipelineTopics, group: String, brokers: [String]?,
            kafkaProperties: [String: String], ssnKey: SSNKey?
        ) {
            self.databaseURL = databaseURL
            self.policy = policy
            self.topics = topics
            self.group = group
            self.brokers = brokers
            self.kafkaProperties = kafkaProperties
            self.ssnKey = ssnKey
        }
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    let configuration: Configuration
    let logger: Logger
    private let queue = DispatchQueue(label: "csworker-console-db")
    /// Touched only on `queue`.
    private var connection: PostgresConnection?
    private let replayLock = AsyncLock()

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    var today: LocalDate { configuration.policy.calendar.businessDate(of: Date()) }

    /// Runs `body` on the console's session, off the cooperative pool; a failed call drops the session.
    func withDatabase<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    if self.connection == nil {
                        let connection = try PostgresConnection(
                            connectionString: self.configuration.databaseURL, connectTimeout: .seconds(5), logger: self.logger)
                        try connection.execute("SELECT set_config('statement_timeout', '30s', false)")
                        self.connection = connection
                    }
                    continuation.resume(returning: try body(self.connection!))
                } catch {
                    if let error = error as? PostgresError, error.isRetriable || error.isConnectionFailure {
                        self.connection?.close()
                        self.connection = nil
                    }
                    continuation.resume(throwing: error)
                }
            }
        }
    }


    // MARK: pages

    public func timeliness() async throws -> JSONValue {
        let policy = configuration.policy
        let today = self.today
        let timeframes = try await withDatabase { try SupervisionReader(connection: $0, policy: policy).timeliness(today: today) }
        return .object([
            "today": .string(today.description), "zone": .string(policy.calendar.timeZoneIdentifier),
            "timeframes": .array(timeframes.map { timeframe in
                .object([
                    "id": .string(timeframe.id), "title": .string(timeframe.title), "citation": .string(timeframe.citation),
                    "rule": .string(timeframe.rule), "past": .int(Int64(timeframe.past)), "dueSoon": .int(Int64(timeframe.dueSoon)),
                    "weekly": .array(timeframe.weekly.map {
                        .object(["weekOf": .string($0.weekOf.description), "count": .int(Int64($0.count))])
                    }),
                ])
            }),
        ])
    }

    /// nil: no such timeframe.
    public func timeframeItems(_ id: String, dueSoon: Bool) async throws -> JSONValue? {
        let policy = configuration.policy
        let today = self.today
        let found = try await withDatabase { connection -> (items: [SupervisionReader.TimeframeItem], title: String, rule: String)? in
            let reader = SupervisionReader(connection: connection, policy: policy)
            guard let items = try reader.timeframeItems(id, today: today, dueSoon: dueSoon),
                let definition = reader.definitions(today: today).first(where: { $0.id == id })
            else { return nil }
            return (items, definition.title, definition.rule)
        }
        guard let found else { return nil }
        return .object([
            "id": .string(id), "title": .string(found.title), "rule": .string(found.rule), "dueSoon": .bool(dueSoon),
            "today": .string(today.description),
            "items": .array(found.items.map { item in
                .object([
                    "caseId": .string(item.caseId), "deadline": .string(item.deadline.description),
                    "daysPast": .int(Int64(item.daysPast)), "detail": .string(item.detail),
                ])
            }),
        ])
    }

    public func caseload() async throws -> JSONValue {
        let policy = configuration.policy
        let caseload = try await withDatabase { try SupervisionReader(connection: $0, policy: policy).caseload() }
        func counts(_ values: [String: Int]) -> JSONValue { .object(values.mapValues { .int(Int64($0)) }) }
        return .object([
            "total": .int(Int64(caseload.total)),
            "stages": .array(CaseStage.allCases.map { .string($0.rawValue) }),
            "programs": .array(Program.allCases.map { .string($0.rawValue) }),
            "referralTypes": .array(TaskType.arrearsReferrals.map { .string($0.rawValue) }),
            "byStage": counts(caseload.byStage), "byProgram": counts(caseload.byProgram),
            "byStageAndProgram": .object(caseload.byStageAndProgram.mapValues(counts)),
            "activeReferralsByType": counts(caseload.activeReferralsByType),
            "processes": .array(SupervisionReader.CaseProcessFilter.allCases.map { .string($0.rawValue) }),
            "inProcess": counts(caseload.inProcess),
        ])
    }

    public func cases(stage: String?, program: String?, referral: String?, process: String? = nil) async throws -> JSONValue {
        let policy = configuration.policy
        let processFilter = process.flatMap(SupervisionReader.CaseProcessFilter.init(rawValue:))
        let rows = try await withDatabase {
            try SupervisionReader(connection: $0, policy: policy).cases(stage: stage, program: program, referral: referral, process: processFilter)
        }
        var filter: [String: JSONValue] = [:]
        if let processFilter { filter["process"] = .string(processFilter.rawValue) }
        if let stage { filter["stage"] = .string(stage) }
        if let program { filter["program"] = .string(program) }
        if let referral { filter["referral"] = .string(referral) }
        return .object([
            "filter": .object(filter),
            "cases": .array(rows.map { row in
                .object([
                    "caseId": .string(row.caseId), "program": .string(row.program), "stage": .string(row.stage),
                    "arrearsCents": .int(row.arrearsCents), "openedOn": .string(row.openedOn),
                ])
            }),
        ])
    }

    /// The contract's `case show` JSON (SSNs masked), or nil for an unknown case.
    public func caseView(_ caseId: String) async throws -> [UInt8]? {
        let today = self.today
        return try await withDatabase { connection in
            try CaseReadModel(connection: connection).show(caseId: caseId, asOf: today).map { Array(try $0.json().utf8) }
        }
    }

    public func operations() async throws -> JSONValue {
        let configuration = self.configuration
        let (applied, readings, deadLetters, setAside) = try await withDatabase { connection in
            let supervision = SupervisionReader(connection: connection, policy: configuration.policy)
            return (
                try supervision.appliedPerMinute(hours: 3),
                try OperationsReader(connection: connection, timeZone: configuration.policy.calendar.timeZoneIdentifier).readOutboxAndWaiting(),
                try supervision.deadLettersByClass(topic: configuration.topics.deadLetter, errorClassHeader: DeadLetter.Header.errorClass),
                try OutboxSetAside(connection: connection).list(limit: 100)
            )
        }
        let (lag, lagError) = await readLag()
        let formatter = Date.ISO8601FormatStyle()
        return .object([
            "appliedPerMinute": .array(applied.map { .object(["minute": .string($0.minute.formatted(formatter)), "count": .int(Int64($0.count))]) }),
            "lag": lag?.json ?? .null, "lagError": lagError.map { .string($0) } ?? .null,
            "outbox": .object([
                "backlog": .int(Int64(readings.backlog)), "oldestSeconds": .double(readings.oldestSeconds),
                "setAside": .int(Int64(readings.setAside)),
            ]),
            // Refused by the broker for good; `csworker outbox retry|drop` acts on them.
            "setAside": .array(setAside.map { message in
                .object([
                    "id": .string(message.messageId.uuidString.lowercased()), "topic": .string(message.topic),
                    "bytes": .int(Int64(message.valueBytes)), "setAsideAt": .string(message.setAsideAt.formatted(formatter)),
                    "reason": .string(message.reason),
                ])
            }),
            "waiting": .object([
                "forCase": .int(Int64(readings.waiting.forCase)), "forOrder": .int(Int64(readings.waiting.forOrder)),
                "forPerson": .int(Int64(readings.waiting.forPerson)), "oldestSeconds": .double(readings.waiting.oldestSeconds),
            ]),
            "deadLettersByClass": .object(deadLetters.mapValues { .int(Int64($0)) }),
        ])
    }

    /// The consumer group as its workers record it (`group_members`), each
    /// held partition's lag and last commit, and the outbox per topic.
    public func group() async throws -> JSONValue {
        let configuration = self.configuration
        let (members, outbox): ([GroupMember], [OutboxTopicCounts]) = try await withDatabase { connection in
            (try GroupMembers.read(group: configuration.group, on: connection), try OutboxTopicCounts.read(connection))
        }
        let (lag, lagError) = await readLag()
        var byPartition: [GroupMember.Partition: GroupLag.Partition] = [:]
        for partition in lag?.partitions ?? [] {
            byPartition[GroupMember.Partition(topic: partition.topic, partition: partition.partition)] = partition
        }
        // A partition's newest commit by any member: a member that took it over shows its predecessor's until it commits.
        var latest: [GroupMember.Partition: (commit: GroupMember.Commit, by: GroupMember)] = [:]
        for member in members {
            for commit in member.commits {
                let partition = GroupMember.Partition(topic: commit.topic, partition: commit.partition)
                if latest[partition].map({ $0.commit.at < commit.at }) ?? true { latest[partition] = (commit, member) }
            }
        }
        let held = Set(members.filter { Self.state($0) == "active" }.flatMap { $0.assigned })
        let unassigned: [JSONValue] = (lag?.partitions ?? []).compactMap { partition in
            let key = GroupMember.Partition(topic: partition.topic, partition: partition.partition)
            guard !held.contains(key) else { return nil }
            return .object(
                ["topic": .string(partition.topic), "partition": .int(Int64(partition.partition)), "lag": .int(partition.lag)]
                    .merging(Self.lastCommitJSON(latest[key]), uniquingKeysWith: { a, _ in a }))
        }
        let waiting = outbox.reduce(0) { $0 + $1.waiting }
        let setAside = outbox.reduce(0) { $0 + $1.setAside }
        let topics: [JSONValue] = outbox.map { counts in
            .object([
                "topic": .string(counts.topic), "waiting": .int(Int64(counts.waiting)),
                "oldestWaitingSeconds": .double(counts.oldestWaitingSeconds),
                "setAside": .int(Int64(counts.setAside)),
            ])
        }
        return .object([
            "group": .string(configuration.group), "goneAfterSeconds": .double(GroupMembers.goneAfterSeconds),
            "members": .array(members.map { Self.memberJSON($0, lag: byPartition, commits: latest) }),
            // Input partitions no running member holds (a rebalance, or no worker at all).
            "unassigned": .array(unassigned),
            "lag": lag?.json ?? .null, "lagError": lagError.map { .string($0) } ?? .null,
            "outbox": .object([
                "waiting": .int(Int64(waiting)), "setAside": .int(Int64(setAside)), "topics": .array(topics),
            ]),
        ])
    }

    /// Running, gone (silent too long: it died or lost the database) or left (stopped cleanly).
    static func state(_ member: GroupMember) -> String {
        member.leftAt != nil ? "left" : member.silentSeconds > GroupMembers.goneAfterSeconds ? "gone" : "active"
    }

    /// `lastCommitOffset`, `lastCommitAt` and `lastCommitBy` of a partition's newest recorded commit.
    static func lastCommitJSON(_ entry: (commit: GroupMember.Commit, by: GroupMember)?) -> [String: JSONValue] {
        [
            "lastCommitOffset": entry.map { .int($0.commit.offset) } ?? .null,
            "lastCommitAt": entry.map { .string($0.commit.at.formatted(Date.ISO8601FormatStyle())) } ?? .null,
            "lastCommitBy": entry.map {
                .object(["memberId": .string($0.by.memberId), "host": .string($0.by.host), "pid": .int(Int64($0.by.pid))])
            } ?? .null,
        ]
    }

    static func memberJSON(
        _ member: GroupMember, lag: [GroupMember.Partition: GroupLag.Partition],
        commits: [GroupMember.Partition: (commit: GroupMember.Commit, by: GroupMember)]
    ) -> JSONValue {
        let formatter = Date.ISO8601FormatStyle()
        let partitions: [JSONValue] = member.assigned.map { partition in
            let broker = lag[partition]
            let fields: [String: JSONValue] = [
                "topic": .string(partition.topic), "partition": .int(Int64(partition.partition)),
                "lag": broker.map { .int($0.lag) } ?? .null, "end": broker.map { .int($0.end) } ?? .null,
                "committed": broker?.committed.map { .int($0) } ?? .null,
            ]
            return .object(fields.merging(lastCommitJSON(commits[partition]), uniquingKeysWith: { a, _ in a }))
        }
        return .object([
            "memberId": .string(member.memberId), "host": .string(member.host), "pid": .int(Int64(member.pid)),
            "state": .string(state(member)), "startedAt": .string(member.startedAt.formatted(formatter)),
            "assignedAt": member.assignedAt.map { .string($0.formatted(formatter)) } ?? .null,
            "lastSeen": .string(member.lastSeen.formatted(formatter)), "silentSeconds": .double(member.silentSeconds),
            "leftAt": member.leftAt.map { .string($0.formatted(formatter)) } ?? .null,
            "partitions": .array(partitions),
        ])
    }

    /// The group's lag from the brokers, or why there is none.
    private func readLag() async -> (GroupLag?, String?) {
        let configuration = self.configuration
        guard let brokers = configuration.brokers else { return (nil, "no brokers configured (CSE_KAFKA_BROKERS)") }
        do {
            return (try await blocking {
                try GroupLag.read(
                    brokers: brokers, properties: configuration.kafkaProperties, group: configuration.group,
                    topics: configuration.topics.input, timeout: .seconds(3), logger: Logger(label: "csworker.console"))
            }, nil)
        } catch {
            return (nil, "\(error)")
        }
    }

    public func deadLetters(canReplay: Bool) async throws -> JSONValue {
        let topic = configuration.topics.deadLetter
        let (records, replays) = try await withDatabase { connection in
            // Listing opens nothing sealed: any key will do.
            let store = DeadLetterStore(connection: connection, protector: SSNProtector(key: .random()))
            let records = try store.list(topic: topic, limit: 500)
            return (records, try store.replays(of: records.map(\.messageId)))
        }
        let formatter = Date.ISO8601FormatStyle()
        return .object([
            "canReplay": .bool(canReplay && configuration.brokers != nil && configuration.ssnKey != nil),
            "classes": .array(Array(Set(records.compactMap { $0.header(DeadLetter.Header.errorClass) })).sorted().map { .string($0) }),
            "deadLetters": .array(records.map { record in
                let replay = replays[record.messageId]
                return .object([
                    "id": .string(record.messageId.uuidString.lowercased()),
                    "eventId": record.header(DeadLetter.Header.eventId).map { .string($0) } ?? .null,
                    "when": .string(record.createdAt.formatted(formatter)),
                    "sourceTopic": .string(record.header(DeadLetter.Header.sourceTopic) ?? ""),
                    "sourcePartition": .string(record.header(DeadLetter.Header.sourcePartition) ?? ""),
                    "sourceOffset": .string(record.header(DeadLetter.Header.sourceOffset) ?? ""),
                    "errorClass": .string(record.header(DeadLetter.Header.errorClass) ?? ""),
                    "reason": .string(record.header(DeadLetter.Header.reason) ?? ""),
                    "replayedAt": record.replayedAt.map { .string($0.formatted(formatter)) } ?? .null,
                    "replayedBy": replay.map { .string($0.by) } ?? .null,
                    // The chain: the dead letter this one's replay came from, and how often it failed.
                    "replayOf": record.header(DeadLetter.Header.replayOf).map { .string($0) } ?? .null,
                    "attempts": .string(record.header(DeadLetter.Header.attempts) ?? "1"),
                    "firstFailedAt": record.header(DeadLetter.Header.firstFailedAt).map { .string($0) } ?? .null,
                ])
            }),
        ])
    }

    /// Replays dead letters (by id or a whole class) as `user`; one replay at a time.
    public func replay(ids: [UUID], errorClass: String?, by user: ConsoleUser) async throws -> JSONValue {
        guard let brokers = configuration.brokers, let key = configuration.ssnKey else {
            throw Unavailable(description: "replay needs CSE_KAFKA_BROKERS and CSE_SSN_KEY")
        }
        await replayLock.lock()
        defer { Task { await replayLock.unlock() } }
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
        producerConfiguration.properties = configuration.kafkaProperties
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        defer { producer.close() }
        // Its own session: the replay's statements interleave with sends to the broker.
        let connection = try await blocking { [configuration, logger] in
            try PostgresConnection(connectionString: configuration.databaseURL, connectTimeout: .seconds(5), logger: logger)
        }
        defer { connection.close() }
        let replay = DeadLetterReplay(
            store: DeadLetterStore(connection: connection, protector: SSNProtector(key: key)), producer: producer,
            topics: configuration.topics, logger: logger)
        let report = try await replay.replay(ids.isEmpty ? .all : .ids(ids), errorClass: errorClass, by: user.name)
        return .object([
            "replayed": .int(Int64(report.replayed.count)),
            "skipped": .array(report.skipped.map { .object(["id": .string($0.record.messageId.uuidString.lowercased()), "reason": .string($0.reason)]) }),
            "unknownIds": .array(report.unknownIds.map { .string($0.uuidString.lowercased()) }),
        ])
    }
}

/// Runs blocking work (a broker query, a password hash) on a dispatch thread,
/// off the cooperative pool the HTTP handlers run on.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// One holder at a time, for async code.
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
    }
}
