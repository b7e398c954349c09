import CaseDomain
import CaseStorage
import Foundation
import Kafka

/// W3C Trace Context (`traceparent`, `tracestate`) carried from an input
/// record to everything it causes: tasks, dead letters, replays. A record
/// without one starts a trace whose id is its event id (or, undecodable, a
/// hash of where it sits), so a redelivery or a replay continues the same
/// trace and a re-published task carries the same headers.
struct TraceContext: Sendable, Hashable {
    /// 32 lower-case hex digits, not all zero.
    var traceId: String
    /// The span that caused ours (16 hex digits).
    var parentId: String
    /// Trace flags (2 hex digits); `01` sampled.
    var flags: String
    var state: String?

    static let parentHeader = "traceparent"
    static let stateHeader = "tracestate"

    /// The record's context, or a new trace for it.
    init(of source: DeadLetter.Source, eventId: UUID?) {
        if let header = source.header(Self.parentHeader), let parsed = Self.parse(header) {
            self = parsed
            state = source.header(Self.stateHeader).flatMap { $0.isEmpty || $0.utf8.count > 512 ? nil : $0 }
            return
        }
        let seed = eventId ?? TaskIdentity.nameBasedUUID(
            namespace: DeadLetter.namespace, name: "trace|\(source.topic)|\(source.partition)|\(source.offset)")
        traceId = Self.hex(seed)
        parentId = String(Self.hex(seed).suffix(16))
        flags = "01"
        state = nil
    }

    init(traceId: String, parentId: String, flags: String, state: String? = nil) {
        self.traceId = traceId
        self.parentId = parentId
        self.flags = flags
        self.state = state
    }

    /// `version-traceid-parentid-flags`; version ff and all-zero ids are invalid.
    static func parse(_ header: String) -> TraceContext? {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isHexDigit) }),
            parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" })
        else { return nil }
        return TraceContext(traceId: parts[1].lowercased(), parentId: parts[2].lowercased(), flags: parts[3].lowercased())
    }

    /// The headers of a message this trace causes: our span, named after the
    /// message (deterministic), as the child of the record's.
    func headers(for messageId: UUID) -> [OutboxHeader] {
        var span = String(Self.hex(messageId).prefix(16))
        if !span.contains(where: { $0 != "0" }) { span = "0000000000000001" }
        var headers = [OutboxHeader(name: Self.parentHeader, value: "00-\(traceId)-\(span)-\(flags)")]
        if let state { headers.append(OutboxHeader(name: Self.stateHeader, value: state)) }
        return headers
    }

    static func hex(_ uuid: UUID) -> String { uuid.uuidString.lowercased().replacingOccurrences(of: "-", with: "") }
}
