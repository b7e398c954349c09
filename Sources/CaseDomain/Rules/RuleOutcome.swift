import Foundation

/// What applying one event to a case produced.
public struct RuleOutcome: Sendable, Hashable {
    /// The case after the event (unchanged for a redelivered event).
    public var state: CaseState
    /// Tasks to publish, in a stable order (type, target, withdrawals first).
    public var tasks: [CaseTask]
    /// Short human summaries for the case history, in the order they happened.
    public var changes: [String]
    /// The event had been applied before: nothing changed and nothing is published.
    public var wasDuplicate: Bool

    public init(state: CaseState, tasks: [CaseTask], changes: [String], wasDuplicate: Bool = false) {
        self.state = state
        self.tasks = tasks
        self.changes = changes
        self.wasDuplicate = wasDuplicate
    }
}

/// Why an event could not be applied. The pipeline dead-letters the event with
/// `deadLetterClass`; descriptions never contain an SSN.
public enum RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An event other than an application for a case that has no state.
    case unknownCase(caseId: String?)
    /// An application for a case that is already open.
    case caseAlreadyOpen(caseId: String)
    /// Intake and court events must name their case.
    case missingCaseId(eventType: String)
    /// The event (or the iwo-response's `caseId`) names another case than the state given.
    case wrongCase(eventCaseId: String, stateCaseId: String)
    /// An employer report about someone who is not this case's noncustodial parent.
    case personNotOnCase(caseId: String)
    /// A remittance with no payment for this case.
    case noPaymentForCase(caseId: String)
    case unknownParty(caseId: String, partyId: String)
    case unknownChild(caseId: String, childId: String)
    case unknownOrder(caseId: String, orderId: String)
    /// The ledger refused the change (conflicting order, negative amount...).
    case ledgerRejected(caseId: String, LedgerError)
    /// A late event needs the case's earlier events and the application was not among them.
    case earlierEventsMissing(caseId: String)
    /// A reversal of a collection the case never received.
    case unknownCollection(caseId: String, collectionId: String)
    /// A reversal of more than is left of the collection.
    case reversalExceedsCollection(caseId: String, collectionId: String, leftCents: Cents)
    /// A returned disbursement that is not one of the case's.
    case unknownDisbursement(caseId: String, taskId: UUID)

    /// The contract's dead-letter error class.
    public var deadLetterClass: String {
        switch self {
        case .unknownCase: "unknown-case"
        case .missingCaseId: "schema-violation"
        default: "processing-failed"
        }
    }

    public var description: String {
        switch self {
        case .unknownCase(let id): "no case \(id ?? "(none named)")"
        case .caseAlreadyOpen(let id): "case \(id) is already open"
        case .missingCaseId(let type): "\(type) event has no caseId"
        case let .wrongCase(eventCaseId, stateCaseId): "event names case \(eventCaseId), applied to case \(stateCaseId)"
        case .personNotOnCase(let id): "the employee is not the noncustodial parent on case \(id)"
        case .noPaymentForCase(let id): "the remittance carries no payment for case \(id)"
        case let .unknownParty(caseId, partyId): "case \(caseId) has no party \(partyId)"
        case let .unknownChild(caseId, childId): "case \(caseId) has no child \(childId)"
        case let .unknownOrder(caseId, orderId): "case \(caseId) has no order \(orderId)"
        case let .ledgerRejected(caseId, error): "case \(caseId): ledger refused: \(error)"
        case .earlierEventsMissing(let caseId): "case \(caseId): its earlier events are not all at hand (no application among them)"
        case let .unknownCollection(caseId, collectionId): "case \(caseId) has no collection \(collectionId)"
        case let .reversalExceedsCollection(caseId, collectionId, left):
            "case \(caseId): the reversal is more than the \(left) cents left of collection \(collectionId)"
        case let .unknownDisbursement(caseId, taskId): "case \(caseId) issued no disbursement \(taskId.lowercasedText)"
        }
    }
}
