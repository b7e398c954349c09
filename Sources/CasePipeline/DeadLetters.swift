import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Kafka

/// Dead letters: the original bytes, unchanged, on the dead-letter topic, with
/// headers naming where they came from and why they were refused. They go
/// through the outbox like tasks, so they are exactly as durable and as
/// exactly-once as the batch that refused them.
public enum DeadLetter {
    /// Header names (the contract's list: source topic, partition, offset,
    /// error class, reason; plus the event id when the envelope was readable).
    public enum Header {
        public static let sourceTopic = "source-topic"
        public static let sourcePartition = "source-partition"
        public static let sourceOffset = "source-offset"
        public static let errorClass = "error-class"
        public static let reason = "error-reason"
        public static let eventId = "event-id"
        /// Provenance, as operators expect of a dead-letter topic (Spring's DLT
        /// headers, Karafka's DLQ): the record's own headers under this prefix,
        /// its broker timestamp, the consumer group, when it first failed and
        /// how often it has been refused.
        public static let originalPrefix = "original-"
        public static let originalTimestamp = "original-timestamp"
        public static let consumerGroup = "consumer-group"
        public static let firstFailedAt = "first-failed-at"
        public static let attempts = "attempts"
        /// On a replayed record, and on the dead letter of a replay that failed
        /// again: the dead letter it replays (`DeadLetterReplay.replayHeader`).
        public static let replayOf = "replay-of"
    }

    /// Who refused a record, and when: the same for every dead letter of a batch.
    struct Provenance: Sendable, Hashable {
        var consumerGroup: String
        var failedAt: Date

        init(consumerGroup: String, failedAt: Date = Date()) {
            self.consumerGroup = consumerGroup
            self.failedAt = failedAt
        }
    }

    /// Original headers copied at most: producers' metadata (trace context,
    /// content type), printable and short, never a payload in disguise.
    static let maximumOriginalHeaders = 32
    static let maximumHeaderValueLength = 512

    /// Message ids of dead letters: name-based UUIDs in a namespace of their own.
    static let namespace = UUID(uuidString: "0d5b0f9e-6a43-4c55-9a2e-3f7c1b8d2e61")!

    /// Where a refused message came from: the record, or a parked event that
    /// was read back later.
    struct Source: Sendable, Hashable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: [UInt8]
        var value: [UInt8]
        /// The record's headers and broker timestamp (none for a parked event read back).
        var headers: [KafkaHeader] = []
        var timestampMilliseconds: Int64?

        init(_ record: InboundRecord) {
            self.init(topic: record.topic, partition: record.partition, offset: record.offset, key: record.key ?? [], value: record.value)
            headers = record.headers
            timestampMilliseconds = record.timestampMilliseconds
        }

        func header(_ name: String) -> String? {
            headers.last { $0.name == name }.flatMap { String(validating: $0.value, as: UTF8.self) }
        }

        init(_ parked: ParkedEvent) {
            self.init(topic: parked.topic, partition: parked.partition, offset: parked.offset, key: parked.key, value: parked.value)
            headers = parked.headers.map { KafkaHeader($0.name, $0.value) }
            timestampMilliseconds = parked.timestampMilliseconds
        }

        /// The headers a waiting event keeps: what a dead letter would copy.
        var keptHeaders: [OutboxHeader] {
            headers.prefix(DeadLetter.maximumOriginalHeaders).compactMap { header in
                guard let value = DeadLetter.printable(header) else { return nil }
                return OutboxHeader(name: header.name, value: value)
            }
        }

        init(topic: String, partition: Int32, offset: Int64, key: [UInt8], value: [UInt8]) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.key = key
            self.value = value
        }
    }

    /// `errorClass` is one of the contract's classes; `reason` must not echo
    /// identifiers or values from the message. `scope` tells apart the dead
    /// letters of one event (an employer report refused by one of two cases).
    /// A replay that fails again is a new dead letter (its id names the replay)
    /// pointing to the one replayed, so the chain shows in `deadletters list`.
    static func message(
        for source: Source, eventId: UUID?, errorClass: String, reason: String, scope: String = "", topics: PipelineTopics,
        provenance: Provenance
    ) -> OutboxMessage {
        let replayOf = source.header(Header.replayOf)
        let name = (eventId.map { "event|\($0.lowercasedText)|\(scope)" }
            ?? "record|\(source.topic)|\(source.partition)|\(source.offset)") + (replayOf.map { "|replay|\($0)" } ?? "")
        var headers = [
            OutboxHeader(name: Header.sourceTopic, value: source.topic),
            OutboxHeader(name: Header.sourcePartition, value: String(source.partition)),
            OutboxHeader(name: Header.sourceOffset, value: String(source.offset)),
            OutboxHeader(name: Header.errorClass, value: errorClass),
            OutboxHeader(name: Header.reason, value: reason),
        ]
        if let eventId { headers.append(OutboxHeader(name: Header.eventId, value: eventId.lowercasedText)) }
        headers += provenanceHeaders(source, provenance)
        let messageId = TaskIdentity.nameBasedUUID(namespace: namespace, name: name)
        headers += TraceContext(of: source, eventId: eventId).headers(for: messageId)
        return OutboxMessage(
            messageId: messageId, topic: topics.deadLetter,
            key: source.key, value: source.value, headers: headers, containsPersonalData: true)
    }

    static func provenanceHeaders(_ source: Source, _ provenance: Provenance) -> [OutboxHeader] {
        // What the replay carried forward, or this is the first refusal.
        let previousAttempts = source.header(Header.attempts).flatMap(Int.init) ?? 0
        var headers = [
            OutboxHeader(name: Header.consumerGroup, value: provenance.consumerGroup),
            OutboxHeader(name: Header.firstFailedAt, value: source.header(Header.firstFailedAt) ?? provenance.failedAt.formatted(Date.ISO8601FormatStyle())),
            OutboxHeader(name: Header.attempts, value: String(previousAttempts + 1)),
        ]
        if let replayOf = source.header(Header.replayOf) { headers.append(OutboxHeader(name: Header.replayOf, value: replayOf)) }
        if let milliseconds = source.timestampMilliseconds, milliseconds > 0 {
            headers.append(OutboxHeader(name: Header.originalTimestamp, value: String(milliseconds)))
        }
        let carried: Set<String> = [Header.replayOf, Header.firstFailedAt, Header.attempts]
        for header in source.headers.prefix(maximumOriginalHeaders) where !carried.contains(header.name) {
            guard let value = printable(header) else { continue }
            headers.append(OutboxHeader(name: Header.originalPrefix + header.name, value: value))
        }
        return headers
    }

    /// A header's value when it is short printable ASCII under a short
    /// printable name (producer metadata); nil for anything else.
    static func printable(_ header: KafkaHeader) -> String? {
        func isPrintable(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } }
        guard header.name.utf8.count <= 128, isPrintable(header.name), header.value.count <= maximumHeaderValueLength,
            let value = String(validating: header.value, as: UTF8.self), isPrintable(value)
        else { return nil }
        return value
    }

    /// A decoder refusal: its kind is the class; the reason names the field, never its value.
    static func reason(_ error: EventDecodingError) -> String {
        if let field = error.field, !error.reason.contains(field) { return "\(field): \(error.reason)" }
        return error.reason
    }

    /// A rules refusal, worded without the identifiers `RuleError.description` carries.
    static func reason(_ error: RuleError) -> String {
        switch error {
        case .unknownCase: "no case with the event's caseId has been opened"
        case .caseAlreadyOpen: "an application for a case that is already open"
        case .missingCaseId(let type): "\(type) event has no caseId"
        case .wrongCase: "the event names a different case than the one it was routed to"
        case .personNotOnCase: "the employee is not the case's noncustodial parent"
        case .noPaymentForCase: "the remittance carries no payment for the case"
        case .unknownParty: "the event names a party the case does not have"
        case .unknownChild: "the event names a child the case does not have"
        case .unknownOrder: "the event names a support order the case does not have"
        case .ledgerRejected(_, let ledger): "the ledger refused the change: \(LedgerReason.text(ledger))"
        case .earlierEventsMissing: "the case's earlier events, needed to place a late event, were not all found"
        case .unknownCollection: "the reversal names a collection the case never received"
        case .reversalExceedsCollection: "the reversal is more than is left of the collection"
        case .unknownDisbursement: "the returned disbursement is not one the case issued"
        }
    }
}

/// Ledger refusals without the payment or order ids and amounts they carry.
enum LedgerReason {
    static func text(_ error: LedgerError) -> String {
        switch error {
        case .negativeAmount(let field, _): "\(field) is negative"
        case .amountTooLarge(let field, _): "\(field) is implausibly large"
        case .nonPositivePayment: "a payment is not positive"
        case .orderAlreadyEstablished: "the order is already established with other terms"
        case .unknownOrder: "the case has no such order"
        case .modificationBeforeOrderStart: "the modification takes effect before the order starts"
        case .conflictingPayment: "a payment (or a collection with the same collectionId) was already applied with a different amount, date or source"
        case .conflictingCharge: "a reversal or adjustment with the same id was already recorded with other terms"
        }
    }
}
