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

extension StorageFailure {
    /// A failure no input record can cause: the database refuses who we are
    /// or lacks what this binary needs (credentials, privileges, a schema
    /// older than the binary, a missing database). Narrowing a batch cannot
    /// help; the process exits so an operator fixes the deployment.
    public static func isDeploymentProblem(_ error: any Error) -> Bool {
        guard let error = error as? PostgresError else { return false }
        if error.kind == .undefinedTable || error.kind == .syntaxError { return true }
        guard let state = error.sqlState else { return false }
        return state.hasPrefix("28")  // invalid authorization
            || state.hasPrefix("3D")  // no such database
            || state.hasPrefix("3F")  // no such schema
            || ["42501", "42703", "42883", "42704", "0A000"].contains(state)  // privilege, column, function, object, unsupported
    }

    /// Why a failure set a record aside, safe for a dead letter's reason and a
    /// log: the SQLSTATE, its class and the statement's name, never the
    /// server's message (it can quote the record's values).
    public static func reason(_ error: any Error) -> String? {
        guard let error = error as? PostgresError else { return nil }
        guard let state = error.sqlState else { return "the database refused it (\(error.kind.rawValue)) in \(error.operation)" }
        return "the database refused it: SQLSTATE \(state) (\(sqlStateClass(state))) in \(error.operation)"
    }

    static func sqlStateClass(_ state: String) -> String {
        switch state.prefix(2) {
        case "22": "data exception"
        case "23": "integrity constraint violation"
        case "53": "insufficient resources"
        case "54": "program limit exceeded"
        case "XX": "internal error"
        case "P0": "raised by a function"
        case "42": "syntax error or access rule violation"
        default: "class \(state.prefix(2))"
        }
    }
}
