import CaseDomain
import Foundation
import Postgres

// A batch's transaction in three phases. Each phase is a noncopyable value
// that only the phase before hands out and that its next step consumes, so
// the order the locking depends on (identities, then case rows, then writes)
// is the only order that compiles, and no phase runs twice.

/// What a batch does when another transaction (another worker's batch) holds
/// a person or case it needs.
public enum LockContention: Sendable, Hashable {
    /// Wait for it: always makes progress.
    case wait
    /// Take only what is free and leave the events that need a busy identity,
    /// with everything after them about the same people and cases, for a
    /// later batch: workers whose partitions share people (employer reports
    /// are keyed by employer, cases by case id) then overlap instead of
    /// queueing behind each other's transactions.
    case deferConflicting
}

/// The people and cases a batch's events name: what phase 1 locks.
public struct IdentityClaim: Sendable, Hashable {
    /// Every SSN hash in play (reported employees, arriving noncustodial parents).
    public var ssnHashes: Set<SSNHash>
    public var caseIds: Set<String>
    /// Employees employer reports name: resolved to the cases they are the
    /// noncustodial parent on.
    public var reported: Set<SSNHash>

    public init(ssnHashes: Set<SSNHash> = [], caseIds: Set<String> = [], reported: Set<SSNHash> = []) {
        self.ssnHashes = ssnHashes
        self.caseIds = caseIds
        self.reported = reported
    }
}

/// Parked events to take out of parking: those waiting for these people,
/// cases or orders.
public struct ParkedMatches: Sendable {
    public var ssnHashes: Set<SSNHash>
    /// Cases being opened.
    public var caseIds: Set<String>
    /// Orders being entered.
    public var orders: [(caseId: String, orderId: String)]
    /// Every order of these cases (the horizon check takes them all).
    public var ordersOfCases: Set<String>

    public init(
        ssnHashes: Set<SSNHash> = [], caseIds: Set<String> = [], orders: [(caseId: String, orderId: String)] = [],
        ordersOfCases: Set<String> = []
    ) {
        self.ssnHashes = ssnHashes
        self.caseIds = caseIds
        self.orders = orders
        self.ordersOfCases = ordersOfCases
    }

    var isEmpty: Bool { ssnHashes.isEmpty && caseIds.isEmpty && orders.isEmpty && ordersOfCases.isEmpty }
}

/// What phase 2 reads and records.
public struct CaseLoad: Sendable {
    /// Event ids to record (redeliveries of recorded ids come back as not fresh).
    public var events: [ProcessedEvent]
    public var parked: ParkedMatches
    /// The cases to lock and load; the cases taken parked events wait for are added.
    public var caseIds: Set<String>

    public init(events: [ProcessedEvent] = [], parked: ParkedMatches = ParkedMatches(), caseIds: Set<String>) {
        self.events = events
        self.parked = parked
        self.caseIds = caseIds
    }
}

/// Everything a batch decided: what phase 3 writes.
public struct BatchWrites: Sendable {
    public var cases: [CaseChange]
    public var outbox: [OutboxMessage]
    public var parked: [ParkedEvent]
    /// Outcomes other than `applied` of recorded ids, and `applied` for parked events that applied now.
    public var outcomes: [UUID: EventOutcome]

    public init(
        cases: [CaseChange] = [], outbox: [OutboxMessage] = [], parked: [ParkedEvent] = [],
        outcomes: [UUID: EventOutcome] = [:]
    ) {
        self.cases = cases
        self.outbox = outbox
        self.parked = parked
        self.outcomes = outcomes
    }
}

extension BatchTransaction {
    /// Phase 1, one round trip (two when deferring): takes the advisory
    /// locks of every SSN hash and case id claimed, in one global order, and
    /// resolves the reported people to the cases they are the noncustodial
    /// parent on (committed rows, read after the locks are held).
    ///
    /// With `.deferConflicting` it takes only the free locks and then the
    /// free ones among the resolved cases; `busy` names the rest. A busy
    /// reported person's cases are neither resolved nor locked: their events
    /// wait for a later batch.
    public func claim(_ claim: IdentityClaim, contention: LockContention) throws -> ClaimedIdentities {
        try checkOpen("claim")
        let keys = IdentityKeys(ssnHashes: claim.ssnHashes, caseIds: claim.caseIds)
        let pipeline = PostgresPipeline()
        let locks = enqueueLocks(keys, wait: contention == .wait, on: pipeline)
        let resolve = enqueueNoncustodialCases(claim.reported, on: pipeline)
        let results = try run(pipeline)
        var resolved = try resolve.map { try noncustodialCases(results[$0]) } ?? [:]
        guard contention == .deferConflicting else {
            return ClaimedIdentities(transaction: self, busySSNHashes: [], busyCaseIds: [], noncustodialCases: resolved)
        }
        var busy: (ssnHashes: Set<SSNHash>, caseIds: Set<String>) = try locks.map { try keys.busy(results[$0]) } ?? ([], [])
        for hash in busy.ssnHashes { resolved[hash] = nil }
        // A reported person's cases are another worker's to change while it
        // holds them: lock those too (they were not known before resolving).
        let resolvedCases = Set(resolved.values.joined()).subtracting(claim.caseIds)
        busy.caseIds.formUnion(try tryLockIdentities(ssnHashes: [SSNHash](), caseIds: resolvedCases).caseIds)
        return ClaimedIdentities(
            transaction: self, busySSNHashes: busy.ssnHashes, busyCaseIds: busy.caseIds, noncustodialCases: resolved)
    }
}

/// Phase 1 done: the identities are locked (under `.deferConflicting`, the
/// free ones) and reported people resolved. `load` is the next step.
public struct ClaimedIdentities: ~Copyable {
    let transaction: BatchTransaction
    /// SSN hashes and case ids another transaction holds (only when deferring).
    public let busySSNHashes: Set<SSNHash>
    public let busyCaseIds: Set<String>
    /// For each reported person (not busy), the cases (sorted) they are the noncustodial parent on.
    public let noncustodialCases: [SSNHash: [String]]

    /// Phase 2, one round trip: records the event ids (dedupe), takes the
    /// parked events that can now apply (deleted; save parks again what still
    /// cannot) and locks and loads the cases (`FOR UPDATE`, in case id
    /// order). Cases that taken events wait for and that were not asked for
    /// are locked and loaded after, in a second statement.
    public consuming func load(_ request: CaseLoad) throws -> LoadedCases {
        try transaction.checkOpen("load")
        let pipeline = PostgresPipeline()
        let record = transaction.enqueueRecordEvents(request.events, on: pipeline)
        let take = transaction.enqueueTakeParked(request.parked, on: pipeline)
        let load = transaction.enqueueLockAndLoad(request.caseIds, on: pipeline)
        let results = try transaction.run(pipeline)
        let fresh = try record.map { try transaction.freshIds(results[$0]) } ?? []
        let parked = try take.map { try transaction.parkedEvents(results[$0]) } ?? []
        var states = try load.map { try transaction.loadedStates(results[$0]) } ?? [:]
        let waitedFor = Set(parked.compactMap(\.match.caseId)).subtracting(request.caseIds)
        if !waitedFor.isEmpty {
            states.merge(try transaction.lockAndLoad(caseIds: waitedFor)) { old, _ in old }
        }
        return LoadedCases(transaction: transaction, fresh: fresh, parked: parked, states: states)
    }
}

/// Phase 2 done: the cases are locked and loaded. `save` ends the batch's work.
public struct LoadedCases: ~Copyable {
    let transaction: BatchTransaction
    /// The ids `load` recorded for the first time.
    public let fresh: Set<UUID>
    /// Parked events taken out of parking, oldest first (topic, partition, offset).
    public let parked: [ParkedEvent]
    /// States of the loaded cases that exist.
    public let states: [String: CaseState]

    /// The committed events of the loaded cases, read on demand until `save`.
    public var history: CaseHistory { CaseHistory(transaction: transaction) }

    /// Phase 3, one round trip: writes case rows, projections, history,
    /// outbox messages, parked events and outcomes. Returns the version each
    /// loaded case has now. Every case in `writes.cases` must have been loaded.
    public consuming func save(_ writes: BatchWrites) throws -> [String: Int64] {
        try transaction.save(cases: writes.cases, outbox: writes.outbox, parked: writes.parked, outcomes: writes.outcomes)
        return transaction.loaded.mapValues(\.version)
    }
}

/// Where routing reads the events a case has committed, for re-deriving a
/// case a late event belongs in: the batch's transaction (`CaseHistory`), or
/// memory in tests.
public protocol CommittedEventSource {
    /// The case's version as loaded; nil for a case not loaded (or not existing).
    func version(of caseId: String) -> Int64?
    /// The events applied to each of these cases so far, original bytes, in
    /// the order applied (one statement).
    func committedEvents(caseIds: some Collection<String>) throws -> [String: [[UInt8]]]
}

/// The loaded cases' committed events, read inside the batch's transaction
/// (only `LoadedCases` hands one out; it fails once the transaction ended).
public struct CaseHistory: CommittedEventSource {
    let transaction: BatchTransaction

    public func version(of caseId: String) -> Int64? { transaction.version(of: caseId) }

    public func committedEvents(caseIds: some Collection<String>) throws -> [String: [[UInt8]]] {
        try transaction.earlierEvents(caseIds: caseIds)
    }
}
