import CaseContract
import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing

@Suite("Outbox")
struct OutboxTests {
    /// Messages for `caseCount` case keys, `perCase` each, in enqueue order.
    func messages(caseCount: Int, perCase: Int) -> [OutboxMessage] {
        (0..<perCase).flatMap { round in
            (0..<caseCount).map { index in
                OutboxMessage(
                    messageId: UUID(), topic: "cse.tasks.case-review.v1", key: Array("CS-\(index)".utf8),
                    value: Array("{\"round\":\(round)}".utf8), headers: [OutboxHeader(name: "task-type", value: "case-review")],
                    containsPersonalData: false)
            }
        }
    }

    @Test("shards are a stable function of the key, within 0..<16, and spread")
    func sharding() {
        #expect(OutboxMessage.shard(forKey: Array("CS-1".utf8)) == OutboxMessage.shard(forKey: Array("CS-1".utf8)))
        let shards = Set((0..<200).map { OutboxMessage.shard(forKey: Array("CS-\($0)".utf8)) })
        #expect(shards.allSatisfy { (0..<16).contains($0) })
        #expect(shards.count == 16)
        // FNV-1a of "" is the offset basis 0x811c9dc5 = 2166136261; mod 16 = 5.
        #expect(OutboxMessage.shard(forKey: []) == 5)
    }

    @Test("a shard's rows come back in enqueue order; marked rows are not returned again; message ids are unique")
    func orderAndMarking() throws {
        try withMigratedStore("outbox") { scratch, store, protector in
            let all = messages(caseCount: 40, perCase: 3)
            try store.withBatch { try $0.enqueueOutbox(all) }
            // Enqueuing the same message ids again (a re-processed batch) adds nothing.
            try store.withBatch { try $0.enqueueOutbox(Array(all.prefix(10))) }
            #expect(try count(scratch.connection, "outbox") == all.count)

            let outbox = OutboxStore(connection: scratch.connection, protector: protector)
            #expect(try outbox.unpublishedCount() == all.count)
            let shard = Int(all[0].shard)
            let expected = all.filter { $0.shard == all[0].shard }
            let rows = try #require(try outbox.withShard(shard) { try $0.unpublished(limit: 1_000) })
            #expect(rows.map(\.messageId) == expected.map(\.messageId))
            #expect(rows.map(\.id) == rows.map(\.id).sorted())
            #expect(rows[0].value == expected[0].value)
            #expect(rows[0].key == expected[0].key)
            #expect(rows[0].headers == expected[0].headers)

            // Mark the first two; a limit takes the oldest first.
            try outbox.withShard(shard) { claim in
                let first = try claim.unpublished(limit: 2)
                #expect(first.map(\.messageId) == Array(expected.prefix(2).map(\.messageId)))
                try claim.markPublished(first.map(\.id))
            }
            let rest = try #require(try outbox.withShard(shard) { try $0.unpublished(limit: 1_000) })
            #expect(rest.map(\.messageId) == Array(expected.dropFirst(2).map(\.messageId)))
            #expect(try outbox.unpublishedCount() == all.count - 2)
            #expect(try outbox.shardsWithWork() == Array(Set(all.map { Int($0.shard) })).sorted())

            // A claim that throws after publishing marks nothing: the rows are published again.
            struct CrashAfterPublish: Error {}
            #expect(throws: CrashAfterPublish.self) {
                try outbox.withShard(shard) { claim in
                    try claim.markPublished(try claim.unpublished(limit: 1_000).map(\.id))
                    throw CrashAfterPublish()
                }
            }
            #expect(try outbox.withShard(shard) { try $0.unpublished(limit: 1_000) }?.count == rest.count)

            #expect(try outbox.deletePublished(before: Date().addingTimeInterval(60)) == 2)
        }
    }

    @Test("a set-aside row is skipped so its shard moves on; retry gives it back, drop keeps it unpublished; both recorded")
    func setAsideRetryAndDrop() throws {
        try withMigratedStore("setaside") { scratch, store, protector in
            let all = messages(caseCount: 1, perCase: 4)  // one key: one shard, in order
            try store.withBatch { try $0.enqueueOutbox(all) }
            let outbox = OutboxStore(connection: scratch.connection, protector: protector)
            let shard = Int(all[0].shard)
            let rows = try #require(try outbox.withShard(shard) { try $0.unpublished(limit: 10) })
            try outbox.withShard(shard) { claim in
                try claim.markPublished([rows[0].id])
                try claim.markSetAside([OutboxRefusal(id: rows[1].id, reason: "MSG_SIZE_TOO_LARGE: too large"),
                                        OutboxRefusal(id: rows[2].id, reason: "TOPIC_AUTHORIZATION_FAILED: denied")])
            }
            // The relay sees only what follows the set-aside rows; counts leave them out.
            #expect(try outbox.withShard(shard) { try $0.unpublished(limit: 10) }?.map(\.id) == [rows[3].id])
            #expect(try outbox.unpublishedCount() == 1)
            let setAside = OutboxSetAside(connection: scratch.connection)
            #expect(try setAside.list().map(\.messageId) == [rows[1].messageId, rows[2].messageId])
            #expect(try setAside.list().first?.reason == "MSG_SIZE_TOO_LARGE: too large")
            #expect(try setAside.count() == 2)

            #expect(try setAside.intervene(.retry, messageId: rows[1].messageId, actor: "cli:ops", reason: nil) == .done)
            #expect(try setAside.intervene(.drop, messageId: rows[2].messageId, actor: "cli:ops", reason: "topic retired") == .done)
            #expect(try setAside.intervene(.drop, messageId: rows[2].messageId, actor: "cli:ops", reason: "again") == .notSetAside)
            #expect(try setAside.intervene(.retry, messageId: rows[0].messageId, actor: "cli:ops", reason: nil) == .notSetAside)
            #expect(try setAside.intervene(.retry, messageId: UUID(), actor: "cli:ops", reason: nil) == .unknown)
            // Retried: back in id order, ahead of the row that overtook it while set aside.
            #expect(try outbox.withShard(shard) { try $0.unpublished(limit: 10) }?.map(\.id) == [rows[1].id, rows[3].id])
            #expect(try setAside.count() == 0)
            let dropped = try setAside.list(includingDropped: true)
            #expect(dropped.map(\.messageId) == [rows[2].messageId] && dropped[0].droppedAt != nil)
            let record = try scratch.connection.query(
                "SELECT action, actor, coalesce(reason, '') FROM outbox_interventions ORDER BY at")
            #expect(try record.map { try [$0.decode(String.self, column: 0), $0.decode(String.self, column: 1), $0.decode(String.self, column: 2)] }
                == [["retry", "cli:ops", ""], ["drop", "cli:ops", "topic retired"]])
            // Dropped rows are never published, and never pruned as published.
            #expect(try outbox.deletePublished(before: Date().addingTimeInterval(60)) == 1)
            #expect(try count(scratch.connection, "outbox") == 3)
        }
    }

    @Test("two relays never hold the same shard: the second is refused while the first publishes")
    func exclusiveClaims() throws {
        try withMigratedStore("claims") { scratch, store, protector in
            let all = messages(caseCount: 16, perCase: 2)
            try store.withBatch { try $0.enqueueOutbox(all) }
            let first = OutboxStore(connection: try scratch.connect(), protector: protector)
            let second = OutboxStore(connection: try scratch.connect(), protector: protector)
            let shard = Int(all[0].shard)
            let otherShard = (shard + 1) % OutboxMessage.shardCount
            try first.withShard(shard) { claim in
                _ = try claim.unpublished(limit: 100)
                #expect(try second.withShard(shard) { _ in true } == nil)
                #expect(try second.withShard(otherShard) { _ in true } == true)
            }
            #expect(try second.withShard(shard) { _ in true } == true)
        }
    }

    @Test("one claim takes the free shards among many: at most `limit` rows of each, each shard in enqueue order")
    func claimingManyShards() throws {
        try withMigratedStore("many") { scratch, store, protector in
            let all = messages(caseCount: 40, perCase: 3)
            try store.withBatch { try $0.enqueueOutbox(all) }
            let first = OutboxStore(connection: try scratch.connect(), protector: protector)
            let second = OutboxStore(connection: try scratch.connect(), protector: protector)
            let shards = try first.shardsWithWork()
            #expect(shards == Array(Set(all.map { Int($0.shard) })).sorted())
            let held = shards[0]
            try first.withShard(held) { _ in
                let rows = try #require(try second.withShards(shards) { claim -> [OutboxRow] in
                    #expect(claim.shards.map(Int.init) == Array(shards.dropFirst()))
                    return try claim.unpublished(limit: 2)
                })
                for shard in shards.dropFirst() {
                    let expected = all.filter { Int($0.shard) == shard }.prefix(2).map(\.messageId)
                    #expect(rows.filter { Int($0.shard) == shard }.map(\.messageId) == Array(expected))
                }
                #expect(!rows.contains { Int($0.shard) == held })
            }
            // Marking is limited to the claimed shards.
            try second.withShards(shards) { claim in
                try claim.markPublished(try claim.unpublished(limit: 1_000).map(\.id))
            }
            #expect(try second.unpublishedCount() == 0)
            #expect(try second.shardsWithWork().isEmpty)
        }
    }

    @Test("concurrent relays over all shards publish every row exactly once, each shard in order")
    func concurrentRelaysPublishOnce() async throws {
        let scratch = try ScratchSchema("relays")
        defer { scratch.drop() }
        try Migrator.migrate(scratch.connection)
        let protector = SSNProtector(key: .random())
        let store = CaseStore(connection: scratch.connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000)
        let all = messages(caseCount: 64, perCase: 5)
        try store.withBatch { try $0.enqueueOutbox(all) }
        let relays = [try scratch.connect(), try scratch.connect()].map { OutboxStore(connection: $0, protector: protector) }

        let published = try await withThrowingTaskGroup(of: [OutboxRow].self) { group in
            for relay in relays {
                group.addTask {
                    var seen: [OutboxRow] = []
                    while try relay.unpublishedCount() > 0 {
                        for shard in 0..<OutboxMessage.shardCount {
                            _ = try relay.withShard(shard) { claim in
                                let rows = try claim.unpublished(limit: 7)
                                seen += rows
                                try claim.markPublished(rows.map(\.id))
                            }
                        }
                    }
                    return seen
                }
            }
            return try await group.reduce(into: [[OutboxRow]]()) { $0.append($1) }
        }
        let everything = published.flatMap { $0 }
        #expect(everything.count == all.count)
        #expect(Set(everything.map(\.messageId)) == Set(all.map(\.messageId)))
        // Within one relay's view, a shard's rows arrive in id order.
        for rows in published {
            for shard in 0..<Int16(OutboxMessage.shardCount) {
                let ids = rows.filter { $0.shard == shard }.map(\.id)
                #expect(ids == ids.sorted())
            }
        }
    }

    @Test("dead letters with personal data are sealed at rest and come back unchanged")
    func sealedDeadLetters() throws {
        try withMigratedStore("sealed") { scratch, store, protector in
            let poison = ScenarioEvents.newHire(ssn: "934127765")
            let message = OutboxMessage(
                messageId: UUID(), topic: "cse.deadletter.v1", key: poison.key, value: poison.value,
                headers: [OutboxHeader(name: "error-class", value: "processing-failed")], containsPersonalData: true)
            try store.withBatch { try $0.enqueueOutbox([message]) }
            let stored = try scratch.connection.query("SELECT key, value, sealed FROM outbox")
            #expect(try stored[0].decode([UInt8].self, column: 0) != poison.key)
            #expect(try stored[0].decode([UInt8].self, column: 1) != poison.value)
            #expect(try stored[0].decode(Bool.self, column: 2))
            let outbox = OutboxStore(connection: scratch.connection, protector: protector)
            let rows = try #require(try outbox.withShard(Int(message.shard)) { try $0.unpublished(limit: 10) })
            #expect(rows.count == 1)
            #expect(rows.first?.key == poison.key)
            #expect(rows.first?.value == poison.value)
        }
    }

    @Test("a task message carries the wire envelope, keyed by case id, with its id, type, action and causation headers")
    func taskMessage() throws {
        let builder = CaseBuilder()
        let (_, history) = try builder.apply(lifeOfCase("CS-700"))
        let task = try #require(history.flatMap(\.tasks).first)
        let message = OutboxMessage(task: task)
        #expect(message.messageId == task.id)
        #expect(message.topic == task.type.topic)
        #expect(message.key == Array("CS-700".utf8))
        #expect(message.value == task.wireJSON())
        #expect(!message.containsPersonalData)
        #expect(
            message.headers == [
                OutboxHeader(name: "task-id", value: task.id.uuidString.lowercased()),
                OutboxHeader(name: "task-type", value: task.type.rawValue),
                OutboxHeader(name: "task-action", value: task.action.rawValue),
                OutboxHeader(name: "causation-id", value: task.causationId.uuidString.lowercased()),
            ])
    }
}
