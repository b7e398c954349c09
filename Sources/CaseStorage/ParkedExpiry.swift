import Postgres
import TimeUnits

extension CaseStore {
    /// Case ids (sorted, at most `limit`) with an event that has waited longer
    /// than `horizon` for that case to open, or for an order of it to be
    /// entered, counted from when it was first parked. Read outside a batch so
    /// an idle worker finds out cheaply that nothing is due; the batch that
    /// expires them takes the events under the case's identity lock.
    public func casesWithExpiredParkedEvents(olderThan horizon: Duration, limit: Int = 200) throws -> [String] {
        let seconds = horizon.inSeconds
        return try connection.query(
            """
            SELECT DISTINCT CASE match_kind WHEN 'order' THEN split_part(match_key, chr(31), 1) ELSE match_key END AS case_id
            FROM parked_events
            WHERE match_kind <> 'ssn' AND parked_at < now() - make_interval(secs => $1::float8)
            ORDER BY case_id LIMIT $2
            """, seconds, Int64(limit)
        ).map { try $0.decode(String.self, column: 0) }
    }
}

extension CaseStore {
    /// Deletes employer reports about people on no case (`match_kind 'ssn'`)
    /// parked more than `retentionDays` ago, oldest first, with their sealed
    /// event (and so its SSN); returns how many. Each chunk of at most `chunk`
    /// rows is a statement of its own (its own short transaction), at most
    /// `maxChunks` per call, so a large first clean-up never holds locks long.
    /// A row a batch is taking out right now is waited for (that batch is short)
    /// and then found gone; no row lock is taken up front (FOR UPDATE would need
    /// UPDATE rights the runtime role does not have on `parked_events`).
    public func deleteUnmatchedReports(olderThanDays retentionDays: Int, chunk: Int = 500, maxChunks: Int = 10) throws -> Int {
        var deleted = 0
        for _ in 0..<maxChunks {
            let count = try connection.execute(
                """
                DELETE FROM parked_events WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM parked_events
                    WHERE match_kind = 'ssn' AND parked_at < now() - make_interval(days => $1::int4)
                    ORDER BY parked_at LIMIT $2))
                """, Int32(retentionDays), Int64(chunk)
            ).affectedRows
            deleted += count
            if count < chunk { break }
        }
        return deleted
    }
}
