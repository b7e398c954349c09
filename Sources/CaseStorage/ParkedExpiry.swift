import Postgres

extension CaseStore {
    /// Case ids (sorted, at most `limit`) with an event that has waited longer
    /// than `grace` for that case to be opened. Read outside a batch so an
    /// idle worker finds out cheaply that nothing is due; the batch that
    /// expires them takes the events under the case's identity lock.
    public func casesWithExpiredParkedEvents(olderThan grace: Duration, limit: Int = 200) throws -> [String] {
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        return try connection.query(
            """
            SELECT DISTINCT match_key FROM parked_events
            WHERE match_kind = 'case' AND parked_at < now() - make_interval(secs => $1::float8)
            ORDER BY match_key LIMIT $2
            """, seconds, Int64(limit)
        ).map { try $0.decode(String.self, column: 0) }
    }
}
