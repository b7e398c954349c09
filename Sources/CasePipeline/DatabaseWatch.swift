import CaseStorage
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Watches the database for the operator's endpoints on one session of its
/// own (never a worker's or the relay's) and one thread, so nothing here
/// ever waits in an HTTP handler or the worker loop:
///
/// - the probe: `SELECT 1` every `probeInterval`, connecting bounded by
///   `probeTimeout`; readiness's "database" condition;
/// - the collector: the supervisors' view (`OperationsReadings`) every
///   `readingsInterval`, exported through `PipelineMetrics`.
///
/// Sharing the session keeps `run` at three database sessions per process
/// (batch, relay, this). A reading in progress counts as the server
/// answering for up to `readingsTimeout` (its statement timeout), so a slow
/// count over a large caseload does not make the probe look stale.
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
    /// When the reading in progress started (nil: none).
    private let readingSince = Mutex<ContinuousClock.Instant?>(nil)
    /// The last probe's outcome, so only changes are logged.
    private let lastProbeOutcome = Mutex<Bool?>(nil)
    private let loop = LoopThread(name: "csworker-db-watch")

    public init(configuration: Configuration, metrics: PipelineMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// A probe succeeded recently (within three probe intervals, at least the
    /// probe timeout plus a second) or a reading is under way within its
    /// statement timeout; a watch stuck in a call that never returns reads
    /// as unreachable.
    public var isReachable: Bool {
        let now = ContinuousClock.now
        let staleAfter = max(configuration.probeInterval * 3, configuration.probeTimeout + .seconds(1))
        if lastProbeSuccess.withLock({ $0.map { now - $0 < staleAfter } ?? false }) { return true }
        return readingSince.withLock { $0.map { now - $0 < configuration.readingsTimeout + .seconds(1) } ?? false }
    }

    /// The thread as a service: graceful shutdown or cancellation stops it.
    public func run() async throws {
        start()
        let stop: @Sendable () -> Void = { [loop] in loop.requestStop() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await loop.finished()
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
    }

    public func start() {
        loop.start { [self] in
            var session: OperationsReader?
            var nextReading = ContinuousClock.now
            while !loop.isStopRequested {
                do {
                    if session == nil { session = try connect() }
                    try probe(session!)
                    if ContinuousClock.now >= nextReading {
                        nextReading = ContinuousClock.now + configuration.readingsInterval
                        try collect(session!)
                    }
                } catch {
                    if session == nil { probeFailed(error) }
                    // A failure closes the session so the next round connects afresh.
                    session?.close()
                    session = nil
                }
                loop.pause(configuration.probeInterval)
            }
            session?.close()
        }
    }

    /// Stops the thread and waits for it (it finishes the call in hand).
    public func stop() {
        loop.requestStop()
        loop.join()
    }

    private func probe(_ reader: OperationsReader) throws {
        do {
            try reader.ping()
        } catch {
            probeFailed(error)
            throw error
        }
        lastProbeSuccess.withLock { $0 = .now }
        metrics.databaseReachable(true)
        if probeOutcomeChanged(to: true) { logger.info("database reachable") }
    }

    private func probeFailed(_ error: any Error) {
        metrics.databaseReachable(false)
        if probeOutcomeChanged(to: false) {
            logger.warning("database unreachable", metadata: ["error": "\(error)"])
        }
    }

    private func collect(_ reader: OperationsReader) throws {
        readingSince.withLock { $0 = .now }
        defer { readingSince.withLock { $0 = nil } }
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

    private func probeOutcomeChanged(to reachable: Bool) -> Bool {
        lastProbeOutcome.withLock { last in
            defer { last = reachable }
            return last != reachable
        }
    }

    private func connect() throws -> OperationsReader {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return try OperationsReader.open(
            databaseURL: configuration.databaseURL, timeZone: configuration.timeZone,
            connectTimeout: configuration.probeTimeout, statementTimeout: configuration.readingsTimeout, logger: quiet)
    }
}
