import CLibPQ

/// The rows and command status of one statement. Owns its PGresult, which is
/// immutable once received, so a result may be read from any thread.
public final class PostgresResult: @unchecked Sendable {
    let handle: OpaquePointer
    public let rowCount: Int
    public let columnNames: [String]
    private let columnIndexes: [String: Int]
    private let columnTypes: [PostgresTypeOID]

    init(handle: OpaquePointer) {
        self.handle = handle
        rowCount = Int(PQntuples(handle))
        let columnCount = Int(PQnfields(handle))
        var names: [String] = []
        var types: [PostgresTypeOID] = []
        var indexes: [String: Int] = [:]
        names.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            let name = PQfname(handle, Int32(column)).map { String(cString: $0) } ?? "?column?"
            names.append(name)
            types.append(PostgresTypeOID(PQftype(handle, Int32(column))))
            // First column wins for duplicate names, like PQfnumber.
            if indexes[name] == nil { indexes[name] = column }
        }
        columnNames = names
        columnTypes = types
        columnIndexes = indexes
    }

    deinit { PQclear(handle) }

    public var columnCount: Int { columnNames.count }

    /// The command tag, e.g. "INSERT 0 5" or "SELECT 3".
    public var commandTag: String { String(cString: PQcmdStatus(handle)) }

    /// Rows inserted, updated, deleted, selected, copied or fetched; 0 for
    /// commands that do not count rows.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    public func columnIndex(named name: String) -> Int? { columnIndexes[name] }

    public func columnType(_ column: Int) -> PostgresTypeOID { columnTypes[column] }
}

extension PostgresResult: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { rowCount }
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < rowCount, "row \(position) out of range 0..<\(rowCount)")
        return PostgresRow(result: self, index: position)
    }
}

/// One row of a result; reads cells as typed Swift values.
public struct PostgresRow: Sendable {
    public let result: PostgresResult
    public let index: Int

    public func isNull(column: Int) -> Bool {
        PQgetisnull(result.handle, Int32(index), Int32(column)) == 1
    }

    /// Reads column `column` (zero-based). Decode an `Optional` to accept NULL.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column: Int) throws -> T {
        guard column >= 0 && column < result.columnCount else {
            throw PostgresError(
                kind: .misuse, message: "column \(column) out of range (result has \(result.columnCount))",
                operation: "decode")
        }
        let handle = result.handle
        let name = result.columnNames[column]
        let type = result.columnType(column)
        if PQgetisnull(handle, Int32(index), Int32(column)) == 1 {
            return try T(postgresCell: PostgresCell(bytes: nil, type: type, column: name))
        }
        let length = Int(PQgetlength(handle, Int32(index), Int32(column)))
        let bytes = UnsafeRawBufferPointer(start: PQgetvalue(handle, Int32(index), Int32(column)), count: length)
        return try T(postgresCell: PostgresCell(bytes: bytes, type: type, column: name))
    }

    /// Reads the column with this name (as the server reports it, i.e.
    /// lower-cased unless quoted in the SQL).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let column = result.columnIndex(named: name) else {
            throw PostgresError(kind: .misuse, message: "no column named \(name) in result", operation: "decode")
        }
        return try decode(type, column: column)
    }
}
