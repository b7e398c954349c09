import Postgres

/// How callers outside storage tell a passing database failure from a real
/// one, without depending on the driver's error type.
public enum StorageFailure {
    /// The database was briefly unable (restart, failover, serialization
    /// failure, deadlock, lost connection), not the request wrong: running
    /// the same work again can succeed.
    public static func isTransient(_ error: any Error) -> Bool {
        (error as? PostgresError)?.isRetriable ?? false
    }

    /// A statement ran past the batch's time limit (`CaseStore.batchTimeLimit`):
    /// the batch is too big for the time it may take; a smaller one can succeed.
    public static func isOverTimeLimit(_ error: any Error) -> Bool {
        (error as? PostgresError)?.kind == .queryCanceled
    }
}
