/// Liveness and readiness of one worker process, from state already in
/// memory (the worker's `Health`, the database watch), so the HTTP
/// endpoints answer at once however busy the worker is.
public struct HealthConditions: Sendable, Hashable {
    /// The batch in hand may fail transiently this long before the process reports not ready.
    public var retryLimit: Duration = .seconds(30)
    /// The loop may go this long without a round before the process reports not live:
    /// far beyond any batch, so only a loop stuck in a call that never returns trips it.
    public var stallLimit: Duration = .seconds(300)

    public init() {}

    /// The readiness conditions that fail, by name: `database` (no recent
    /// successful probe), `group` (no partition assignment held), `retrying`
    /// (a batch failing for longer than `retryLimit`). Empty = ready.
    public func failing(worker: Worker.Health, databaseReachable: Bool) -> [String] {
        var failing: [String] = []
        if !databaseReachable { failing.append("database") }
        if !worker.groupJoined { failing.append("group") }
        if let retrying = worker.retryingFor, retrying > retryLimit { failing.append("retrying") }
        return failing
    }

    /// Live unless the loop has gone `stallLimit` without a round.
    public func isLive(worker: Worker.Health, now: ContinuousClock.Instant = .now) -> Bool {
        guard let last = worker.lastLoopAt else { return true }
        return now - last < stallLimit
    }
}
