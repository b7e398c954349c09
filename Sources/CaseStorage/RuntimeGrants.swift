import Foundation
import Postgres

/// The rights of the role the workers and operator commands connect as
/// (`csworker_runtime` in deploy/postgres-roles.sql): what their statements
/// need, table by table, and nothing else -- no CREATE, no ownership, no
/// TRUNCATE. `csworker migrate` sets them after every run, so a schema
/// created without the DBA script (a restored dump, a managed service's
/// defaults) still ends up right.
public enum RuntimeGrants {
    /// Table privileges by table. A new table or statement in CaseStorage
    /// needs its line here (RuntimeRoleTests run every runtime path as the role).
    public static let tables: [(table: String, privileges: [String])] = [
        // `run` and `sweep` refuse to start on a schema that is not current.
        ("schema_migrations", ["SELECT"]),
        // Upserted, and locked FOR UPDATE (which needs UPDATE).
        ("cases", ["SELECT", "INSERT", "UPDATE"]),
        // Projections: a changed table's rows are deleted and written again.
        ("parties", ["SELECT", "INSERT", "DELETE"]),
        ("children", ["SELECT", "INSERT", "DELETE"]),
        ("support_orders", ["SELECT", "INSERT", "DELETE"]),
        ("employments", ["SELECT", "INSERT", "DELETE"]),
        ("referrals", ["SELECT", "INSERT", "DELETE"]),
        // Append-only.
        ("case_history", ["SELECT", "INSERT"]),
        // Outcomes are updated; a replayed dead letter's record is deleted.
        ("processed_events", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
        // Taken out (DELETE ... RETURNING) and parked again.
        ("parked_events", ["SELECT", "INSERT", "DELETE"]),
        // Published and replayed marks; published rows pruned.
        ("outbox", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
        // The daily schedule records a finished date (upsert).
        ("sweep_runs", ["SELECT", "INSERT", "UPDATE"]),
        // `deadletters replay` records who replayed.
        ("dead_letter_replays", ["SELECT", "INSERT"]),
        // `outbox retry|drop` records who did it and why.
        ("outbox_interventions", ["SELECT", "INSERT"]),
        // Each worker upserts its membership row; a starting worker deletes rows of members long gone.
        ("group_members", ["SELECT", "INSERT", "UPDATE", "DELETE"]),
    ]

    /// The console's role (`csworker_console`): reads everything it shows;
    /// writes only what a dead-letter replay records.
    public static let consoleTables: [(table: String, privileges: [String])] = [
        ("schema_migrations", ["SELECT"]),
        ("cases", ["SELECT"]), ("parties", ["SELECT"]), ("children", ["SELECT"]), ("support_orders", ["SELECT"]),
        ("employments", ["SELECT"]), ("referrals", ["SELECT"]), ("case_history", ["SELECT"]),
        ("parked_events", ["SELECT"]), ("sweep_runs", ["SELECT"]),
        // A replayed event's dead-lettered record is forgotten so the workers take it again.
        ("processed_events", ["SELECT", "DELETE"]),
        // The replayed mark, and nothing else of the outbox.
        ("outbox", ["SELECT", "UPDATE (replayed_at)"]),
        ("dead_letter_replays", ["SELECT", "INSERT"]),
        // The Operations page lists set-aside messages; retrying or dropping is the CLI's.
        ("outbox_interventions", ["SELECT"]),
        ("group_members", ["SELECT"]),
    ]

    /// Columns the console's role may not read, though it reads the rest of
    /// their tables: the sealed SSNs and events, and the SSN HMACs (with the
    /// key, 10^9 candidates are quickly tried). The console faces the web and
    /// shows masked SSNs only (`parties.ssn_last4`). `outbox.key`/`value`
    /// stay readable: task keys are the case ids timeliness reads, and a
    /// replay must open the dead letter it publishes again.
    public static let consoleHiddenColumns: [String: Set<String>] = [
        "cases": ["sealed_ssns"],
        "case_history": ["sealed_event"],
        "parked_events": ["sealed_key", "sealed_value"],
        "parties": ["ssn_hash"],
    ]

    /// Sequences behind serial columns: inserting takes the next value.
    public static let sequences = ["outbox_id_seq"]

    public enum Outcome: Sendable, Equatable {
        case granted
        /// No such role on this server (e.g. a development cluster): nothing to do.
        case roleMissing
    }

    public enum GrantError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The role would be stripped of the rights it needs to migrate.
        case runtimeRoleIsPrivileged(String)

        public var description: String {
            switch self {
            case .runtimeRoleIsPrivileged(let role):
                "the role \(role) to be granted rights is the migrating role, owns the schema, or is a superuser; "
                    + "it must be a separate, plain role (--runtime-role / CSE_RUNTIME_ROLE, --console-role / CSE_CONSOLE_ROLE)"
            }
        }
    }

    /// Makes `role`'s rights on the schema (the connection's current schema)
    /// exactly the lists above, in one transaction: revoke everything on our
    /// tables and sequences, grant what is listed. Idempotent; concurrent
    /// sessions see the old rights or the new, never none. A table with
    /// `hiddenColumns` gets SELECT on each of its other columns instead of
    /// the table (a column added later stays hidden until the next `migrate`).
    public static func apply(
        _ connection: PostgresConnection, role: String,
        tables: [(table: String, privileges: [String])] = tables, sequences: [String] = sequences,
        hiddenColumns: [String: Set<String>] = [:]
    ) throws -> Outcome {
        let row = try connection.query(
            """
            SELECT r.rolsuper, r.rolname = current_user,
                   EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = current_schema() AND n.nspowner = r.oid),
                   current_schema()
            FROM pg_roles r WHERE r.rolname = $1
            """, role)
        guard let found = row.first else { return .roleMissing }
        if try found.decode(Bool.self, column: 0) || found.decode(Bool.self, column: 1) || found.decode(Bool.self, column: 2) {
            throw GrantError.runtimeRoleIsPrivileged(role)
        }
        let schema = quoted(try found.decode(String.self, column: 3))
        let grantee = quoted(role)
        var statements = [
            "REVOKE CREATE ON SCHEMA \(schema) FROM \(grantee)",
            "GRANT USAGE ON SCHEMA \(schema) TO \(grantee)",
        ]
        for (table, privileges) in tables {
            var privileges = privileges
            if let hidden = hiddenColumns[table], let select = privileges.firstIndex(of: "SELECT") {
                let readable = try connection.query(
                    """
                    SELECT attname FROM pg_attribute
                    WHERE attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1)) AND attnum > 0 AND NOT attisdropped
                    ORDER BY attnum
                    """, table
                ).map { try $0.decode(String.self, column: 0) }.filter { !hidden.contains($0) }
                privileges[select] = "SELECT (\(readable.map(quoted).joined(separator: ", ")))"
            }
            // Revoking on the table revokes its column grants too.
            statements.append("REVOKE ALL ON TABLE \(schema).\(quoted(table)) FROM \(grantee)")
            statements.append("GRANT \(privileges.joined(separator: ", ")) ON TABLE \(schema).\(quoted(table)) TO \(grantee)")
        }
        for sequence in sequences {
            statements.append("REVOKE ALL ON SEQUENCE \(schema).\(quoted(sequence)) FROM \(grantee)")
            statements.append("GRANT USAGE ON SEQUENCE \(schema).\(quoted(sequence)) TO \(grantee)")
        }
        try connection.transaction { connection in
            // Under the migration lock: two sessions granting on one object at once fail
            // ("tuple concurrently updated"), and `migrate` may run concurrently.
            try connection.execute("SELECT pg_advisory_xact_lock($1, $2)", Migrator.lockClass, Migrator.lockObject)
            for statement in statements { try connection.executeScript(statement) }
        }
        return .granted
    }

    /// An SQL identifier, double-quoted: any name, however spelt, is one identifier.
    public static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
