import CLibPQ
import TimeUnits
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Transaction isolation levels as spelled in `BEGIN ISOLATION LEVEL ...`.
public enum IsolationLevel: String, Sendable, CaseIterable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// A named server-side prepared statement. A connection prepares it the first
/// time it is executed there and reuses it afterwards.
public struct PreparedStatement: Hashable, Sendable {
    public let name: String
    public let sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// Names the statement after a hash of its SQL, so equal SQL shares one
    /// server-side statement per connection.
    public init(sql: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        self.init(name: "stmt_" + String(hash, radix: 16), sql: sql)
    }
}

/// One libpq session.
///
/// Ownership: a connection is used by one thread or task at a time. It is
/// `@unchecked Sendable` so it can be handed between tasks (e.g. checked out
/// of a pool), but calls on it must not overlap; libpq connections are not
/// thread safe and nothing here locks. Calls block the calling thread while
/// the server works, so async callers should run them off the cooperative
/// pool when they may wait long (locks, big statements).
///
/// Values only ever travel as `$n` parameters; logs carry SQL text and
/// parameter counts, never parameter values.
public final class PostgresConnection: @unchecked Sendable {
    public enum Status: Sendable, Equatable {
        case ok
        /// libpq reports the session broken; `reset()` or replace it.
        case bad
        /// `close()` was called.
        case closed
    }

    public enum TransactionStatus: Sendable, Equatable {
        case idle, active, inTransaction, inFailedTransaction, unknown
    }

    var handle: OpaquePointer?
    public let logger: Logger
    /// The connection string with its password masked; safe to log.
    public let maskedConnectionString: String
    let passwords: [String]
    /// Statement name -> SQL of statements prepared on the current session.
    var preparedStatements: [String: String] = [:]
    private let noticeSink: NoticeSink

    /// Opens a session. `connectionString` is a libpq keyword/value string or a
    /// `postgresql://` URI. Connecting gives up after `connectTimeout` (libpq's
    /// own connect_timeout is also set, rounded up to its 2 s minimum, so
    /// `reset()` is bounded too). Host name resolution happens before the
    /// clock can interrupt it, so prefer addresses where that matters.
    public init(
        connectionString: String,
        connectTimeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "csworker.postgres")
    ) throws {
        self.logger = logger
        maskedConnectionString = PostgresConnectionString.masked(connectionString)
        passwords = PostgresConnectionString.passwords(in: connectionString)
        noticeSink = NoticeSink(logger: logger)
        let deadline = ContinuousClock.now + connectTimeout
        let (seconds, attoseconds) = connectTimeout.components
        let libpqTimeout = max(2, seconds + (attoseconds > 0 ? 1 : 0))
        let handle = try Self.startConnecting(
            keywords: ["dbname", "connect_timeout", "fallback_application_name"],
            values: [connectionString, String(libpqTimeout), "csworker"])
        self.handle = handle
        try finishConnecting(handle, deadline: deadline, timeout: connectTimeout)
        PQsetNoticeProcessor(handle, noticeProcessor, Unmanaged.passUnretained(noticeSink).toOpaque())
        try configureSession(handle)
        logger.debug(
            "connected to PostgreSQL",
            metadata: ["target": "\(target(handle))", "server_version": "\(serverVersion)"])
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    // MARK: lifecycle and status

    /// Closes the session; later calls fail with `.misuse`.
    public func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
        preparedStatements.removeAll()
    }

    public var status: Status {
        guard let handle else { return .closed }
        return PQstatus(handle) == CONNECTION_OK ? .ok : .bad
    }

    /// Whether libpq still considers the session usable. Local check only: a
    /// server-side termination is noticed by the next call.
    public var isHealthy: Bool { status == .ok }

    public var transactionStatus: TransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inFailedTransaction
        default: return .unknown
        }
    }

    /// Reconnects with the original parameters (bounded by connect_timeout);
    /// prepared statements are forgotten and re-prepared on next use.
    public func reset() throws {
        guard let handle else { throw misuse("reset", "connection is closed") }
        preparedStatements.removeAll()
        PQreset(handle)
        // A pipeline interrupted by the failure may have left these behind.
        if PQpipelineStatus(handle) != PQ_PIPELINE_OFF { _ = PQexitPipelineMode(handle) }
        _ = PQsetnonblocking(handle, 0)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw unreachableError(handle, reason: errorMessage(handle))
        }
        try configureSession(handle)
        logger.debug("reconnected to PostgreSQL", metadata: ["target": "\(target(handle))"])
    }

    /// The server's version string, e.g. "15.18 (Debian 15.18-0+deb12u1)".
    public var serverVersion: String {
        guard let handle, let value = PQparameterStatus(handle, "server_version") else { return "" }
        return String(cString: value)
    }

    /// The server's version as a number, e.g. 150018.
    public var serverVersionNumber: Int {
        guard let handle else { return 0 }
        return Int(PQserverVersion(handle))
    }

    /// Process id of the server backend serving this session.
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// The linked libpq's version, e.g. "15.18".
    public static var libpqVersion: String {
        let version = Int(PQlibVersion())
        return "\(version / 10_000).\(version % 10_000)"
    }

    // MARK: connecting

    private static func startConnecting(keywords: [String], values: [String]) throws -> OpaquePointer {
        let cKeywords = keywords.map { strdup($0) } + [nil]
        let cValues = values.map { strdup($0) } + [nil]
        defer {
            cKeywords.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        let handle = cKeywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordPointers in
            cValues.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                // expand_dbname = 1: the dbname value is itself a connection
                // string; later keywords override what it says.
                PQconnectStartParams(keywordPointers.baseAddress, valuePointers.baseAddress, 1)
            }
        }
        guard let handle else {
            throw PostgresError(kind: .unreachable, message: "libpq could not allocate a connection", operation: "connect")
        }
        return handle
    }

    /// Drives the non-blocking handshake so the deadline holds even when the
    /// server accepts TCP but never answers.
    private func finishConnecting(_ handle: OpaquePointer, deadline: ContinuousClock.Instant, timeout: Duration) throws {
        var pollStatus = PGRES_POLLING_WRITING
        while PQstatus(handle) != CONNECTION_BAD {
            switch pollStatus {
            case PGRES_POLLING_OK:
                return
            case PGRES_POLLING_FAILED:
                break
            default:
                let ready = Self.waitForSocket(
                    handle, read: pollStatus == PGRES_POLLING_READING, write: pollStatus == PGRES_POLLING_WRITING,
                    deadline: deadline)
                if !ready {
                    let error = unreachableError(handle, reason: "no answer within \(timeout)")
                    close()
                    throw error
                }
                pollStatus = PQconnectPoll(handle)
                continue
            }
            break
        }
        let error = unreachableError(handle, reason: errorMessage(handle))
        close()
        throw error
    }

    /// Waits until the socket is readable/writable or the deadline passes;
    /// returns false on timeout.
    static func waitForSocket(
        _ handle: OpaquePointer, read: Bool, write: Bool, deadline: ContinuousClock.Instant?
    ) -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return true }  // let libpq report the problem
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        while true {
            var timeoutMilliseconds: Int32 = -1
            if let deadline {
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { return false }
                timeoutMilliseconds = Int32(clamping: remaining.inMilliseconds + 1)
            }
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let rc = poll(&descriptor, 1, timeoutMilliseconds)
            if rc > 0 { return true }
            if rc == 0 { return false }
            if errno != EINTR { return true }
        }
    }

    /// Settings the decoders rely on: UTF-8 text and ISO timestamps.
    private func configureSession(_ handle: OpaquePointer) throws {
        if let encoding = PQparameterStatus(handle, "client_encoding"), String(cString: encoding) != "UTF8" {
            guard PQsetClientEncoding(handle, "UTF8") == 0 else {
                throw connectionError(handle, operation: "set client_encoding")
            }
        }
        if let dateStyle = PQparameterStatus(handle, "DateStyle"), !String(cString: dateStyle).hasPrefix("ISO") {
            try execute("SET DateStyle TO ISO")
        }
    }

    /// "database csworker at 127.0.0.1:55432" for messages; never the password.
    func target(_ handle: OpaquePointer) -> String {
        let host = PQhost(handle).map { String(cString: $0) } ?? ""
        let port = PQport(handle).map { String(cString: $0) } ?? ""
        let database = PQdb(handle).map { String(cString: $0) } ?? ""
        return scrub("database \(database) at \(host.isEmpty ? "localhost" : host):\(port.isEmpty ? "5432" : port)")
    }

    private func unreachableError(_ handle: OpaquePointer, reason: String) -> PostgresError {
        // libpq does not expose the SQLSTATE of a failed connection attempt, so
        // the few refusals that are not "try again later" are told apart by text.
        let kind: PostgresError.Kind
        let verb: String
        if reason.contains("too many clients") || reason.contains("too many connections") {
            kind = .tooManyConnections
            verb = "refused the connection (too many connections)"
        } else if reason.contains("authentication failed") || reason.contains("does not exist")
            || reason.contains("no pg_hba.conf entry") || reason.contains("password")
        {
            kind = .other
            verb = "rejected the connection"
        } else {
            kind = .unreachable
            verb = "unreachable"
        }
        return PostgresError(kind: kind, message: "\(target(handle)) \(verb): \(reason)", operation: "connect")
    }

    // MARK: error helpers

    func scrub(_ text: String) -> String {
        PostgresConnectionString.scrub(text, passwords: passwords)
    }

    /// libpq's last error message, on one line, password scrubbed.
    func errorMessage(_ handle: OpaquePointer) -> String {
        let raw = PQerrorMessage(handle).map { String(cString: $0) } ?? ""
        return scrub(Self.oneLine(raw))
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingPrefix(while: \.isWhitespace) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    /// An error for a call that returned no result or failed to send.
    func connectionError(_ handle: OpaquePointer, operation: String, pipelineIndex: Int? = nil) -> PostgresError {
        let bad = PQstatus(handle) == CONNECTION_BAD
        let message = errorMessage(handle)
        return PostgresError(
            kind: bad ? .connectionLost : .other,
            message: message.isEmpty ? "no result from server" : message,
            operation: scrub(operation), pipelineIndex: pipelineIndex)
    }

    /// An error from a failed result (which the caller still owns).
    func resultError(
        _ result: OpaquePointer, handle: OpaquePointer, operation: String, pipelineIndex: Int? = nil
    ) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { scrub(String(cString: $0)) }
        }
        let sqlState = field("C")
        let message = field("M") ?? scrub(Self.oneLine(String(cString: PQresultErrorMessage(result))))
        return PostgresError(
            kind: PostgresError.classify(sqlState: sqlState, connectionBad: PQstatus(handle) == CONNECTION_BAD),
            message: message,
            operation: scrub(operation),
            sqlState: sqlState,
            severity: field("V") ?? field("S"),
            detail: field("D"),
            hint: field("H"),
            constraint: field("n"),
            pipelineIndex: pipelineIndex)
    }

    func misuse(_ operation: String, _ message: String) -> PostgresError {
        PostgresError(kind: .misuse, message: message, operation: operation)
    }

    /// The session's handle, or why it cannot be used: closed (misuse), or
    /// lost (`.connectionLost`, retriable: `reset()` reconnects). Checked before
    /// every call, so a session the server dropped never reports a confusing
    /// state of its own (a transaction that seems open, a statement "not
    /// prepared") and never takes a statement it cannot run.
    func liveHandle(_ operation: String) throws -> OpaquePointer {
        guard let handle else { throw misuse(operation, "connection is closed") }
        guard PQstatus(handle) == CONNECTION_OK else {
            preparedStatements.removeAll()
            throw PostgresError(
                kind: .connectionLost, message: "the session was lost; it reconnects on reset()", operation: scrub(operation))
        }
        return handle
    }

    /// Short SQL label for operations and logs (SQL never carries values).
    static func label(_ sql: String) -> String {
        let collapsed = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return collapsed.count > 80 ? String(collapsed.prefix(77)) + "..." : collapsed
    }

    /// Turns a PGresult into a `PostgresResult` or throws; consumes `result`.
    func check(_ result: OpaquePointer?, handle: OpaquePointer, operation: String) throws -> PostgresResult {
        guard let result else { throw connectionError(handle, operation: operation) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(handle: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            let status = PQresultStatus(result)
            PQclear(result)
            abandonCopy(handle, status: status)
            throw misuse(operation, "COPY FROM STDIN must go through copyIn(_:rows:); COPY TO STDOUT is not supported")
        default:
            let error = resultError(result, handle: handle, operation: operation)
            PQclear(result)
            throw error
        }
    }

    /// Gets the session out of a COPY it did not ask for, so it stays usable.
    private func abandonCopy(_ handle: OpaquePointer, status: ExecStatusType) {
        if status == PGRES_COPY_IN {
            _ = PQputCopyEnd(handle, "COPY FROM STDIN is only supported through copyIn")
        } else {
            var row: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(handle, &row, 0) > 0 {
                PQfreemem(row)
                row = nil
            }
        }
        while let leftover = PQgetResult(handle) {
            let leftoverStatus = PQresultStatus(leftover)
            PQclear(leftover)
            // Still in COPY (e.g. COPY BOTH): the session cannot be saved.
            if leftoverStatus == PGRES_COPY_IN || leftoverStatus == PGRES_COPY_OUT || leftoverStatus == PGRES_COPY_BOTH {
                close()
                return
            }
        }
    }
}

/// Routes server notices (e.g. "table does not exist, skipping") to the
/// logger instead of libpq's default of printing to stderr.
final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

private let noticeProcessor: PQnoticeProcessor = { context, message in
    guard let context, let message else { return }
    let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
    sink.logger.debug("server notice", metadata: ["notice": "\(PostgresConnection.oneLine(String(cString: message)))"])
}
