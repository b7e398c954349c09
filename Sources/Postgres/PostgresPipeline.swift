import CLibPQ

/// A batch of statements sent in libpq pipeline mode: all of them go out
/// before any result is read, followed by one sync point, so a batch costs
/// one network round trip instead of one per statement.
///
/// Build one inside `PostgresConnection.pipeline { ... }` (or standalone and
/// pass it to `run(_:isolation:)`). Parameters are encoded when a statement
/// is queued. Each queueing call returns the statement's index in the results.
public final class PostgresPipeline {
    enum Statement {
        case sql(String)
        case prepared(PreparedStatement)

        var label: String {
            switch self {
            case .sql(let sql): return PostgresConnection.label(sql)
            case .prepared(let statement): return statement.name
            }
        }
    }

    struct Entry {
        let statement: Statement
        let parameters: [PostgresParameterValue]
    }

    private(set) var entries: [Entry] = []

    public init() {}

    public var count: Int { entries.count }

    @discardableResult
    public func query(_ sql: String, _ parameters: any PostgresEncodable...) -> Int {
        query(sql, parameters: parameters)
    }

    @discardableResult
    public func query(_ sql: String, parameters: [any PostgresEncodable]) -> Int {
        entries.append(Entry(statement: .sql(sql), parameters: parameters.map(\.postgresParameter)))
        return entries.count - 1
    }

    /// Queues a prepared statement; if the connection has not prepared it yet,
    /// the Prepare travels in the same pipeline just before it.
    @discardableResult
    public func execute(_ statement: PreparedStatement, _ parameters: any PostgresEncodable...) -> Int {
        execute(prepared: statement, parameters: parameters)
    }

    @discardableResult
    public func execute(prepared statement: PreparedStatement, parameters: [any PostgresEncodable]) -> Int {
        entries.append(Entry(statement: .prepared(statement), parameters: parameters.map(\.postgresParameter)))
        return entries.count - 1
    }
}

extension PostgresPipeline {
    /// Queues `other`'s statements after this one's (their results follow).
    public func append(contentsOf other: PostgresPipeline) {
        entries.append(contentsOf: other.entries)
    }
}

extension PostgresConnection {
    /// Queues statements in `body`, sends them as one pipeline, and returns
    /// their results in queue order.
    ///
    /// With `isolation`, BEGIN and COMMIT travel in the same pipeline, so a
    /// whole transaction costs one round trip; the results exclude them.
    /// When a statement fails, the server skips the rest of the batch; the
    /// thrown error names the failing statement (`operation`,
    /// `pipelineIndex`). A transaction the pipeline opened is rolled back; one
    /// the caller opened (inside `transaction {}`) is left for the caller, whose
    /// transaction then fails as usual.
    public func pipeline(
        isolation: IsolationLevel? = nil, _ body: (PostgresPipeline) throws -> Void
    ) throws -> [PostgresResult] {
        let pipeline = PostgresPipeline()
        try body(pipeline)
        return try run(pipeline, isolation: isolation)
    }

    private enum Expectation {
        case begin
        case prepare(PreparedStatement, entry: Int)
        case statement(Int)
        case commit
    }

    public func run(_ pipeline: PostgresPipeline, isolation: IsolationLevel? = nil) throws -> [PostgresResult] {
        let entries = pipeline.entries
        let handle = try liveHandle("pipeline")
        let startedIdle = PQtransactionStatus(handle) == PQTRANS_IDLE
        if isolation != nil && !startedIdle {
            throw misuse("pipeline", "a transaction is already open; run the pipeline without isolation inside it")
        }
        guard !entries.isEmpty else { return [] }
        func operation(_ index: Int) -> String {
            "pipeline statement \(index + 1) of \(entries.count) (\(entries[index].statement.label))"
        }
        // Encode everything before entering pipeline mode so a bad parameter
        // fails without touching the session.
        var buffers: [ParameterBuffers] = []
        buffers.reserveCapacity(entries.count)
        var statementNames = preparedStatements
        for (index, entry) in entries.enumerated() {
            buffers.append(try ParameterBuffers(entry.parameters, operation: operation(index)))
            if case .prepared(let statement) = entry.statement {
                if let known = statementNames[statement.name], known != statement.sql { throw nameClash(statement) }
                statementNames[statement.name] = statement.sql
            }
        }

        guard PQenterPipelineMode(handle) == 1 else { throw connectionError(handle, operation: "pipeline") }
        // Non-blocking while sending: libpq then buffers the whole batch in
        // memory instead of blocking on a full socket while the server blocks
        // on us not reading its results.
        guard PQsetnonblocking(handle, 1) == 0 else {
            _ = PQexitPipelineMode(handle)
            throw connectionError(handle, operation: "pipeline")
        }
        logger.trace("pipeline", metadata: ["statements": "\(entries.count)"])

        var expectations: [Expectation] = []
        expectations.reserveCapacity(entries.count + 2)
        var sendError: PostgresError?
        var preparing: [String: String] = [:]

        func sendParameterless(_ sql: String, _ expectation: Expectation, _ name: String) {
            guard sendError == nil else { return }
            if PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) == 1 {
                expectations.append(expectation)
            } else {
                sendError = connectionError(handle, operation: name)
            }
        }

        if let isolation { sendParameterless(Self.beginSQL(isolation: isolation), .begin, "BEGIN") }
        for index in entries.indices where sendError == nil {
            let entry = entries[index]
            var sent: Int32 = 0
            switch entry.statement {
            case .sql(let sql):
                sent = buffers[index].withPointers { types, values, lengths, formats in
                    PQsendQueryParams(handle, sql, buffers[index].count, types, values, lengths, formats, 0)
                }
            case .prepared(let statement):
                if preparedStatements[statement.name] == nil && preparing[statement.name] == nil {
                    let prepared = buffers[index].withPointers { types, _, _, _ in
                        PQsendPrepare(handle, statement.name, statement.sql, buffers[index].count, types)
                    }
                    guard prepared == 1 else {
                        sendError = connectionError(handle, operation: operation(index), pipelineIndex: index)
                        break
                    }
                    preparing[statement.name] = statement.sql
                    expectations.append(.prepare(statement, entry: index))
                }
                sent = buffers[index].withPointers { _, values, lengths, formats in
                    PQsendQueryPrepared(handle, statement.name, buffers[index].count, values, lengths, formats, 0)
                }
            }
            guard sendError == nil else { break }
            if sent == 1 {
                expectations.append(.statement(index))
            } else {
                sendError = connectionError(handle, operation: operation(index), pipelineIndex: index)
            }
        }
        if isolation != nil { sendParameterless("COMMIT", .commit, "COMMIT") }

        var results = [PostgresResult?](repeating: nil, count: entries.count)
        var firstError = sendError
        do {
            guard PQpipelineSync(handle) == 1 else { throw connectionError(handle, operation: "pipeline sync") }
            for expectation in expectations {
                guard let result = try nextPipelineResult(handle) else {
                    throw connectionError(handle, operation: "pipeline")
                }
                let status = PQresultStatus(result)
                if status == PGRES_PIPELINE_ABORTED {
                    PQclear(result)
                } else if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                    switch expectation {
                    case .statement(let index):
                        results[index] = PostgresResult(handle: result)
                    case .prepare(let statement, _):
                        preparedStatements[statement.name] = statement.sql
                        PQclear(result)
                    case .commit:
                        let rolledBack = String(cString: PQcmdStatus(result)) == "ROLLBACK"
                        PQclear(result)
                        if rolledBack && firstError == nil {
                            firstError = PostgresError(
                                kind: .other, message: "the server rolled the pipelined transaction back",
                                operation: "COMMIT")
                        }
                    case .begin:
                        PQclear(result)
                    }
                } else {
                    let name: String
                    var index: Int? = nil
                    switch expectation {
                    case .begin: name = "BEGIN"
                    case .commit: name = "COMMIT"
                    case .statement(let entry), .prepare(_, let entry):
                        index = entry
                        name = operation(entry)
                    }
                    let error = resultError(result, handle: handle, operation: name, pipelineIndex: index)
                    PQclear(result)
                    if firstError == nil { firstError = error }
                }
                // Each statement's results end with a NULL.
                while let extra = try nextPipelineResult(handle) { PQclear(extra) }
            }
            guard let sync = try nextPipelineResult(handle) else {
                throw connectionError(handle, operation: "pipeline sync")
            }
            let syncStatus = PQresultStatus(sync)
            PQclear(sync)
            guard syncStatus == PGRES_PIPELINE_SYNC else {
                throw misuse("pipeline", "expected the pipeline sync result, got status \(syncStatus.rawValue)")
            }
        } catch {
            // A lost session is left for reset(); a live one we could not bring
            // back to a known state is closed rather than handed back half-read.
            if PQstatus(handle) == CONNECTION_OK && PQexitPipelineMode(handle) != 1 {
                logger.warning("closing connection left mid-pipeline", metadata: ["error": "\(error)"])
                close()
            } else {
                _ = PQsetnonblocking(handle, 0)
            }
            throw error
        }
        _ = PQexitPipelineMode(handle)
        _ = PQsetnonblocking(handle, 0)

        if let firstError {
            if startedIdle { rollbackAfterFailure(firstError) }
            throw firstError
        }
        return results.map { $0! }
    }

    /// The next pipeline result, flushing and waiting on the socket as needed.
    private func nextPipelineResult(_ handle: OpaquePointer) throws -> OpaquePointer? {
        while true {
            let flushed = PQflush(handle)
            if flushed == -1 { throw connectionError(handle, operation: "pipeline") }
            if PQisBusy(handle) == 0 { return PQgetResult(handle) }
            _ = Self.waitForSocket(handle, read: true, write: flushed == 1, deadline: nil)
            if PQconsumeInput(handle) == 0 { throw connectionError(handle, operation: "pipeline") }
        }
    }
}
