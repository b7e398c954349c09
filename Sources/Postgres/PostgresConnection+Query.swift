import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parameters laid out the way libpq's *Params calls want them. Text values
/// are NUL-terminated copies in one allocation.
final class ParameterBuffers {
    let count: Int32
    private let storage: UnsafeMutablePointer<CChar>
    let types: [UInt32]
    let values: [UnsafePointer<CChar>?]
    let lengths: [Int32]
    let formats: [Int32]

    init(_ parameters: [PostgresParameterValue], operation: String) throws {
        guard parameters.count <= 65_535 else {
            throw PostgresError(
                kind: .misuse, message: "\(parameters.count) parameters; the protocol allows 65535",
                operation: operation)
        }
        var total = 0
        for parameter in parameters { total += (parameter.bytes?.count ?? 0) + 1 }
        storage = .allocate(capacity: max(total, 1))
        var types: [UInt32] = []
        var values: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        types.reserveCapacity(parameters.count)
        values.reserveCapacity(parameters.count)
        lengths.reserveCapacity(parameters.count)
        formats.reserveCapacity(parameters.count)
        var offset = 0
        for (index, parameter) in parameters.enumerated() {
            types.append(parameter.type.rawValue)
            formats.append(parameter.binary ? 1 : 0)
            guard let bytes = parameter.bytes else {
                values.append(nil)
                lengths.append(0)
                continue
            }
            // Text parameters are C strings; an embedded NUL would silently
            // truncate the value (and the server rejects NUL in text anyway).
            if !parameter.binary, bytes.contains(0) {
                storage.deallocate()
                throw PostgresError(
                    kind: .misuse, message: "text parameter $\(index + 1) contains a NUL byte", operation: operation)
            }
            let start = storage + offset
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { chars in
                    if let base = chars.baseAddress { start.update(from: base, count: chars.count) }
                }
            }
            start[bytes.count] = 0
            values.append(UnsafePointer(start))
            lengths.append(Int32(bytes.count))
            offset += bytes.count + 1
        }
        count = Int32(parameters.count)
        self.types = types
        self.values = values
        self.lengths = lengths
        self.formats = formats
    }

    deinit { storage.deallocate() }

    func withPointers<R>(
        _ body: (
            UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
        ) throws -> R
    ) rethrows -> R {
        try types.withUnsafeBufferPointer { types in
            try values.withUnsafeBufferPointer { values in
                try lengths.withUnsafeBufferPointer { lengths in
                    try formats.withUnsafeBufferPointer { formats in
                        try body(types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                    }
                }
            }
        }
    }
}

extension PostgresConnection {
    // MARK: parameterized statements

    /// Runs one statement with `$1...$n` bound to `parameters`.
    @discardableResult
    public func query(_ sql: String, _ parameters: any PostgresEncodable...) throws -> PostgresResult {
        try query(sql, parameters: parameters)
    }

    @discardableResult
    public func query(_ sql: String, parameters: [any PostgresEncodable]) throws -> PostgresResult {
        try run(sql, values: parameters.map(\.postgresParameter), operation: Self.label(sql))
    }

    /// Same as `query`; reads better for statements whose rows are not needed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: any PostgresEncodable...) throws -> PostgresResult {
        try query(sql, parameters: parameters)
    }

    @discardableResult
    public func execute(_ sql: String, parameters: [any PostgresEncodable]) throws -> PostgresResult {
        try query(sql, parameters: parameters)
    }

    @discardableResult
    func run(_ sql: String, values: [PostgresParameterValue], operation: String) throws -> PostgresResult {
        let handle = try liveHandle(operation)
        let buffers = try ParameterBuffers(values, operation: operation)
        logger.trace("query", metadata: ["sql": "\(operation)", "parameters": "\(values.count)"])
        let result = buffers.withPointers { types, values, lengths, formats in
            PQexecParams(handle, sql, buffers.count, types, values, lengths, formats, 0)
        }
        return try check(result, handle: handle, operation: operation)
    }

    /// One round trip with an empty statement: proves the session works,
    /// where `isHealthy` only reports what libpq last saw.
    public func ping() throws {
        try run("", values: [], operation: "ping")
    }

    /// Runs a parameterless script that may hold several statements (schema
    /// migrations). Uses the simple protocol; never put values in `sql`.
    public func executeScript(_ sql: String) throws {
        let operation = "script " + Self.label(sql)
        let handle = try liveHandle(operation)
        logger.trace("script", metadata: ["sql": "\(operation)"])
        guard PQsendQuery(handle, sql) == 1 else { throw connectionError(handle, operation: operation) }
        var firstError: PostgresError?
        while let result = PQgetResult(handle) {
            do {
                _ = try check(result, handle: handle, operation: operation)
            } catch let error as PostgresError {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        if PQstatus(handle) == CONNECTION_BAD { throw connectionError(handle, operation: operation) }
    }

    // MARK: prepared statements

    /// Prepares `statement` on this session now (usually unnecessary: executing
    /// it prepares it lazily). Types left out are inferred by the server.
    public func prepare(_ statement: PreparedStatement, types: [PostgresTypeOID] = []) throws {
        let handle = try liveHandle(statement.name)
        if let existing = preparedStatements[statement.name] {
            guard existing == statement.sql else { throw nameClash(statement) }
            return
        }
        let oids = types.map(\.rawValue)
        let result = oids.withUnsafeBufferPointer { oids in
            PQprepare(handle, statement.name, statement.sql, Int32(oids.count), oids.baseAddress)
        }
        _ = try check(result, handle: handle, operation: "prepare \(statement.name)")
        preparedStatements[statement.name] = statement.sql
        logger.debug("prepared statement", metadata: ["name": "\(statement.name)"])
    }

    @discardableResult
    public func prepare(name: String, sql: String) throws -> PreparedStatement {
        let statement = PreparedStatement(name: name, sql: sql)
        try prepare(statement)
        return statement
    }

    /// Whether `statement` is already prepared on the current session.
    public func isPrepared(_ statement: PreparedStatement) -> Bool {
        preparedStatements[statement.name] == statement.sql
    }

    /// Executes a prepared statement, preparing it first on this session if
    /// needed (with the parameter types of this first call).
    @discardableResult
    public func execute(_ statement: PreparedStatement, _ parameters: any PostgresEncodable...) throws -> PostgresResult {
        try execute(prepared: statement, parameters: parameters)
    }

    @discardableResult
    public func execute(prepared statement: PreparedStatement, parameters: [any PostgresEncodable]) throws
        -> PostgresResult
    {
        let values = parameters.map(\.postgresParameter)
        let handle = try liveHandle(statement.name)
        if !isPrepared(statement) { try prepare(statement, types: values.map(\.type)) }
        let buffers = try ParameterBuffers(values, operation: statement.name)
        logger.trace("execute prepared", metadata: ["name": "\(statement.name)", "parameters": "\(values.count)"])
        let result = buffers.withPointers { _, values, lengths, formats in
            PQexecPrepared(handle, statement.name, buffers.count, values, lengths, formats, 0)
        }
        return try check(result, handle: handle, operation: statement.name)
    }

    @discardableResult
    public func query(_ statement: PreparedStatement, _ parameters: any PostgresEncodable...) throws -> PostgresResult {
        try execute(prepared: statement, parameters: parameters)
    }

    func nameClash(_ statement: PreparedStatement) -> PostgresError {
        misuse(statement.name, "prepared statement \(statement.name) already exists with different SQL")
    }

    // MARK: transactions

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it
    /// throws (the original error is rethrown). A failing COMMIT throws; so
    /// does a COMMIT the server turned into a ROLLBACK because a statement
    /// inside failed and the body swallowed that error. Not reentrant.
    ///
    /// A `.connectionLost` error from COMMIT itself is ambiguous: the server
    /// may have committed before the session died. Work retried after it must
    /// be idempotent (e.g. guarded by a dedupe key).
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try begin(isolation: isolation, readOnly: readOnly)
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackAfterFailure(error)
            throw error
        }
        try commit()
        return value
    }

    /// Async flavour of `transaction`; runs on the caller's executor.
    nonisolated(nonsending) public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        readOnly: Bool = false,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try begin(isolation: isolation, readOnly: readOnly)
        let value: T
        do {
            value = try await body(self)
        } catch {
            rollbackAfterFailure(error)
            throw error
        }
        try commit()
        return value
    }

    func begin(isolation: IsolationLevel, readOnly: Bool) throws {
        _ = try liveHandle("BEGIN")
        guard transactionStatus == .idle else {
            throw misuse("BEGIN", "a transaction is already open on this connection; nesting is not supported")
        }
        try run(Self.beginSQL(isolation: isolation, readOnly: readOnly), values: [], operation: "BEGIN")
    }

    static func beginSQL(isolation: IsolationLevel, readOnly: Bool = false) -> String {
        "BEGIN ISOLATION LEVEL \(isolation.rawValue)" + (readOnly ? " READ ONLY" : "")
    }

    func commit() throws {
        let result = try run("COMMIT", values: [], operation: "COMMIT")
        if result.commandTag == "ROLLBACK" {
            throw PostgresError(
                kind: .other,
                message: "the server rolled the transaction back: a statement in it failed and the error was caught",
                operation: "COMMIT")
        }
    }

    /// Best effort: a lost connection has no transaction left to roll back.
    func rollbackAfterFailure(_ error: any Error) {
        guard let handle, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) != PQTRANS_IDLE else { return }
        do {
            try run("ROLLBACK", values: [], operation: "ROLLBACK")
        } catch {
            logger.warning("ROLLBACK failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: COPY

    /// Streams rows into `COPY ... FROM STDIN` (text format; `sql` must be that
    /// COPY statement). nil fields are NULL. Returns the number of rows copied.
    @discardableResult
    public func copyIn(_ sql: String, rows: some Sequence<[String?]>) throws -> Int {
        try copyIn(sql, fields: rows) { (buffer: inout [UInt8], field: String?) in
            guard let field else { return PostgresCopyText.appendNull(&buffer) }
            PostgresCopyText.append(field.utf8, to: &buffer)
        }
    }

    /// Same with typed values (bytea goes as hex text).
    @discardableResult
    public func copyIn(_ sql: String, rows: some Sequence<[any PostgresEncodable]>) throws -> Int {
        try copyIn(sql, fields: rows) { (buffer: inout [UInt8], field: any PostgresEncodable) in
            PostgresCopyText.append(field.postgresParameter, to: &buffer)
        }
    }

    private func copyIn<Field>(
        _ sql: String, fields rows: some Sequence<[Field]>, encode: (inout [UInt8], Field) -> Void
    ) throws -> Int {
        let operation = Self.label(sql)
        let handle = try liveHandle(operation)
        guard let start = PQexec(handle, sql) else { throw connectionError(handle, operation: operation) }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            // Not a COPY FROM STDIN: report the server's error or refuse.
            let result = try check(start, handle: handle, operation: operation)
            throw misuse(operation, "statement is not COPY FROM STDIN (got \(result.commandTag))")
        }
        PQclear(start)
        let chunkSize = 1 << 16
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize + 1024)
        func flush() throws {
            let sent = buffer.withUnsafeBytes { bytes in
                PQputCopyData(handle, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
            }
            guard sent == 1 else { throw connectionError(handle, operation: operation) }
            buffer.removeAll(keepingCapacity: true)
        }
        for row in rows {
            for (index, field) in row.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: "\t")) }
                encode(&buffer, field)
            }
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= chunkSize { try flush() }
        }
        if !buffer.isEmpty { try flush() }
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError(handle, operation: operation) }
        var outcome: Result<PostgresResult, any Error> = .failure(connectionError(handle, operation: operation))
        var first = true
        while let result = PQgetResult(handle) {
            if first {
                outcome = Result { try check(result, handle: handle, operation: operation) }
                first = false
            } else {
                PQclear(result)
            }
        }
        let rowsCopied = try outcome.get().affectedRows
        logger.trace("copy in", metadata: ["sql": "\(operation)", "rows": "\(rowsCopied)"])
        return rowsCopied
    }
}

/// COPY text-format field escaping.
enum PostgresCopyText {
    static func appendNull(_ buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\\"))
        buffer.append(UInt8(ascii: "N"))
    }

    static func append(_ bytes: some Sequence<UInt8>, to buffer: inout [UInt8]) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }

    static func append(_ value: PostgresParameterValue, to buffer: inout [UInt8]) {
        guard let bytes = value.bytes else { return appendNull(&buffer) }
        guard value.binary else { return append(bytes, to: &buffer) }
        // Binary parameters are bytea: hex input form, its backslash escaped.
        let hex = Array("0123456789abcdef".utf8)
        buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        for byte in bytes {
            buffer.append(hex[Int(byte >> 4)])
            buffer.append(hex[Int(byte & 0x0F)])
        }
    }
}
