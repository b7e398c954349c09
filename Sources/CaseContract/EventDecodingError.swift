import CaseDomain
/// Why an input event was rejected. `kind` is the dead-letter error class;
/// `reason` is safe to log: it names the field and what is wrong with it, and
/// never repeats the offending value (which may be an SSN, FEIN, name or date of birth).
public struct EventDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public var kind: DecodingFailureKind
    /// JSON path of the offending field, e.g. `data.payments[2].amountCents`; nil when the document as a whole is at fault.
    public var field: String?
    public var reason: String

    public init(kind: DecodingFailureKind, field: String?, reason: String) {
        self.kind = kind
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue): \(reason)" }
}

/// Raw values are the dead-letter header values.
public enum DecodingFailureKind: String, CaseIterable, Sendable, Hashable {
    case malformedJSON = "malformed-json"
    case schemaViolation = "schema-violation"
    case unknownType = "unknown-type"
}
