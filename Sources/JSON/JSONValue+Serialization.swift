extension JSONValue {
    /// Canonical bytes: object keys sorted by their UTF-8 bytes, no whitespace,
    /// only the escapes JSON requires. Equal values serialize identically,
    /// which is what makes task payloads safe to hash and compare across replays.
    /// Non-finite doubles, which JSON cannot express, are written as `null`.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    public func serializedString() -> String {
        String(decoding: serialized(), as: UTF8.self)
    }

    /// `{"key":value,...}` with the members in their keys' UTF-8 byte order (the
    /// canonical form of `.object` and of `JSONMembers`). For ASCII keys (every
    /// key of the contract) String's own `<` is that order and takes the
    /// stdlib's fast path.
    static func writeObject<Value>(
        _ members: some Collection<(key: String, value: Value)>, into out: inout [UInt8],
        value writeValue: (Value, inout [UInt8]) -> Void
    ) {
        let sorted = members.allSatisfy({ $0.key.utf8.allSatisfy { $0 < 0x80 } })
            ? members.sorted { $0.key < $1.key } : members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        out.append(UInt8(ascii: "{"))
        for (n, member) in sorted.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            writeValue(member.value, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null:
            JSONOutput.appendLiteral("null", to: &out)
        case .bool(let b):
            JSONOutput.appendBool(b, to: &out)
        case .int(let i):
            JSONOutput.appendInteger(i, to: &out)
        case .double(let d):
            if d.isFinite {
                // Integral doubles print as "2.0": still valid JSON, and kept
                // distinct from `.int(2)` so a round trip preserves the case.
                JSONOutput.appendFinite(d, to: &out)
            } else {
                JSONOutput.appendLiteral("null", to: &out)
            }
        case .string(let s):
            JSONOutput.appendString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (n, element) in elements.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            Self.writeObject(fields, into: &out) { value, out in value.write(into: &out) }
        }
    }
}
