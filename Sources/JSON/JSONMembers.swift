/// An object's members set in any order and written canonically (keys in
/// UTF-8 byte order, like `JSONValue.serialized()`), without building a
/// dictionary: the task payloads of every batch are written through here.
public struct JSONMembers: Sendable {
    enum Value: Sendable {
        case json(JSONValue)
        case members(JSONMembers)
    }

    private var members: [(key: String, value: Value)] = []

    public init() {}

    /// Setting nil removes the member (a JSON `null` is `.null`).
    public subscript(key: String) -> JSONValue? {
        get {
            guard let value = members.first(where: { $0.key == key })?.value else { return nil }
            switch value {
            case .json(let json): return json
            case .members(let nested): return nested.object
            }
        }
        set { set(key, newValue.map(Value.json)) }
    }

    /// A nested object.
    public subscript(object key: String) -> JSONMembers? {
        get {
            guard case .members(let nested)? = members.first(where: { $0.key == key })?.value else { return nil }
            return nested
        }
        set { set(key, newValue.map(Value.members)) }
    }

    private mutating func set(_ key: String, _ value: Value?) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            if let value { members[index].value = value } else { members.remove(at: index) }
        } else if let value {
            members.append((key, value))
        }
    }

    /// The same object as a `JSONValue`.
    public var object: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: members.map { member in
            switch member.value {
            case .json(let json): (member.key, json)
            case .members(let nested): (member.key, nested.object)
            }
        }))
    }

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(into: &out)
        return out
    }

    public func write(into out: inout [UInt8]) {
        JSONValue.writeObject(members, into: &out) { value, out in
            switch value {
            case .json(let json): json.write(into: &out)
            case .members(let nested): nested.write(into: &out)
            }
        }
    }
}
