import JSON
import CaseDomain
import Foundation
import Testing

/// The pull reader, driven through every one of its calls, must see exactly
/// the documents the tree parser sees and reject exactly what it rejects.
@Suite struct JSONPullReaderTests {
    /// Rebuilds a tree through the pull calls only.
    private func pull(_ text: String) throws -> JSONValue {
        try JSONPullReader.read(Array(text.utf8)) { reader in try value(&reader) }
    }

    private func value(_ reader: inout JSONPullReader) throws -> JSONValue {
        switch try reader.peek() {
        case .object:
            var fields: [String: JSONValue] = [:]
            try reader.beginObject()
            while let key = try reader.nextKey() {
                // Keys are matched, not handed out: recover the name through the literals in play.
                let name = ["a", "b", "c", "é", "a\"b", "skip"].first { matches(key, $0) } ?? "?"
                if name == "skip" {
                    try reader.skipValue()
                    continue
                }
                fields[name] = try value(&reader)
            }
            return .object(fields)
        case .array:
            var elements: [JSONValue] = []
            try reader.beginArray()
            while try reader.nextElement() { elements.append(try value(&reader)) }
            return .array(elements)
        case .string: return .string(try reader.readString())
        case .number: return try reader.readNumber()
        case .boolean: return .bool(try reader.readBool())
        case .null:
            #expect(try reader.readNull())
            return .null
        }
    }

    private func matches(_ key: JSONKey, _ name: String) -> Bool {
        switch name {
        case "a": if case "a" = key { return true }
        case "b": if case "b" = key { return true }
        case "c": if case "c" = key { return true }
        case "é": if case "é" = key { return true }
        case "a\"b": if case "a\"b" = key { return true }
        case "skip": if case "skip" = key { return true }
        default: break
        }
        return false
    }

    @Test(arguments: [
        #"{"a":1,"b":[true,false,null,"x\"y\\z\u00e9",-12.5e3],"c":{"a":{}},"skip":{"x":[1,{"y":2}]}}"#,
        #" { "\u0061" : [ ] , "\u00e9" : "é" , "a\"b" : -9223372036854775808 } "#,
        #"[[],[[]],{},"",0,1e400]"#,
        #""just a string""#,
    ])
    func agreesWithTheTreeParser(text: String) throws {
        var expected = try JSONValue.parse(Array(text.utf8))
        if case .object(var fields) = expected {
            fields["skip"] = nil
            expected = .object(fields)
        }
        #expect(try pull(text) == expected)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "tru", "nul",
        "'a'", "\"a", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "{\"a\":1,\"a\":2}", "[1] 2", "\u{FEFF}{}",
        "\"tab\there\"", "{\"a\":1,\"\\u0061\":2}", "{\"b\":{\"a\":1},\"a\":{\"a\":1,\"skip\":[1,]}}", "[1 2]", "{\"a\":1 \"b\":2}",
    ])
    func rejectsWhatTheTreeParserRejects(text: String) {
        #expect(throws: (any Error).self) { try pull(text) }
    }

    @Test func keysRepeatAcrossObjectsButNotWithinOne() throws {
        #expect(try pull(#"{"a":{"a":1,"b":2},"b":{"a":3}}"#) == ["a": ["a": 1, "b": 2], "b": ["a": 3]])
    }

    @Test func depthLimitAsTheTreeParser() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try pull(ok) }
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try pull(deep) }
    }

    @Test func mismatchesNameWhatWasFound() throws {
        let error = try #require(throws: JSONPullReader.Mismatch.self) {
            try JSONPullReader.read(Array(#"{"a":"x"}"#.utf8)) { reader in try reader.beginArray() }
        }
        #expect(error.expected == "an array" && error.found == .object)
    }

    @Test func stringBytesDecodeEscapes() throws {
        let bytes = try JSONPullReader.read(Array(#""a\nb""#.utf8)) { reader in try reader.withStringBytes { Array($0) } }
        #expect(bytes == Array("a\nb".utf8))
    }
}
