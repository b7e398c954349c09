import CaseContract
import CaseStorage
import Foundation
import Kafka
import Logging
import Synchronization
import TimeUnits

/// One member of the consumer group: polls, draws a batch from what was
/// fetched (across partitions, in business-time order: `FetchBuffer`), has it
/// processed in one storage transaction, commits the batch's offsets, polls again.
///
/// Runs on a dedicated thread (libpq and librdkafka calls block). Offsets are
/// committed only after the batch's transaction has committed, so a crash
/// anywhere redelivers work the database deduplicates by event id. Rebalances
/// are served inside `pollBatch`, between batches, when nothing is in hand;
/// while a batch waits out a transient failure its partitions are paused and
/// the loop keeps polling, so the member stays in the group without spinning.
/// Records a batch leaves for later (people or cases another worker's
/// transaction holds: `LockContention`) go back to the head of their
/// partitions and come again in the next batch; a partition is committed only
/// up to its first record left (`FetchBuffer.commitOffsets`).
public final class Worker: LoopService, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var consumer: KafkaConsumerConfiguration
        public var topics: PipelineTopics
        /// A batch takes what is fetched, up to this: small while the worker
        /// keeps up (latency), large through a backlog, where the fixed cost of
        /// a transaction and its round trips is shared by more events
        /// (measured: 500 -> 2,000 cut statements per event from 0.19 to 0.05).
        public var maxBatch: Int = Self.defaultMaxBatch
        public static let defaultMaxBatch = 2_000
        /// While everything fetched fits in one full batch (the worker keeps
        /// up), a batch takes at most this many: a burst is then applied in a
        /// few short transactions instead of one long one that every event
        /// behind it waits for (measured at 2,000 events/s offered, batches of
        /// at most 500 instead of 2,000: p99 1,680 -> 800 ms). A backlog beyond
        /// a full batch still gets full batches.
        public var caughtUpBatch: Int = Self.defaultCaughtUpBatch
        public static let defaultCaughtUpBatch = 500
        /// Fetched messages held at most, so batches can be drawn across
        /// partitions in business-time order (see `FetchBuffer`).
        public var maxBuffered: Int = 5_000
        public var pollTimeout: Duration = .milliseconds(100)
        /// The longest the loop keeps taking in fetched messages before it
        /// applies a batch: bounds the wait an event adds to its latency when
        /// every poll brings something (measured: unbounded, p95 at 2,000
        /// events/s offered was 630 ms).
        public var gatherLimit: Duration = .milliseconds(25)
        public var backoff = Backoff()
        /// How long an event may wait in the database for the application that
        /// opens its case, or the order it names (topics are consumed
        /// independently, intake systems export nightly, brokers lag), counted
        /// from when it was first parked, before it is dead-lettered.
        public var waitingHorizon: Duration = Self.defaultWaitingHorizon
        public static let defaultWaitingHorizon: Duration = .seconds(48 * 3600)
        /// How often waiting events are checked against the horizon.
        public var sweepInterval: Duration = .seconds(1)
        /// How often, within that sweep, employer reports about people on no
        /// case are checked against the policy's retention (days, so rarely).
        public var retentionInterval: Duration = .seconds(60)
        /// How often consumer lag is sampled for metrics (local, no broker request).
        public var lagSampleInterval: Duration = .seconds(5)

        public init(consumer: KafkaConsumerConfiguration, topics: PipelineTopics) {
            self.consumer = consumer
            self.topics = topics
        }

        /// How many records the next batch takes with `buffered` waiting.
        func batchLimit(buffered: Int) -> Int {
            buffered > maxBatch ? maxBatch : min(maxBatch, caughtUpBatch)
        }

        /// `max.poll.interval.ms` as the consumer will use it (an override wins).
        public var effectiveMaxPollInterval: Duration {
            consumer.properties["max.poll.interval.ms"].flatMap(Int.init).map { .milliseconds($0) } ?? consumer.maxPollInterval
        }

        /// How long one statement of a batch may run: a third of the poll
        /// interval, so a batch never keeps the worker from polling long enough
        /// to lose its partitions. A batch that runs past it is split.
        public var batchTimeLimit: Duration { effectiveMaxPollInterval / 3 }
    }

    private struct LoopState {
        var lifecycle = WorkerLifecycle()
        var lastLoopAt: ContinuousClock.Instant?
        var lastLagSample: ContinuousClock.Instant?
        /// Partitions taken away during the current poll or retry.
        var revoked: Set<TopicPartition> = []
        /// The assignment changed since the membership row was last written.
        var membershipChanged = false
    }

    private let configuration: Configuration
    // Used only from the worker thread.
    private let processor: BatchProcessor
    private let logger: Logger
    private let onBatchCommitted: @Sendable () -> Void
    private let metrics: PipelineMetrics
    private let state = Mutex(LoopState())
    /// The consumer's thread (libpq and librdkafka calls block).
    public let loop = LoopThread(name: "csworker-consumer", stackSize: 4 << 20)
    private let consumerBox = Mutex<KafkaConsumer?>(nil)
    private let counters = Mutex(WorkerCounters())
    /// How often each message still in the buffer was left for a later batch;
    /// used only from the worker thread.
    private var deferrals: [TopicPartitionOffset: Int] = [:]
    /// Batches are at most this big after one ran past its time limit (halved
    /// each time), growing back by doubling while batches are quick; worker thread only.
    private var batchCap = Int.max
    /// This run's row in `group_members` (the console's Group page); worker thread only.
    private var membership: GroupMember
    /// The last commit per partition (at most one row per input partition), written with the membership row; worker thread only.
    private var lastCommits: [TopicPartition: GroupMember.Commit] = [:]
    private var membershipRecorded = false
    private var membershipFailing = false

    /// `onBatchCommitted` runs on the worker thread right after each batch's
    /// transaction commits (the outbox relay's wake-up).
    public init(
        configuration: Configuration, processor: BatchProcessor, logger: Logger, metrics: PipelineMetrics = PipelineMetrics(),
        onBatchCommitted: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.processor = processor
        self.logger = logger
        self.metrics = metrics
        self.onBatchCommitted = onBatchCommitted
        self.membership = GroupMember(
            memberId: UUID().uuidString.lowercased(), group: configuration.consumer.groupId,
            host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier, startedAt: Date())
    }

    /// The service group is shutting down (SIGTERM, SIGINT): `stop()`.
    public func shutDown() {
        logger.info("stopping: finishing the batch in hand")
        stop()
    }

    /// Asks the loop to finish the batch in hand, commit, leave the group and
    /// return (a batch failing at that moment is left to be redelivered).
    public func stop() {
        _ = state.withLock { $0.lifecycle.stopRequested() }
        loop.requestStop()
    }

    public var isStopRequested: Bool { loop.isStopRequested }

    /// The worker's phase: joining, consuming, retrying since when, draining, stopped.
    public var phase: WorkerLifecycle.Phase { state.withLock { $0.lifecycle.phase } }

    public var statistics: WorkerCounters { counters.withLock { $0 } }

    /// What readiness and liveness need, read without touching the loop.
    public struct Health: Sendable, Hashable {
        public var groupJoined: Bool
        /// How long the batch in hand has been failing transiently; nil when it is not.
        public var retryingFor: Duration?
        /// When the loop last went round (polls at least every `pollTimeout` when idle).
        public var lastLoopAt: ContinuousClock.Instant?

        public init(groupJoined: Bool, retryingFor: Duration?, lastLoopAt: ContinuousClock.Instant?) {
            self.groupJoined = groupJoined
            self.retryingFor = retryingFor
            self.lastLoopAt = lastLoopAt
        }
    }

    public var health: Health {
        state.withLock { state in
            Health(
                groupJoined: state.lifecycle.holdsAssignment,
                retryingFor: state.lifecycle.retryingSince.map { ContinuousClock.now - $0 }, lastLoopAt: state.lastLoopAt)
        }
    }

    /// The loop itself, on `loop`'s thread (`run()` starts it there; `stop()`
    /// or the service group's shutdown ends it).
    public func runLoop() throws {
        if isStopRequested { _ = state.withLock { $0.lifecycle.stopRequested() } }
        processor.batchTimeLimit = configuration.batchTimeLimit
        let consumer = try KafkaConsumer(configuration: configuration.consumer, logger: logger) { [weak self] event in
            self?.rebalanced(event)
        }
        consumerBox.withLock { $0 = consumer }
        defer {
            consumerBox.withLock { $0 = nil }
            _ = state.withLock { $0.lifecycle.loopEnded() }
            metrics.groupMembership(joined: false)
            membership.assigned = []
            membership.commits = Array(lastCommits.values)
            membership.leftAt = Date()
            recordMembership()
        }
        try consumer.subscribe(configuration.topics.input)
        metrics.subscribed(to: configuration.topics.input)
        logger.info("worker joined the consumer group", metadata: [
            "group": "\(configuration.consumer.groupId)", "topics": "\(configuration.topics.input.joined(separator: ","))",
        ])

        var pollBackoff = configuration.backoff
        var lastSweep = ContinuousClock.now
        var lastRetention: ContinuousClock.Instant?
        var buffer = FetchBuffer()
        /// Since when the loop has been taking in fetched messages for the next batch.
        var gathering: ContinuousClock.Instant?
        do {
            while !isStopRequested {
                tick(consumer)
                if ContinuousClock.now - lastSweep >= configuration.sweepInterval {
                    lastSweep = ContinuousClock.now
                    try sweepExpired(horizon: configuration.waitingHorizon)
                    if lastRetention.map({ ContinuousClock.now - $0 >= configuration.retentionInterval }) ?? true {
                        lastRetention = ContinuousClock.now
                        try deleteExpiredUnmatchedReports()
                    }
                }
                let fetched: Int
                do {
                    // Wait for news only when there is nothing to do.
                    fetched = try poll(consumer, into: &buffer, timeout: buffer.isEmpty ? configuration.pollTimeout : .zero).fetched
                    pollBackoff.reset()
                } catch let error as KafkaError where error.isRetriable || error.kind == .brokersUnreachable {
                    let wait = pollBackoff.next()
                    metrics.retried(.poll)
                    logger.warning("poll failed; retrying", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                    loop.pause(wait)
                    continue
                }
                guard !buffer.isEmpty else {
                    gathering = nil
                    continue
                }
                // Take in what is already fetched first, so the batch is drawn across
                // partitions; but under a steady stream every poll brings something,
                // so stop gathering after `gatherLimit`.
                let gatheringSince = gathering ?? ContinuousClock.now
                gathering = gatheringSince
                if fetched > 0 && buffer.count < configuration.maxBuffered
                    && ContinuousClock.now - gatheringSince < configuration.gatherLimit
                {
                    continue
                }
                gathering = nil
                try handle(
                    buffer.takeBatch(limit: min(batchCap, configuration.batchLimit(buffered: buffer.count))), consumer: consumer,
                    buffer: &buffer)
            }
        } catch {
            // Leave the group before reporting, so the partitions move on at once.
            try? consumer.close()
            throw error
        }
        try consumer.close()
        logger.info("worker left the consumer group")
    }

    /// Dead-letters events that waited past the horizon for their case or
    /// order. A transient failure just postpones it to the next sweep.
    private func sweepExpired(horizon: Duration) throws {
        try postponingTransientFailure("sweep of waiting events failed; will retry") {
            let report = try processor.expireParked(olderThan: horizon)
            guard report.deadLettered + report.unparked > 0 else { return }
            counters.withLock { $0.deadLettered += report.deadLettered; $0.applied += report.unparked; $0.tasks += report.tasks }
            metrics.record(report.tally)
            onBatchCommitted()
        }
    }

    /// A sweep's failure (the database away, or one no record is to blame for)
    /// is counted and logged, and the sweep simply runs again next time; only
    /// a deployment problem (credentials, privileges, an old schema) ends the loop.
    private func postponingTransientFailure(_ message: Logger.Message, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch where RetryClassifier.isRetriable(error) || StorageFailure.isOverTimeLimit(error) {
            counters.withLock { $0.retries += 1 }
            metrics.retried(.sweep)
            logger.warning(message, metadata: ["error": "\(error)"])
            processor.recover()
        } catch where !StorageFailure.isDeploymentProblem(error) {
            // expireParked narrows by case itself; what still fails is no one record's:
            // logged and tried again next time, never the end of the worker.
            counters.withLock { $0.retries += 1 }
            metrics.retried(.sweep)
            logger.error(message, metadata: ["reason": "\(ProcessingFailure.reason(error))"])
            processor.recover()
        }
    }

    /// Retention of employer reports about people on no case. A transient
    /// failure just postpones it to the next interval.
    private func deleteExpiredUnmatchedReports() throws {
        try postponingTransientFailure("deleting employer reports past retention failed; will retry") {
            let deleted = try processor.deleteExpiredUnmatchedReports()
            if deleted > 0 {
                logger.info("deleted employer reports about people on no case, past the retention period", metadata: ["reports": "\(deleted)"])
            }
        }
    }

    /// Polls once into `buffer`. Rebalances are served inside the poll: what
    /// was buffered for a revoked partition is dropped (uncommitted, so its
    /// owner, perhaps this member again, reads it from the committed offset),
    /// and so are messages the same poll fetched for partitions no longer owned.
    private func poll(
        _ consumer: KafkaConsumer, into buffer: inout FetchBuffer, timeout: Duration
    ) throws -> (fetched: Int, revoked: Set<TopicPartition>) {
        state.withLock { $0.revoked = [] }
        var messages = try consumer.pollBatch(maxMessages: configuration.maxBatch, timeout: timeout)
        let revoked = state.withLock { $0.revoked }
        if !revoked.isEmpty {
            buffer.drop(revoked)
            deferrals = deferrals.filter { !revoked.contains(TopicPartition(topic: $0.key.topic, partition: $0.key.partition)) }
            let owned = Set(try consumer.assignment())
            buffer.keep(only: owned)
            messages = messages.filter { owned.contains($0.topicPartition) }
        }
        buffer.append(messages)
        return (messages.count, revoked)
    }

    /// Processes one batch until it succeeds (retrying transient failures) and commits it.
    private func handle(_ records: [InboundRecord], consumer: KafkaConsumer, buffer: inout FetchBuffer) throws {
        var held = records
        var contention = LockContention.deferConflicting
        let starving = held.filter(isStarving)
        if !starving.isEmpty {
            // Left over and over: wait for the locks, but only with these and
            // what precedes them in their partitions (it may be about the same
            // people, so it goes first), so the wait holds up little else.
            var lastStarving: [TopicPartition: Int64] = [:]
            for record in starving { lastStarving[record.topicPartition] = max(lastStarving[record.topicPartition] ?? -1, record.offset) }
            let waiting = held.filter { $0.offset <= lastStarving[$0.topicPartition] ?? -1 }
            buffer.putBack(held.filter { $0.offset > lastStarving[$0.topicPartition] ?? -1 })
            held = waiting
            contention = .wait
        }
        var backoff = configuration.backoff
        defer {
            // Applied (or left for a later batch): partitions paused by a failure go on.
            if state.withLock({ $0.lifecycle.batchApplied() }) == .resumePartitions {
                do {
                    try consumer.resume(try consumer.assignment())
                } catch {
                    logger.warning("resume after retry failed", metadata: ["error": "\(error)"])
                }
            }
        }
        while true {
            guard !held.isEmpty else { return }
            let started = ContinuousClock.now
            do {
                let report = try processor.process(held, contention: contention)
                if !report.deferred.isEmpty {
                    // Back to the head of their partitions, which commit only up to them.
                    let deferred = Set(report.deferred)
                    var kept: [InboundRecord] = []
                    var back: [InboundRecord] = []
                    for (index, record) in held.enumerated() {
                        if deferred.contains(index) { back.append(record) } else { kept.append(record) }
                    }
                    for record in back { deferrals[record.position, default: 0] += 1 }
                    buffer.putBack(back)
                    held = kept
                }
                for record in held where !deferrals.isEmpty { deferrals[record.position] = nil }
                if batchCap != .max, ContinuousClock.now - started < configuration.batchTimeLimit / 4 {
                    batchCap = batchCap >= configuration.maxBatch / 2 ? .max : batchCap * 2
                }
                processor.batchTimeLimit = configuration.batchTimeLimit
                counters.withLock { $0.record(report) }
                metrics.batchApplied(held, report: report, took: ContinuousClock.now - started)
                logger.debug("batch applied", metadata: [
                    "records": "\(held.count)", "applied": "\(report.applied)", "deadLettered": "\(report.deadLettered)",
                    "parked": "\(report.parked)", "duplicates": "\(report.duplicates)", "tasks": "\(report.tasks)",
                    "rederived": "\(report.rederived)", "fromCheckpoint": "\(report.rederivedFromCheckpoint)", "historyReads": "\(report.historyReads)", "ms": "\((ContinuousClock.now - started).inMilliseconds)",
                ])
                break
            } catch where StorageFailure.isOverTimeLimit(error) {
                // Too much for the time a batch may take (lock waits, a slow
                // database): split it -- the second half goes back to the head of
                // its partitions -- rather than stop polling past the poll
                // interval and lose the partitions. One record alone runs once
                // without the limit.
                if held.count > 1 {
                    let keep = held.count / 2
                    buffer.putBack(Array(held[keep...]))
                    held = Array(held[..<keep])
                    batchCap = keep
                } else {
                    processor.batchTimeLimit = nil
                }
                logger.warning("batch ran past its time limit; split", metadata: [
                    "limit": "\(configuration.batchTimeLimit)", "records": "\(held.count)", "error": "\(error)",
                ])
            } catch where ProcessingFailure.canBeCausedByInput(error) {
                // Some record makes this batch fail for good: apply the rest in
                // pieces and dead-letter the records that fail alone. A passing
                // failure meanwhile goes to the retry below (pieces already
                // committed come again as duplicates).
                logger.warning("batch failed for good; narrowing it to the records that cause it", metadata: [
                    "records": "\(held.count)", "reason": "\(ProcessingFailure.reason(error))",
                ])
                do {
                    let report = try narrow(held, failure: error)
                    for record in held where !deferrals.isEmpty { deferrals[record.position] = nil }
                    counters.withLock { $0.record(report) }
                    metrics.batchApplied(held, report: report, took: ContinuousClock.now - started)
                    break
                } catch where RetryClassifier.isRetriable(error) || StorageFailure.isOverTimeLimit(error) {
                    logger.warning("narrowing met a passing failure; the batch goes again", metadata: ["error": "\(error)"])
                    processor.recover()
                    let revoked = try keepPolling(consumer, for: backoff.next(), into: &buffer)
                    held.removeAll { revoked.contains($0.topicPartition) }
                }
            } catch where RetryClassifier.isRetriable(error) {
                switch state.withLock({ $0.lifecycle.batchFailed(at: .now) }) {
                case .abandonBatch:
                    // Nothing was committed; whoever owns the partitions next redoes the batch.
                    logger.warning("stopping with a batch not applied; it will be redelivered", metadata: ["error": "\(error)"])
                    return
                case .pausePartitions:
                    try consumer.pause(try consumer.assignment())
                default:
                    break
                }
                let wait = backoff.next()
                counters.withLock { $0.retries += 1 }
                metrics.retried(.batch)
                logger.warning("batch failed transiently; partitions paused, retrying", metadata: [
                    "error": "\(error)", "attempt": "\(backoff.attempts)", "retryIn": "\(wait)",
                ])
                processor.recover()
                let revoked = try keepPolling(consumer, for: wait, into: &buffer)
                held.removeAll { revoked.contains($0.topicPartition) }
            }
        }
        guard !held.isEmpty else { return }  // everything was left for a later batch
        do {
            let offsets = buffer.commitOffsets(afterProcessing: held)
            try consumer.commit(nextOffsets: offsets)
            // Kept in memory; the membership row carries them at its next refresh.
            let now = Date()
            for offset in offsets {
                lastCommits[TopicPartition(topic: offset.topic, partition: offset.partition)] = GroupMember.Commit(
                    topic: offset.topic, partition: offset.partition, offset: offset.offset, at: now)
            }
        } catch let error as KafkaError {
            // The transaction stands; a redelivery of these offsets is deduplicated by event id.
            logger.warning("offset commit failed after the batch committed; its events may be redelivered",
                           metadata: ["error": "\(error)"])
        }
        onBatchCommitted()
    }

    private func narrow(_ records: [InboundRecord], failure: any Error) throws -> BatchReport {
        try BatchNarrowing.apply(
            records, failedWith: failure, process: { try processor.process($0, contention: .wait) },
            applyAlone: { record in
                let report = try processor.process([record], contention: .wait, releasingWaiting: false)
                logger.error("a record applied only without the events waiting for it: one of those fails; they wait until expiry sets them aside", metadata: [
                    "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                ])
                return report
            },
            refuse: { try processor.refuse($0, because: $1) })
    }

    /// Overlapping with other workers' batches is the normal case: leave what
    /// they hold for later. A record left over and over waits for the locks
    /// instead, so it cannot starve.
    private func isStarving(_ record: InboundRecord) -> Bool {
        !deferrals.isEmpty && (deferrals[record.position] ?? 0) >= Self.deferralsBeforeWaiting
    }

    static let deferralsBeforeWaiting = 2

    /// Polls (partitions paused) for `duration`, serving rebalances and keeping
    /// the member alive. Anything a newly assigned partition delivers before the
    /// rebalance handler could pause it goes to the buffer. Returns the
    /// partitions revoked meanwhile: the batch in hand must drop their messages.
    private func keepPolling(
        _ consumer: KafkaConsumer, for duration: Duration, into buffer: inout FetchBuffer
    ) throws -> Set<TopicPartition> {
        let deadline = ContinuousClock.now + duration
        var revoked = Set<TopicPartition>()
        while !isStopRequested {
            tick(consumer)
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            do {
                revoked.formUnion(try poll(consumer, into: &buffer, timeout: min(remaining, configuration.pollTimeout)).revoked)
            } catch let error as KafkaError where error.isRetriable || error.kind == .brokersUnreachable {
                Thread.sleep(forTimeInterval: min(remaining, configuration.pollTimeout).inSeconds)
            }
        }
        return revoked
    }

    private func rebalanced(_ event: KafkaRebalanceEvent) {
        metrics.rebalanced(event)
        switch event {
        case .assigned(let partitions):
            let action = state.withLock { $0.lifecycle.assigned() }
            metrics.groupMembership(joined: true)
            logger.debug("partitions assigned", metadata: ["count": "\(partitions.count)"])
            // A batch is failing: what arrives now waits with the rest.
            if action == .pausePartitions, let consumer = consumerBox.withLock({ $0 }) { try? consumer.pause(partitions) }
        case .revoked(let partitions), .lost(let partitions):
            if case .lost = event {
                _ = state.withLock { $0.lifecycle.lost() }
                metrics.groupMembership(joined: false)
            }
            state.withLock { $0.revoked.formUnion(partitions) }
        }
        state.withLock { $0.membershipChanged = true }
    }

    /// Once per loop round: the liveness heartbeat, and when due the lag
    /// sample and the membership row (also at once after a rebalance).
    private func tick(_ consumer: KafkaConsumer) {
        let now = ContinuousClock.now
        let (sampleDue, membershipChanged) = state.withLock { state -> (Bool, Bool) in
            state.lastLoopAt = now
            let changed = state.membershipChanged
            state.membershipChanged = false
            guard state.lastLagSample.map({ now - $0 >= configuration.lagSampleInterval }) ?? true else { return (false, changed) }
            state.lastLagSample = now
            return (true, changed)
        }
        if sampleDue, let lags = try? consumer.lag() { metrics.consumerLag(lags) }
        if sampleDue || membershipChanged, let assignment = try? consumer.assignment() {
            let assigned = assignment.map { GroupMember.Partition(topic: $0.topic, partition: $0.partition) }
            if assigned != membership.assigned {
                membership.assigned = assigned
                membership.assignedAt = Date()
            }
            // Partitions it no longer holds too: their next owner shows them until it commits.
            membership.commits = Array(lastCommits.values)
            recordMembership()
        }
    }

    /// Writes the membership row; it only informs the console, so a failure
    /// (the session is broken, a batch's retry will reconnect it) is logged once and left.
    private func recordMembership() {
        do {
            try processor.recordMembership(membership, prune: !membershipRecorded)
            membershipRecorded = true
            membershipFailing = false
        } catch {
            if !membershipFailing {
                logger.warning("could not record the group membership for the console", metadata: ["error": "\(error)"])
            }
            membershipFailing = true
        }
    }
}

/// What a worker has done since it started.
public struct WorkerCounters: Sendable, Hashable {
    public var batches = 0
    public var records = 0
    public var applied = 0
    public var deadLettered = 0
    public var parked = 0
    public var duplicates = 0
    public var tasks = 0
    /// Transient failures recovered from: a batch retried after backoff, or a
    /// sweep of waiting events postponed (whichever met a broken session first).
    public var retries = 0

    public init() {}

    mutating func record(_ report: BatchReport) {
        batches += 1
        records += report.records
        applied += report.applied
        deadLettered += report.deadLettered
        parked += report.parked
        duplicates += report.duplicates
        tasks += report.tasks
    }
}


