import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Kafka
import Logging

/// `csworker deadletters replay`: re-injects dead letters, byte for byte with
/// their original key, into the input topic they came from, so an event
/// refused earlier (its case not opened yet, a fixed producer) is processed
/// again. Replaying an event that was applied has no effect: the worker
/// dedupes event ids. A dead-lettered event's dedupe record is dropped first,
/// which is what lets it through once more.
public struct DeadLetterReplay {
    /// Which dead letters to replay.
    public enum Selection: Sendable, Hashable {
        /// Dead-letter message ids or event ids (`deadletters list` shows both).
        case ids([UUID])
        case all
    }

    public struct Report: Sendable {
        public var replayed: [DeadLetterRecord] = []
        /// Selected but not replayed, with why (already replayed, not an input topic).
        public var skipped: [(record: DeadLetterRecord, reason: String)] = []
        /// Requested ids that name no dead letter.
        public var unknownIds: [UUID] = []
    }

    /// Added to a replayed message so its origin can be traced; the worker ignores it.
    public static let replayHeader = "replay-of"

    let store: DeadLetterStore
    /// nil: a dry run, which selects and reports but sends and marks nothing.
    let producer: KafkaProducer?
    let topics: PipelineTopics
    let logger: Logger

    public init(store: DeadLetterStore, producer: KafkaProducer?, topics: PipelineTopics, logger: Logger) {
        self.store = store
        self.producer = producer
        self.topics = topics
        self.logger = logger
    }

    /// Replays oldest first (the order they were refused in); each is marked
    /// replayed once the broker acknowledged it (without a producer: only
    /// reports what would be replayed). `force` replays again what
    /// was already replayed; `errorClass` narrows the selection.
    public func replay(_ selection: Selection, errorClass: String? = nil, force: Bool = false, by who: String) async throws -> Report {
        var report = Report()
        var chosen = try store.list(topic: topics.deadLetter)
        if case .ids(let ids) = selection {
            let wanted = Set(ids)
            chosen = chosen.filter { wanted.contains($0.messageId) || $0.eventId.map(wanted.contains) == true }
            let found = Set(chosen.flatMap { [$0.messageId] + ($0.eventId.map { [$0] } ?? []) })
            report.unknownIds = ids.filter { !found.contains($0) }
        }
        if let errorClass { chosen = chosen.filter { $0.header(DeadLetter.Header.errorClass) == errorClass } }

        for record in chosen {
            if record.replayedAt != nil && !force {
                report.skipped.append((record, "already replayed (use --force to replay again)"))
                continue
            }
            guard let source = record.header(DeadLetter.Header.sourceTopic), topics.input.contains(source) else {
                report.skipped.append((record, "its source topic is not an input topic of this deployment"))
                continue
            }
            guard let original = try store.original(messageId: record.messageId) else { continue }
            guard let producer else {
                report.replayed.append(record)
                continue
            }
            if let eventId = record.eventId { try store.allowReprocessing(eventId: eventId) }
            let message = KafkaOutgoingMessage(
                topic: source, key: original.key.isEmpty ? nil : original.key, value: original.value,
                headers: Self.headers(replaying: record))
            for delivery in try await producer.sendAll([message]) { _ = try delivery.get() }
            try store.markReplayed(messageId: record.messageId, by: who)
            report.replayed.append(record)
            logger.info("dead letter replayed", metadata: Self.eventMetadata(original.value).adding([
                "deadLetter": "\(record.messageId.lowercasedText)", "topic": "\(source)", "by": "\(who)",
            ]))
        }
        return report
    }
}

extension DeadLetterReplay {
    /// A replayed record carries the producer's headers back (its trace
    /// context among them), which dead letter it replays, when the event first
    /// failed and how often: if it fails again, its dead letter continues the chain.
    static func headers(replaying record: DeadLetterRecord) -> [KafkaHeader] {
        var headers = record.originalHeaders.map { KafkaHeader($0.name, $0.value) }
        headers.append(KafkaHeader(replayHeader, record.messageId.lowercasedText))
        if let first = record.header(DeadLetter.Header.firstFailedAt) { headers.append(KafkaHeader(DeadLetter.Header.firstFailedAt, first)) }
        headers.append(KafkaHeader(DeadLetter.Header.attempts, record.header(DeadLetter.Header.attempts) ?? "1"))
        return headers
    }

    /// The replayed event's keys, read from its original bytes (a dead letter
    /// may be undecodable: that is often why it was refused).
    static func eventMetadata(_ value: [UInt8]) -> Logger.Metadata {
        guard case .success(let event) = EventDecoder.decode(value) else { return EventLog.undecodable }
        return EventLog.metadata(event, caseId: BatchRouter.namedCaseId(event))
    }
}

extension DeadLetterRecord {
    /// The refused event's id, when its envelope was readable.
    public var eventId: UUID? { header(DeadLetter.Header.eventId).flatMap(UUID.init(uuidString:)) }

    /// The refused record's own headers (trace context and the like), under
    /// their own names again: what a replay sends back.
    public var originalHeaders: [OutboxHeader] {
        headers.compactMap { header in
            guard header.name.hasPrefix(DeadLetter.Header.originalPrefix), header.name != DeadLetter.Header.originalTimestamp else { return nil }
            return OutboxHeader(name: String(header.name.dropFirst(DeadLetter.Header.originalPrefix.count)), value: header.value)
        }
    }
}
