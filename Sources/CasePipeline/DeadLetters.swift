import CaseContract
import CaseDomain
import CaseStorage
import Foundation

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
    }

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

        init(_ record: InboundRecord) {
            self.init(topic: record.topic, partition: record.partition, offset: record.offset, key: record.key ?? [], value: record.value)
        }

        init(_ parked: ParkedEvent) {
            self.init(topic: parked.topic, partition: parked.partition, offset: parked.offset, key: parked.key, value: parked.value)
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
    static func message(
        for source: Source, eventId: UUID?, errorClass: String, reason: String, scope: String = "", topics: PipelineTopics
    ) -> OutboxMessage {
        let name = eventId.map { "event|\($0.lowercasedText)|\(scope)" }
            ?? "record|\(source.topic)|\(source.partition)|\(source.offset)"
        var headers = [
            OutboxHeader(name: Header.sourceTopic, value: source.topic),
            OutboxHeader(name: Header.sourcePartition, value: String(source.partition)),
            OutboxHeader(name: Header.sourceOffset, value: String(source.offset)),
            OutboxHeader(name: Header.errorClass, value: errorClass),
            OutboxHeader(name: Header.reason, value: reason),
        ]
        if let eventId { headers.append(OutboxHeader(name: Header.eventId, value: eventId.lowercasedText)) }
        return OutboxMessage(
            messageId: TaskIdentity.nameBasedUUID(namespace: namespace, name: name), topic: topics.deadLetter,
            key: source.key, value: source.value, headers: headers, containsPersonalData: true)
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
        case .conflictingPayment: "a payment was already applied with a different amount or date"
        }
    }
}
