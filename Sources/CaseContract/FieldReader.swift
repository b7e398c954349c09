import CaseDomain
import JSON
import Foundation

/// Where a value sits in the event document, rendered as `data.payments[2].amountCents`.
/// Built as a chain so reading a valid event pays for a path only per object,
/// and the string is assembled only when something is wrong.
indirect enum FieldPath: Sendable {
    case root
    case key(FieldPath, String)
    case index(FieldPath, Int)

    func appending(_ key: String) -> FieldPath { .key(self, key) }

    var rendered: String {
        switch self {
        case .root: return ""
        case .key(.root, let key): return key
        case .key(let parent, let key): return parent.rendered + "." + key
        case .index(let parent, let n): return parent.rendered + "[\(n)]"
        }
    }
}

/// Reads typed fields out of one JSON object, turning every deviation from the
/// contract into a schema violation that names the field and the rule, never
/// the value (values here include SSNs, FEINs, names and dates of birth).
/// Each rule mirrors a definition in schemas/events/common.json.
struct FieldReader {
    let fields: [String: JSONValue]
    let path: FieldPath

    func violation(_ key: String?, _ rule: String) -> EventDecodingError {
        FieldReader.violation(at: key.map { path.appending($0) } ?? path, rule)
    }

    static func violation(at path: FieldPath, _ rule: String) -> EventDecodingError {
        let field = path.rendered
        return EventDecodingError(
            kind: .schemaViolation, field: field.isEmpty ? nil : field,
            reason: field.isEmpty ? rule : "\(field): \(rule)")
    }

    func has(_ key: String) -> Bool { fields[key] != nil }

    func value(_ key: String) throws(EventDecodingError) -> JSONValue {
        guard let value = fields[key] else { throw violation(key, "is required") }
        return value
    }

    /// nil when the field is absent; a present field must be valid (`null` is not "absent").
    func optional<T>(_ key: String, _ read: (String) throws(EventDecodingError) -> T) throws(EventDecodingError) -> T? {
        fields[key] == nil ? nil : try read(key)
    }

    func wrongType(_ key: String, expected: String, got value: JSONValue) -> EventDecodingError {
        FieldReader.wrongType(at: path.appending(key), expected: expected, got: value)
    }

    /// Names the JSON type found, which is safe to log, not the value.
    static func wrongType(at path: FieldPath, expected: String, got value: JSONValue) -> EventDecodingError {
        let found: String
        switch value {
        case .null: found = "null"
        case .bool: found = "a boolean"
        case .int, .double: found = "a number"
        case .string: found = "a string"
        case .array: found = "an array"
        case .object: found = "an object"
        }
        return violation(at: path, "must be \(expected), not \(found)")
    }

    // MARK: Scalars

    func rawString(_ key: String) throws(EventDecodingError) -> String {
        let value = try value(key)
        guard case .string(let s) = value else { throw wrongType(key, expected: "a string", got: value) }
        return s
    }

    /// Identifiers, names and free text: a non-empty string within the
    /// bounds of its kind (`TextKind`): no control characters, bounded length.
    func string(_ key: String, _ kind: TextKind = .identifier) throws(EventDecodingError) -> String {
        let s = try rawString(key)
        guard !s.isEmpty else { throw violation(key, "must not be empty") }
        guard kind.accepts(s) else { throw violation(key, kind.rule) }
        return s
    }

    /// A name or other one line of text (`TextKind.text`).
    func text(_ key: String) throws(EventDecodingError) -> String { try string(key, .text) }

    func bool(_ key: String) throws(EventDecodingError) -> Bool {
        let value = try value(key)
        guard case .bool(let b) = value else { throw wrongType(key, expected: "a boolean", got: value) }
        return b
    }

    /// A whole number of cents from `minimum` (0 for ordered amounts, which may
    /// be zero; 1 for money received) to `InputLimits.maximumCents`. JSON has one
    /// number type, so `1250.0` is the integer 1250 (as JSON Schema's `integer`
    /// has it), but `12.5` and the string `"1250"` are rejected.
    func cents(_ key: String) throws(EventDecodingError) -> Cents { try cents(key, minimum: 0) }

    /// A signed amount (an adjustment): nonzero, at most the contract's bound either way.
    func signedCents(_ key: String) throws(EventDecodingError) -> Cents {
        let cents = try cents(key, minimum: -InputLimits.maximumCents)
        guard cents != 0 else { throw violation(key, "must be a nonzero integer number of cents from -\(InputLimits.maximumCents) to \(InputLimits.maximumCents)") }
        return cents
    }

    /// A calendar year within the accepted dates (a tax year).
    func year(_ key: String) throws(EventDecodingError) -> Int {
        let value = try value(key)
        let rule = "must be a year from \(InputLimits.earliestDate.year) to \(InputLimits.latestDate.year)"
        let year: Int64
        switch value {
        case .int(let i): year = i
        case .double(let d) where d.rounded(.towardZero) == d && abs(d) < 1e6: year = Int64(d)
        case .double: throw violation(key, rule)
        default: throw wrongType(key, expected: "an integer year", got: value)
        }
        guard year >= Int64(InputLimits.earliestDate.year), year <= Int64(InputLimits.latestDate.year) else { throw violation(key, rule) }
        return Int(year)
    }

    private func cents(_ key: String, minimum: Cents) throws(EventDecodingError) -> Cents {
        let cents: Cents
        switch try value(key) {
        case .int(let i):
            cents = i
        case .double(let d) where d.rounded(.towardZero) == d && abs(d) <= Double(InputLimits.maximumCents):
            cents = Cents(d)
        case .double:
            throw violation(key, "must be an integer number of cents from \(minimum) to \(InputLimits.maximumCents)")
        case let other:
            throw wrongType(key, expected: "an integer number of cents", got: other)
        }
        guard cents >= minimum, cents <= InputLimits.maximumCents else {
            throw violation(key, "must be an integer number of cents from \(minimum) to \(InputLimits.maximumCents)")
        }
        return cents
    }

    /// Money received: at least one cent.
    func receivedCents(_ key: String) throws(EventDecodingError) -> Cents { try cents(key, minimum: 1) }

    static let dateRule = "must be a date YYYY-MM-DD that exists on the calendar, from \(InputLimits.earliestDate) to \(InputLimits.latestDate)"

    func date(_ key: String) throws(EventDecodingError) -> LocalDate {
        guard let date = LocalDate(iso8601: try rawString(key)), InputLimits.dates.contains(date) else {
            throw violation(key, Self.dateRule)
        }
        return date
    }

    func timestamp(_ key: String) throws(EventDecodingError) -> Date {
        guard let date = Timestamp.parse(try rawString(key)) else {
            throw violation(key, "must be an RFC 3339 timestamp YYYY-MM-DDTHH:MM:SS[.fraction] with Z or a ±HH:MM offset")
        }
        guard date >= InputLimits.earliestInstant, date < InputLimits.instantAfterLatest else {
            throw violation(key, "must lie from \(InputLimits.earliestDate) to \(InputLimits.latestDate) (UTC)")
        }
        return date
    }

    func uuid(_ key: String) throws(EventDecodingError) -> UUID {
        guard let uuid = UUID(canonicalText: try rawString(key)) else {
            throw violation(key, "must be a UUID written as 8-4-4-4-12 hexadecimal digits")
        }
        return uuid
    }

    func ssn(_ key: String) throws(EventDecodingError) -> SSN {
        guard let ssn = SSN(try rawString(key)) else { throw violation(key, "must be exactly 9 digits") }
        return ssn
    }

    func fein(_ key: String) throws(EventDecodingError) -> FEIN {
        guard let fein = FEIN(try rawString(key)) else { throw violation(key, "must be 9 digits, or NN-NNNNNNN") }
        return fein
    }

    func quarter(_ key: String) throws(EventDecodingError) -> Quarter {
        guard let quarter = Quarter(try rawString(key)),
            (InputLimits.earliestDate.year...InputLimits.latestDate.year).contains(quarter.year)
        else {
            throw violation(key, "must be a quarter written YYYYQn with n from 1 to 4, from \(InputLimits.earliestDate.year) to \(InputLimits.latestDate.year)")
        }
        return quarter
    }

    func state(_ key: String) throws(EventDecodingError) -> USState {
        guard let state = USState(try rawString(key)) else {
            throw violation(key, "must be a two-letter USPS state, territory or military code in upper case")
        }
        return state
    }

    func postalCode(_ key: String) throws(EventDecodingError) -> String {
        let text = try rawString(key)
        let utf8 = Array(text.utf8)
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        let valid =
            (utf8.count == 5 && utf8.allSatisfy(isDigit))
            || (utf8.count == 10 && utf8[5] == UInt8(ascii: "-") && utf8[..<5].allSatisfy(isDigit)
                && utf8[6...].allSatisfy(isDigit))
        guard valid else { throw violation(key, "must be a ZIP code NNNNN or NNNNN-NNNN") }
        return text
    }

    func oneOf<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(EventDecodingError) -> E
    where E.RawValue == String {
        guard let value = E(rawValue: try rawString(key)) else {
            throw violation(key, "must be one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    // MARK: Structure

    func object(_ key: String) throws(EventDecodingError) -> FieldReader {
        let value = try value(key)
        guard case .object(let fields) = value else { throw wrongType(key, expected: "an object", got: value) }
        return FieldReader(fields: fields, path: path.appending(key))
    }

    func optionalObject<T>(_ key: String, _ decode: (FieldReader) throws(EventDecodingError) -> T) throws(EventDecodingError) -> T? {
        fields[key] == nil ? nil : try decode(object(key))
    }

    /// An array of objects with at least one element and at most `maximum`.
    func nonEmptyObjects(_ key: String, maximum: Int) throws(EventDecodingError) -> [FieldReader] {
        let value = try value(key)
        guard case .array(let elements) = value else { throw wrongType(key, expected: "an array", got: value) }
        guard !elements.isEmpty else { throw violation(key, "must contain at least one item") }
        guard elements.count <= maximum else { throw violation(key, "must contain at most \(maximum) items") }
        let arrayPath = path.appending(key)
        var readers: [FieldReader] = []
        readers.reserveCapacity(elements.count)
        for (n, element) in elements.enumerated() {
            let elementPath = FieldPath.index(arrayPath, n)
            guard case .object(let fields) = element else {
                throw FieldReader.wrongType(at: elementPath, expected: "an object", got: element)
            }
            readers.append(FieldReader(fields: fields, path: elementPath))
        }
        return readers
    }
}
