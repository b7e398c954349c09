/// A failure reported by the server, by libpq, or while decoding a result.
///
/// `description` is safe to log: it names the operation, SQLSTATE, severity and
/// primary message, but never `detail` (the server echoes key values there,
/// e.g. "Key (ssn)=(123456789) already exists") and never a password. For data
/// exceptions (SQLSTATE class 22) quoted fragments of the message are elided
/// too, because messages like `invalid input syntax for type bigint: "..."`
/// echo the offending input.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// 40001: a concurrent transaction made this one unserializable.
        case serializationFailure
        /// 40P01: the server broke a lock cycle by aborting this transaction.
        case deadlock
        /// The session is gone: class 08, 57P01/57P02/57P03, or libpq reports
        /// the connection bad after a call.
        case connectionLost
        /// The server could not be reached when opening a connection.
        case unreachable
        /// 53300: the server is at max_connections.
        case tooManyConnections
        /// 57014: statement_timeout or an explicit cancel.
        case queryCanceled
        case uniqueViolation
        case foreignKeyViolation
        case checkViolation
        case notNullViolation
        case undefinedTable
        case syntaxError
        /// A value in a result could not be read as the requested Swift type.
        case decodingFailure
        /// The API was used in a way the connection cannot honour (closed
        /// connection, nested transaction, NUL byte in a text parameter, ...).
        case misuse
        case other
    }

    public let kind: Kind
    /// Five-character SQLSTATE when the server sent one.
    public let sqlState: String?
    /// Non-localized severity (ERROR, FATAL, PANIC) when the server sent one.
    public let severity: String?
    /// Primary message, with the connection's password masked.
    public let message: String
    /// Server detail; may contain data values. Never part of `description`.
    public let detail: String?
    public let hint: String?
    /// Constraint named by the server for integrity violations.
    public let constraint: String?
    /// What was being done: "connect", "query", "COMMIT", a prepared
    /// statement's name, or "pipeline statement 3 of 10 (...)".
    public let operation: String
    /// Zero-based index of the failing statement within a pipeline.
    public let pipelineIndex: Int?

    public init(
        kind: Kind,
        message: String,
        operation: String,
        sqlState: String? = nil,
        severity: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        pipelineIndex: Int? = nil
    ) {
        self.kind = kind
        self.message = message
        self.operation = operation
        self.sqlState = sqlState
        self.severity = severity
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.pipelineIndex = pipelineIndex
    }

    /// Whether running the same unit of work again (on a fresh connection for
    /// connection failures) can reasonably succeed.
    ///
    /// `queryCanceled` is deliberately NOT retriable: 57014 is what a
    /// statement_timeout produces, and re-running a statement that timed out
    /// usually times out again; callers that cancel on purpose know why.
    public var isRetriable: Bool {
        switch kind {
        case .serializationFailure, .deadlock, .connectionLost, .unreachable, .tooManyConnections:
            return true
        case .queryCanceled, .uniqueViolation, .foreignKeyViolation, .checkViolation, .notNullViolation,
            .undefinedTable, .syntaxError, .decodingFailure, .misuse, .other:
            return false
        }
    }

    /// True when the session itself is unusable and must be reset or replaced.
    public var isConnectionFailure: Bool { kind == .connectionLost || kind == .unreachable }

    public var description: String {
        var text = "\(operation) failed"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": "
        if let severity { text += "\(severity): " }
        text += sqlState?.hasPrefix("22") == true ? Self.elidingQuotedText(message) : message
        if let constraint { text += " (constraint \(constraint))" }
        return text
    }

    /// Maps SQLSTATE to a kind; `connectionBad` wins because a session that
    /// libpq reports dead is dead whatever the last message said.
    static func classify(sqlState: String?, connectionBad: Bool) -> Kind {
        if connectionBad { return .connectionLost }
        guard let sqlState else { return .other }
        switch sqlState {
        case "40001": return .serializationFailure
        case "40P01": return .deadlock
        case "57P01", "57P02", "57P03": return .connectionLost
        case "53300": return .tooManyConnections
        case "57014": return .queryCanceled
        case "23505": return .uniqueViolation
        case "23503": return .foreignKeyViolation
        case "23514": return .checkViolation
        case "23502": return .notNullViolation
        case "42P01": return .undefinedTable
        case "42601": return .syntaxError
        default:
            return sqlState.hasPrefix("08") ? .connectionLost : .other
        }
    }

    static func elidingQuotedText(_ message: String) -> String {
        var result = ""
        var inQuotes = false
        for character in message {
            if character == "\"" {
                result.append(inQuotes ? "…\"" : "\"")
                inQuotes.toggle()
            } else if !inQuotes {
                result.append(character)
            }
        }
        return result
    }
}
