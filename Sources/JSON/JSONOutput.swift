/// JSON scalars appended as UTF-8 bytes to a caller's buffer: the pieces that
/// `JSONValue.serialized()` and hand-written writers (storage's case snapshot)
/// share, so every writer escapes strings the same way.
public enum JSONOutput {
    /// A quoted string with only the escapes JSON requires: `\"`, `\\`, `\n`,
    /// `\r`, `\t`, and `\u00XX` for the other control characters; everything
    /// else (non-ASCII included) passes through as UTF-8. Clean runs are
    /// copied in one piece.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
                appendEscape(byte, to: &out)
                runStart = index + 1
            }
            if runStart < utf8.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            out.append(UInt8(ascii: "u"))
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "0"))
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        }
    }

    /// Lower-case hex digit of a nibble.
    public static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Exact decimal, `Int64.min` included.
    public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            out.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        // Digits come out last first; 20 holds UInt64.max.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            while magnitude > 0 {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    public static func appendBool(_ value: Bool, to out: inout [UInt8]) {
        appendLiteral(value ? "true" : "false", to: &out)
    }

    /// Bytes known at compile time: keys, punctuation, literals.
    public static func appendLiteral(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Swift's shortest representation that reads back to the same `Double`
    /// ("2.0", "1e-05"): valid JSON for every finite value. JSON has no
    /// spelling for infinities and NaN; callers decide what those become.
    public static func appendFinite(_ value: Double, to out: inout [UInt8]) {
        precondition(value.isFinite, "JSON cannot express \(value)")
        out.append(contentsOf: value.description.utf8)
    }
}
