import Foundation

/// Reads one JSON document token by token, for readers that build their own
/// types with no `JSONValue` tree in between (no dictionary per object, no
/// string per key). Exactly as strict as `JSONValue.parse`: the same grammar,
/// UTF-8 and surrogate checks, duplicate keys and depth limit are errors.
///
/// Only valid inside `read(_:_:)`; the caller drives it: `beginObject` then
/// `nextKey` until nil, reading each key's value (or `skipValue`);
/// `beginArray` then `nextElement` until false, reading each element.
public struct JSONPullReader {
    private var parser: JSONParser
    /// False once a value has been read in the current container: the next member needs a comma.
    private var atContainerStart = false
    /// Keys of the objects being read, innermost last, for the duplicate check.
    private var keys: [SeenKey] = []
    private var objectKeyStarts: [Int] = []

    private enum SeenKey {
        case raw(Range<Int>)
        case decoded(String)
    }

    /// What the next value is, for a caller's "expected ..., found ..." message.
    public enum Kind: String, Sendable {
        case object, array, string, number, boolean, null
    }

    /// Mismatches the caller reports (`expected`) get `found` from here.
    public struct Mismatch: Error, Sendable, Hashable {
        public var expected: String
        public var found: Kind
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
    }

    /// Runs `body` over `bytes`; afterwards only whitespace may remain.
    public static func read<T>(_ bytes: [UInt8], maxDepth: Int = 64, _ body: (inout JSONPullReader) throws -> T) throws -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONPullReader(bytes: buffer, maxDepth: maxDepth)
            let value = try body(&reader)
            reader.parser.skipWhitespace()
            guard reader.parser.pos == buffer.count else { throw reader.parser.fail("unexpected content after the JSON value") }
            return value
        }
    }

    public mutating func peek() throws(JSONParseError) -> Kind {
        parser.skipWhitespace()
        guard parser.pos < parser.bytes.count else { throw parser.fail("unexpected end of input") }
        switch parser.bytes[parser.pos] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .boolean
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw parser.fail("unexpected character")
        }
    }

    private mutating func expect(_ kind: Kind, _ expected: String) throws {
        let found = try peek()
        guard found == kind else { throw Mismatch(expected: expected, found: found) }
    }

    // MARK: Containers

    public mutating func beginObject() throws {
        try expect(.object, "an object")
        try parser.enter()
        parser.pos += 1
        objectKeyStarts.append(keys.count)
        atContainerStart = true
    }

    /// The next member's key, positioned at its value; nil after the closing brace.
    public mutating func nextKey() throws(JSONParseError) -> JSONKey? {
        guard try nextMember(closing: UInt8(ascii: "}"), what: "an object") else {
            keys.removeSubrange(objectKeyStarts.removeLast()...)
            return nil
        }
        parser.skipWhitespace()
        guard parser.pos < parser.bytes.count, parser.bytes[parser.pos] == UInt8(ascii: "\"") else {
            throw parser.fail("expected an object key")
        }
        let keyOffset = parser.pos
        let key: JSONKey
        let seen: SeenKey
        if let raw = try parser.parsePlainString() {
            key = JSONKey(raw: UnsafeBufferPointer(rebasing: parser.bytes[raw]), decoded: nil)
            seen = .raw(raw)
        } else {
            let decoded = try parser.parseString()
            key = JSONKey(raw: nil, decoded: decoded)
            seen = .decoded(decoded)
        }
        for earlier in keys[objectKeyStarts.last!...] where same(earlier, seen) {
            throw parser.fail("duplicate object key", at: keyOffset)
        }
        keys.append(seen)
        parser.skipWhitespace()
        guard parser.pos < parser.bytes.count, parser.bytes[parser.pos] == UInt8(ascii: ":") else {
            throw parser.fail("expected ':' after an object key")
        }
        parser.pos += 1
        return key
    }

    private func same(_ a: SeenKey, _ b: SeenKey) -> Bool {
        if case .raw(let x) = a, case .raw(let y) = b {
            guard x.count == y.count else { return false }
            let base = parser.bytes.baseAddress!
            return x.isEmpty || memcmp(base + x.lowerBound, base + y.lowerBound, x.count) == 0
        }
        return withBytes(of: a) { x in withBytes(of: b) { y in x.elementsEqual(y) } }
    }

    private func withBytes<T>(of key: SeenKey, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        switch key {
        case .raw(let range): return body(UnsafeBufferPointer(rebasing: parser.bytes[range]))
        case .decoded(var text): return text.withUTF8(body)
        }
    }

    public mutating func beginArray() throws {
        try expect(.array, "an array")
        try parser.enter()
        parser.pos += 1
        atContainerStart = true
    }

    /// True when another element follows (read it next); false after the closing bracket.
    public mutating func nextElement() throws(JSONParseError) -> Bool {
        try nextMember(closing: UInt8(ascii: "]"), what: "an array")
    }

    /// Past the separator before the next member, or past the closing byte (then false).
    private mutating func nextMember(closing: UInt8, what: String) throws(JSONParseError) -> Bool {
        parser.skipWhitespace()
        guard parser.pos < parser.bytes.count else { throw parser.fail("unexpected end of input") }
        let byte = parser.bytes[parser.pos]
        if byte == closing {
            parser.pos += 1
            parser.depth -= 1
            atContainerStart = false
            return false
        }
        if atContainerStart { return true }
        guard byte == UInt8(ascii: ",") else {
            throw parser.fail("expected ',' or '\(Character(Unicode.Scalar(closing)))' in \(what)")
        }
        parser.pos += 1
        parser.skipWhitespace()
        // A trailing comma is not JSON.
        if parser.pos < parser.bytes.count, parser.bytes[parser.pos] == closing { throw parser.fail("unexpected character") }
        return true
    }

    // MARK: Scalars

    /// Consumes a `null` and returns true; leaves anything else and returns false.
    public mutating func readNull() throws -> Bool {
        guard try peek() == .null else { return false }
        try parser.expectLiteral("null")
        atContainerStart = false
        return true
    }

    public mutating func readString() throws -> String {
        try expect(.string, "a string")
        defer { atContainerStart = false }
        return try parser.parseString()
    }

    /// A string's UTF-8 without making a `String`; escapes decoded. Valid only
    /// inside `body`.
    public mutating func withStringBytes<T>(_ body: (UnsafeBufferPointer<UInt8>) throws -> T) throws -> T {
        try expect(.string, "a string")
        atContainerStart = false
        if let raw = try parser.parsePlainString() {
            return try body(UnsafeBufferPointer(rebasing: parser.bytes[raw]))
        }
        var decoded = try parser.parseString()
        return try decoded.withUTF8(body)
    }

    /// `.int` when the number is an integer that fits 64 bits, `.double` otherwise.
    public mutating func readNumber() throws -> JSONValue {
        try expect(.number, "a number")
        defer { atContainerStart = false }
        return try parser.parseNumber()
    }

    public mutating func readBool() throws -> Bool {
        try expect(.boolean, "a boolean")
        defer { atContainerStart = false }
        if parser.bytes[parser.pos] == UInt8(ascii: "t") {
            try parser.expectLiteral("true")
            return true
        }
        try parser.expectLiteral("false")
        return false
    }

    /// Reads and discards one value of any kind, checked as strictly as the rest.
    public mutating func skipValue() throws(JSONParseError) {
        parser.skipWhitespace()
        _ = try parser.parseValue()
        atContainerStart = false
    }
}

/// An object key as `JSONPullReader` found it; match it with string literals
/// (`case "caseId":`) without making a `String`.
public struct JSONKey {
    fileprivate let raw: UnsafeBufferPointer<UInt8>?
    fileprivate let decoded: String?

    public static func ~= (pattern: StaticString, key: JSONKey) -> Bool {
        let expected = UnsafeBufferPointer(start: pattern.utf8Start, count: pattern.utf8CodeUnitCount)
        // A switch tries the patterns in turn: most differ in length, so compare that first.
        if let raw = key.raw {
            return raw.count == expected.count && (raw.isEmpty || memcmp(raw.baseAddress!, expected.baseAddress!, raw.count) == 0)
        }
        return key.decoded!.utf8.elementsEqual(expected)
    }
}
