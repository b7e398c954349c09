import Foundation

extension UUID {
    /// The canonical lower-case form ("6be0bdd2-2571-49f8-8650-cbc3b7ba1582"),
    /// as the contract writes ids. `uuidString.lowercased()` goes through
    /// snprintf and a second allocation on Linux, which shows per task and
    /// per event id on the hot path.
    public var lowercasedText: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                digits.withUTF8Buffer { hex in
                    var out = 0
                    for (index, byte) in bytes.enumerated() {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            buffer[out] = UInt8(ascii: "-")
                            out += 1
                        }
                        buffer[out] = hex[Int(byte >> 4)]
                        buffer[out + 1] = hex[Int(byte & 0x0f)]
                        out += 2
                    }
                    return out
                }
            }
        }
    }

    /// Exactly 8-4-4-4-12 hex digits, either case. Parsed by hand: Foundation's
    /// `UUID(uuidString:)` goes through sscanf on Linux, a visible cost per event.
    public init?(canonicalText text: String) {
        var text = text
        let parsed = text.withUTF8 { utf8 -> uuid_t? in
            guard utf8.count == 36 else { return nil }
            var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let complete = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
                var nibble = 0
                for (i, char) in utf8.enumerated() {
                    if i == 8 || i == 13 || i == 18 || i == 23 {
                        guard char == UInt8(ascii: "-") else { return false }
                        continue
                    }
                    let value: UInt8
                    switch char {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): value = char - UInt8(ascii: "0")
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): value = char - UInt8(ascii: "a") + 10
                    case UInt8(ascii: "A")...UInt8(ascii: "F"): value = char - UInt8(ascii: "A") + 10
                    default: return false
                    }
                    out[nibble / 2] |= nibble % 2 == 0 ? value << 4 : value
                    nibble += 1
                }
                return true
            }
            return complete ? bytes : nil
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }
}

extension UUID {
    /// Byte order, which is also the order of the text forms: a total order on
    /// ids that no locale or platform changes.
    public static func precedes(_ a: UUID, _ b: UUID) -> Bool {
        withUnsafeBytes(of: a.uuid) { x in withUnsafeBytes(of: b.uuid) { y in x.lexicographicallyPrecedes(y) } }
    }
}
