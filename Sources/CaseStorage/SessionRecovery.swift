import Postgres

// After a transient failure the caller asks storage to make the next attempt
// possible; only storage knows its sessions are PostgreSQL connections.

extension CaseStore {
    /// Resets the session if it was lost, so the next batch can run.
    public func reconnectIfBroken() throws {
        try connection.resetIfBroken()
    }
}

extension OutboxStore {
    /// Resets the session if it was lost, so the next shard claim can run.
    public func reconnectIfBroken() throws {
        try connection.resetIfBroken()
    }
}

extension PostgresConnection {
    fileprivate func resetIfBroken() throws {
        guard !isHealthy else { return }
        try reset()
    }
}
