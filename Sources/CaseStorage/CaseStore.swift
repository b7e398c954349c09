import CaseContract
import JSON
import CaseDomain
import Crypto
import Foundation
import Logging
import Postgres
import TimeUnits

/// The worker's storage: owns one PostgreSQL session and runs one transaction
/// per polled batch. Like the connection, a store is used by one thread at a
/// time.
///
/// A batch is three phases, each a type only the one before hands out (see
/// `BatchPhases.swift`): `withBatch` gives a `BatchTransaction`, whose `claim`
/// takes the identity locks and resolves reported people to their cases
/// (`ClaimedIdentities`); its `load` records the event ids, takes what was
/// parked for them and locks and loads the cases (`LoadedCases`); its `save`
/// writes everything the batch decided. Each phase is one round trip (the
/// claim two when deferring to another worker), so a batch costs BEGIN,
/// claim, load, save, COMMIT, plus a read of the committed events of cases
/// late events re-derive (`LoadedCases.history`). The order is what keeps
/// concurrent workers deadlock-free and parked events from being stranded.
public final class CaseStore: @unchecked Sendable {
    public let connection: PostgresConnection
    let protector: SSNProtector
    let calendar: BusinessCalendar
    let logger: Logger
    let cache: StateCache
    /// The longest any one statement of a batch may run (`statement_timeout`
    /// for the batch's transaction); nil = the server's setting. The worker
    /// keeps it well inside the consumer's poll interval: a batch that would
    /// take longer is split rather than cost the group membership.
    public var batchTimeLimit: Duration?

    /// `calendar` turns the latest event time into the business date the
    /// `cases.arrears_cents` projection is computed as of.
    /// `cachedStates` bounds the committed states kept in memory (0: none);
    /// its default is the `cached-cases` setting's, and lives only there.
    public init(
        connection: PostgresConnection, protector: SSNProtector, calendar: BusinessCalendar,
        cachedStates: Int, logger: Logger = Logger(label: "csworker.storage")
    ) {
        self.connection = connection
        self.protector = protector
        self.calendar = calendar
        self.cache = StateCache(capacity: cachedStates)
        self.logger = logger
    }

    /// One READ COMMITTED transaction: COMMIT when `body` returns, ROLLBACK
    /// (and rethrow) when it throws. Retriable failures (`PostgresError.isRetriable`)
    /// leave nothing behind, so the caller can run the whole batch again.
    public func withBatch<T>(_ body: (BatchTransaction) throws -> T) throws -> T {
        let batch = BatchTransaction(store: self)
        let value = try connection.transaction(isolation: .readCommitted) { connection in
            defer { batch.isOpen = false }
            if let limit = batchTimeLimit {
                let milliseconds = max(1, limit.inMilliseconds)
                // Travels with the batch's first statements, not in a round trip of its own.
                batch.pendingTimeLimit = "\(milliseconds)ms"
            }
            return try body(batch)
        }
        // Committed: what the batch read and wrote is now the database's state.
        for (caseId, loaded) in batch.loaded { cache.put(caseId, loaded) }
        return value
    }
}

/// Committed case states by id with the version they had. Decoding a state
/// costs more than everything else lockAndLoad does, and a worker sees the
/// same cases batch after batch (they come from its partitions), so a state
/// is decoded only when the row's version differs from the cached one, i.e.
/// when another worker (or nobody, yet) applied events to it since.
final class StateCache {
    private var entries: RecentlyUsed<String, LoadedCase>

    init(capacity: Int) { entries = RecentlyUsed(capacity: capacity) }

    func get(_ caseId: String) -> LoadedCase? { entries.use(caseId) }

    func versions(of caseIds: some Sequence<String>) -> (ids: [String], versions: [Int64]) {
        var ids: [String] = [], versions: [Int64] = []
        for caseId in caseIds {
            if let loaded = entries.peek(caseId) {
                ids.append(caseId)
                versions.append(loaded.version)
            }
        }
        return (ids, versions)
    }

    func put(_ caseId: String, _ loaded: LoadedCase) { entries.put(caseId, loaded) }
}

/// A case as loaded under its row lock.
struct LoadedCase {
    var state: CaseState
    var version: Int64
    var lastEventAt: Date
    /// The projection rows last written for this state, when this process wrote them.
    var projection: CaseProjection? = nil
}

/// The statements of one batch. Only valid inside `CaseStore.withBatch`; the
/// pipeline reaches them through the phases (`claim`, then `load`, then
/// `save`), tests and the sweep's internals one by one.
public final class BatchTransaction {
    let store: CaseStore
    var connection: PostgresConnection { store.connection }
    var isOpen = true
    /// The transaction's statement_timeout, sent with its first statements.
    var pendingTimeLimit: String?
    /// States loaded by `lockAndLoad`: the base for versions, history
    /// sequence numbers and projection diffs.
    var loaded: [String: LoadedCase] = [:]
    /// Every id passed to `lockAndLoad`, found or not: only these may be saved.
    var locked: Set<String> = []

    init(store: CaseStore) {
        self.store = store
    }

    /// The case's version as `lockAndLoad` read it, or as this batch's `save`
    /// wrote it; nil for a case not loaded (or not existing).
    func version(of caseId: String) -> Int64? { loaded[caseId]?.version }

    func checkOpen(_ operation: String) throws {
        guard isOpen else {
            throw PostgresError(kind: .misuse, message: "batch transaction already ended", operation: operation)
        }
    }

    /// Sends the queued statements in one round trip (with the time limit
    /// first, when it has not gone yet); results in queue order.
    func run(_ pipeline: PostgresPipeline) throws -> [PostgresResult] {
        guard let limit = pendingTimeLimit else { return pipeline.count > 0 ? try connection.run(pipeline) : [] }
        let withLimit = PostgresPipeline()
        withLimit.execute(prepared: BatchSQL.batchTimeLimit, parameters: [limit])
        withLimit.append(contentsOf: pipeline)
        let results = try connection.run(withLimit)
        pendingTimeLimit = nil
        return Array(results.dropFirst())
    }

    /// One statement (through `run`, so the time limit goes first).
    func execute(_ statement: PreparedStatement, _ parameters: [any PostgresEncodable]) throws -> PostgresResult {
        let pipeline = PostgresPipeline()
        pipeline.execute(prepared: statement, parameters: parameters)
        return try run(pipeline)[0]
    }

    // MARK: dedupe

    /// Inserts the event ids; returns those not seen before (a redelivered id,
    /// or the second occurrence of an id within `events`, is not new). New
    /// ids are recorded with outcome `applied` unless `save(outcomes:)` says
    /// otherwise.
    func recordEvents(_ events: [ProcessedEvent]) throws -> Set<UUID> {
        try checkOpen("recordEvents")
        let pipeline = PostgresPipeline()
        guard let index = enqueueRecordEvents(events, on: pipeline) else { return [] }
        return try freshIds(try run(pipeline)[index])
    }

    func enqueueRecordEvents(_ events: [ProcessedEvent], on pipeline: PostgresPipeline) -> Int? {
        var seen = Set<UUID>()
        let unique = events.filter { seen.insert($0.eventId).inserted }
        guard !unique.isEmpty else { return nil }
        return pipeline.execute(
            prepared: BatchSQL.recordEvents,
            parameters: [unique.map(\.eventId), unique.map(\.topic), unique.map(\.partition), unique.map(\.offset)])
    }

    func freshIds(_ result: PostgresResult) throws -> Set<UUID> {
        var fresh = Set<UUID>(minimumCapacity: result.rowCount)
        for row in result { fresh.insert(try row.decode(UUID.self, column: 0)) }
        return fresh
    }

    // MARK: identity locks

    /// Transaction-scoped advisory locks on every SSN hash and case id in
    /// play, taken in one global (sorted) order in one statement. This
    /// serialises an employer report against an intake bringing the same SSN,
    /// and a remittance against the intake opening its case, so nothing is
    /// parked while the transaction that would match it commits. Call once
    /// per batch, before `takeParked` and `lockAndLoad`.
    func lockIdentities(ssnHashes: some Collection<SSNHash>, caseIds: some Collection<String>) throws {
        try checkOpen("lockIdentities")
        let pipeline = PostgresPipeline()
        guard enqueueLocks(IdentityKeys(ssnHashes: ssnHashes, caseIds: caseIds), wait: true, on: pipeline) != nil else { return }
        _ = try run(pipeline)
    }

    /// The same locks without waiting: takes what is free and returns the SSN
    /// hashes and case ids another transaction holds. Never waits, so never
    /// deadlocks; the caller leaves the work needing a busy one for later.
    func tryLockIdentities(
        ssnHashes: some Collection<SSNHash>, caseIds: some Collection<String>
    ) throws -> (ssnHashes: Set<SSNHash>, caseIds: Set<String>) {
        try checkOpen("tryLockIdentities")
        let keys = IdentityKeys(ssnHashes: ssnHashes, caseIds: caseIds)
        let pipeline = PostgresPipeline()
        guard let index = enqueueLocks(keys, wait: false, on: pipeline) else { return ([], []) }
        return try keys.busy(try run(pipeline)[index])
    }

    /// Queues the locks of `keys` (waiting for each, or taking only the free ones).
    func enqueueLocks(_ keys: IdentityKeys, wait: Bool, on pipeline: PostgresPipeline) -> Int? {
        guard !keys.owners.isEmpty else { return nil }
        return pipeline.execute(
            prepared: wait ? BatchSQL.lockIdentities : BatchSQL.tryLockIdentities, parameters: [keys.owners.keys.sorted()])
    }

    /// The advisory lock keys of some SSN hashes and case ids, and whose each is.
    struct IdentityKeys {
        enum Owner {
            case ssn(SSNHash)
            case caseId(String)
        }

        var owners: [Int64: Owner] = [:]

        init(ssnHashes: some Collection<SSNHash>, caseIds: some Collection<String>) {
            for hash in ssnHashes { owners[hash.lockKey] = .ssn(hash) }
            for caseId in caseIds { owners[BatchTransaction.lockKey(caseId: caseId)] = .caseId(caseId) }
        }

        /// The SSN hashes and case ids whose keys a try-lock returned (held elsewhere).
        func busy(_ result: PostgresResult) throws -> (ssnHashes: Set<SSNHash>, caseIds: Set<String>) {
            var busy: (ssnHashes: Set<SSNHash>, caseIds: Set<String>) = ([], [])
            for row in result {
                switch owners[try row.decode(Int64.self, column: 0)] {
                case .ssn(let hash): busy.ssnHashes.insert(hash)
                case .caseId(let caseId): busy.caseIds.insert(caseId)
                case nil: break
                }
            }
            return busy
        }
    }

    static func lockKey(caseId: String) -> Int64 {
        SHA256.hash(data: Array("case:\(caseId)".utf8)).prefix(8).reduce(0) { $0 << 8 | Int64($1) }
    }

    // MARK: resolve and unpark

    /// For each hash, the cases (sorted) on which that person is the
    /// noncustodial parent; hashes that match nothing are absent.
    func noncustodialCases(forSSNHashes hashes: some Collection<SSNHash>) throws -> [SSNHash: [String]] {
        try checkOpen("noncustodialCases")
        let pipeline = PostgresPipeline()
        guard let index = enqueueNoncustodialCases(hashes, on: pipeline) else { return [:] }
        return try noncustodialCases(try run(pipeline)[index])
    }

    func enqueueNoncustodialCases(_ hashes: some Collection<SSNHash>, on pipeline: PostgresPipeline) -> Int? {
        guard !hashes.isEmpty else { return nil }
        return pipeline.execute(prepared: BatchSQL.noncustodialCases, parameters: [Array(Set(hashes))])
    }

    func noncustodialCases(_ result: PostgresResult) throws -> [SSNHash: [String]] {
        var cases: [SSNHash: [String]] = [:]
        for row in result {
            cases[try row.decode(SSNHash.self, column: 0), default: []].append(try row.decode(String.self, column: 1))
        }
        return cases
    }

    /// Removes and returns the parked events matching these SSN hashes, case
    /// ids, or (case, order) pairs, oldest first (by topic, partition,
    /// offset). They are gone once the batch commits; park again what still
    /// cannot apply (their `parkedAt` goes back with them).
    func takeParked(
        forSSNHashes hashes: some Collection<SSNHash>, caseIds: some Collection<String>,
        orders: some Collection<(caseId: String, orderId: String)> = [(caseId: String, orderId: String)](),
        ordersOfCases: some Collection<String> = [String]()
    ) throws -> [ParkedEvent] {
        try checkOpen("takeParked")
        let matches = ParkedMatches(
            ssnHashes: Set(hashes), caseIds: Set(caseIds), orders: orders.map { ($0.caseId, $0.orderId) },
            ordersOfCases: Set(ordersOfCases))
        let pipeline = PostgresPipeline()
        guard let index = enqueueTakeParked(matches, on: pipeline) else { return [] }
        return try parkedEvents(try run(pipeline)[index])
    }

    func enqueueTakeParked(_ matches: ParkedMatches, on pipeline: PostgresPipeline) -> Int? {
        guard !matches.isEmpty else { return nil }
        return pipeline.execute(
            prepared: BatchSQL.takeParked,
            parameters: [
                matches.ssnHashes.map(\.hex), Array(matches.caseIds),
                matches.orders.map { ParkedEvent.Match.orderKey(caseId: $0.caseId, orderId: $0.orderId) },
                Array(matches.ordersOfCases),
            ])
    }

    func parkedEvents(_ result: PostgresResult) throws -> [ParkedEvent] {
        var events: [ParkedEvent] = []
        events.reserveCapacity(result.rowCount)
        for row in result {
            let kind = try row.decode(String.self, column: 0)
            let key = try row.decode(String.self, column: 1)
            guard let match = ParkedEvent.Match(kind: kind, key: key) else {
                throw PostgresError(
                    kind: .decodingFailure, message: "parked_events has a match this version cannot read", operation: "takeParked")
            }
            var event = ParkedEvent(
                eventId: try row.decode(UUID.self, column: 2), match: match, topic: try row.decode(String.self, column: 3),
                partition: try row.decode(Int32.self, column: 4), offset: try row.decode(Int64.self, column: 5),
                key: [], value: [], parkedAt: try row.decode(Date.self, column: 8))
            event.key = try store.protector.open(try row.decode([UInt8].self, column: 6), context: event.sealContext)
            event.value = try store.protector.open(try row.decode([UInt8].self, column: 7), context: event.sealContext)
            event.headers = try OutboxHeader.list(json: try row.decode(PostgresJSON.self, column: 9).bytes)
            event.timestampMilliseconds = try row.decode(Int64?.self, column: 10)
            events.append(event)
        }
        return events.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
    }

    // MARK: lock and load

    /// Locks the existing case rows (`FOR UPDATE`, in case id order) and
    /// returns their states; ids without a case are absent.
    func lockAndLoad(caseIds: some Collection<String>) throws -> [String: CaseState] {
        try checkOpen("lockAndLoad")
        let pipeline = PostgresPipeline()
        guard let index = enqueueLockAndLoad(caseIds, on: pipeline) else { return [:] }
        return try loadedStates(try run(pipeline)[index])
    }

    func enqueueLockAndLoad(_ caseIds: some Collection<String>, on pipeline: PostgresPipeline) -> Int? {
        guard !caseIds.isEmpty else { return nil }
        locked.formUnion(caseIds)
        let ids = Array(Set(caseIds))
        let cached = store.cache.versions(of: ids)
        return pipeline.execute(prepared: BatchSQL.lockAndLoad, parameters: [ids, cached.ids, cached.versions])
    }

    func loadedStates(_ result: PostgresResult) throws -> [String: CaseState] {
        let codec = CaseSnapshotCodec(protector: store.protector)
        var states: [String: CaseState] = [:]
        states.reserveCapacity(result.rowCount)
        for row in result {
            let caseId = try row.decode(String.self, column: 0)
            let version = try row.decode(Int64.self, column: 1)
            let state: CaseState
            var projection: CaseProjection? = nil
            // The server sends the state only when the cached version is stale.
            if let json = try row.decode(PostgresJSON?.self, column: 3) {
                state = try codec.decode(
                    caseId: caseId, json: json.bytes, sealedSSNs: try row.decode([UInt8]?.self, column: 4))
            } else if let hit = store.cache.get(caseId), hit.version == version {
                state = hit.state
                projection = hit.projection
            } else {
                throw PostgresError(
                    kind: .misuse, message: "case \(caseId): state not sent and not cached", operation: "lockAndLoad")
            }
            loaded[caseId] = LoadedCase(
                state: state, version: version, lastEventAt: try row.decode(Date.self, column: 2),
                projection: projection)
            states[caseId] = state
        }
        return states
    }

    // MARK: earlier events

    /// The events applied to each case so far (original bytes, opened), for
    /// re-deriving a case a late event belongs in. Cases must be locked
    /// (`lockAndLoad`). Sweep entries and rows written before the events were
    /// kept (schema version 7) have none.
    func earlierEvents(caseIds: some Collection<String>) throws -> [String: [[UInt8]]] {
        try checkOpen("earlierEvents")
        guard !caseIds.isEmpty else { return [:] }
        let result = try execute(BatchSQL.earlierEvents, [Array(Set(caseIds))])
        var events: [String: [[UInt8]]] = [:]
        for row in result {
            let caseId = try row.decode(String.self, column: 0)
            let eventId = try row.decode(UUID.self, column: 1)
            let sealed = try row.decode([UInt8].self, column: 2)
            events[caseId, default: []].append(
                try store.protector.open(sealed, context: HistoryEntry.sealContext(caseId: caseId, eventId: eventId)))
        }
        return events
    }

    // MARK: save

    /// Writes everything the batch produced in one pipelined round trip:
    /// case rows (upsert), projections of changed cases, history, outbox
    /// messages (a message id already enqueued is skipped), parked events, and
    /// event outcomes. `recordEvents` records `applied`, so `outcomes` need
    /// only name the others, plus `applied` for parked events that now applied.
    ///
    /// Every case in `cases` must have been passed to `lockAndLoad` (new cases
    /// too, so their absence was observed under the identity lock).
    func save(
        cases: [CaseChange], outbox: [OutboxMessage] = [], parked: [ParkedEvent] = [],
        outcomes: [UUID: EventOutcome] = [:]
    ) throws {
        try checkOpen("save")
        let pipeline = PostgresPipeline()
        try enqueueCases(cases, on: pipeline)
        try enqueueOutbox(outbox, on: pipeline)
        try enqueuePark(parked, on: pipeline)
        enqueueOutcomes(outcomes, on: pipeline)
        _ = try run(pipeline)
    }

    /// Same as `save(outbox:)` alone.
    func enqueueOutbox(_ messages: [OutboxMessage]) throws {
        try save(cases: [], outbox: messages)
    }

    /// Same as `save(parked:)` alone.
    func park(_ events: [ParkedEvent]) throws {
        try save(cases: [], parked: events)
    }

    private func enqueueCases(_ changes: [CaseChange], on pipeline: PostgresPipeline) throws {
        guard !changes.isEmpty else { return }
        let codec = CaseSnapshotCodec(protector: store.protector)
        let protector = store.protector
        var ids: [String] = [], programs: [String] = [], stages: [String] = [], openedOn: [String] = []
        var support: [Int64] = [], arrears: [Int64] = [], arrearsAsOf: [String] = []
        var snapshots: [UInt8] = [], snapshotEnds: [Int32] = [], sealed: [Bytea?] = [], versions: [Int64] = [], lastEventAt: [Date] = []
        var projections = ProjectionWrites()
        var history = HistoryWrites()
        var seen = Set<String>()
        for change in changes {
            let caseId = change.caseId
            guard seen.insert(caseId).inserted else {
                throw PostgresError(
                    kind: .misuse, message: "case \(caseId) appears twice in one save", operation: "save")
            }
            // Versions, history numbering and projection diffs start from the
            // row read under lock; without it they would be guesses.
            guard locked.contains(caseId) else {
                throw PostgresError(
                    kind: .misuse, message: "case \(caseId) was not passed to lockAndLoad in this batch",
                    operation: "save")
            }
            guard !change.history.isEmpty else {
                throw PostgresError(
                    kind: .misuse, message: "case \(caseId) saved without the events that changed it",
                    operation: "save")
            }
            let previous = loaded[caseId]
            let latest = change.history.map(\.occurredAt).max()
            let eventAt = [previous?.lastEventAt, latest].compactMap { $0 }.max() ?? Date(timeIntervalSince1970: 0)
            let asOf = store.calendar.businessDate(of: eventAt)
            let encoded = try codec.encode(change.state)
            ids.append(caseId)
            programs.append(change.state.program.rawValue)
            stages.append(change.state.stage.rawValue)
            openedOn.append(change.state.openedOn.sqlText)
            support.append(change.state.monthlySupportCents)
            arrears.append(change.state.ledger.balance(asOf: asOf))
            arrearsAsOf.append(asOf.sqlText)
            snapshots.append(contentsOf: encoded.json)
            snapshotEnds.append(Int32(snapshots.count))
            sealed.append(encoded.sealedSSNs.map(Bytea.init))
            let base = previous?.version ?? 0
            versions.append(base + Int64(change.history.count))
            lastEventAt.append(eventAt)

            let old = previous.map { $0.projection ?? CaseProjection(state: $0.state, protector: protector) }
            let new = CaseProjection(state: change.state, protector: protector)
            projections.add(caseId: caseId, old: old, new: new)
            for (offset, entry) in change.history.enumerated() {
                let sealed = try entry.event.map {
                    try protector.seal($0, context: HistoryEntry.sealContext(caseId: caseId, eventId: entry.eventId))
                }
                history.add(caseId: caseId, seq: base + 1 + Int64(offset), entry: entry, sealedEvent: sealed)
            }
            // Later saves in this batch build on what was just written.
            loaded[caseId] = LoadedCase(
                state: change.state, version: base + Int64(change.history.count), lastEventAt: eventAt, projection: new)
        }
        pipeline.execute(
            prepared: BatchSQL.upsertCases,
            parameters: [
                ids, programs, stages, openedOn, support, arrears, arrearsAsOf, snapshots, snapshotEnds, sealed, versions,
                lastEventAt,
            ])
        projections.enqueue(on: pipeline)
        history.enqueue(on: pipeline)
    }

    private func enqueueOutbox(_ messages: [OutboxMessage], on pipeline: PostgresPipeline) throws {
        guard !messages.isEmpty else { return }
        var ids: [UUID] = [], shards: [Int16] = [], topics: [String] = [], sealedFlags: [Bool] = []
        var keys: [Bytea] = [], values: [UInt8] = [], valueEnds: [Int32] = [], headers: [PostgresJSON] = []
        var dueBy: [String?] = []
        for message in messages {
            ids.append(message.messageId)
            dueBy.append(message.dueBy?.sqlText)
            shards.append(message.shard)
            topics.append(message.topic)
            sealedFlags.append(message.containsPersonalData)
            if message.containsPersonalData {
                keys.append(Bytea(try store.protector.seal(message.key, context: message.sealContext + ":key")))
                values.append(contentsOf: try store.protector.seal(message.value, context: message.sealContext))
            } else {
                keys.append(Bytea(message.key))
                values.append(contentsOf: message.value)
            }
            valueEnds.append(Int32(values.count))
            let headerList = JSONValue.array(
                message.headers.map { .object(["name": .string($0.name), "value": .string($0.value)]) })
            headers.append(PostgresJSON(bytes: headerList.serialized()))
        }
        pipeline.execute(
            prepared: BatchSQL.insertOutbox,
            parameters: [ids, shards, topics, sealedFlags, keys, values, valueEnds, headers, dueBy])
    }

    private func enqueuePark(_ events: [ParkedEvent], on pipeline: PostgresPipeline) throws {
        guard !events.isEmpty else { return }
        var kinds: [String] = [], matchKeys: [String] = [], ids: [UUID] = [], topics: [String] = []
        var partitions: [Int32] = [], offsets: [Int64] = [], keys: [Bytea] = [], values: [Bytea] = []
        var parkedAt: [Date?] = [], headers: [PostgresJSON] = [], timestamps: [Int64?] = []
        for event in events {
            parkedAt.append(event.parkedAt)
            headers.append(PostgresJSON(bytes: JSONValue.array(
                event.headers.map { .object(["name": .string($0.name), "value": .string($0.value)]) }).serialized()))
            timestamps.append(event.timestampMilliseconds)
            kinds.append(event.match.kind)
            matchKeys.append(event.match.key)
            ids.append(event.eventId)
            topics.append(event.topic)
            partitions.append(event.partition)
            offsets.append(event.offset)
            keys.append(Bytea(try store.protector.seal(event.key, context: event.sealContext)))
            values.append(Bytea(try store.protector.seal(event.value, context: event.sealContext)))
        }
        pipeline.execute(
            prepared: BatchSQL.park,
            parameters: [kinds, matchKeys, ids, topics, partitions, offsets, keys, values, parkedAt, headers, timestamps])
    }

    private func enqueueOutcomes(_ outcomes: [UUID: EventOutcome], on pipeline: PostgresPipeline) {
        guard !outcomes.isEmpty else { return }
        pipeline.execute(
            prepared: BatchSQL.recordOutcomes, parameters: [Array(outcomes.keys), outcomes.values.map(\.rawValue)])
    }
}

/// Column arrays for `case_history`.
struct HistoryWrites {
    var caseIds: [String] = [], seqs: [Int64] = [], eventIds: [UUID] = [], eventTypes: [String] = []
    var occurredAt: [Date] = [], changes: [PostgresJSON] = [], taskIds: [String] = [], tasks: [PostgresJSON] = []
    /// The sealed events back to back, cut at `sealedEnds` (no event: an empty
    /// cut): like the snapshots, one binary parameter rather than a bytea[]
    /// literal, whose hex text cost more than the rest of the row.
    var sealedEvents: [UInt8] = [], sealedEnds: [Int32] = []

    mutating func add(caseId: String, seq: Int64, entry: HistoryEntry, sealedEvent: [UInt8]?) {
        if let sealedEvent { sealedEvents.append(contentsOf: sealedEvent) }
        sealedEnds.append(Int32(sealedEvents.count))
        caseIds.append(caseId)
        seqs.append(seq)
        eventIds.append(entry.eventId)
        eventTypes.append(entry.eventType)
        occurredAt.append(entry.occurredAt)
        // Written straight to bytes (both columns are jsonb: the server normalises them).
        var json: [UInt8] = [UInt8(ascii: "[")]
        for (n, change) in entry.changes.enumerated() {
            if n > 0 { json.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(change, to: &json)
        }
        json.append(UInt8(ascii: "]"))
        changes.append(PostgresJSON(bytes: json))
        // uuid[] per row travels as its array literal; unnest cannot take a 2-D ragged array.
        taskIds.append("{" + entry.tasks.map { $0.id.lowercasedText }.joined(separator: ",") + "}")
        json = [UInt8(ascii: "[")]
        for (n, task) in entry.tasks.enumerated() {
            if n > 0 { json.append(UInt8(ascii: ",")) }
            var summary = JSONMembers()
            summary["id"] = .string(task.id.lowercasedText)
            summary["type"] = .string(task.type.rawValue)
            summary["action"] = .string(task.action.rawValue)
            summary["dueBy"] = .string(task.dueBy.description)
            summary.write(into: &json)
        }
        json.append(UInt8(ascii: "]"))
        tasks.append(PostgresJSON(bytes: json))
    }

    func enqueue(on pipeline: PostgresPipeline) {
        guard !caseIds.isEmpty else { return }
        pipeline.execute(
            prepared: BatchSQL.insertHistory,
            parameters: [caseIds, seqs, eventIds, eventTypes, occurredAt, changes, taskIds, tasks, sealedEvents, sealedEnds])
    }
}

enum BatchSQL {
    static let batchTimeLimit = PreparedStatement(
        name: "cs_batch_time_limit", sql: "SELECT set_config('statement_timeout', $1, true)")

    static let recordEvents = PreparedStatement(
        name: "cs_record_events",
        sql: """
            INSERT INTO processed_events (event_id, topic, "partition", "offset")
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::int4[], $4::int8[])
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """)

    /// unnest yields the (sorted) array in order, so the locks are taken in that order.
    static let lockIdentities = PreparedStatement(
        name: "cs_lock_identities",
        sql: "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::int8[]) AS k")

    /// Keys come back when another transaction holds them.
    static let tryLockIdentities = PreparedStatement(
        name: "cs_try_lock_identities",
        sql: "SELECT k FROM unnest($1::int8[]) AS k WHERE NOT pg_try_advisory_xact_lock(k)")

    static let noncustodialCases = PreparedStatement(
        name: "cs_noncustodial_cases",
        sql: """
            SELECT ssn_hash, case_id FROM parties
            WHERE role = 'NONCUSTODIAL' AND ssn_hash = ANY($1::bytea[])
            ORDER BY case_id
            """)

    static let takeParked = PreparedStatement(
        name: "cs_take_parked",
        sql: """
            DELETE FROM parked_events
            WHERE (match_kind = 'ssn' AND match_key = ANY($1::text[]))
               OR (match_kind = 'case' AND match_key = ANY($2::text[]))
               OR (match_kind = 'order' AND match_key = ANY($3::text[]))
               OR (match_kind = 'order' AND split_part(match_key, chr(31), 1) = ANY($4::text[]))
            RETURNING match_kind, match_key, event_id, topic, "partition", "offset", sealed_key, sealed_value, parked_at,
                      headers, record_timestamp_ms
            """)

    static let lockAndLoad = PreparedStatement(
        name: "cs_lock_and_load",
        sql: """
            SELECT c.case_id, c.version, c.last_event_at,
                   CASE WHEN k.version IS DISTINCT FROM c.version THEN c.state END,
                   CASE WHEN k.version IS DISTINCT FROM c.version THEN c.sealed_ssns END
            FROM cases c LEFT JOIN unnest($2::text[], $3::int8[]) AS k(case_id, version) ON k.case_id = c.case_id
            WHERE c.case_id = ANY($1::text[])
            ORDER BY c.case_id
            FOR UPDATE OF c
            """)

    /// The snapshots travel as one binary bytea ($8) cut at the offsets in $9:
    /// as a json[] array literal every quote would be escaped by the client and
    /// unescaped by the server, which cost more than the insert itself.
    static let upsertCases = PreparedStatement(
        name: "cs_upsert_cases",
        sql: """
            INSERT INTO cases (case_id, program, stage, opened_on, monthly_support_cents, arrears_cents, arrears_as_of,
                               state, sealed_ssns, version, last_event_at, updated_at)
            SELECT c.case_id, c.program, c.stage, c.opened_on, c.support, c.arrears, c.arrears_as_of,
                   convert_from(substring($8::bytea FROM c.start + 1 FOR c.stop - c.start), 'UTF8')::json,
                   c.sealed, c.version, c.last_event_at, now()
            FROM (
                SELECT u.*, coalesce(lag(u.stop) OVER (ORDER BY u.n), 0) AS start
                FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::int8[], $6::int8[], $7::date[],
                            $9::int4[], $10::bytea[], $11::int8[], $12::timestamptz[])
                    WITH ORDINALITY AS u(case_id, program, stage, opened_on, support, arrears, arrears_as_of, stop,
                                         sealed, version, last_event_at, n)
            ) AS c
            ON CONFLICT (case_id) DO UPDATE SET
                program = EXCLUDED.program, stage = EXCLUDED.stage, opened_on = EXCLUDED.opened_on,
                monthly_support_cents = EXCLUDED.monthly_support_cents, arrears_cents = EXCLUDED.arrears_cents,
                arrears_as_of = EXCLUDED.arrears_as_of, state = EXCLUDED.state, sealed_ssns = EXCLUDED.sealed_ssns,
                version = EXCLUDED.version, last_event_at = EXCLUDED.last_event_at, updated_at = EXCLUDED.updated_at
            """)

    static let insertHistory = PreparedStatement(
        name: "cs_insert_history",
        sql: """
            INSERT INTO case_history (case_id, seq, event_id, event_type, occurred_at, changes, task_ids, tasks, sealed_event)
            SELECT h.c, h.s, h.e, h.t, h.o, h.ch, h.ti::uuid[], h.tk,
                   CASE WHEN h.stop > h.start THEN substring($9::bytea FROM h.start + 1 FOR h.stop - h.start) END
            FROM (
                SELECT u.*, coalesce(lag(u.stop) OVER (ORDER BY u.n), 0) AS start
                FROM unnest($1::text[], $2::int8[], $3::uuid[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::text[],
                            $8::jsonb[], $10::int4[]) WITH ORDINALITY AS u(c, s, e, t, o, ch, ti, tk, stop, n)
            ) AS h
            """)

    /// Values travel like the snapshots: one binary bytea cut at offsets.
    static let insertOutbox = PreparedStatement(
        name: "cs_insert_outbox",
        sql: """
            INSERT INTO outbox (message_id, shard, topic, sealed, key, value, headers, due_by)
            SELECT o.message_id, o.shard, o.topic, o.sealed, o.key,
                   substring($6::bytea FROM o.start + 1 FOR o.stop - o.start), o.headers, o.due_by
            FROM (
                SELECT u.*, coalesce(lag(u.stop) OVER (ORDER BY u.n), 0) AS start
                FROM unnest($1::uuid[], $2::int2[], $3::text[], $4::bool[], $5::bytea[], $7::int4[], $8::jsonb[],
                            $9::date[])
                    WITH ORDINALITY AS u(message_id, shard, topic, sealed, key, stop, headers, due_by, n)
            ) AS o
            ON CONFLICT (message_id) DO NOTHING
            """)

    static let earlierEvents = PreparedStatement(
        name: "cs_earlier_events",
        sql: """
            SELECT case_id, event_id, sealed_event FROM case_history
            WHERE case_id = ANY($1::text[]) AND sealed_event IS NOT NULL
            ORDER BY case_id, seq
            """)

    static let park = PreparedStatement(
        name: "cs_park",
        sql: """
            INSERT INTO parked_events (match_kind, match_key, event_id, topic, "partition", "offset", sealed_key,
                                       sealed_value, parked_at, headers, record_timestamp_ms)
            SELECT k, mk, e, t, p, o, sk, sv, coalesce(pa, now()), h, ts
            FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::int4[], $6::int8[], $7::bytea[],
                        $8::bytea[], $9::timestamptz[], $10::jsonb[], $11::int8[]) AS u(k, mk, e, t, p, o, sk, sv, pa, h, ts)
            ON CONFLICT (match_kind, match_key, event_id) DO NOTHING
            """)

    static let recordOutcomes = PreparedStatement(
        name: "cs_record_outcomes",
        sql: """
            UPDATE processed_events p SET outcome = u.outcome
            FROM unnest($1::uuid[], $2::text[]) AS u(event_id, outcome)
            WHERE p.event_id = u.event_id AND p.outcome <> u.outcome
            """)
}

extension SSNHash {
    init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let byte = UInt8(String(decoding: utf8[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
            index += 2
        }
        self.init(bytes: bytes)
    }
}
