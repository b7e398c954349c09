/// The worker's phase as one value, and what each thing that happens to it
/// asks the loop to do. The loop owns the consumer and the batch; this owns
/// the decisions, so every transition is testable without a broker.
///
///     joining --assigned--> consuming --batch failed--> retrying(since)
///        ^                     |  ^                         |
///        +------lost-----------+  +-----batch applied-------+
///     any --stop--> draining --loop ended--> stopped
public struct WorkerLifecycle: Sendable, Hashable {
    public enum Phase: Sendable, Hashable {
        /// Subscribed; waiting for an assignment (at start, or after losing it).
        case joining
        /// Holding an assignment (possibly of no partitions) and applying batches.
        case consuming
        /// The batch in hand has been failing transiently since then; its
        /// partitions are paused and the loop keeps polling to stay in the group.
        case retrying(since: ContinuousClock.Instant)
        /// Stop requested: the batch in hand finishes (or, failing, is left to
        /// be redelivered), offsets are committed, then the member leaves.
        case draining
        /// Left the group; the loop has returned.
        case stopped
    }

    /// What the loop must do after a transition.
    public enum Action: Sendable, Hashable {
        case none
        /// Pause every assigned partition (a batch started failing), or the
        /// newly assigned ones while a batch is failing.
        case pausePartitions
        /// Resume them: the batch went through.
        case resumePartitions
        /// Give up the failing batch without committing it: whoever owns the
        /// partitions next redoes it (a stop arrived while it was failing).
        case abandonBatch
        /// Close the consumer: leave the group so the partitions move on.
        case leaveGroup
    }

    public private(set) var phase: Phase = .joining
    /// Whether the member holds an assignment: an orderly revoke keeps it, a loss ends it.
    public private(set) var holdsAssignment = false

    public init() {}

    public var isStopping: Bool {
        switch phase {
        case .draining, .stopped: true
        default: false
        }
    }

    /// Since when the batch in hand has been failing; nil when it is not.
    public var retryingSince: ContinuousClock.Instant? {
        if case .retrying(let since) = phase { return since }
        return nil
    }

    /// Partitions were assigned (a rebalance, or the first join).
    public mutating func assigned() -> Action {
        holdsAssignment = true
        switch phase {
        case .joining:
            phase = .consuming
            return .none
        case .retrying:
            return .pausePartitions
        case .consuming, .draining, .stopped:
            return .none
        }
    }

    /// The assignment was lost (session timeout, fenced): back to joining.
    public mutating func lost() -> Action {
        holdsAssignment = false
        switch phase {
        case .consuming, .retrying:
            phase = .joining
        case .joining, .draining, .stopped:
            break
        }
        return .none
    }

    /// The batch in hand failed transiently at `now`.
    public mutating func batchFailed(at now: ContinuousClock.Instant) -> Action {
        switch phase {
        case .consuming, .joining:
            phase = .retrying(since: now)
            return .pausePartitions
        case .retrying:
            return .none
        case .draining, .stopped:
            return .abandonBatch
        }
    }

    /// The batch in hand was applied and committed.
    public mutating func batchApplied() -> Action {
        switch phase {
        case .retrying:
            phase = holdsAssignment ? .consuming : .joining
            return .resumePartitions
        case .joining:
            if holdsAssignment { phase = .consuming }
            return .none
        case .consuming, .draining, .stopped:
            return .none
        }
    }

    /// SIGTERM, SIGINT, or the service group shutting down.
    public mutating func stopRequested() -> Action {
        switch phase {
        case .stopped:
            return .none
        case .retrying:
            phase = .draining
            return .abandonBatch
        case .joining, .consuming, .draining:
            phase = .draining
            return .none
        }
    }

    /// The loop is returning (stopped, or failed).
    public mutating func loopEnded() -> Action {
        guard phase != .stopped else { return .none }
        phase = .stopped
        holdsAssignment = false
        return .leaveGroup
    }
}
