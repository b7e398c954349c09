import CaseDomain
import Foundation
import Logging

/// The metadata every log line about an event carries, so an operator can
/// follow one event through parking, applying, refusing and replaying by
/// filtering on one key. The case id is the agency's case number, which the
/// contract prints in the clear (it is the Kafka key and `case show`'s
/// argument); person identifiers (SSNs, party ids, FEINs) never go here.
enum EventLog {
    /// For a record that could not be decoded: nothing in it is trusted.
    static let unknown = "unknown"
    /// For an event that names a person, not a case (an employer report
    /// waiting for its employee's SSN to appear on a case).
    static let noCase = "none"

    static func metadata(_ event: Event, caseId: String?) -> Logger.Metadata {
        [
            "eventId": "\(event.id.lowercasedText)",
            "eventType": "\(event.type.rawValue)",
            "caseId": "\(caseId.flatMap { $0.isEmpty ? nil : $0 } ?? noCase)",
        ]
    }

    /// An event with where it came from: its trace id too, so the lines of
    /// a batch join the trace the agency system started (W3C Trace Context).
    static func metadata(_ event: Event, caseId: String?, source: DeadLetter.Source) -> Logger.Metadata {
        metadata(event, caseId: caseId).adding(["traceId": "\(TraceContext(of: source, eventId: event.id).traceId)"])
    }

    /// A sweep's entry: its causation id stands for the event (it is the
    /// tasks' `causationId` and the history entry's event id).
    static func sweep(causationId: UUID, caseId: String) -> Logger.Metadata {
        [
            "eventId": "\(causationId.lowercasedText)",
            "eventType": "\(ReferralSweep.historyEventType)",
            "caseId": "\(caseId)",
        ]
    }

    static var undecodable: Logger.Metadata {
        ["eventId": "\(unknown)", "eventType": "\(unknown)", "caseId": "\(unknown)"]
    }
}

extension Logger.Metadata {
    /// `self` with `other`'s entries added (an event's keys plus a line's own).
    func adding(_ other: Logger.Metadata) -> Logger.Metadata {
        merging(other) { _, new in new }
    }
}
