import Crypto
import Foundation
import Logging
import Postgres

/// One schema change. Migrations are embedded in the binary (the product
/// never reads SQL files at run time) and applied in `version` order.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// SHA-256 hex of the SQL: an applied migration whose text later changes
    /// is refused rather than silently diverging from what the database holds.
    public var checksum: String {
        SHA256.hash(data: Array(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    case checksumMismatch(version: Int, name: String)
    /// The database has a migration this binary does not know (a newer binary migrated it).
    case unknownVersion(Int)

    public var description: String {
        switch self {
        case let .checksumMismatch(version, name):
            "migration \(version) (\(name)) was applied with different SQL than this binary carries; refusing to continue"
        case .unknownVersion(let version):
            "the database has migration \(version), which this binary does not know; run a newer csworker"
        }
    }
}

/// Creates or upgrades the schema in the connection's current schema (the
/// first entry of its search_path).
///
/// A session advisory lock makes concurrent runs safe: the second waits, then
/// finds nothing to do. Each migration runs in its own transaction together
/// with its `schema_migrations` row, so a failure leaves the previous version.
public enum Migrator {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "cases, projections, history, dedupe, parking, outbox", sql: SchemaV1.sql),
        Migration(version: 2, name: "case state snapshot as json", sql: SchemaV2.sql),
        Migration(version: 3, name: "cases: inline snapshots, room for HOT updates", sql: SchemaV3.sql),
        Migration(version: 4, name: "outbox: when a dead letter was replayed", sql: SchemaV4.sql),
        Migration(version: 5, name: "sweep_runs: which business dates the daily sweep has run for", sql: SchemaV5.sql),
        Migration(version: 6, name: "outbox: dueBy of ISSUE tasks; dead letters indexed", sql: SchemaV6.sql),
        Migration(version: 7, name: "case_history: the applied event, sealed, for re-deriving a case", sql: SchemaV7.sql),
        Migration(version: 8, name: "parked_events: waiting for an order; oldest first", sql: SchemaV8.sql),
        Migration(version: 9, name: "dead_letter_replays: who replayed what, when; processed_events by time", sql: SchemaV9.sql),
        Migration(version: 10, name: "ledger_entries dropped: the account's lines are derived where read", sql: SchemaV10.sql),
        Migration(version: 11, name: "outbox: set-aside messages and who retried or dropped them; unmatched reports by age", sql: SchemaV11.sql),
        Migration(version: 12, name: "parked_events: the record's headers and broker timestamp", sql: SchemaV12.sql),
        Migration(version: 13, name: "group_members: which worker holds which partitions, for the console", sql: SchemaV13.sql),
    ]

    /// Advisory lock key (two-int4 form: its own key space, apart from the
    /// int8 identity locks and the outbox shard locks).
    static let lockClass: Int32 = 0x6373_776B  // "cswk"
    static let lockObject: Int32 = 1

    /// Applies what is missing; returns the migrations applied by this call.
    @discardableResult
    public static func migrate(
        _ connection: PostgresConnection, logger: Logger = Logger(label: "csworker.migrate")
    ) throws -> [Migration] {
        try connection.execute("SELECT pg_advisory_lock($1, $2)", lockClass, lockObject)
        defer {
            do {
                try connection.execute("SELECT pg_advisory_unlock($1, $2)", lockClass, lockObject)
            } catch {
                // The session ending releases it anyway.
                logger.warning("could not release the migration lock", metadata: ["error": "\(error)"])
            }
        }
        try connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try appliedChecksums(connection)
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, checksum) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else { throw MigrationError.unknownVersion(version) }
            guard migration.checksum == checksum else {
                throw MigrationError.checksumMismatch(version: version, name: migration.name)
            }
        }
        var done: [Migration] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where applied[migration.version] == nil {
            try connection.transaction { connection in
                try connection.executeScript(migration.sql)
                try connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    Int32(migration.version), migration.name, migration.checksum)
            }
            logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            done.append(migration)
        }
        return done
    }

    /// Migrations this binary has that the database lacks (empty when current).
    public static func pending(_ connection: PostgresConnection) throws -> [Migration] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        let applied = try exists[0].decode(Bool.self, column: 0) ? try appliedChecksums(connection) : [:]
        return migrations.filter { applied[$0.version] == nil }
    }

    private static func appliedChecksums(_ connection: PostgresConnection) throws -> [Int: String] {
        var applied: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum FROM schema_migrations") {
            applied[try row.decode(Int.self, column: 0)] = try row.decode(String.self, column: 1)
        }
        return applied
    }
}

/// Version 1. `cases.state` is the source of truth the rules read back; every
/// other case table is a projection rewritten from it for SQL readers.
/// No foreign keys from projections to `cases`: they are derived in the same
/// transaction, and the checks would only cost time on the hot path.
enum SchemaV1 {
    static let sql = """
        CREATE TABLE cases (
            case_id               text PRIMARY KEY,
            program               text NOT NULL,
            stage                 text NOT NULL,
            opened_on             date NOT NULL,
            monthly_support_cents bigint NOT NULL,
            -- ledger balance (amounts due minus payments applied) as of arrears_as_of,
            -- the business date of the latest event applied
            arrears_cents         bigint NOT NULL,
            arrears_as_of         date NOT NULL,
            -- CaseState as JSON with every SSN removed (json since version 2) ...
            state                 jsonb NOT NULL,
            -- ... and the SSNs AES-GCM sealed under CSE_SSN_KEY, bound to case_id
            sealed_ssns           bytea,
            version               bigint NOT NULL,  -- events applied
            last_event_at         timestamptz NOT NULL,
            updated_at            timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE parties (
            case_id     text NOT NULL,
            role        text NOT NULL CHECK (role IN ('CUSTODIAL', 'NONCUSTODIAL')),
            party_id    text NOT NULL,
            first_name  text NOT NULL,
            last_name   text NOT NULL,
            ssn_hash    bytea,  -- HMAC-SHA256 under the CSE_SSN_KEY matching key
            ssn_last4   text,
            deceased_on date,
            PRIMARY KEY (case_id, role)
        );
        CREATE INDEX parties_noncustodial_ssn ON parties (ssn_hash) WHERE role = 'NONCUSTODIAL';

        CREATE TABLE children (
            case_id          text NOT NULL,
            child_id         text NOT NULL,
            date_of_birth    date NOT NULL,
            paternity        text NOT NULL,  -- OPEN, ESTABLISHED, EXCLUDED
            paternity_method text,
            PRIMARY KEY (case_id, child_id)
        );

        CREATE TABLE support_orders (
            case_id                       text NOT NULL,
            order_id                      text NOT NULL,
            docket_number                 text NOT NULL,
            monthly_support_cents         bigint NOT NULL,
            monthly_arrears_payment_cents bigint,
            medical_support_ordered       boolean NOT NULL,
            effective_on                  date NOT NULL,
            status                        text NOT NULL,
            terminated_on                 date,
            termination_reason            text,
            PRIMARY KEY (case_id, order_id)
        );

        CREATE TABLE employments (
            case_id            text NOT NULL,
            fein               text NOT NULL,
            employer_name      text,
            since              date NOT NULL,
            withholding_status text NOT NULL,  -- NONE, ISSUED, ACCEPTED
            medical_coverage   text,
            PRIMARY KEY (case_id, fein)
        );

        -- The account through arrears_as_of: charges, adjustments and payments in ledger order.
        CREATE TABLE ledger_entries (
            case_id      text NOT NULL,
            seq          integer NOT NULL,
            kind         text NOT NULL,  -- accrual, judgment, payment, adjustment
            entry_date   date NOT NULL,
            amount_cents bigint NOT NULL,
            reference_id text NOT NULL,  -- order id for charges, payment id for payments
            PRIMARY KEY (case_id, seq)
        );

        -- Active (issued, not withdrawn) arrears referrals.
        CREATE TABLE referrals (
            case_id      text NOT NULL,
            task_type    text NOT NULL,
            status       text NOT NULL,
            arrears_cents bigint NOT NULL,
            since        date NOT NULL,
            task_id      uuid NOT NULL,
            PRIMARY KEY (case_id, task_type)
        );

        -- Append-only: every event applied to a case, with the tasks it caused.
        CREATE TABLE case_history (
            case_id     text NOT NULL,
            seq         bigint NOT NULL,
            event_id    uuid NOT NULL,
            event_type  text NOT NULL,
            occurred_at timestamptz NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now(),
            changes     jsonb NOT NULL,  -- human summaries (SSNs masked by the rules)
            task_ids    uuid[] NOT NULL,
            tasks       jsonb NOT NULL,  -- [{id, type, action, dueBy}]
            PRIMARY KEY (case_id, seq)
        );

        -- Inbound dedupe: a redelivered event id has no second effect.
        CREATE TABLE processed_events (
            event_id     uuid PRIMARY KEY,
            outcome      text NOT NULL DEFAULT 'applied' CHECK (outcome IN ('applied', 'dead-lettered', 'parked')),
            topic        text NOT NULL,
            "partition"  integer NOT NULL,
            "offset"     bigint NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now()
        );

        -- Events waiting for a case to exist: employer reports whose SSN matches no
        -- noncustodial parent yet (match_kind 'ssn', key = hex HMAC), remittance
        -- payments for cases not opened yet ('case', key = case id). The raw
        -- event is sealed: it may carry an SSN.
        CREATE TABLE parked_events (
            match_kind   text NOT NULL CHECK (match_kind IN ('ssn', 'case')),
            match_key    text NOT NULL,
            event_id     uuid NOT NULL,
            topic        text NOT NULL,
            "partition"  integer NOT NULL,
            "offset"     bigint NOT NULL,
            sealed_key   bytea NOT NULL,
            sealed_value bytea NOT NULL,
            parked_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (match_kind, match_key, event_id)
        );

        -- Transactional outbox: tasks and dead letters, published by the relay
        -- shard by shard (shard = stable hash of the Kafka key mod 16).
        CREATE TABLE outbox (
            id           bigserial PRIMARY KEY,
            message_id   uuid NOT NULL UNIQUE,
            shard        smallint NOT NULL,
            topic        text NOT NULL,
            -- key and value AES-GCM sealed when sealed (dead letters: the original
            -- bytes may carry an SSN, and an employer report's key is its SHA-256)
            sealed       boolean NOT NULL,
            key          bytea NOT NULL,
            value        bytea NOT NULL,
            headers      jsonb NOT NULL,  -- [{"name": ..., "value": ...}]
            created_at   timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz
        );
        CREATE INDEX outbox_unpublished ON outbox (shard, id) WHERE published_at IS NULL;
        """
}

/// Version 2. The snapshot is written for every case a batch touches and read
/// back whole; jsonb's parse into its binary form cost more server time than
/// all other statements of a batch together (measured: 500 snapshots of ~2 KB,
/// ~30 ms as jsonb, ~8 ms as json). json still answers `->`/`->>` queries.
enum SchemaV2 {
    static let sql = """
        ALTER TABLE cases ALTER COLUMN state TYPE json USING state::json;
        """
}

/// Version 3. Every batch rewrites the row of each case it touches: keep
/// snapshots (typically 2-4 KB) inline without a compression attempt, which
/// halved the upsert's server time, and leave free space in each page so the
/// update can be HOT (no primary-key index entry to add).
enum SchemaV3 {
    static let sql = """
        ALTER TABLE cases SET (toast_tuple_target = 8160, fillfactor = 70);
        """
}

/// Version 4. `csworker deadletters replay --all` replays each dead letter
/// once: the replay is recorded on its outbox row. No index: dead letters are
/// listed by an operator now and then, not on the hot path, and an index on
/// the outbox's topic would cost every batch.
enum SchemaV4 {
    static let sql = """
        ALTER TABLE outbox ADD COLUMN replayed_at timestamptz;
        """
}

/// Version 5. The in-process daily sweep (`csworker run --daily-sweep-at`):
/// several worker processes share one schedule, so the first to finish a
/// business date's sweep records it here and the others skip that date.
enum SchemaV5 {
    static let sql = """
        CREATE TABLE sweep_runs (
            as_of           date PRIMARY KEY,
            finished_at     timestamptz NOT NULL DEFAULT now(),
            cases_evaluated integer NOT NULL,
            tasks           integer NOT NULL
        );
        """
}

/// Version 6. The operations readings used to scan every `case_history` row
/// (expanding its tasks JSON) and, for the dead letters counted by position,
/// every outbox row: both grow without bound. An ISSUE task's `dueBy` on its
/// outbox row makes "waiting past its dueBy" a probe of the unpublished rows
/// (their partial index); dead letters are the sealed rows, a small partial
/// index that costs the task inserts nothing.
enum SchemaV6 {
    static let sql = """
        ALTER TABLE outbox ADD COLUMN due_by date;
        CREATE INDEX outbox_dead_letters ON outbox (id) WHERE sealed;
        """
}

/// Version 7. A case's decisions are those of its events in business order, so
/// an event that arrives late re-derives the case from its earlier events: each
/// history row keeps the event it applied (the original bytes, sealed like
/// parked events: they carry SSNs). Rows from before this version have none.
enum SchemaV7 {
    static let sql = """
        ALTER TABLE case_history ADD COLUMN sealed_event bytea;
        """
}

/// Version 8. Events wait in the database for what they need, for as long as
/// the operator's horizon allows: for their case to open (`case`), for their
/// person (`ssn`), and now for the order they name (`order`, key
/// "<caseId>\u{1F}<orderId>": a modification or termination that overtook the
/// order itself). The horizon counts from `parked_at`, kept when an event is
/// taken out and parked again; the index finds the oldest waiting cheaply.
enum SchemaV8 {
    static let sql = """
        ALTER TABLE parked_events DROP CONSTRAINT parked_events_match_kind_check;
        ALTER TABLE parked_events ADD CONSTRAINT parked_events_match_kind_check
            CHECK (match_kind IN ('ssn', 'case', 'order'));
        CREATE INDEX parked_events_waiting ON parked_events (parked_at) WHERE match_kind <> 'ssn';
        """
}

enum SchemaV9 {
    static let sql = """
        -- Who replayed a dead letter and when (the console's operators, the CLI's user).
        CREATE TABLE dead_letter_replays (
            message_id  uuid NOT NULL,
            replayed_by text NOT NULL,
            replayed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (message_id, replayed_at)
        );
        -- Events applied per minute (the console's operations chart): rows arrive in
        -- time order, so a BRIN index costs the hot path next to nothing.
        CREATE INDEX processed_events_processed_at ON processed_events USING brin (processed_at);
        """
}

enum SchemaV10 {
    static let sql = """
        -- The account's lines (charges, adjustments, payments) are a function of the
        -- case's ledger, which the snapshot in cases.state holds: `csworker case show`
        -- derives them as of any date. Kept as rows they cost a write per event and
        -- went stale as months fell due; nothing in the service read them.
        DROP TABLE ledger_entries;
        """
}

/// Version 11. A message the broker refuses for good (too large, no such
/// topic, not authorised) is set aside on its row instead of being retried
/// forever, so the relay moves on; an operator retries (clears the mark) or
/// drops it (kept, marked, for audit), and each such act is recorded. Employer
/// reports about people on no case are deleted after the retention period:
/// their own index finds the oldest (`parked_events_waiting` leaves them out).
enum SchemaV11 {
    static let sql = """
        ALTER TABLE outbox ADD COLUMN set_aside_at timestamptz,
                           ADD COLUMN set_aside_reason text,
                           ADD COLUMN dropped_at timestamptz;
        CREATE INDEX outbox_set_aside ON outbox (id) WHERE set_aside_at IS NOT NULL AND dropped_at IS NULL;
        CREATE TABLE outbox_interventions (
            message_id uuid NOT NULL,
            action     text NOT NULL CHECK (action IN ('retry', 'drop')),
            actor      text NOT NULL,
            reason     text,
            at         timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (message_id, at)
        );
        CREATE INDEX parked_events_unmatched ON parked_events (parked_at) WHERE match_kind = 'ssn';
        """
}

/// Version 12. A waiting event keeps its record's headers (trace context, a
/// replay's provenance) and broker timestamp, so the dead letter it may become
/// after the horizon carries them like one refused at once.
enum SchemaV12 {
    static let sql = """
        ALTER TABLE parked_events
            ADD COLUMN headers jsonb NOT NULL DEFAULT '[]',   -- [{"name": ..., "value": ...}], printable values only
            ADD COLUMN record_timestamp_ms bigint;
        """
}

/// Version 13. Which worker holds which partitions, for the console's Group page.
enum SchemaV13 {
    static let sql = """
        -- Each worker's membership of the consumer group, as it last reported it (the
        -- console's Group page): written on assignment and revocation and refreshed
        -- every few seconds; a member that stops refreshing is shown as gone. Whatever
        -- the broker answers about groups, this is always there.
        CREATE TABLE group_members (
            member_id   text PRIMARY KEY,         -- one worker's run: a fresh id each start
            group_id    text NOT NULL,
            host        text NOT NULL,
            pid         integer NOT NULL,
            started_at  timestamptz NOT NULL,
            assigned    jsonb NOT NULL,           -- [{"topic": ..., "partition": n}]
            assigned_at timestamptz,              -- when the assignment last changed
            commits     jsonb NOT NULL,           -- [{"topic", "partition", "offset", "at"}]: last commit per partition
            last_seen   timestamptz NOT NULL DEFAULT now(),
            left_at     timestamptz               -- left the group cleanly
        );
        CREATE INDEX group_members_group ON group_members (group_id, last_seen);
        """
}
