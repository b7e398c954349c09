import Foundation

/// Messages built to be dead-lettered, each with the class it should get.
/// They ride next to real traffic in a generated stream (see
/// `ScenarioConfiguration.poisonShare`) and can be built one by one for tests.
extension ScenarioEvents {
    /// How a `schema-violation` message breaks the contract.
    public enum SchemaViolation: String, CaseIterable, Sendable {
        /// An SSN of eight digits in a new hire.
        case shortSSN
        /// `monthlySupportCents` as a decimal string.
        case amountAsString
        /// `occurredAt` in a US date format, not RFC 3339.
        case nonRFC3339Timestamp
        /// A program the contract does not define.
        case unknownProgram
        /// An envelope `id` that is not a UUID.
        case idNotUUID
        /// A court event without `caseId`.
        case courtEventWithoutCaseId
        /// A new hire without `data.employee`.
        case missingEmployee
        /// A state code that is not a USPS code.
        case invalidStateCode
    }

    /// Bytes that are not a JSON document: an envelope cut off mid-way (as a
    /// producer crash leaves it), or one with a trailing comma.
    public static func malformedJSON(
        caseId: String = "CS-0000001", truncatedAt fraction: Double = 0.6, trailingComma: Bool = false,
        occurredAt: Date = defaultOccurredAt
    ) -> ScenarioEvent {
        let base = paternityEstablished(caseId: caseId, occurredAt: occurredAt)
        return Poison.malformed(from: base, truncatedAt: fraction, trailingComma: trailingComma)
    }

    /// Valid JSON of a known type that breaks the contract in one place.
    public static func schemaViolation(
        _ violation: SchemaViolation = .shortSSN, caseId: String = "CS-0000001", occurredAt: Date = defaultOccurredAt,
        id: String? = nil
    ) -> ScenarioEvent {
        var event: ScenarioEvent
        switch violation {
        case .shortSSN:
            event = newHire(ssn: "93412776", occurredAt: occurredAt, id: id)
        case .amountAsString:
            event = orderEstablished(caseId: caseId, occurredAt: occurredAt, id: id)
            event.value = Poison.replacing(#""monthlySupportCents":45000"#, with: #""monthlySupportCents":"450.00""#, in: event.value)
        case .nonRFC3339Timestamp:
            event = closureRequest(caseId: caseId, occurredAt: occurredAt, id: id)
            event.value = Poison.replacingOccurredAt(in: event.value, with: "01/05/2026 09:00 AM")
        case .unknownProgram:
            event = intakeApplication(caseId: caseId, occurredAt: occurredAt, id: id)
            event.value = Poison.replacing(#""program":"NON_TANF""#, with: #""program":"WELFARE""#, in: event.value)
        case .idNotUUID:
            event = paternityEstablished(caseId: caseId, occurredAt: occurredAt, id: "evt-\(caseId)-1")
        case .courtEventWithoutCaseId:
            event = envelope(type: "court.service-completed", caseId: nil, key: ScenarioKey.caseKey(caseId), occurredAt: occurredAt,
                             source: courtSource, id: id, poison: nil) { w in
                w.field("partyId", ScenarioParty.noncustodialPartyId(caseId: caseId))
                w.field("attemptedOn", ScenarioDate(occurredAt))
            }
        case .missingEmployee:
            event = envelope(type: "employer.new-hire", caseId: nil, key: ScenarioKey.feinKey(ScenarioEmployer.sample.fein), occurredAt: occurredAt,
                             source: newHireSource, id: id, poison: nil) { w in
                w.key("employer")
                ScenarioEmployer.sample.write(to: &w)
                w.field("hireDate", ScenarioDate(occurredAt).adding(days: -7))
                w.field("receivedOn", ScenarioDate(occurredAt))
            }
        case .invalidStateCode:
            event = partyUpdate(caseId: caseId, address: ScenarioAddress(line1: "12 Main St", city: "Charlotte", state: "XX", postalCode: "28202"),
                                occurredAt: occurredAt, id: id)
        }
        event.poison = .schemaViolation
        return event
    }

    /// A well-formed envelope of a type the contract does not define.
    public static func unknownType(
        _ type: String = "court.bench-warrant-issued", caseId: String = "CS-0000001", occurredAt: Date = defaultOccurredAt,
        id: String? = nil
    ) -> ScenarioEvent {
        let topic = ScenarioTopic.of(type: type)
        let isCaseEvent = topic != ScenarioTopic.employerReports
        return envelope(
            type: type, caseId: isCaseEvent ? caseId : nil,
            key: isCaseEvent ? ScenarioKey.caseKey(caseId) : ScenarioKey.feinKey(ScenarioEmployer.sample.fein), occurredAt: occurredAt,
            source: topic == ScenarioTopic.intake ? intakeSource : isCaseEvent ? courtSource : employerSource, id: id, poison: .unknownType
        ) { w in
            w.field("note", "issued in open court")
        }
    }

    /// A valid court event for a case that was never opened (a mis-keyed docket).
    /// It decodes; the worker must dead-letter it as `unknown-case`.
    public static func unknownCase(caseId: String = "CS-999999999", occurredAt: Date = defaultOccurredAt, id: String? = nil) -> ScenarioEvent {
        var event = hearingScheduled(caseId: caseId, hearingType: .enforcement, occurredAt: occurredAt, id: id)
        event.poison = .unknownCase
        return event
    }
}

enum Poison {
    static let unknownTypes = [
        "court.bench-warrant-issued", "employer.garnishment-notice", "intake.application.v2", "court.order-established-v0",
        "intake.referral",
    ]

    /// One poison message of the class at `classIndex` (`PoisonMix.weights` order), placed right after `event`.
    static func make(classIndex: Int, after event: ScenarioEvent, rng: inout SplitMix64, config: ScenarioConfiguration) -> ScenarioEvent {
        let caseId = config.caseId(rng.int(0...max(0, config.cases - 1)))
        let id = rng.uuid()
        switch classIndex {
        case 0:
            var bad = malformed(from: event, truncatedAt: 0.2 + 0.7 * rng.unit(), trailingComma: rng.chance(0.2))
            bad.eventId = id  // the cut-off copy is not a redelivery of the real one
            return bad
        case 1:
            let violation = rng.pick(ScenarioEvents.SchemaViolation.allCases)
            return ScenarioEvents.schemaViolation(violation, caseId: caseId, occurredAt: event.occurredAt, id: violation == .idNotUUID ? nil : id)
        case 2:
            return ScenarioEvents.unknownType(rng.pick(unknownTypes), caseId: caseId, occurredAt: event.occurredAt, id: id)
        default:
            // "N" and eight digits after the prefix: never a generated case id (those are digits only),
            // and never nine digits in a row, which would read as an SSN in the logs.
            var digits = [UInt8]()
            appendDigits(rng.int(0...99_999_999), width: 8, to: &digits)
            let missing = config.caseIdPrefix + "-N" + String(decoding: digits, as: UTF8.self)
            return ScenarioEvents.unknownCase(caseId: missing, occurredAt: event.occurredAt, id: id)
        }
    }

    static func malformed(from base: ScenarioEvent, truncatedAt fraction: Double, trailingComma: Bool) -> ScenarioEvent {
        var event = base
        if trailingComma {
            // `..."data":{...},}`: valid up to the comma JSON forbids.
            event.value = Array(base.value.dropLast()) + Array(",}".utf8)
        } else {
            // Any proper prefix of a JSON object is not JSON; cut on a character boundary so it stays UTF-8.
            var cut = max(1, min(base.value.count - 1, Int(Double(base.value.count) * fraction)))
            while cut > 1 && base.value[cut] & 0xC0 == 0x80 { cut -= 1 }
            event.value = Array(base.value[..<cut])
        }
        event.poison = .malformedJSON
        return event
    }

    static func replacing(_ target: String, with replacement: String, in value: [UInt8]) -> [UInt8] {
        let text = String(decoding: value, as: UTF8.self)
        precondition(text.contains(target), "poison template out of date: \(target)")
        return Array(text.replacingOccurrences(of: target, with: replacement).utf8)
    }

    static func replacingOccurredAt(in value: [UInt8], with text: String) -> [UInt8] {
        let json = String(decoding: value, as: UTF8.self)
        guard let start = json.range(of: #""occurredAt":""#), let end = json[start.upperBound...].firstIndex(of: "\"") else {
            preconditionFailure("envelope without occurredAt")
        }
        return Array((json[..<start.upperBound] + text + json[end...]).utf8)
    }
}
