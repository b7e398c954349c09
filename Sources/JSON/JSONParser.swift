/// Why a byte sequence is not one JSON document (RFC 8259). The message
/// describes the syntax error and its byte offset, never the text around it:
/// the input may hold identifiers that must not reach a log.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var message: String

    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

extension JSONValue {
    /// Parses exactly one JSON value (surrounding whitespace allowed). Stricter
    /// than some parsers on purpose: invalid UTF-8, unpaired surrogate escapes,
    /// duplicate object keys and nesting deeper than `maxDepth` are errors, so
    /// two systems reading the same bytes cannot see different documents.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
            do throws(JSONParseError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// The grammar, shared by `JSONValue.parse` (a tree) and `JSONPullReader` (no tree).
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? pos, message: message)
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard pos == bytes.count else { throw fail("unexpected content after the JSON value") }
        return value
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - pos >= count else { throw fail("unexpected end of input") }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for i in 0..<count where bytes[pos + i] != expected[i] {
            throw fail("invalid literal")
        }
        pos += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        pos += 1  // {
        // Members are gathered first so the dictionary is sized once: growing
        // it key by key rehashes every key at each doubling.
        var members: [(key: String, value: JSONValue, offset: Int)] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object([:])
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            guard bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected an object key") }
            let keyOffset = pos
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':' after an object key") }
            pos += 1
            skipWhitespace()
            members.append((key, try parseValue(), keyOffset))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                depth -= 1
                var fields = [String: JSONValue](minimumCapacity: members.count)
                for member in members {
                    guard fields.updateValue(member.value, forKey: member.key) == nil else {
                        throw fail("duplicate object key", at: member.offset)
                    }
                }
                return .object(fields)
            default: throw fail("expected ',' or '}' in an object")
            }
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        pos += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"):
                pos += 1
                depth -= 1
                return .array(elements)
            default: throw fail("expected ',' or ']' in an array")
            }
        }
    }

    /// At an opening quote: the range of the string's bytes (validated UTF-8,
    /// the quotes excluded) when it has no escapes, the common case for
    /// identifiers and names; then `pos` is past the closing quote. nil, with
    /// `pos` unchanged, when it has escapes.
    mutating func parsePlainString() throws(JSONParseError) -> Range<Int>? {
        let start = pos + 1
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                guard isValidUTF8(UnsafeBufferPointer(rebasing: bytes[start..<end])) else {
                    throw fail("invalid UTF-8 in a string", at: start)
                }
                pos = end + 1
                return start..<end
            }
            if byte == UInt8(ascii: "\\") { return nil }
            if byte < 0x20 { throw fail("unescaped control character in a string", at: end) }
            end += 1
        }
        throw fail("unterminated string", at: pos)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        if let raw = try parsePlainString() {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[raw]), as: UTF8.self)
        }
        pos += 1  // opening quote
        let start = pos
        guard pos < bytes.count else { throw fail("unterminated string", at: start - 1) }

        var buffer = Array(bytes[start..<pos])
        while pos < bytes.count {
            let byte = bytes[pos]
            switch byte {
            case UInt8(ascii: "\""):
                pos += 1
                return try buffer.withUnsafeBufferPointer { (raw) throws(JSONParseError) -> String in
                    guard isValidUTF8(raw) else { throw fail("invalid UTF-8 in a string", at: start) }
                    return String(decoding: raw, as: UTF8.self)
                }
            case UInt8(ascii: "\\"):
                pos += 1
                guard pos < bytes.count else { throw fail("unterminated string", at: start - 1) }
                let escape = bytes[pos]
                pos += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fail("invalid escape in a string", at: pos - 2)
                }
            default:
                if byte < 0x20 { throw fail("unescaped control character in a string") }
                buffer.append(byte)
                pos += 1
            }
        }
        throw fail("unterminated string", at: start - 1)
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uXXXX` low surrogate that must follow.
    mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let escapeStart = pos - 2
        let first = try parseHex4()
        if (0xD800...0xDBFF).contains(first) {
            guard bytes.count - pos >= 6, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw fail("unpaired surrogate escape", at: escapeStart)
            }
            pos += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw fail("unpaired surrogate escape", at: escapeStart) }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(first) else { throw fail("unpaired surrogate escape", at: escapeStart) }
        return scalar
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw fail("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[pos]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }

    /// RFC 8259 number grammar. Integers that fit stay `.int`; the rest go through `Double`.
    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = pos
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("expected a digit", at: pos) }

        var magnitude: UInt64 = 0
        var overflow = false
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) { throw fail("leading zero in a number") }
        } else {
            while pos < bytes.count, isDigit(bytes[pos]) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[pos] - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = sum
                pos += 1
            }
        }
        var isInteger = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("expected a digit after '.'") }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("expected a digit in an exponent") }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        if isInteger && !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
            } else if magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let d = Double(text) else { throw fail("unrepresentable number", at: start) }
        return .double(d)
    }

    /// Well-formed UTF-8 per Unicode 15 table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF. Hand-written because the standard
    /// library's validating initialiser is generic and unspecialised here, and
    /// dominated parse time.
    func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i += 1
                continue
            }
            func isContinuation(_ k: Int) -> Bool { k < n && b[k] & 0xC0 == 0x80 }
            switch c {
            case 0xC2...0xDF:
                guard isContinuation(i + 1) else { return false }
                i += 2
            case 0xE0...0xEF:
                guard isContinuation(i + 1), isContinuation(i + 2) else { return false }
                if c == 0xE0 && b[i + 1] < 0xA0 { return false }  // overlong
                if c == 0xED && b[i + 1] >= 0xA0 { return false }  // surrogate
                i += 3
            case 0xF0...0xF4:
                guard isContinuation(i + 1), isContinuation(i + 2), isContinuation(i + 3) else { return false }
                if c == 0xF0 && b[i + 1] < 0x90 { return false }  // overlong
                if c == 0xF4 && b[i + 1] >= 0x90 { return false }  // above U+10FFFF
                i += 4
            default:
                return false
            }
        }
        return true
    }
}
