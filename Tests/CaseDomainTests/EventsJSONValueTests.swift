import JSON
import Foundation
import Testing

@testable import CaseDomain

@Suite struct EventsJSONValueTests {
    func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func serializationIsCanonical() throws {
        let a: JSONValue = ["b": 1, "a": ["z": true, "y": nil], "c": [1.5, "x\"\\\n\u{01}é"]]
        let b = try parse(#"  { "c" : [ 1.5 , "x\"\\\n\u0001\u00e9" ], "a": {"y": null, "z": true}, "b": 1 } "#)
        #expect(a == b)
        #expect(a.serializedString() == #"{"a":{"y":null,"z":true},"b":1,"c":[1.5,"x\"\\\n\u0001é"]}"#)
        #expect(a.serialized() == b.serialized())
    }

    @Test func keysSortByUTF8Bytes() {
        let value: JSONValue = ["é": 1, "z": 2, "Z": 3, "aa": 4, "a": 5]
        #expect(value.serializedString() == #"{"Z":3,"a":5,"aa":4,"z":2,"é":1}"#)
    }

    @Test func integersStayExact() throws {
        #expect(try parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("12.5") == .double(12.5))
        #expect(try parse("1e2") == .double(100))
        #expect(try parse("1.0") == .double(1))
        #expect(JSONValue.int(100).serializedString() == "100")
        #expect(JSONValue.double(100).serializedString() == "100.0")
    }

    @Test func stringsAndEscapes() throws {
        #expect(try parse(#""\ud83d\ude00 \/ \b\f\t""#) == .string("😀 / \u{08}\u{0C}\t"))
        #expect(try parse(#""plain""#) == .string("plain"))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "tru", "nul",
        "'a'", "\"a", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "{\"a\":1,\"a\":2}", "[1] 2", "\u{FEFF}{}",
        "\"tab\there\"",
    ])
    func rejects(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // UTF-8-encoded surrogate
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect((try? JSONValue.parse(Array(ok.utf8))) != nil)
    }

    @Test func parseErrorsDoNotQuoteTheInput() {
        do {
            _ = try JSONValue.parse(Array(#"{"ssn": 912456789x}"#.utf8))
            Issue.record("parsed")
        } catch {
            #expect(!error.description.contains("912456789"))
            #expect(error.offset == 17)
        }
    }

    /// Our parser and Foundation's agree on every well-formed fixture, and our
    /// serialization reads back to the same value.
    @Test(arguments: EventFixtures.names(in: "valid") + EventFixtures.names(in: "invalid"))
    func agreesWithFoundationAndRoundTrips(name: String) throws {
        let group = EventFixtures.names(in: "valid").contains(name) ? "valid" : "invalid"
        let bytes = try EventFixtures.bytes(group, name)
        let ours = try JSONValue.parse(bytes)
        #expect(try JSONValue.parse(ours.serialized()) == ours)
        let foundation = try JSONSerialization.jsonObject(with: Data(bytes))
        let reencoded = try JSONSerialization.data(withJSONObject: foundation, options: [.sortedKeys])
        #expect(try JSONValue.parse([UInt8](reencoded)).serialized() == ours.serialized() || containsWholeDouble(ours))
    }

    /// Foundation writes 40000.0 back as 40000, which then reads as an integer; only such documents may differ.
    func containsWholeDouble(_ value: JSONValue) -> Bool {
        switch value {
        case .double(let d): return d.rounded() == d
        case .array(let a): return a.contains(where: containsWholeDouble)
        case .object(let o): return o.values.contains(where: containsWholeDouble)
        default: return false
        }
    }

    @Test func codableRoundTrip() throws {
        let value: JSONValue = ["amountCents": 26885, "ratio": 0.25, "flags": [true, false, nil], "name": "Greene"]
        let encoded = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: encoded) == value)
        #expect(try JSONValue.parse([UInt8](encoded)) == value)
    }

    @Test func accessors() {
        let value: JSONValue = ["a": [1, "x"], "b": true]
        #expect(value["a"]?.arrayValue?.first?.intValue == 1)
        #expect(value["a"]?.arrayValue?.last?.stringValue == "x")
        #expect(value["b"]?.boolValue == true)
        #expect(value["missing"] == nil)
        #expect(JSONValue.null.isNull && JSONValue.double(1).typeName == "number")
    }
}
