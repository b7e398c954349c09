import CaseDomain
import CaseStorage
import Foundation
import Logging
import Synchronization

/// A wall-clock time of day in the agency's zone, `HH:MM` (24-hour).
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int

    public init?(hour: Int, minute: Int) {
        guard (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        self.hour = hour
        self.minute = minute
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { ("0"..."9").contains($0) } }),
            let hour = Int(parts[0]), let minute = Int(parts[1])
        else { return nil }
        self.init(hour: hour, minute: minute)
    }

    var minutesSinceMidnight: Int { hour * 60 + minute }

    public var description: String { String(format: "%02d:%02d", hour, minute) }

    public static func < (a: TimeOfDay, b: TimeOfDay) -> Bool { a.minutesSinceMidnight < b.minutesSinceMidnight }
}

/// `csworker run --daily-sweep-at HH:MM`: the referral sweep, once per
/// business date, from inside the worker processes instead of a CronJob.
///
/// Every process checks the clock; once the agency's local time has passed
/// the configured time, the first to take the sweep lock runs the sweep as of
/// the agency's current date and records it in `sweep_runs`, and the others
/// find it recorded and skip the date. A process started later in the day
/// catches up on a date nobody swept yet. The wall clock only picks the
/// date: the rules are a function of that date, and the sweep's task ids
/// derive from it, so a sweep run twice (a crash before it was recorded)
/// enqueues nothing new.
///
/// Runs on a thread of its own with its own database session, so a long
/// sweep never stalls the consumer; its tasks go through the outbox like any
/// other (`onSwept` wakes the relay).
public final class DailySweep: LoopService, @unchecked Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Before today's time: nothing to do yet.
        case notYet
        case alreadyDone(LocalDate)
        /// Another process holds the sweep lock.
        case busy
        case swept(ReferralSweep.Report)
        /// Stopped mid-sweep; not recorded, so a process will sweep the date again.
        case interrupted
    }

    public let time: TimeOfDay
    private let calendar: BusinessCalendar
    private let sweep: ReferralSweep
    private let runs: SweepRuns
    private let recover: @Sendable () -> Void
    private let clock: @Sendable () -> Date
    private let onSwept: @Sendable () -> Void
    private let logger: Logger
    /// How often the clock is looked at, and how soon a busy or failed attempt is retried.
    private let checkInterval: Duration
    private let retryInterval: Duration

    public let loop = LoopThread(name: "csworker-daily-sweep")
    /// Used only from the sweep thread: the latest date known swept, so the
    /// database is asked once a day, not at every check.
    private var doneThrough: LocalDate?

    public init(
        at time: TimeOfDay, calendar: BusinessCalendar, sweep: ReferralSweep, runs: SweepRuns,
        checkInterval: Duration = .seconds(30), retryInterval: Duration = .seconds(60),
        clock: @escaping @Sendable () -> Date = { Date() }, recover: @escaping @Sendable () -> Void = {},
        logger: Logger, onSwept: @escaping @Sendable () -> Void = {}
    ) {
        self.time = time
        self.calendar = calendar
        self.sweep = sweep
        self.runs = runs
        self.checkInterval = checkInterval
        self.retryInterval = retryInterval
        self.clock = clock
        self.recover = recover
        self.logger = logger
        self.onSwept = onSwept
    }

    /// The business date to sweep at `now`, or nil before the day's time.
    /// Local time is compared, so on a daylight-saving day a time inside the
    /// skipped hour fires when the clock jumps past it.
    public static func dueDate(at now: Date, time: TimeOfDay, calendar: BusinessCalendar) -> LocalDate? {
        let local = now.timeIntervalSince1970 + Double(calendar.timeZone.secondsFromGMT(for: now))
        let minutes = Int((local / 60).rounded(.down)) % (24 * 60)
        let minutesToday = minutes < 0 ? minutes + 24 * 60 : minutes
        return minutesToday >= time.minutesSinceMidnight ? calendar.businessDate(of: now) : nil
    }

    /// One look at the clock, and the day's sweep if it is due and nobody did it.
    public func runOnce() throws -> Outcome {
        guard let asOf = Self.dueDate(at: clock(), time: time, calendar: calendar) else { return .notYet }
        if let doneThrough, doneThrough >= asOf { return .alreadyDone(asOf) }
        let outcome = try runs.whileLocked { () throws -> Outcome in
            guard try !runs.isDone(asOf: asOf) else { return .alreadyDone(asOf) }
            logger.info("daily sweep starting", metadata: ["asOf": "\(asOf)", "at": "\(time)"])
            let report = try sweep.run(asOf: asOf, while: { !self.isStopRequested })
            guard !isStopRequested else { return .interrupted }
            try runs.recordDone(asOf: asOf, casesEvaluated: report.casesEvaluated, tasks: report.tasks)
            return .swept(report)
        }
        switch outcome {
        case nil:
            logger.debug("another process is running the daily sweep", metadata: ["asOf": "\(asOf)"])
            return .busy
        case .alreadyDone?:
            doneThrough = asOf
        case .swept(let report)?:
            doneThrough = asOf
            if report.tasks > 0 { onSwept() }
        default:
            break
        }
        return outcome!
    }

    public var isStopRequested: Bool { loop.isStopRequested }

    /// Runs the schedule on its thread outside a service group; `stop()` ends it.
    public func start() {
        loop.start { self.runLoop() }
    }

    /// Interrupts a sweep in progress between pages; returns when the thread has ended.
    public func stop() {
        loop.requestStop()
        loop.join()
    }

    public func runLoop() {
        logger.info("daily sweep scheduled", metadata: ["at": "\(time)", "timeZone": "\(calendar.timeZoneIdentifier)"])
        while !isStopRequested {
            var wait = checkInterval
            do {
                if try runOnce() == .busy { wait = retryInterval }
            } catch {
                logger.warning("daily sweep failed; will retry", metadata: ["error": "\(error)", "retryIn": "\(retryInterval)"])
                recover()
                wait = retryInterval
            }
            loop.pause(wait)
        }
    }
}
