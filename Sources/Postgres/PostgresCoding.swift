import Foundation

/// A PostgreSQL type OID as sent with parameters and reported for columns.
public struct PostgresTypeOID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Lets the server infer the type from the statement.
    public static let unspecified = PostgresTypeOID(0)
    public static let bool = PostgresTypeOID(16)
    public static let bytea = PostgresTypeOID(17)
    public static let int8 = PostgresTypeOID(20)
    public static let int2 = PostgresTypeOID(21)
    public static let int4 = PostgresTypeOID(23)
    public static let text = PostgresTypeOID(25)
    public static let json = PostgresTypeOID(114)
    public static let float8 = PostgresTypeOID(701)
    public static let boolArray = PostgresTypeOID(1000)
    public static let int2Array = PostgresTypeOID(1005)
    public static let int4Array = PostgresTypeOID(1007)
    public static let textArray = PostgresTypeOID(1009)
    public static let int8Array = PostgresTypeOID(1016)
    public static let float8Array = PostgresTypeOID(1022)
    public static let date = PostgresTypeOID(1082)
    public static let timestamp = PostgresTypeOID(1114)
    public static let timestamptz = PostgresTypeOID(1184)
    public static let timestamptzArray = PostgresTypeOID(1185)
    public static let numeric = PostgresTypeOID(1700)
    public static let uuid = PostgresTypeOID(2950)
    public static let uuidArray = PostgresTypeOID(2951)
    public static let jsonb = PostgresTypeOID(3802)
    public static let jsonbArray = PostgresTypeOID(3807)

    public var description: String { "oid \(rawValue)" }
}

/// A parameter as it goes on the wire: text format unless `binary`, NULL when
/// `bytes` is nil. Text bytes are UTF-8 without a terminator.
public struct PostgresParameterValue: Sendable {
    public var type: PostgresTypeOID
    public var bytes: [UInt8]?
    public var binary: Bool

    public init(type: PostgresTypeOID, bytes: [UInt8]?, binary: Bool = false) {
        self.type = type
        self.bytes = bytes
        self.binary = binary
    }

    public init(type: PostgresTypeOID, text: String?) {
        self.init(type: type, bytes: text.map { Array($0.utf8) })
    }

    public static func null(_ type: PostgresTypeOID) -> PostgresParameterValue {
        PostgresParameterValue(type: type, bytes: nil)
    }
}

/// A Swift value that can be bound to a `$n` placeholder.
public protocol PostgresEncodable {
    var postgresParameter: PostgresParameterValue { get }
}

/// One result cell as handed to a decoder. `bytes` (text format, nil for
/// NULL) is only valid during the `init(postgresCell:)` call.
public struct PostgresCell {
    public let bytes: UnsafeRawBufferPointer?
    public let type: PostgresTypeOID
    /// Column name, or "column[3]" for an array element, for error messages.
    public let column: String

    public init(bytes: UnsafeRawBufferPointer?, type: PostgresTypeOID, column: String) {
        self.bytes = bytes
        self.type = type
        self.column = column
    }

    public var isNull: Bool { bytes == nil }

    /// The cell's text; throws for NULL.
    public func text() throws -> String {
        String(decoding: try nonNullBytes(), as: UTF8.self)
    }

    public func nonNullBytes() throws -> UnsafeRawBufferPointer {
        guard let bytes else {
            throw decodingError("is NULL; decode an Optional to accept NULL")
        }
        return bytes
    }

    /// Decoding errors name the column and types, never the value (it may be
    /// personal data).
    public func decodingError(_ reason: String) -> PostgresError {
        PostgresError(
            kind: .decodingFailure,
            message: "column \(column) (\(type)) \(reason)",
            operation: "decode")
    }
}

/// A Swift value that can be read from a result cell.
public protocol PostgresDecodable {
    init(postgresCell cell: PostgresCell) throws
}

public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

/// A type whose values can be elements of a PostgreSQL one-dimensional array
/// (`[String]` <-> `text[]`, with `Optional` elements for NULLs).
public protocol PostgresArrayElement {
    static var postgresArrayType: PostgresTypeOID { get }
    /// The element type reported for cells decoded out of an array.
    static var postgresElementType: PostgresTypeOID { get }
    /// The element's text inside an array literal (before quoting); nil is NULL.
    var postgresArrayElementText: String? { get }
    /// Reads one element; `cell.bytes` is nil for a NULL element.
    init(postgresArrayElement cell: PostgresCell) throws

    /// Whether `appendPostgresBinaryElement` writes the element type's binary
    /// form; arrays of it are then sent in binary format (`PostgresBinaryArray`).
    static var postgresBinaryElements: Bool { get }
    /// Appends the element's binary form; false for NULL (nothing appended).
    func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool

    /// How a whole array of this element is sent; defaults to binary format
    /// when the element has one, an array literal otherwise.
    static func postgresArrayParameter(_ elements: [Self]) -> PostgresParameterValue
    /// How a whole array of this element is read; defaults to parsing a literal.
    static func postgresArray(from cell: PostgresCell) throws -> [Self]
}

extension PostgresArrayElement {
    public static var postgresBinaryElements: Bool { false }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        preconditionFailure("\(Self.self) has no binary form")
    }

    public static func postgresArrayParameter(_ elements: [Self]) -> PostgresParameterValue {
        if postgresBinaryElements {
            return PostgresParameterValue(type: postgresArrayType, bytes: PostgresBinaryArray.encode(elements), binary: true)
        }
        return PostgresParameterValue(
            type: postgresArrayType,
            bytes: PostgresArrayLiteral.encode(elements.map(\.postgresArrayElementText)))
    }

    public static func postgresArray(from cell: PostgresCell) throws -> [Self] {
        let elements = try PostgresArrayLiteral.decode(cell.nonNullBytes(), column: cell.column, type: cell.type)
        var result: [Self] = []
        result.reserveCapacity(elements.count)
        for (offset, element) in elements.enumerated() {
            let name = "\(cell.column)[\(offset + 1)]"
            if var text = element {
                try text.withUTF8 { buffer in
                    result.append(
                        try Self(
                            postgresArrayElement: PostgresCell(
                                bytes: UnsafeRawBufferPointer(buffer), type: postgresElementType, column: name)))
                }
            } else {
                result.append(
                    try Self(postgresArrayElement: PostgresCell(bytes: nil, type: postgresElementType, column: name)))
            }
        }
        return result
    }
}

/// Scalar element types read their elements exactly like their cells.
extension PostgresArrayElement where Self: PostgresDecodable {
    public init(postgresArrayElement cell: PostgresCell) throws {
        try self.init(postgresCell: cell)
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresParameter: PostgresParameterValue { Element.postgresArrayParameter(self) }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    public init(postgresCell cell: PostgresCell) throws {
        self = try Element.postgresArray(from: cell)
    }
}

// MARK: Optional

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresParameter: PostgresParameterValue {
        switch self {
        case .some(let value): return value.postgresParameter
        // The type of a NULL does not matter to the server unless the
        // statement needs it to resolve an overload; .unspecified keeps
        // `col = $1` working for any column type.
        case .none: return .null(.unspecified)
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresCell cell: PostgresCell) throws {
        self = cell.isNull ? nil : try Wrapped(postgresCell: cell)
    }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { Wrapped.postgresArrayType }
    public static var postgresElementType: PostgresTypeOID { Wrapped.postgresElementType }
    public var postgresArrayElementText: String? { self?.postgresArrayElementText }
    public static var postgresBinaryElements: Bool { Wrapped.postgresBinaryElements }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        self?.appendPostgresBinaryElement(to: &out) ?? false
    }
    public init(postgresArrayElement cell: PostgresCell) throws {
        self = cell.isNull ? nil : try Wrapped(postgresArrayElement: cell)
    }
}

// MARK: Strings

extension String: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .textArray }
    public static var postgresElementType: PostgresTypeOID { .text }
    /// Sent untyped so a string can fill a varchar, date, enum or json column.
    public var postgresParameter: PostgresParameterValue {
        PostgresParameterValue(type: .unspecified, bytes: Array(utf8))
    }
    public var postgresArrayElementText: String? { self }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        out.append(contentsOf: utf8)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws {
        self = try cell.text()
    }
}

extension Substring: PostgresEncodable {
    public var postgresParameter: PostgresParameterValue {
        PostgresParameterValue(type: .unspecified, bytes: Array(utf8))
    }
}

// MARK: Integers

/// Parses a decimal integer from text without allocating.
@inline(__always)
func parseInt64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
    var index = 0
    var negative = false
    if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
        negative = first == UInt8(ascii: "-")
        index = 1
    }
    guard index < bytes.count else { return nil }
    var value: Int64 = 0
    while index < bytes.count {
        let digit = bytes[index] &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (next, overflow2) =
            negative ? shifted.subtractingReportingOverflow(Int64(digit)) : shifted.addingReportingOverflow(Int64(digit))
        if overflow1 || overflow2 { return nil }
        value = next
        index += 1
    }
    return value
}

func decodeInteger<T: FixedWidthInteger>(_ cell: PostgresCell) throws -> T {
    let bytes = try cell.nonNullBytes()
    guard let wide = parseInt64(bytes) else { throw cell.decodingError("is not an integer") }
    guard let value = T(exactly: wide) else { throw cell.decodingError("does not fit in \(T.self)") }
    return value
}

extension Int64: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .int8Array }
    public static var postgresElementType: PostgresTypeOID { .int8 }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .int8, text: description) }
    public var postgresArrayElementText: String? { description }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        PostgresBinaryArray.append(self, to: &out)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws { self = try decodeInteger(cell) }
}

extension Int: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .int8Array }
    public static var postgresElementType: PostgresTypeOID { .int8 }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .int8, text: description) }
    public var postgresArrayElementText: String? { description }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        PostgresBinaryArray.append(Int64(self), to: &out)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws { self = try decodeInteger(cell) }
}

extension Int32: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .int4Array }
    public static var postgresElementType: PostgresTypeOID { .int4 }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .int4, text: description) }
    public var postgresArrayElementText: String? { description }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        PostgresBinaryArray.append(self, to: &out)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws { self = try decodeInteger(cell) }
}

extension Int16: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .int2Array }
    public static var postgresElementType: PostgresTypeOID { .int2 }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .int2, text: description) }
    public var postgresArrayElementText: String? { description }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        PostgresBinaryArray.append(self, to: &out)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws { self = try decodeInteger(cell) }
}

// MARK: Bool, Double

extension Bool: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .boolArray }
    public static var postgresElementType: PostgresTypeOID { .bool }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .bool, text: self ? "t" : "f") }
    public var postgresArrayElementText: String? { self ? "t" : "f" }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        out.append(self ? 1 : 0)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws {
        let bytes = try cell.nonNullBytes()
        switch (bytes.count, bytes.first) {
        case (1, UInt8(ascii: "t")): self = true
        case (1, UInt8(ascii: "f")): self = false
        default: throw cell.decodingError("is not a boolean")
        }
    }
}

extension Double: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .float8Array }
    public static var postgresElementType: PostgresTypeOID { .float8 }
    /// Swift prints the shortest text that reads back to the same Double,
    /// which float8in accepts; only the non-finite spellings differ.
    var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .float8, text: postgresText) }
    public var postgresArrayElementText: String? { postgresText }
    public init(postgresCell cell: PostgresCell) throws {
        switch try cell.text() {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        case let text:
            guard let value = Double(text) else { throw cell.decodingError("is not a number") }
            self = value
        }
    }
}

// MARK: UUID

extension UUID: PostgresEncodable, PostgresDecodable, PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .uuidArray }
    public static var postgresElementType: PostgresTypeOID { .uuid }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: .uuid, text: uuidString) }
    public var postgresArrayElementText: String? { uuidString }
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        withUnsafeBytes(of: uuid) { out.append(contentsOf: $0) }
        return true
    }
    public init(postgresCell cell: PostgresCell) throws {
        guard let value = UUID(uuidString: try cell.text()) else { throw cell.decodingError("is not a UUID") }
        self = value
    }
}

// MARK: bytea

/// `[UInt8]` is bytea, not an array of small integers: sent in binary format
/// (no hex doubling), read from the server's hex output.
extension UInt8: PostgresArrayElement {
    public static var postgresArrayType: PostgresTypeOID { .bytea }
    public static var postgresElementType: PostgresTypeOID { .bytea }
    public var postgresArrayElementText: String? { description }
    public init(postgresArrayElement cell: PostgresCell) throws { self = try decodeInteger(cell) }

    public static func postgresArrayParameter(_ elements: [UInt8]) -> PostgresParameterValue {
        PostgresParameterValue(type: .bytea, bytes: elements, binary: true)
    }

    public static func postgresArray(from cell: PostgresCell) throws -> [UInt8] {
        try decodeBytea(cell)
    }
}

extension Data: PostgresEncodable, PostgresDecodable {
    public var postgresParameter: PostgresParameterValue {
        PostgresParameterValue(type: .bytea, bytes: Array(self), binary: true)
    }
    public init(postgresCell cell: PostgresCell) throws {
        self = Data(try decodeBytea(cell))
    }
}

func decodeBytea(_ cell: PostgresCell) throws -> [UInt8] {
    let bytes = try cell.nonNullBytes()
    // bytea_output = hex (the default since 9.0): "\x0a1b..."
    guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0 else {
        throw cell.decodingError("is not hex-format bytea (bytea_output must be 'hex')")
    }
    // A table and raw buffers: sealed history and snapshots come through here
    // by the megabyte, and a per-nibble switch into a growing array showed in
    // the workers' profile.
    let count = (bytes.count - 2) / 2
    var valid = true
    let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        hexNibbles.withUnsafeBufferPointer { table in
            var index = 2
            for offset in 0..<count {
                let high = table[Int(bytes[index])], low = table[Int(bytes[index + 1])]
                if (high | low) & 0xF0 != 0 {
                    valid = false
                    break
                }
                buffer[offset] = high << 4 | low
                index += 2
            }
        }
        initialized = valid ? count : 0
    }
    guard valid else { throw cell.decodingError("is not hex-format bytea") }
    return result
}

/// Hex digit values by byte; 0xFF for anything that is not one.
private let hexNibbles: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (value, digit) in "0123456789abcdef".utf8.enumerated() { table[Int(digit)] = UInt8(value) }
    for (value, digit) in "ABCDEF".utf8.enumerated() { table[Int(digit)] = UInt8(10 + value) }
    return table
}()

// MARK: JSON

/// A json/jsonb value passed through as its UTF-8 text; the caller owns
/// (de)serialization. Sent as jsonb unless created with `type: .json`.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, PostgresArrayElement, Hashable, Sendable {
    public var bytes: [UInt8]
    public var type: PostgresTypeOID

    public init(bytes: [UInt8], type: PostgresTypeOID = .jsonb) {
        self.bytes = bytes
        self.type = type
    }

    public init(_ text: String, type: PostgresTypeOID = .jsonb) {
        self.init(bytes: Array(text.utf8), type: type)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public static var postgresArrayType: PostgresTypeOID { .jsonbArray }
    public static var postgresElementType: PostgresTypeOID { .jsonb }
    public var postgresParameter: PostgresParameterValue { PostgresParameterValue(type: type, bytes: bytes) }
    public var postgresArrayElementText: String? { text }
    /// jsonb's binary form: a version byte (1), then the text.
    public static var postgresBinaryElements: Bool { true }
    public func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        out.append(1)
        out.append(contentsOf: bytes)
        return true
    }
    public init(postgresCell cell: PostgresCell) throws {
        self.init(bytes: Array(try cell.nonNullBytes()), type: cell.type == .json ? .json : .jsonb)
    }
}
