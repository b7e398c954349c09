import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Postgres
import Testing
import TestSupport

/// `csworker migrate` leaves the runtime role able to do everything the
/// workers and operator commands do, and nothing else. A role of the test's
/// own (roles are cluster-wide: dropped at the end), with a name that needs
/// quoting, connects and runs every runtime path: batches (applying, parking,
/// unparking, refusing, deduplicating), parked-event expiry, the relay's
/// shard claims, the sweep and its record, dead-letter replay bookkeeping,
/// `case show` and `status`.
@Suite("Storage: the runtime role's rights", .timeLimit(.minutes(3)))
struct RuntimeRoleTests {
    @Test func migrateGrantsWhatTheWorkerNeedsAndNoDDL() async throws {
        let scratch = try ScratchRole("csw-Runtime")
        defer { scratch.drop() }
        let (role, url) = (scratch.role, scratch.url)
        // Two at once, then again: the grants are idempotent and safe to run concurrently.
        let migrate: @Sendable () async throws -> ChildProcess.Outcome = {
            try await ChildProcess.run(
                WorkerProcess.binary, ["migrate", "--database-url", url, "--runtime-role", role],
                environment: ProcessInfo.processInfo.environment)
        }
        async let first = migrate()
        async let second = migrate()
        for outcome in try await [first, second, migrate()] {
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("granted the runtime role \(role) its rights"), "\(outcome.stdout)")
        }

        let runtime = try PostgresConnection(connectionString: Self.url(url, asUser: role), connectTimeout: .seconds(5))
        defer { runtime.close() }
        #expect(try runtime.query("SELECT current_user")[0].decode(String.self, column: 0) == role)
        try await onThread { try Self.runEveryRuntimePath(on: runtime) }

        // No DDL of any kind, on the tables or the schema.
        for statement in [
            "CREATE TABLE intruder (id int)", "DROP TABLE case_history", "ALTER TABLE cases ADD COLUMN extra text",
            "TRUNCATE outbox", "CREATE INDEX intruder ON cases (stage)", "ALTER TABLE outbox OWNER TO CURRENT_USER",
        ] {
            let error = #expect(throws: PostgresError.self, "\(statement)") { try runtime.executeScript(statement) }
            #expect(error?.sqlState == "42501", "\(statement): \(String(describing: error))")
        }
        // Exactly the listed rights: e.g. history is append-only, schema_migrations read-only.
        let check = try PostgresConnection(connectionString: url, connectTimeout: .seconds(5))
        defer { check.close() }
        func has(_ table: String, _ privilege: String) throws -> Bool {
            try check.query("SELECT has_table_privilege($1, $2, $3)", role, table, privilege)[0].decode(Bool.self, column: 0)
        }
        for (table, privileges) in RuntimeGrants.tables {
            for privilege in ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"] {
                #expect(try has(table, privilege) == privileges.contains(privilege), "\(privilege) on \(table)")
            }
        }
        #expect(try check.query("SELECT has_schema_privilege($1, current_schema(), 'CREATE')", role)[0].decode(Bool.self, column: 0) == false)
    }

    /// The console's role reads every page's data (but no sealed column) and records replays, and can change nothing else.
    @Test func migrateGrantsTheConsoleReadsAndTheReplayRecordOnly() async throws {
        let scratch = try ScratchRole("csw-Console")
        defer { scratch.drop() }
        let (role, url) = (scratch.role, scratch.url)
        let migrated = try await ChildProcess.run(
            WorkerProcess.binary, ["migrate", "--database-url", url, "--console-role", role], environment: ProcessInfo.processInfo.environment)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        #expect(migrated.stdout.contains("granted the console role \(role)"), "\(migrated.stdout)")

        let console = try PostgresConnection(connectionString: Self.url(url, asUser: role), connectTimeout: .seconds(5))
        defer { console.close() }
        try await onThread {
            let today = LocalDate(year: 2026, month: 12, day: 4)!
            let supervision = SupervisionReader(connection: console, policy: Policy())
            _ = try supervision.timeliness(today: today)
            for id in SupervisionReader.timeframeIds { _ = try supervision.timeframeItems(id, today: today) }
            _ = try supervision.caseload()
            _ = try supervision.cases(stage: "ENFORCEMENT", program: nil, referral: "passport-denial")
            _ = try supervision.appliedPerMinute(hours: 3)
            _ = try supervision.deadLettersByClass(topic: "cse.deadletter.v1", errorClassHeader: DeadLetter.Header.errorClass)
            _ = try CaseReadModel(connection: console).show(caseId: "CS-1", asOf: today)
            _ = try OperationsReader(connection: console, timeZone: "America/Chicago").readOutboxAndWaiting()
            _ = try OutboxSetAside(connection: console).list(limit: 100)
            _ = try GroupMembers.read(group: "csworker", on: console)
            _ = try OutboxTopicCounts.read(console)
            let deadLetters = DeadLetterStore(connection: console, protector: SSNProtector(key: .random()))
            _ = try deadLetters.list(topic: "cse.deadletter.v1")
            _ = try deadLetters.allowReprocessing(eventId: UUID())
            try deadLetters.markReplayed(messageId: UUID(), by: "op1")
            #expect(try deadLetters.replays(of: []).isEmpty)
        }
        for statement in [
            "INSERT INTO sweep_runs (as_of, cases_evaluated, tasks) VALUES ('2026-01-01', 0, 0)", "DELETE FROM case_history",
            "UPDATE outbox SET published_at = now()", "UPDATE cases SET stage = 'CLOSED'", "DELETE FROM dead_letter_replays",
            "CREATE TABLE intruder (id int)", "DELETE FROM group_members", "UPDATE group_members SET left_at = now()",
            "INSERT INTO group_members (member_id, group_id, host, pid, started_at, assigned, commits) VALUES ('x', 'g', 'h', 1, now(), '[]', '[]')",
            // The sealed columns and SSN hashes: the console faces the web.
            "SELECT sealed_ssns FROM cases", "SELECT * FROM cases", "SELECT sealed_event FROM case_history",
            "SELECT sealed_key, sealed_value FROM parked_events", "SELECT ssn_hash FROM parties",
        ] {
            let error = #expect(throws: PostgresError.self, "\(statement)") { try console.executeScript(statement) }
            #expect(error?.sqlState == "42501", "\(statement): \(String(describing: error))")
        }
    }

    @Test func aMissingRoleIsSkippedAndThePrivilegedOneRefused() async throws {
        let url = try Services.freshDatabase()
        defer { Services.dropDatabase(url) }
        let missing = try await ChildProcess.run(
            WorkerProcess.binary, ["migrate", "--database-url", url, "--runtime-role", "csw_nobody_\(Services.uniqueLabel())"],
            environment: ProcessInfo.processInfo.environment)
        #expect(missing.status == 0, "\(missing.stderr)")
        #expect(missing.stdout.contains("runtime grants skipped"), "\(missing.stdout)")

        // The migrating role itself would lose the rights it migrates with.
        let connection = try PostgresConnection(connectionString: url, connectTimeout: .seconds(5))
        let me = try connection.query("SELECT current_user")[0].decode(String.self, column: 0)
        connection.close()
        let itself = try await ChildProcess.run(
            WorkerProcess.binary, ["migrate", "--database-url", url, "--runtime-role", me],
            environment: ProcessInfo.processInfo.environment)
        #expect(itself.status == 64)
        #expect(itself.stderr.contains("must be a separate, plain role"), "\(itself.stderr)")
    }

    /// Each storage path of `run`, `sweep`, `deadletters`, `case show` and `status`, as the role.
    static func runEveryRuntimePath(on connection: PostgresConnection) throws {
        #expect(try Migrator.pending(connection).isEmpty)
        let protector = SSNProtector(key: try SSNKey(encoded: String(repeating: "ab", count: 32)))
        let topics = PipelineTopics(prefix: "rt.")
        let store = CaseStore(connection: connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000, logger: Services.logger)
        let processor = BatchProcessor(store: store, protector: protector, topics: topics, policy: Policy(), logger: Services.logger)

        let caseId = "CS-RT-0000001"
        let ssn = "934400123"
        let first: [ScenarioEvent] = [
            ScenarioEvents.newHire(ssn: ssn),  // parked by SSN
            ScenarioEvents.unknownCase(caseId: "CS-RT-NEVER"),  // parked by case
            ScenarioEvents.malformedJSON(caseId: caseId),  // dead letter
        ]
        let second: [ScenarioEvent] = [
            ScenarioEvents.intakeApplication(caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn)),
            ScenarioEvents.orderEstablished(caseId: caseId, occurredAt: ScenarioEvents.defaultOccurredAt.addingTimeInterval(86_400)),
            // Refused: already open (a later application; business order applies the first first).
            ScenarioEvents.intakeApplication(caseId: caseId, occurredAt: ScenarioEvents.defaultOccurredAt.addingTimeInterval(3_600)),
        ]
        let records = (first + second).enumerated().map { index, event in
            InboundRecord(topic: "rt." + event.topic, partition: 0, offset: Int64(index), key: event.key, value: event.value)
        }
        let one = try processor.process(Array(records.prefix(first.count)))
        #expect(one.parked == 2 && one.deadLettered == 1)
        let two = try processor.process(Array(records.suffix(second.count)))
        #expect(two.applied == 2 && two.unparked == 1 && two.deadLettered == 1)
        // The workers' mode: identity locks taken without waiting.
        #expect(try processor.process(Array(records.suffix(second.count)), contention: .deferConflicting).duplicates == second.count)
        #expect(try processor.expireParked(olderThan: .zero).deadLettered == 1)

        // The relay: shard claims, marks, pruning.
        let outbox = OutboxStore(connection: connection, protector: protector, logger: Services.logger)
        // The first row refused for good (set aside), the rest published; then an operator's retry and drop.
        var refused: OutboxRow?
        _ = try outbox.publishShards(try outbox.shardsWithWork(), limit: 500) { rows in
            refused = rows.first
            return OutboxPublishResult(
                acknowledged: rows.dropFirst().map(\.id), setAside: [OutboxRefusal(id: rows[0].id, reason: "MSG_SIZE_TOO_LARGE")])
        }
        #expect(try outbox.unpublishedCount() == 0)
        let setAside = OutboxSetAside(connection: connection)
        let aside = try #require(refused)
        #expect(try setAside.list().map(\.messageId) == [aside.messageId] && setAside.count() == 1)
        #expect(try setAside.intervene(.retry, messageId: aside.messageId, actor: "cli:rt", reason: nil) == .done)
        _ = try outbox.withShard(Int(aside.shard)) { try $0.markSetAside([OutboxRefusal(id: aside.id, reason: "again")]) }
        #expect(try setAside.intervene(.drop, messageId: aside.messageId, actor: "cli:rt", reason: "test") == .done)
        // Retention of employer reports about people on no case (none is that old here).
        #expect(try processor.deleteExpiredUnmatchedReports() == 0)
        _ = try outbox.deletePublished(before: Date().addingTimeInterval(-86_400))

        // The sweep, and the daily schedule's record and lock.
        let asOf = LocalDate(iso8601: "2028-01-03")!
        let report = try ReferralSweep(store: store, topics: topics, policy: Policy(), logger: Services.logger).run(asOf: asOf)
        #expect(report.casesEvaluated == 1)
        let runs = SweepRuns(connection: connection)
        let done = try runs.whileLocked {
            try runs.recordDone(asOf: asOf, casesEvaluated: report.casesEvaluated, tasks: report.tasks)
            try runs.recordDone(asOf: asOf, casesEvaluated: report.casesEvaluated, tasks: report.tasks)
            return try runs.isDone(asOf: asOf)
        }
        #expect(done == true)

        // Dead letters: list, open, allow reprocessing, mark replayed.
        let deadLetters = DeadLetterStore(connection: connection, protector: protector)
        let listed = try deadLetters.list(topic: topics.deadLetter)
        #expect(listed.count == 3)
        for record in listed {
            #expect(try deadLetters.original(messageId: record.messageId) != nil)
            if let eventId = record.eventId { _ = try deadLetters.allowReprocessing(eventId: eventId) }
            try deadLetters.markReplayed(messageId: record.messageId, by: "test")
        }

        // `case show` and `status`.
        let view = try CaseReadModel(connection: connection).show(caseId: caseId, asOf: asOf)
        #expect(view?.history.isEmpty == false)
        _ = try ProcessingStatusReader(connection: connection, deadLetterTopic: topics.deadLetter).read()

        // The worker's membership row for the console: recorded, refreshed, left; a starting worker prunes.
        var member = GroupMember(
            memberId: "rt-member", group: "rt-group", host: "rt-host", pid: 1, startedAt: Date(),
            assigned: [.init(topic: "rt.input", partition: 0)], assignedAt: Date())
        try GroupMembers.prune(group: member.group, on: connection)
        try GroupMembers.record(member, on: connection)
        member.commits = [.init(topic: "rt.input", partition: 0, offset: 7, at: Date())]
        member.leftAt = Date()
        try GroupMembers.record(member, on: connection)
        #expect(try GroupMembers.read(group: "rt-group", on: connection).first?.commits.first?.offset == 7)
    }

    /// The test database's URL, connecting as `user` (trust authentication on the local cluster).
    static func url(_ url: String, asUser user: String) -> String {
        let encoded = user.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return url + (url.contains("?") ? "&" : "?") + "user=" + encoded
    }
}

/// A login role of the test's own (roles are cluster-wide: a name that needs
/// quoting, dropped at the end) and a fresh database to grant it rights on.
struct ScratchRole {
    let role: String
    let url: String
    private let admin: PostgresConnection

    init(_ prefix: String) throws {
        role = "\(prefix) \"\(Services.uniqueLabel())\""
        url = try Services.freshDatabase()
        admin = try PostgresConnection(connectionString: try Services.serverURL(), connectTimeout: .seconds(5))
        try admin.executeScript("CREATE ROLE \(RuntimeGrants.quoted(role)) LOGIN")
    }

    func drop() {
        Services.dropDatabase(url)
        _ = try? admin.executeScript("DROP ROLE IF EXISTS \(RuntimeGrants.quoted(role))")
        admin.close()
    }
}
