import Postgres

/// Proves a session can really use the database (not just connect): a
/// transaction writes rows to a temporary table and reads them back.
/// Leaves nothing behind (the table is dropped at commit).
public enum DatabaseProbe {
    /// Writes `rows` rows in one transaction and returns how many it read back.
    public static func roundTrip(connection: PostgresConnection, rows: Int) throws -> Int64 {
        try connection.transaction { tx in
            _ = try tx.execute("CREATE TEMPORARY TABLE selfcheck (n int8 PRIMARY KEY) ON COMMIT DROP")
            _ = try tx.execute("INSERT INTO selfcheck SELECT * FROM unnest($1::int8[])", Array(Int64(1)...Int64(rows)))
            return try tx.query("SELECT count(*) FROM selfcheck").first!.decode(Int64.self, column: 0)
        }
    }
}
