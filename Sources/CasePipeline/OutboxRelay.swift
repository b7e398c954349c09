import CaseContract
import CaseDomain
import CaseStorage
import Foundation
import Kafka
import Logging
import Synchronization
import TimeUnits

/// Publishes the outbox: tasks to their task topics, dead letters to the
/// dead-letter topic, with the idempotent producer, and marks each message
/// published only after the broker acknowledged it.
///
/// The outbox is split in shards by Kafka key (the case id for tasks); a
/// relay publishes a shard only while it holds that shard's transaction lock,
/// so with several processes one relay at a time publishes a shard, in id
/// order: a case's WITHDRAW never overtakes its ISSUE, and no message is
/// published twice in normal operation. A crash between publish and mark
/// republishes the same message (same id, same bytes).
///
/// A message the broker refuses for good (too large, no such topic, not
/// authorised: `KafkaError.isPermanentRefusal`) is set aside on its row with
/// the reason, and the relay goes on with the rest of its shard: one bad row
/// must not stall the outbox. It gives up its place in the shard's order
/// (see `OutboxSetAside`); an operator retries or drops it. Any other failure
/// keeps today's rule: the shard stops at it and retries it next pass.
///
/// Runs on a dedicated thread; woken right after each batch commit, and
/// otherwise polls every `idleInterval`.
public final class OutboxRelay: LoopService, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Most rows of one shard in one pass (all shards with work go in one pass).
        public var batchSize = 250
        public var idleInterval: Duration = .milliseconds(75)
        public var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        /// The agency's days, for counting tasks published past their `dueBy`.
        public var calendar: BusinessCalendar
        /// How long the relay keeps publishing once the service group shuts down
        /// (the consumer stops first, so this is what its last batch enqueued).
        public var drainOnShutdown: Duration = .seconds(5)
        public init(calendar: BusinessCalendar) { self.calendar = calendar }
    }

    private let source: OutboxSource
    private let producer: KafkaProducer
    private let configuration: Configuration
    private let logger: Logger
    private let pendingWake = Mutex(false)
    private let published = Mutex(0)
    private let metrics: PipelineMetrics
    public let loop = LoopThread(name: "csworker-outbox-relay")
    public var drainOnShutdown: Duration { configuration.drainOnShutdown }

    public init(
        source: OutboxSource, producer: KafkaProducer, configuration: Configuration, logger: Logger,
        metrics: PipelineMetrics = PipelineMetrics()
    ) {
        self.source = source
        self.producer = producer
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// Messages this relay has published.
    public var publishedCount: Int { published.withLock { $0 } }

    /// Something was just committed to the outbox: publish now rather than at the next tick.
    public func wake() {
        let alreadyPending = pendingWake.withLock { pending -> Bool in
            defer { pending = true }
            return pending
        }
        if !alreadyPending { loop.wake() }
    }

    /// Runs the relay on its thread outside a service group (`csworker sweep
    /// --publish`, tests); `stop(drain:)` ends it.
    public func start() {
        loop.start { self.runLoop() }
    }

    /// Publishes what is left for at most `drain`, then stops; returns when the thread has ended.
    public func stop(drain: Duration) {
        loop.requestStop(drain: drain)
        loop.join()
    }

    /// Publishes until stopped: then until a pass finds nothing left or the
    /// drain deadline passes. A failed pass (the database or broker away)
    /// reconnects and retries with backoff; nothing here gives up.
    public func runLoop() {
        var backoff = configuration.backoff
        while true {
            let stopping = loop.isStopRequested
            if stopping, let deadline = loop.drainDeadline, ContinuousClock.now >= deadline { break }
            pendingWake.withLock { $0 = false }
            do {
                let shards = try source.shardsWithWork()
                if shards.isEmpty && stopping { break }
                let count = try pass(over: shards)
                backoff.reset()
                if count > 0 { continue }  // more may be waiting
            } catch {
                let wait = backoff.next()
                logger.warning("outbox relay pass failed; retrying", metadata: ["error": "\(error)", "retryIn": "\(wait)"])
                source.recover()
                loop.pause(wait)
                continue
            }
            loop.pause(configuration.idleInterval)
        }
        logger.info("outbox relay stopped", metadata: ["published": "\(publishedCount)"])
    }

    /// One claim of the shards that have work (those another relay holds are
    /// skipped) and one round trip to the broker for all of them; how many
    /// messages it published.
    private func pass(over shards: [Int]) throws -> Int {
        let started = ContinuousClock.now
        var sendTime = Duration.zero
        let outcome = try source.publishShards(shards, limit: configuration.batchSize) { rows in
            let sending = ContinuousClock.now
            defer { sendTime = ContinuousClock.now - sending }
            let result = try self.publish(rows)
            let acknowledged = Set(result.acknowledged)
            // Timeliness is about real days, so the wall clock here.
            self.metrics.published(
                rows.filter { acknowledged.contains($0.id) }[...], today: self.configuration.calendar.businessDate(of: Date()))
            return result
        }
        guard case .published(let count, let setAside) = outcome, count + setAside > 0 else { return 0 }
        published.withLock { $0 += count }
        logger.debug("outbox published", metadata: [
            "messages": "\(count)", "setAside": "\(setAside)", "shards": "\(shards.count)",
            "ms": "\((ContinuousClock.now - started).inMilliseconds)", "sendMs": "\(sendTime.inMilliseconds)",
        ])
        return count + setAside
    }

    /// Sends and waits for every acknowledgement. Within each shard, in id
    /// order: acknowledged rows are marked published, rows refused for good
    /// are set aside, and the first other failure stops that shard (its
    /// later rows are sent again on the next pass, after the failed one);
    /// other shards go on.
    private func publish(_ rows: [OutboxRow]) throws -> OutboxPublishResult {
        let outgoing = rows.map { row in
            KafkaOutgoingMessage(
                topic: row.topic, key: row.key, value: row.value, headers: row.headers.map { KafkaHeader($0.name, $0.value) })
        }
        let reports = try blockingSendAll(outgoing)
        var result = OutboxPublishResult()
        var stopped = Set<Int16>()
        for (row, report) in zip(rows, reports) where !stopped.contains(row.shard) {
            switch report {
            case .success:
                result.acknowledged.append(row.id)
            case .failure(let error) where error.isPermanentRefusal:
                // The code and librdkafka's text only: never the payload.
                let reason = "\(error.code.name): \(error.message)"
                logger.error("the broker refused a message for good; set aside, the relay moves on", metadata: [
                    "messageId": "\(row.messageId.lowercasedText)", "topic": "\(row.topic)", "bytes": "\(row.value.count)",
                    "error": "\(error)",
                ])
                metrics.setAside(topic: row.topic)
                result.setAside.append(OutboxRefusal(id: row.id, reason: reason))
            case .failure(let error):
                logger.warning("publish failed; the message stays in the outbox", metadata: [
                    "messageId": "\(row.messageId.lowercasedText)", "topic": "\(row.topic)", "error": "\(error)",
                ])
                stopped.insert(row.shard)
            }
        }
        return result
    }

    /// `sendAll` is async; the relay's thread waits for it.
    private func blockingSendAll(_ messages: [KafkaOutgoingMessage]) throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        let result = Mutex<Result<[Result<KafkaDeliveryReport, KafkaError>], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let producer = self.producer
        Task {
            let outcome: Result<[Result<KafkaDeliveryReport, KafkaError>], any Error>
            do { outcome = .success(try await producer.sendAll(messages)) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

/// What a relay needs from storage: shards' unpublished messages under the
/// shards' locks, and marking the acknowledged ones, in one transaction.
public protocol OutboxSource: Sendable {
    /// Claims those of `shards` no other relay holds (`.busy` when none);
    /// hands their oldest unpublished rows not set aside (at most `limit` per
    /// shard, in id order within each shard) to `publish`, marks the rows
    /// `publish` acknowledged as published and those it refused as set aside,
    /// and commits.
    func publishShards(_ shards: [Int], limit: Int, publish: ([OutboxRow]) throws -> OutboxPublishResult) throws -> OutboxShardOutcome

    /// Shards with unpublished rows (one cheap query when idle).
    func shardsWithWork() throws -> [Int]

    /// After a failure: make the next pass possible (reconnect).
    func recover()
}

/// What one send of a claim's rows came to.
public struct OutboxPublishResult: Sendable, Hashable {
    /// Rows the broker acknowledged.
    public var acknowledged: [Int64] = []
    /// Rows refused for good, with the reason.
    public var setAside: [OutboxRefusal] = []

    public init(acknowledged: [Int64] = [], setAside: [OutboxRefusal] = []) {
        self.acknowledged = acknowledged
        self.setAside = setAside
    }
}

public enum OutboxShardOutcome: Sendable, Hashable {
    case busy
    case published(Int, setAside: Int)
}

extension OutboxStore: OutboxSource {
    public func publishShards(
        _ shards: [Int], limit: Int, publish: ([OutboxRow]) throws -> OutboxPublishResult
    ) throws -> OutboxShardOutcome {
        let counts = try withShards(shards) { claim -> (Int, Int) in
            let rows = try claim.unpublished(limit: limit)
            guard !rows.isEmpty else { return (0, 0) }
            let result = try publish(rows)
            try claim.markPublished(result.acknowledged)
            try claim.markSetAside(result.setAside)
            return (result.acknowledged.count, result.setAside.count)
        }
        return counts.map { OutboxShardOutcome.published($0.0, setAside: $0.1) } ?? .busy
    }

    public func recover() {
        try? reconnectIfBroken()
    }
}
