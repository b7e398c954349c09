import JSON
import CaseDomain
import Foundation
import Testing

/// The shared byte-level writer: task payloads are hashed and compared over
/// its output, so its spelling is pinned, not just its validity.
@Suite struct JSONOutputTests {
    private func string(_ text: String) -> String {
        var out: [UInt8] = []
        JSONOutput.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func stringsEscapeOnlyWhatJSONRequires() {
        #expect(string("") == #""""#)
        #expect(string(#"a"b\c/d"#) == #""a\"b\\c/d""#)
        #expect(string("\n\r\t\u{08}\u{0C}\u{00}\u{1F}\u{7F}") == #""\n\r\t\u0008\u000c\u0000\u001f"# + "\u{7F}\"")
        #expect(string("é 👩🏽‍⚖️ \u{2028}") == "\"é 👩🏽‍⚖️ \u{2028}\"")
    }

    @Test func everyControlCharacterReadsBack() throws {
        for scalar in 0..<0x20 {
            let text = "x\(Character(Unicode.Scalar(UInt8(scalar))))y"
            var out: [UInt8] = []
            JSONOutput.appendString(text, to: &out)
            #expect(!out.contains { $0 < 0x20 })
            #expect(try JSONValue.parse(out) == .string(text))
            #expect(try JSONDecoder().decode(String.self, from: Data(out)) == text)
        }
    }

    @Test(arguments: [Int64.min, Int64.min + 1, -100, -9, -1, 0, 1, 9, 10, 99, 1_000_000_000_000, Int64.max])
    func integersAreExact(_ value: Int64) throws {
        var out: [UInt8] = []
        JSONOutput.appendInteger(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == String(value))
        #expect(try JSONValue.parse(out) == .int(value))
    }
}
