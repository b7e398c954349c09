import Foundation

/// One-dimensional arrays in PostgreSQL's binary format (`array_recv`): a
/// header, then each element as a length and its binary form. The batch
/// statements bind thousands of elements per call; as text literals every
/// element was formatted, quoted and escaped here and parsed again by the
/// server (`array_in`), which showed in both profiles.
///
/// An element type opts in with `postgresBinaryElements`; its arrays are then
/// declared with its array type (statements are prepared with the types of
/// their first call), so a cast in the SQL (`$4::date[]` over text) still
/// converts element by element.
enum PostgresBinaryArray {
    static func encode<Element: PostgresArrayElement>(_ elements: [Element]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + elements.count * 12)
        append(Int32(elements.isEmpty ? 0 : 1), to: &out)  // dimensions
        let flagsAt = out.count
        append(Int32(0), to: &out)  // has NULLs, set below
        append(Int32(bitPattern: Element.postgresElementType.rawValue), to: &out)
        guard !elements.isEmpty else { return out }
        append(Int32(elements.count), to: &out)
        append(Int32(1), to: &out)  // lower bound
        var hasNulls = false
        for element in elements {
            let lengthAt = out.count
            append(Int32(0), to: &out)
            guard element.appendPostgresBinaryElement(to: &out) else {
                hasNulls = true
                set(Int32(-1), at: lengthAt, in: &out)
                continue
            }
            set(Int32(out.count - lengthAt - 4), at: lengthAt, in: &out)
        }
        if hasNulls { set(Int32(1), at: flagsAt, in: &out) }
        return out
    }

    @inline(__always)
    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func set(_ value: Int32, at index: Int, in out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes in
            for offset in 0..<4 { out[index + offset] = bytes[offset] }
        }
    }
}
