import CaseContract
import CaseDomain
import CaseScenarios
import CaseStorage
import Foundation
import Postgres
import Testing
import TestSupport

/// A schema of its own for one test (search_path points there on every
/// session it hands out), dropped afterwards: tests run in parallel and leave
/// nothing behind.
final class ScratchSchema {
    let name: String
    let connection: PostgresConnection
    private var sessions: [PostgresConnection] = []

    init(_ label: String) throws {
        name = "cst_\(label)_" + UUID().uuidString.prefix(8).lowercased()
        connection = try TestDatabase.connect()
        try connection.executeScript("CREATE SCHEMA \(name)")  // our own name, not input
        try connection.execute("SELECT set_config('search_path', $1, false)", name)
    }

    /// Another session on the same schema.
    func connect() throws -> PostgresConnection {
        let connection = try TestDatabase.connect()
        try connection.execute("SELECT set_config('search_path', $1, false)", name)
        sessions.append(connection)
        return connection
    }

    func drop() {
        sessions.forEach { $0.close() }
        connection.close()
        do {
            let admin = try TestDatabase.connect()
            try admin.executeScript("DROP SCHEMA \(name) CASCADE")
            admin.close()
        } catch {
            Issue.record("could not drop \(name): \(error)")
        }
    }
}

/// A migrated scratch schema with a store on its main session.
func withMigratedStore<T>(
    _ label: String, _ body: (ScratchSchema, CaseStore, SSNProtector) throws -> T
) throws -> T {
    let scratch = try ScratchSchema(label)
    defer { scratch.drop() }
    try Migrator.migrate(scratch.connection)
    let protector = SSNProtector(key: .random())
    let store = CaseStore(connection: scratch.connection, protector: protector, calendar: BusinessCalendar(), cachedStates: 2_000)
    return try body(scratch, store, protector)
}

/// Builds real case states the way the pipeline will: wire bytes from the
/// scenario builders, EventDecoder, CaseRules.
struct CaseBuilder {
    var policy = Policy()

    func event(_ scenario: ScenarioEvent) throws -> Event {
        try EventDecoder.decode(scenario.value).get()
    }

    /// Applies `scenarios` in order to the case (nil = not opened yet).
    func apply(_ scenarios: [ScenarioEvent], to initial: CaseState? = nil) throws -> (CaseState, [HistoryEntry]) {
        var state = initial
        var history: [HistoryEntry] = []
        for scenario in scenarios {
            let event = try event(scenario)
            let outcome = try CaseRules.apply(event, to: state, policy: policy).get()
            state = outcome.state
            history.append(HistoryEntry(event: event, bytes: scenario.value, outcome: outcome))
        }
        guard let state else { throw BuilderError.noState }
        return (state, history)
    }

    enum BuilderError: Error { case noState }
}

extension ScenarioDate {
    /// 15:00 UTC on this date (a business-hours instant in Chicago).
    var afternoon: Date { at(hour: 15) }
}

/// Every text, json(b), bytea and array column of every table in `schema`,
/// as one text blob per table, for leak scans.
func everyStoredValue(_ connection: PostgresConnection, schema: String) throws -> [String: String] {
    let columns = try connection.query(
        """
        SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1
        ORDER BY table_name, ordinal_position
        """, schema)
    var byTable: [String: [String]] = [:]
    for row in columns {
        byTable[try row.decode(String.self, column: 0), default: []].append(try row.decode(String.self, column: 1))
    }
    var dumps: [String: String] = [:]
    for (table, names) in byTable {
        // Every column as text; bytea additionally read as raw bytes (escape form),
        // so ASCII digits hidden inside binary values are seen too.
        let expressions = names.map { "coalesce(\"\($0)\"::text, '')" }
        let raw = try connection.query(
            "SELECT concat_ws('|', \(expressions.joined(separator: ", "))) FROM \(table)")
        var blob = raw.map { (try? $0.decode(String.self, column: 0)) ?? "" }.joined(separator: "\n")
        let byteaColumns = try connection.query(
            """
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = $1 AND table_name = $2 AND data_type = 'bytea'
            """, schema, table)
        for column in byteaColumns {
            let name = try column.decode(String.self, column: 0)
            for row in try connection.query("SELECT encode(\"\(name)\", 'escape') FROM \(table) WHERE \"\(name)\" IS NOT NULL") {
                blob += "\n" + (try row.decode(String.self, column: 0))
            }
        }
        dumps[table] = blob
    }
    return dumps
}
