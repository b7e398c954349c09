import Foundation

/// One Kafka message ready to produce: topic, key and the exact value bytes.
public struct ScenarioEvent: Sendable, Hashable {
    public var topic: String
    public var key: [UInt8]
    /// UTF-8 JSON of the contract envelope (for `malformed-json` poison: bytes that are not JSON).
    public var value: [UInt8]
    /// The envelope `id`: a UUID string, lower case.
    public var eventId: String
    /// The envelope `type` (for malformed poison: the type the message was meant to have).
    public var type: String
    /// The envelope `caseId`: intake and court events only.
    public var caseId: String?
    /// Business time, whole seconds.
    public var occurredAt: Date
    /// Set on the messages that are meant to be dead-lettered, with the class they should get.
    public var poison: PoisonClass?

    public init(
        topic: String, key: [UInt8], value: [UInt8], eventId: String, type: String, caseId: String?,
        occurredAt: Date, poison: PoisonClass? = nil
    ) {
        self.topic = topic
        self.key = key
        self.value = value
        self.eventId = eventId
        self.type = type
        self.caseId = caseId
        self.occurredAt = occurredAt
        self.poison = poison
    }

    public var keyString: String { String(decoding: key, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }
}

/// The dead-letter classes a poison message is built to provoke. Raw values
/// are the contract's error-class header values.
public enum PoisonClass: String, CaseIterable, Sendable, Hashable {
    /// The bytes are not a JSON document.
    case malformedJSON = "malformed-json"
    /// Valid JSON of a known type with a missing, mistyped or out-of-range field.
    case schemaViolation = "schema-violation"
    /// A well-formed envelope whose `type` the contract does not define.
    case unknownType = "unknown-type"
    /// A valid court event for a case that was never opened: it decodes, the worker rejects it.
    case unknownCase = "unknown-case"
}

/// Topic names and event type names of the wire contract (v1).
public enum ScenarioTopic {
    public static let intake = "cse.intake.v1"
    public static let employerReports = "cse.employer-reports.v1"
    public static let courtOutcomes = "cse.court-outcomes.v1"
    public static let collections = "cse.collections.v1"
    public static let dataMatches = "cse.data-matches.v1"
    public static let all = [intake, employerReports, courtOutcomes, collections, dataMatches]

    /// Every input event type of the contract, by topic.
    public static let eventTypes: [String: [String]] = [
        intake: [
            "intake.application", "intake.party-update", "intake.closure-request", "intake.review-requested",
            "intake.closure-response", "intake.remedy-contested", "intake.contest-decided", "intake.payment-agreement",
        ],
        employerReports: [
            "employer.new-hire", "employer.termination", "employer.quarterly-wage",
            "employer.withholding-remittance", "employer.iwo-response",
        ],
        courtOutcomes: [
            "court.order-established", "court.order-modified", "court.order-terminated",
            "court.paternity-established", "court.paternity-excluded", "court.hearing-scheduled",
            "court.service-completed", "court.service-failed", "court.contempt-finding",
        ],
        collections: ["collection.received", "collection.reversed", "account.adjusted", "disbursement.returned"],
        dataMatches: ["match.unemployment-claim", "match.financial-account"],
    ]

    public static let allEventTypes: [String] = all.flatMap { eventTypes[$0]! }

    static func of(type: String) -> String {
        if type.hasPrefix("intake.") { return intake }
        if type.hasPrefix("employer.") { return employerReports }
        if type.hasPrefix("match.") { return dataMatches }
        if type.hasPrefix("collection.") || type.hasPrefix("account.") || type.hasPrefix("disbursement.") { return collections }
        return courtOutcomes
    }
}

/// Kafka keys per the contract: the case id for intake, court and collection
/// events, the employer's or institution's FEIN (nine digits) for employer
/// reports and data matches. Never a hash of an
/// SSN: with 10^9 possible SSNs any unsalted hash is reversed by trying them all.
public enum ScenarioKey {
    public static func caseKey(_ caseId: String) -> [UInt8] { Array(caseId.utf8) }

    /// The printed form `NN-NNNNNNN` names the same employer: the key is the nine digits.
    public static func feinKey(_ fein: String) -> [UInt8] {
        Array(fein.filter(\.isNumber).utf8)
    }
}
