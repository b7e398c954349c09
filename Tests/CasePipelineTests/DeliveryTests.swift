import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Kafka
import Postgres
import Testing

/// At-least-once delivery in, exactly-once effects out: redeliveries,
/// reprocessed batches, poison messages and events that arrive before their case.
@Suite("Pipeline: delivery", .timeLimit(.minutes(2)))
struct DeliveryTests {
    /// A case whose three events cause tasks: the application (court
    /// preparation), the order (withholding at the known employer) and a hearing.
    static func caseEvents(_ caseId: String, ssn: String) -> [ScenarioEvent] {
        [
            ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn, employer: .sample),
                occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 15)),
            ScenarioEvents.orderEstablished(
                caseId: caseId, medicalSupportOrdered: true, effectiveOn: "2026-04-01",
                occurredAt: ScenarioDate(stringLiteral: "2026-03-12").at(hour: 15)),
            ScenarioEvents.hearingScheduled(
                caseId: caseId, hearingType: .enforcement, scheduledFor: ScenarioDate(stringLiteral: "2026-05-18").at(hour: 14),
                occurredAt: ScenarioDate(stringLiteral: "2026-04-01").at(hour: 15)),
        ]
    }

    @Test func theSameEventsDeliveredTwice_haveNoSecondEffect() async throws {
        try await withHarness { h in
            let events = Self.caseEvents("DUP-1", ssn: "934200001")
            for event in events { try await h.feed(event) }
            let first = try await h.waitForTasks { $0.caseId == "DUP-1" && $0.type == "court-preparation" }
            #expect(!first.isEmpty)
            try await h.waitUntilProcessed(3)
            let historyBefore = try h.count("SELECT count(*) FROM case_history")
            let outboxBefore = try h.count("SELECT count(*) FROM outbox")

            // Every event again, as a producer retry or an upstream replay delivers them.
            try await h.produce(events)
            try await eventually(timeout: .seconds(30), "the worker has seen the redeliveries") {
                h.workerStatistics.duplicates >= events.count
            }
            #expect(try h.processedEvents == 3)
            #expect(try h.count("SELECT count(*) FROM case_history") == historyBefore)
            #expect(try h.count("SELECT count(*) FROM outbox") == outboxBefore)
            try await Task.sleep(for: .milliseconds(500))  // a stray republication would show up by now
            let tasks = h.collector.tasks(for: "DUP-1")
            #expect(tasks.count == Set(tasks.map(\.id)).count, "a task was published twice")
            #expect(tasks.count == outboxBefore)
            #expect(try h.count("SELECT count(*) FROM case_history WHERE case_id = 'DUP-1'") == 3)
        }
    }

    /// The worker commits offsets only after the batch's transaction; a crash
    /// in between redelivers the batch, which must change nothing.
    @Test func aBatchReprocessedAfterACrashBeforeTheOffsetCommit_changesNothing() async throws {
        try await withHarness(workers: 0) { h in
            let events = Self.caseEvents("CRASH-1", ssn: "934200002") + Self.caseEvents("CRASH-2", ssn: "934200003")
            let records = h.records(events)

            let first = try h.processor().process(records)
            #expect(first.applied == 6)
            #expect(first.tasks > 0)
            let outbox = try h.outboxMessageIds()
            let history = try h.count("SELECT count(*) FROM case_history")

            // The restarted worker (a new process: new connection) gets the same batch.
            let second = try h.processor().process(records)
            #expect(second.applied == 0)
            #expect(second.duplicates == 6)
            #expect(second.tasks == 0)
            #expect(try h.outboxMessageIds() == outbox)
            #expect(try h.count("SELECT count(*) FROM case_history") == history)

            // Replayed from scratch into another database, the same events give the same task ids.
            try await withHarness(workers: 0) { replay in
                _ = try replay.processor().process(replay.records(events))
                #expect(try replay.outboxMessageIds() == outbox)
            }
        }
    }

    @Test func poisonAmongGoodMessages_isDeadLettered_andTheGoodOnesAreApplied() async throws {
        try await withHarness(waitingHorizon: .seconds(1)) { h in
            let good = Self.caseEvents("GOOD-1", ssn: "934200004")
            let malformed = ScenarioEvents.malformedJSON(caseId: "GOOD-1")
            let violation = ScenarioEvents.schemaViolation(.amountAsString, caseId: "GOOD-1")
            let unknownType = ScenarioEvents.unknownType(caseId: "GOOD-1")
            let unknownCase = ScenarioEvents.unknownCase(caseId: "NEVER-OPENED-1")
            try await h.produce([good[0], malformed, violation, good[1], unknownType, unknownCase, good[2]])

            try await eventually(timeout: .seconds(30), "four dead letters are published") { h.collector.deadLetters.count >= 4 }
            try await h.waitUntilProcessed(4)  // three good events and the unknown-case one
            let letters = h.collector.deadLetters
            #expect(letters.count == 4)
            let byClass = Dictionary(grouping: letters) { $0.header(DeadLetter.Header.errorClass) ?? "" }
            #expect(Set(byClass.keys) == ["malformed-json", "schema-violation", "unknown-type", "unknown-case"])
            for (poison, errorClass) in [(malformed, "malformed-json"), (violation, "schema-violation"), (unknownType, "unknown-type"), (unknownCase, "unknown-case")] {
                let letter = try #require(byClass[errorClass]?.first)
                #expect(letter.value == poison.value, "the dead letter carries the original bytes")
                #expect(letter.header(DeadLetter.Header.sourceTopic) == h.topics.prefix + poison.topic)
                #expect(letter.header(DeadLetter.Header.sourcePartition).flatMap { Int32($0) } != nil)
                #expect(letter.header(DeadLetter.Header.sourceOffset).flatMap { Int64($0) } != nil)
                let reason = try #require(letter.header(DeadLetter.Header.reason))
                #expect(!reason.isEmpty)
                #expect(!reason.contains("GOOD-1") && !reason.contains("NEVER-OPENED-1"), "reasons never echo identifiers")
            }
            #expect(byClass["unknown-case"]?.first?.header(DeadLetter.Header.eventId) == unknownCase.eventId)

            let view = try #require(try h.show("GOOD-1", asOf: "2026-04-30"))
            #expect(view.history.map(\.eventType) == ["intake.application", "court.order-established", "court.hearing-scheduled"])
            #expect(try h.count("SELECT count(*) FROM processed_events WHERE outcome = 'dead-lettered'") == 1)
        }
    }

    /// Issue 20: a ~1 MB input record the broker accepted is dead-lettered by a
    /// relay whose producer keeps librdkafka's default `message.max.bytes` (as
    /// every relay did before): the dead letter is refused for good. It is set
    /// aside with its reason, and the relay moves on -- the next dead letter of
    /// the same shard and the tasks after it are published. Retried once the
    /// producer follows the dead-letter topic's limit, it goes out byte for byte.
    @Test func aMessageTheBrokerRefusesForGood_isSetAside_andTheNextOnesArePublished() async throws {
        try await withHarness { h in
            let small = ScenarioEvents.malformedJSON(caseId: "BIG-1")
            var big = small  // same key, so the same outbox shard
            big.value = Array("{\"padding\": \"".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1_040_000)
            #expect(big.value.count > 1_000_000 && big.value.count < PipelineTopics.maxMessageBytes - 1_024)
            var upstream = KafkaProducerConfiguration(bootstrapServers: try Services.brokers())
            upstream.maxMessageBytes = PipelineTopics.maxMessageBytes  // an upstream system using the input topic's limit
            let input = try KafkaProducer(configuration: upstream, logger: Services.logger)
            defer { input.close() }
            _ = try await input.send(KafkaOutgoingMessage(topic: h.topics.prefix + big.topic, key: big.key, value: big.value))
            let good = Self.caseEvents("BIG-2", ssn: "934200090")
            try await h.produce([small] + good)

            try await eventually(timeout: .seconds(60), "the next dead letter and the later tasks are published") {
                h.collector.deadLetters.contains { $0.value == small.value } && !h.collector.tasks(for: "BIG-2").isEmpty
            }
            try await eventually(timeout: .seconds(30), "nothing but the set-aside message is left") {
                try h.count("SELECT count(*) FROM outbox WHERE published_at IS NULL AND set_aside_at IS NULL") == 0
            }
            let setAside = OutboxSetAside(connection: h.connection)
            let listed = try setAside.list()
            #expect(listed.count == 1)
            let message = try #require(listed.first)
            #expect(message.topic == h.topics.deadLetter)
            #expect(message.reason.contains("MSG_SIZE_TOO_LARGE"))
            #expect(try h.count("SELECT count(DISTINCT shard) FROM outbox WHERE topic = $1", h.topics.deadLetter) == 1)
            #expect(!h.collector.deadLetters.contains { $0.value == big.value })
            let readings = try OperationsReader(connection: h.connection, timeZone: "America/Chicago").readOutboxAndWaiting()
            #expect(readings.setAside == 1 && readings.backlog == 0)
            let status = try ProcessingStatusReader(connection: h.connection, deadLetterTopic: h.topics.deadLetter).read()
            #expect(status.outbox.setAside == 1 && status.outbox.waiting == 0)

            // The old relay goes; the service's producer limits follow the dead-letter topic's.
            await h.stopWorkers()
            #expect(try setAside.intervene(.retry, messageId: message.messageId, actor: "test", reason: "limits raised") == .done)
            var limits = KafkaProducerConfiguration(bootstrapServers: try Services.brokers())
            limits.maxMessageBytes = PipelineTopics.producerMaxMessageBytes
            let producer = try KafkaProducer(configuration: limits, logger: Services.logger)
            defer { producer.close() }
            let relayConnection = try PostgresConnection(connectionString: h.databaseURL, connectTimeout: .seconds(5))
            defer { relayConnection.close() }
            let relay = OutboxRelay(
                source: OutboxStore(connection: relayConnection, protector: h.protector, logger: Services.logger),
                producer: producer, configuration: OutboxRelay.Configuration(calendar: BusinessCalendar()), logger: Services.logger)
            relay.start()
            try await eventually(timeout: .seconds(30), "the retried dead letter is published") {
                h.collector.deadLetters.contains { $0.value == big.value }
            }
            relay.stop(drain: .seconds(3))
            let letter = try #require(h.collector.deadLetters.first { $0.value == big.value })
            #expect(Array(letter.key.utf8) == big.key, "byte for byte, key and value")
            #expect(try setAside.count() == 0)
            #expect(try h.count("SELECT count(*) FROM outbox_interventions WHERE action = 'retry' AND actor = 'test'") == 1)
        }
    }

    @Test func aNewHireBeforeTheIntake_issuesWithholdingOnceTheCaseExists() async throws {
        try await withHarness { h in
            let caseId = "EARLY-1", ssn = "934200005"
            let hire = ScenarioEvents.newHire(ssn: ssn, occurredAt: ScenarioDate(stringLiteral: "2026-03-02").at(hour: 14))
            try await h.feed(hire)
            #expect(try h.count("SELECT count(*) FROM parked_events") == 1)
            #expect(try h.count("SELECT count(*) FROM cases") == 0)
            #expect(h.collector.tasks.isEmpty)

            try await h.feed(ScenarioEvents.intakeApplication(
                caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn, employer: nil),
                existingOrder: ScenarioOrderTerms(orderId: "\(caseId)-O1", effectiveOn: "2026-03-01"),
                occurredAt: ScenarioDate(stringLiteral: "2026-03-09").at(hour: 15)))
            let withholding = try await h.waitForTasks { $0.caseId == caseId && $0.type == "income-withholding" }
            #expect(withholding.map(\.action) == ["ISSUE"])
            #expect(withholding.first?.causationId == hire.eventId)
            #expect(try h.count("SELECT count(*) FROM parked_events") == 0)
            #expect(try h.count("SELECT count(*) FROM processed_events WHERE outcome = 'applied'") == 2)
            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.history.map(\.eventType) == ["intake.application", "employer.new-hire"])
            #expect(view.employer?.fein.filter(\.isNumber) == ScenarioEmployer.sample.fein)
        }
    }

    @Test func eventsThatOvertakeTheirCasesApplication_waitForIt() async throws {
        try await withHarness { h in
            let caseId = "LATE-1"
            let events = Self.caseEvents(caseId, ssn: "934200006")
            // The court events arrive first (another topic, consumed independently).
            try await h.feed(events[1])
            try await h.feed(events[2])
            #expect(try h.count("SELECT count(*) FROM parked_events WHERE match_kind = 'case'") == 2)
            try await h.feed(events[0])
            try await h.waitUntilProcessed(3)
            #expect(try h.count("SELECT count(*) FROM parked_events") == 0)
            let view = try #require(try h.show(caseId, asOf: "2026-04-30"))
            #expect(view.history.map(\.eventType) == ["intake.application", "court.order-established", "court.hearing-scheduled"])
            #expect(h.collector.deadLetters.isEmpty)
        }
    }
}

extension PipelineHarness {
    var workerStatistics: WorkerCounters {
        // Tests built with withHarness run one worker; sum in case of more.
        runningWorkers.map(\.worker.statistics).reduce(into: WorkerCounters()) { total, next in
            total.duplicates += next.duplicates
            total.applied += next.applied
            total.records += next.records
            total.retries += next.retries
        }
    }

    func outboxMessageIds() throws -> Set<String> {
        Set(try connection.query("SELECT message_id::text FROM outbox").map { try $0.decode(String.self, column: 0) })
    }
}
