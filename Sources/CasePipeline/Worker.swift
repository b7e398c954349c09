import Foundation
import Kafka
import Logging
import Synchronization

/// One member of the consumer group: polls a batch, has it processed in one
/// storage transaction, commits the batch's offsets, polls again.
///
/// Runs on a dedicated thread (libpq and librdkafka calls block). Offsets are
/// committed only after the batch's transaction has committed, so a crash
/// anywhere redelivers work the database deduplicates by event id. Rebalances
/// are served inside `pollBatch`, between batches, when nothing is in hand;
/// while a batch waits out a transient failure its partitions are paused and
/// the loop keeps polling, so the member stays in the group without spinning.
public final class Worker: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var consumer: KafkaConsumerConfiguration
        public var topics: PipelineTopics
        public var maxBatch: Int = 500
        public var pollTimeout: Duration = .milliseconds(100)
        public var backoff = Backoff()
        /// How long an event may wait for the application that opens its case
        /// (topics are consumed independently, so it can overtake it) before
        /// it is dead-lettered as `unknown-case`. Counted while this worker is
        /// caught up (its last poll found nothing); while it is working through
        /// a backlog, the application may still be queued behind, so then ten
        /// times as long.
        public var unknownCaseGrace: Duration = .seconds(60)
        /// How often waiting events are checked against the grace period.
        public var sweepInterval: Duration = .seconds(1)

        public init(consumer: KafkaConsumerConfiguration, topics: PipelineTopics) {
            self.consumer = consumer
            self.topics = topics
        }
    }

    private struct LoopState {
        var stopRequested = false
        var retrying = false
        /// Partitions taken away during the current poll or retry.
        var revoked: Set<TopicPartition> = []
    }

    private let configuration: Configuration
    // Used only from the worker thread.
    private let processor: BatchProcessor
    private let logger: Logger
    private let onBatchCommitted: @Sendable () -> Void
    private let state = Mutex(LoopState())
    private let consumerBox = Mutex<KafkaConsumer?>(nil)
    private let counters = Mutex(WorkerCounters())

    /// `onBatchCommitted` runs on the worker thread right after each batch's
    /// transaction commits (the outbox relay's wake-up).
    public init(
        configuration: Configuration, processor: BatchProcessor, logger: Logger,
        onBatchCommitted: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.processor = processor
        self.logger = logger
        self.onBatchCommitted = onBatchCommitted
    }

    /// Asks the loop to finish the batch in hand, commit, leave the group and return.
    public func stop() {
        state.withLock { $0.stopRequested = true }
    }

    public var isStopRequested: Bool { state.withLock { $0.stopRequested } }

    public var statistics: WorkerCounters { counters.withLock { $0 } }

    /// Runs the loop on a new thread until `stop()`; throws what ended it otherwise.
    public func run() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    try runLoop()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "csworker-consumer"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// The loop itself, on the calling thread.
    public func runLoop() throws {
        let consumer = try KafkaConsumer(configuration: configuration.consumer, logger: logger) { [weak self] event in
            self?.rebalanced(event)
        }
        consumerBox.withLock { $0 = consumer }
        defer { consumerBox.withLock { $0 = nil } }
        try consumer.subscribe(configuration.topics.input)
        logger.info("worker joined the consumer group", metadata: [
            "group": "\(configuration.consumer.groupId)", "topics": "\(configuration.topics.input.joined(separator: ","))",
        ])

        var pollBackoff = configuration.backoff
        var lastSweep = ContinuousClock.now
        var caughtUp = false
        do {
            while !isStopRequested {
                if ContinuousClock.now - lastSweep >= configuration.sweepInterval {
                    lastSweep = ContinuousClock.now
                    try sweepExpired(grace: caughtUp ? configuration.unknownCaseGrace : configuration.unknownCaseGrace * 10)
                }
                let messages: [KafkaMessage]
                do {
                    messages = try pollDroppingRevoked(consumer)
                    pollBackoff.reset()
                } catch let error as KafkaError where error.isRetriable || error.kind == .brokersUnreachable {
                    let wait = pollBackoff.next()
                    logger.warning("poll failed; retrying", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                    Thread.sleep(forTimeInterval: wait.seconds)
                    continue
                }
                caughtUp = messages.isEmpty
                guard !messages.isEmpty else { continue }
                try handle(messages, consumer: consumer)
            }
        } catch {
            // Leave the group before reporting, so the partitions move on at once.
            try? consumer.close()
            throw error
        }
        try consumer.close()
        logger.info("worker left the consumer group")
    }

    /// Dead-letters events that waited too long for their case. A transient
    /// failure just postpones it to the next sweep.
    private func sweepExpired(grace: Duration) throws {
        do {
            let report = try processor.expireParked(olderThan: grace)
            guard report.deadLettered + report.unparked > 0 else { return }
            counters.withLock { $0.deadLettered += report.deadLettered; $0.applied += report.unparked; $0.tasks += report.tasks }
            onBatchCommitted()
        } catch where RetryClassifier.isRetriable(error) {
            logger.warning("sweep of waiting events failed; will retry", metadata: ["error": "\(error)"])
            processor.recover()
        }
    }

    private func pollDroppingRevoked(_ consumer: KafkaConsumer) throws -> [KafkaMessage] {
        state.withLock { $0.revoked = [] }
        let messages = try consumer.pollBatch(maxMessages: configuration.maxBatch, timeout: configuration.pollTimeout)
        return try withoutRevoked(messages, consumer: consumer)
    }

    /// Messages fetched before a revocation that the same poll served belong to
    /// another member now: drop them, uncommitted, and it will process them.
    private func withoutRevoked(_ messages: [KafkaMessage], consumer: KafkaConsumer) throws -> [KafkaMessage] {
        let revoked = state.withLock { $0.revoked }
        guard !revoked.isEmpty, !messages.isEmpty else { return messages }
        let owned = Set(try consumer.assignment())
        return messages.filter { owned.contains($0.topicPartition) }
    }

    /// Processes one batch until it succeeds (retrying transient failures) and commits it.
    private func handle(_ messages: [KafkaMessage], consumer: KafkaConsumer) throws {
        var held = messages
        var backoff = configuration.backoff
        var paused = false
        defer {
            if paused {
                state.withLock { $0.retrying = false }
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
                let report = try processor.process(held.map(InboundRecord.init))
                counters.withLock { $0.record(report) }
                logger.debug("batch applied", metadata: [
                    "records": "\(held.count)", "applied": "\(report.applied)", "deadLettered": "\(report.deadLettered)",
                    "parked": "\(report.parked)", "duplicates": "\(report.duplicates)", "tasks": "\(report.tasks)",
                    "ms": "\((ContinuousClock.now - started).milliseconds)",
                ])
                break
            } catch where RetryClassifier.isRetriable(error) {
                if isStopRequested {
                    // Nothing was committed; whoever owns the partitions next redoes the batch.
                    logger.warning("stopping with a batch not applied; it will be redelivered", metadata: ["error": "\(error)"])
                    return
                }
                if !paused {
                    paused = true
                    state.withLock { $0.retrying = true }
                    try consumer.pause(try consumer.assignment())
                }
                let wait = backoff.next()
                counters.withLock { $0.retries += 1 }
                logger.warning("batch failed transiently; partitions paused, retrying", metadata: [
                    "error": "\(error)", "attempt": "\(backoff.attempts)", "retryIn": "\(wait)",
                ])
                processor.recover()
                held += try keepPolling(consumer, for: wait)
                held = try withoutRevoked(held, consumer: consumer)
            }
        }
        do {
            try consumer.commit(processed: held)
        } catch let error as KafkaError {
            // The transaction stands; a redelivery of these offsets is deduplicated by event id.
            logger.warning("offset commit failed after the batch committed; its events may be redelivered",
                           metadata: ["error": "\(error)"])
        }
        onBatchCommitted()
    }

    /// Polls (partitions paused) for `duration`, serving rebalances and keeping
    /// the member alive; returns anything a newly assigned partition delivered
    /// before the rebalance handler could pause it.
    private func keepPolling(_ consumer: KafkaConsumer, for duration: Duration) throws -> [KafkaMessage] {
        let deadline = ContinuousClock.now + duration
        var extra: [KafkaMessage] = []
        while !isStopRequested {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            do {
                extra += try consumer.pollBatch(maxMessages: configuration.maxBatch, timeout: min(remaining, configuration.pollTimeout))
            } catch let error as KafkaError where error.isRetriable || error.kind == .brokersUnreachable {
                Thread.sleep(forTimeInterval: min(remaining, configuration.pollTimeout).seconds)
            }
        }
        return extra
    }

    private func rebalanced(_ event: KafkaRebalanceEvent) {
        switch event {
        case .assigned(let partitions):
            logger.debug("partitions assigned", metadata: ["count": "\(partitions.count)"])
            if state.withLock({ $0.retrying }), let consumer = consumerBox.withLock({ $0 }) {
                try? consumer.pause(partitions)
            }
        case .revoked(let partitions), .lost(let partitions):
            state.withLock { $0.revoked.formUnion(partitions) }
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

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    var milliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}
