/// Text-format one-dimensional array literals: `{"a","b \"q\"",NULL}`.
///
/// Every element is double-quoted on the way out, so commas, braces, spaces,
/// quotes, backslashes and the string "NULL" need no special cases beyond
/// escaping `"` and `\`. On the way in, the server quotes only when needed.
enum PostgresArrayLiteral {
    static func encode(_ elements: [String?]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(2 + elements.count * 8)
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, column: String, type: PostgresTypeOID) throws -> [String?] {
        func failure(_ reason: String) -> PostgresError {
            PostgresCell(bytes: bytes, type: type, column: column).decodingError(reason)
        }
        var i = 0
        let count = bytes.count
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        // Arrays with a lower bound other than 1 come as "[0:2]={...}".
        if count > 0, bytes[0] == UInt8(ascii: "[") {
            while i < count, bytes[i] != UInt8(ascii: "=") { i += 1 }
            i += 1
        }
        guard i < count, bytes[i] == UInt8(ascii: "{") else { throw failure("is not an array literal") }
        i += 1
        var elements: [String?] = []
        while i < count, isSpace(bytes[i]) { i += 1 }
        if i < count, bytes[i] == UInt8(ascii: "}") { return elements }
        var scratch: [UInt8] = []
        while true {
            while i < count, isSpace(bytes[i]) { i += 1 }
            guard i < count else { throw failure("is an unterminated array literal") }
            scratch.removeAll(keepingCapacity: true)
            if bytes[i] == UInt8(ascii: "{") {
                throw failure("is a multidimensional array; only one dimension is supported")
            } else if bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while i < count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") { i += 1 }
                    guard i < count else { break }
                    scratch.append(bytes[i])
                    i += 1
                }
                guard i < count else { throw failure("is an unterminated array literal") }
                i += 1
                elements.append(String(decoding: scratch, as: UTF8.self))
                while i < count, isSpace(bytes[i]) { i += 1 }
            } else {
                var escaped = false
                var lastNonSpace = 0
                while i < count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        i += 1
                        escaped = true
                        guard i < count else { break }
                        scratch.append(bytes[i])
                        lastNonSpace = scratch.count
                    } else {
                        scratch.append(bytes[i])
                        if !isSpace(bytes[i]) { lastNonSpace = scratch.count }
                    }
                    i += 1
                }
                scratch.removeSubrange(lastNonSpace...)
                let isNull =
                    !escaped && scratch.count == 4
                    && scratch.map { $0 | 0x20 } == Array("null".utf8)
                elements.append(isNull ? nil : String(decoding: scratch, as: UTF8.self))
            }
            guard i < count else { throw failure("is an unterminated array literal") }
            if bytes[i] == UInt8(ascii: "}") { return elements }
            guard bytes[i] == UInt8(ascii: ",") else { throw failure("is a malformed array literal") }
            i += 1
        }
    }
}
