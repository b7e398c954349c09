import Foundation
import ServiceLifecycle
import Synchronization
import TimeUnits

/// The one way this service runs a loop that blocks (libpq and librdkafka
/// calls block their thread): a dedicated thread that can be woken early from
/// its waits, asked to stop -- at once, or after draining until a deadline --
/// and awaited. The worker, the outbox relay, the daily sweep and the database
/// watch each run on one; `LoopService` makes them ServiceLifecycle services,
/// so `csworker run` starts and stops them all through one `ServiceGroup`.
public final class LoopThread: Sendable {
    private struct State {
        var started = false
        /// Set by `requestStop`: work may go on (drain) until this instant.
        var stopDeadline: ContinuousClock.Instant?
        var outcome: Result<Void, any Error>?
        var waiters: [CheckedContinuation<Void, any Error>] = []
    }

    public let name: String
    private let stackSize: Int
    private let state = Mutex(State())
    private let wakeUps = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    public init(name: String, stackSize: Int = 1 << 20) {
        self.name = name
        self.stackSize = stackSize
    }

    /// Runs `body` on a new thread; `body` should return soon after
    /// `isStopRequested` turns true (or once past `drainDeadline`).
    /// Starting twice is a programming error.
    public func start(_ body: @escaping @Sendable () throws -> Void) {
        state.withLock {
            precondition(!$0.started, "\(name) started twice")
            $0.started = true
        }
        let thread = Thread { [self] in
            let outcome = Result { try body() }
            let waiters = state.withLock { state in
                state.outcome = outcome
                defer { state.waiters = [] }
                return state.waiters
            }
            done.signal()
            for waiter in waiters { waiter.resume(with: outcome) }
        }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    /// Ends a `pause` now: there is work (a batch committed, a sweep enqueued tasks).
    public func wake() { wakeUps.signal() }

    /// Asks the loop to stop, allowing it to finish what is in hand until `drain` from now.
    /// A later request can only bring the deadline closer.
    public func requestStop(drain: Duration = .zero) {
        let deadline = ContinuousClock.now + drain
        state.withLock { state in
            state.stopDeadline = min(state.stopDeadline ?? deadline, deadline)
        }
        wakeUps.signal()
    }

    public var isStopRequested: Bool { state.withLock { $0.stopDeadline != nil } }

    /// When draining must end; nil while no stop was asked for.
    public var drainDeadline: ContinuousClock.Instant? { state.withLock { $0.stopDeadline } }

    /// Sleeps for `duration`, returning early when woken (`wake`, or the stop
    /// request itself). True when it returned early. A loop that is draining
    /// still waits here between failed attempts, so it never spins.
    @discardableResult
    public func pause(_ duration: Duration) -> Bool {
        wakeUps.wait(timeout: .now() + max(0, duration.inSeconds)) == .success
    }

    /// Waits (blocking) until the thread has ended; at once when it never started.
    public func join() {
        guard state.withLock({ $0.started && $0.outcome == nil }) else { return }
        done.wait()
        done.signal()  // let any other joiner through too
    }

    /// Waits until the thread has ended and rethrows what ended it.
    public func finished() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> Result<Void, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }
}

/// A blocking loop as a ServiceLifecycle service: `run` starts it on its
/// thread and returns when it ends; graceful shutdown asks it to stop after
/// draining for `drainOnShutdown`, cancellation asks it to stop at once.
public protocol LoopService: Service {
    var loop: LoopThread { get }
    /// How long the loop may keep working once shutdown begins.
    var drainOnShutdown: Duration { get }
    /// The loop itself, on `loop`'s thread.
    func runLoop() throws
    /// Graceful shutdown began: ask the loop to stop (by default after
    /// draining for `drainOnShutdown`).
    func shutDown()
}

extension LoopService {
    public var drainOnShutdown: Duration { .zero }

    public func shutDown() { loop.requestStop(drain: drainOnShutdown) }

    public func run() async throws {
        let loop = self.loop
        loop.start { try self.runLoop() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await loop.finished()
            } onGracefulShutdown: {
                self.shutDown()
            }
        } onCancel: {
            loop.requestStop()
        }
    }
}
