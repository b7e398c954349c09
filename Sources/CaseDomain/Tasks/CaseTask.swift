import Crypto
import Foundation

/// One unit of follow-up work for an agency office, published on the task's
/// topic keyed by `caseId`. Everything in it is derived from the causing event,
/// so replaying that event reproduces the task byte for byte. The wire form is
/// `CaseContract`'s.
public struct CaseTask: Sendable, Hashable {
    public let id: UUID
    public let type: TaskType
    public let caseId: String
    /// The causing event's `occurredAt`, never the wall clock.
    public let createdAt: Date
    public let dueBy: LocalDate
    public let causationId: UUID
    /// What the task is about (an employer's FEIN, a child, a hearing...): part of the id.
    public let target: String
    public let action: TaskAction
    public let data: TaskData
    /// A WITHDRAW of a task that a late event, merged in business order,
    /// showed was never required (`CaseTimeline`): the wire says so.
    public let withdrawnAsCorrection: Bool
    /// The rule and the facts it was decided on (`data.basis`). Not part of
    /// `data.terms`: facts move with every evaluation, what is asked does not.
    public let basis: TaskBasis

    public init(
        type: TaskType, action: TaskAction, caseId: String, target: String,
        causationId: UUID, createdAt: Date, dueBy: LocalDate, data: TaskData, basis: TaskBasis, withdrawnAsCorrection: Bool = false
    ) {
        precondition(data.fits(type), "\(type.rawValue) task with another type's data")
        self.id = TaskIdentity.id(causationId: causationId, caseId: caseId, type: type, target: target, action: action)
        self.type = type
        self.caseId = caseId
        self.createdAt = createdAt
        self.dueBy = dueBy
        self.causationId = causationId
        self.target = target
        self.action = action
        self.data = data
        self.basis = basis
        self.withdrawnAsCorrection = withdrawnAsCorrection
    }

    /// Publication order within one outcome: by type, then target, withdrawals
    /// before issues so a consumer never sees a replacement before its retraction.
    static func publicationOrder(_ a: CaseTask, _ b: CaseTask) -> Bool {
        if a.type != b.type { return a.type < b.type }
        if a.target != b.target { return a.target < b.target }
        return a.action == .withdraw && b.action == .issue
    }
}

/// Task ids are RFC 9562 version-5 (SHA-1, name-based) UUIDs over a fixed
/// project namespace and `causationId|caseId|type|target|action`: the same event
/// always yields the same ids, so a replay republishes rather than duplicates.
/// The case is part of the name because one employer report is applied to every
/// case of the parent it names, and each case's task must keep its own id.
public enum TaskIdentity {
    /// The csworker task namespace. Never change it: every published id depends on it.
    public static let namespace = UUID(uuidString: "6be0bdd2-2571-49f8-8650-cbc3b7ba1582")!

    public static func id(causationId: UUID, caseId: String, type: TaskType, target: String, action: TaskAction) -> UUID {
        let name = "\(causationId.lowercasedText)|\(caseId)|\(type.rawValue)|\(target)|\(action.rawValue)"
        return nameBasedUUID(namespace: namespace, name: name)
    }

    /// The causation id of the time-driven referral sweep as of `date`: the same
    /// for every case and every run of that sweep, so re-running it republishes
    /// the same task ids (task ids also name the case, so they never collide).
    public static func sweepCausationId(asOf date: LocalDate) -> UUID {
        nameBasedUUID(namespace: namespace, name: "referral-sweep|\(date)")
    }

    /// RFC 9562 section 5.5.
    public static func nameBasedUUID(namespace: UUID, name: String) -> UUID {
        var hasher = Insecure.SHA1()
        withUnsafeBytes(of: namespace.uuid) { hasher.update(bufferPointer: $0) }
        hasher.update(data: Array(name.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC variant
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}

