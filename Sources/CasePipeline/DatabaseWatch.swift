import CaseStorage
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Watches the database for the operator's endpoints, on sessions of its
/// own (never a worker's or the relay's), each on a thread of its own so
/// nothing here ever waits in an HTTP handler or the worker loop:
///
/// - the prober: `SELECT 1` every `probeInterval`, connect and statement
///   bounded by `probeTimeout`; readiness's "database" condition;
/// - the collector: the supervisors' view (`OperationsReadings`) every
///   `readingsInterval`, exported through `PipelineMetrics`.
public final class DatabaseWatch: Service, Sendable {
    public struct Configuration: Sendable {
        public var databaseURL: String
        /// The agency's time zone, for "past due" days.
        public var timeZone: String
        public var probeInterval: Duration = .seconds(1)
        public var probeTimeout: Duration = .seconds(2)
        public var readingsInterval: Duration = .seconds(15)
        public var readingsTimeout: Duration = .seconds(30)

        public init(databaseURL: String, timeZone: String) {
            self.databaseURL = databaseURL
            self.timeZone = timeZone
        }
    }

    private let configuration: Configuration
    private let metrics: PipelineMetrics
    private let logger: Logger
    private let lastProbeSuccess = Mutex<ContinuousClock.Instant?>(nil)
    /// The last probe's outcome, so only changes are logged.
    private let lastProbeOutcome = Mutex<Bool?>(nil)
    private let prober = LoopThread(name: "csworker-db-probe")
    private let collector = LoopThread(name: "csworker-db-metrics")

    public init(configuration: Configuration, metrics: PipelineMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// A probe succeeded recently: within three probe intervals (at least
    /// the probe timeout plus a second), so a prober stuck in a call that
    /// never returns reads as unreachable too.
    public var isReachable: Bool {
        let staleAfter = max(configuration.probeInterval * 3, configuration.probeTimeout + .seconds(1))
        return lastProbeSuccess.withLock { $0.map { ContinuousClock.now - $0 < staleAfter } ?? false }
    }

    /// Both threads as one service: graceful shutdown or cancellation stops them.
    public func run() async throws {
        start()
        let stop: @Sendable () -> Void = { [prober, collector] in
            prober.requestStop()
            collector.requestStop()
        }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await prober.finished()
                try await collector.finished()
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
    }

    public func start() {
        spawn(prober, every: configuration.probeInterval, timeout: configuration.probeTimeout) { [self] reader in
            do {
                try reader?.ping()
                guard reader != nil else { throw ProbeUnavailable() }
                lastProbeSuccess.withLock { $0 = .now }
                metrics.databaseReachable(true)
                if probeOutcomeChanged(to: true) { logger.info("database reachable") }
            } catch {
                metrics.databaseReachable(false)
                if probeOutcomeChanged(to: false) {
                    logger.warning("database unreachable", metadata: ["error": "\(error)"])
                }
                throw error
            }
        }
        spawn(collector, every: configuration.readingsInterval, timeout: configuration.readingsTimeout) { [self] reader in
            guard let reader else { return }
            do {
                guard try reader.claimCollectorRole() else {
                    // Another process reads them for the group; a stale copy here would mislead `max`.
                    metrics.operationsCollectedElsewhere()
                    return
                }
                metrics.operations(try reader.read())
            } catch {
                logger.warning("reading the operations metrics failed; will retry", metadata: ["error": "\(error)"])
                throw error
            }
        }
    }

    /// Stops both threads and waits for them (each finishes the call in hand).
    public func stop() {
        prober.requestStop()
        collector.requestStop()
        prober.join()
        collector.join()
    }

    private func probeOutcomeChanged(to reachable: Bool) -> Bool {
        lastProbeOutcome.withLock { last in
            defer { last = reachable }
            return last != reachable
        }
    }

    private struct ProbeUnavailable: Error, CustomStringConvertible {
        var description: String { "no database session" }
    }

    /// Runs `work` every `interval` on a new thread with a session of its own;
    /// `work` gets nil when no session could be opened, and a failure closes
    /// the session so the next round connects afresh.
    private func spawn(
        _ loop: LoopThread, every interval: Duration, timeout: Duration, _ work: @escaping @Sendable (OperationsReader?) throws -> Void
    ) {
        loop.start { [self] in
            var session: OperationsReader?
            while !loop.isStopRequested {
                do {
                    if session == nil { session = try connect(timeout: timeout) }
                } catch {
                    logger.debug("database watch could not connect", metadata: ["thread": "\(loop.name)", "error": "\(error)"])
                }
                do {
                    try work(session)
                } catch {
                    session?.close()
                    session = nil
                }
                loop.pause(interval)
            }
            session?.close()
        }
    }

    private func connect(timeout: Duration) throws -> OperationsReader {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return try OperationsReader.open(
            databaseURL: configuration.databaseURL, timeZone: configuration.timeZone, timeout: timeout, logger: quiet)
    }
}
