import CaseStorage
import Foundation
import Postgres
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test("an empty schema gets every migration; a second run applies nothing")
    func appliesOnceThenNothing() throws {
        let scratch = try ScratchSchema("migrate")
        defer { scratch.drop() }
        #expect(try Migrator.pending(scratch.connection).map(\.version) == Migrator.migrations.map(\.version))

        let first = try Migrator.migrate(scratch.connection)
        #expect(first.map(\.version) == Migrator.migrations.map(\.version))
        let second = try Migrator.migrate(scratch.connection)
        #expect(second.isEmpty)
        #expect(try Migrator.pending(scratch.connection).isEmpty)

        let tables = try scratch.connection.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
            scratch.name
        ).map { try $0.decode(String.self, column: 0) }
        #expect(
            tables == [
                "case_history", "cases", "children", "dead_letter_replays", "employments", "group_members", "outbox", "outbox_interventions", "parked_events",
                "parties", "processed_events", "referrals", "schema_migrations", "support_orders", "sweep_runs",
            ])
        // A table the runtime role has no line for would fail in production only.
        #expect(Set(tables) == Set(RuntimeGrants.tables.map(\.table)), "RuntimeGrants.tables lists every table")
        #expect(Set(tables) == Set(RuntimeGrants.consoleTables.map(\.table)), "RuntimeGrants.consoleTables lists every table")
        let recorded = try scratch.connection.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        #expect(recorded.count == Migrator.migrations.count)
        #expect(try recorded[0].decode(String.self, column: 1) == Migrator.migrations[0].checksum)
    }

    @Test("a database at version 1 is upgraded by applying only what is missing")
    func upgradesFromVersionOne() throws {
        let scratch = try ScratchSchema("upgrade")
        defer { scratch.drop() }
        let first = Migrator.migrations[0]
        try scratch.connection.executeScript(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                + "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        try scratch.connection.executeScript(first.sql)
        try scratch.connection.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (1, $1, $2)", first.name, first.checksum)
        let applied = try Migrator.migrate(scratch.connection)
        #expect(applied.map(\.version) == Array(Migrator.migrations.map(\.version).dropFirst()))
        let type = try scratch.connection.query(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'cases' AND column_name = 'state'",
            scratch.name)
        #expect(try type[0].decode(String.self, column: 0) == "json")
    }

    @Test("two sessions migrating at once: one applies, the other finds nothing to do")
    func concurrentMigrationsAreSafe() async throws {
        let scratch = try ScratchSchema("concurrent")
        defer { scratch.drop() }
        let sessions = [try scratch.connect(), try scratch.connect()]
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for session in sessions {
                group.addTask { try Migrator.migrate(session).count }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(applied.sorted() == [0, Migrator.migrations.count])
        let count = try scratch.connection.query("SELECT count(*) FROM schema_migrations")[0].decode(Int.self, column: 0)
        #expect(count == Migrator.migrations.count)
    }

    @Test("an applied migration whose SQL changed is refused")
    func changedChecksumIsRefused() throws {
        let scratch = try ScratchSchema("checksum")
        defer { scratch.drop() }
        try Migrator.migrate(scratch.connection)
        try scratch.connection.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        #expect(throws: MigrationError.checksumMismatch(version: 1, name: Migrator.migrations[0].name)) {
            try Migrator.migrate(scratch.connection)
        }
    }

    @Test("a database migrated by a newer binary is refused")
    func unknownVersionIsRefused() throws {
        let scratch = try ScratchSchema("newer")
        defer { scratch.drop() }
        try Migrator.migrate(scratch.connection)
        try scratch.connection.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
        #expect(throws: MigrationError.unknownVersion(999)) { try Migrator.migrate(scratch.connection) }
    }
}
