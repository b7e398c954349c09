import Foundation
import Synchronization

/// Signed-in sessions, in this process's memory (one console process; a
/// restart signs everyone out). A session ends after 30 minutes idle or 12
/// hours in all.
public final class ConsoleSessions: Sendable {
    public struct Session: Sendable {
        public var id: String
        public var user: ConsoleUser
        /// The fingerprint of the password hash the user signed in against.
        public var credential: String
        /// Sent with every state change (form field or X-CSRF-Token header).
        public var csrfToken: String
        var started: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
        /// When the user was last found in the users file with this role and password ...
        var verified: ContinuousClock.Instant
        /// ... and the file as it was then.
        var verifiedStamp: ConsoleUserFile.Stamp?
    }

    let idleLimit: Duration
    let absoluteLimit: Duration
    /// How often a session's user is looked up in the users file again when the file seems unchanged.
    let verifyEvery: Duration
    private let sessions = Mutex<[String: Session]>([:])

    public init(
        idleLimit: Duration = .seconds(30 * 60), absoluteLimit: Duration = .seconds(12 * 3600), verifyEvery: Duration = .seconds(60)
    ) {
        self.idleLimit = idleLimit
        self.absoluteLimit = absoluteLimit
        self.verifyEvery = verifyEvery
    }

    static func token() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// A new session for `user`, bound to `credential` (`ConsoleUserFile.Verified`); checked against the users file at its first use.
    public func start(_ user: ConsoleUser, credential: String) -> Session {
        let now = ContinuousClock.now
        let session = Session(
            id: Self.token(), user: user, credential: credential, csrfToken: Self.token(), started: now, lastSeen: now, verified: now,
            verifiedStamp: nil)
        sessions.withLock { all in
            all = all.filter { now - $0.value.lastSeen < idleLimit && now - $0.value.started < absoluteLimit }
            all[session.id] = session
        }
        return session
    }

    /// The live session with this id, touched; nil when unknown or expired.
    public func session(_ id: String?) -> Session? {
        guard let id else { return nil }
        let now = ContinuousClock.now
        return sessions.withLock { all -> Session? in
            guard var session = all[id] else { return nil }
            guard now - session.lastSeen < idleLimit, now - session.started < absoluteLimit else {
                all[id] = nil
                return nil
            }
            session.lastSeen = now
            all[id] = session
            return session
        }
    }

    /// Whether the session's user should be looked up in the users file again:
    /// the file changed since, or a minute passed.
    func needsVerifying(_ session: Session, stamp: ConsoleUserFile.Stamp?) -> Bool {
        stamp == nil || stamp != session.verifiedStamp || ContinuousClock.now - session.verified >= verifyEvery
    }

    func verified(_ id: String, stamp: ConsoleUserFile.Stamp?) {
        sessions.withLock {
            $0[id]?.verified = .now
            $0[id]?.verifiedStamp = stamp
        }
    }

    public func end(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }
}

/// Sign-in attempts, counted when they start (a guess holds its place
/// while the password is checked, so parallel guesses cannot all slip past
/// a count of finished failures). Three limits, because each alone fails an
/// agency in a known way:
/// - per client address and name: 5 guesses in 15 minutes, then that
///   address waits until the oldest is 15 minutes old. One address cannot
///   guess one name quickly, and cannot lock the operator at another address.
/// - per client address: 20 guesses in 15 minutes over all names, against
///   one address spraying names.
/// - per name, from any address: after 5 failures the name backs off 1 s,
///   doubling with each further failure up to 1 minute, and only one check
///   runs at a time. Many addresses cannot guess one name quickly, yet a
///   named operator waits a minute at most -- never a long lockout.
/// Nothing locks all names: `SignInGate`'s bounded queue is the overall limit.
/// Records are bounded: at most `capacity` keys per table (the oldest go
/// first), and names longer than any user's are refused before a record.
public final class LoginThrottle: Sendable {
    public enum Admission: Sendable, Equatable {
        /// May check the password; report the outcome with the ticket.
        case check(Ticket)
        /// Refused; try again after this long.
        case wait(Duration)
    }

    public struct Ticket: Sendable, Equatable {
        let name: String
        let client: String
    }

    struct Record {
        var failures: [ContinuousClock.Instant] = []
        var checking = 0
        var touched: ContinuousClock.Instant
    }

    struct Tables {
        var byClientAndName: [String: Record] = [:]
        var byClient: [String: Record] = [:]
        var byName: [String: Record] = [:]
    }

    let window: Duration
    let perName: Int
    let perClient: Int
    let longestNameBackoff: Duration
    let capacity: Int
    private let tables = Mutex(Tables())

    public init(
        window: Duration = .seconds(15 * 60), perName: Int = 5, perClient: Int = 20, longestNameBackoff: Duration = .seconds(60),
        capacity: Int = 10_000
    ) {
        self.window = window
        self.perName = perName
        self.perClient = perClient
        self.longestNameBackoff = longestNameBackoff
        self.capacity = capacity
    }

    /// Whether a guess for `name` from `client` may start now; a `check` counts against both until reported.
    public func admit(name: String, client: String) -> Admission {
        let now = ContinuousClock.now
        let pair = Self.pairKey(name: name, client: client)
        return tables.withLock { tables -> Admission in
            var paired = fresh(tables.byClientAndName[pair], now)
            var byClient = fresh(tables.byClient[client], now)
            var byName = fresh(tables.byName[name], now)
            if let wait = fixedWindowWait(paired, limit: perName, now) ?? fixedWindowWait(byClient, limit: perClient, now)
                ?? nameWait(byName, now)
            {
                return .wait(wait)
            }
            paired.checking += 1
            byClient.checking += 1
            byName.checking += 1
            store(&tables.byClientAndName, pair, paired)
            store(&tables.byClient, client, byClient)
            store(&tables.byName, name, byName)
            return .check(Ticket(name: name, client: client))
        }
    }

    /// A wrong name or password: the guess stays counted.
    public func failed(_ ticket: Ticket) { finish(ticket, .failed) }

    /// Signed in: the name's failures are forgotten (the address's other guesses are not).
    public func succeeded(_ ticket: Ticket) { finish(ticket, .succeeded) }

    /// Not checked (the users file could not be read): not counted against anyone.
    public func abandoned(_ ticket: Ticket) { finish(ticket, .abandoned) }

    /// Keys held, per table (tests: memory stays bounded).
    var sizes: (byClientAndName: Int, byClient: Int, byName: Int) {
        tables.withLock { ($0.byClientAndName.count, $0.byClient.count, $0.byName.count) }
    }

    private enum Outcome { case failed, succeeded, abandoned }

    private func finish(_ ticket: Ticket, _ outcome: Outcome) {
        let now = ContinuousClock.now
        let pair = Self.pairKey(name: ticket.name, client: ticket.client)
        tables.withLock { tables in
            func update(_ table: inout [String: Record], _ key: String, clearedBySuccess: Bool) {
                var record = fresh(table[key], now)
                record.checking = max(0, record.checking - 1)
                switch outcome {
                case .failed: record.failures.append(now)
                case .succeeded where clearedBySuccess: record.failures = []
                case .succeeded, .abandoned: break
                }
                store(&table, key, record)
            }
            update(&tables.byClientAndName, pair, clearedBySuccess: true)
            update(&tables.byName, ticket.name, clearedBySuccess: true)
            update(&tables.byClient, ticket.client, clearedBySuccess: false)
        }
    }

    private static func pairKey(name: String, client: String) -> String { client + "\u{0}" + name }

    /// The record with failures older than the window dropped, touched now.
    private func fresh(_ record: Record?, _ now: ContinuousClock.Instant) -> Record {
        var record = record ?? Record(touched: now)
        record.failures.removeAll { now - $0 >= window }
        record.touched = now
        return record
    }

    /// Stores the record (or forgets an empty one); past `capacity` keys, the least recently touched go.
    private func store(_ table: inout [String: Record], _ key: String, _ record: Record) {
        guard !record.failures.isEmpty || record.checking > 0 else {
            table[key] = nil
            return
        }
        table[key] = record
        if table.count > capacity {
            // Amortized: trim to 90% at once rather than sorting on every insert.
            let excess = table.count - capacity * 9 / 10
            for old in table.sorted(by: { $0.value.touched < $1.value.touched }).prefix(excess) where old.key != key {
                table[old.key] = nil
            }
        }
    }

    /// `limit` guesses (finished failures and running checks) per window.
    private func fixedWindowWait(_ record: Record, limit: Int, _ now: ContinuousClock.Instant) -> Duration? {
        guard record.failures.count + record.checking >= limit else { return nil }
        // Running checks hold places: a second or so until they report.
        guard record.failures.count >= limit else { return .seconds(1) }
        return window - (now - record.failures[record.failures.count - limit])
    }

    /// The name's exponential backoff once it has `perName` failures in the window.
    private func nameWait(_ record: Record, _ now: ContinuousClock.Instant) -> Duration? {
        if record.failures.count < perName {
            return record.failures.count + record.checking >= perName ? .seconds(1) : nil
        }
        if record.checking > 0 { return .seconds(1) }
        let doublings = min(record.failures.count - perName, 16)
        let backoff = min(Duration.seconds(1 << doublings), longestNameBackoff)
        let since = now - record.failures[record.failures.count - 1]
        return since < backoff ? backoff - since : nil
    }
}

/// A count shared by concurrent requests.
final class Tally: Sendable {
    private let count = Atomic<Int>(0)

    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// At most `limit` password checks at once, and at most `queue` waiting:
/// each scrypt check takes 32 MiB and ~100 ms of a core, so a burst of
/// sign-ins queues briefly instead of exhausting memory and CPU, and a
/// flood is refused (503) instead of queuing without end.
actor SignInGate {
    private let limit: Int
    private let queue: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int = 2, queue: Int = 16) {
        self.limit = limit
        self.queue = queue
    }

    /// false: the queue is full; do not `leave`.
    func enter() async -> Bool {
        if running < limit {
            running += 1
            return true
        }
        guard waiting.count < queue else { return false }
        await withCheckedContinuation { waiting.append($0) }
        return true
    }

    /// Callers waiting for a check (tests).
    var waitingCount: Int { waiting.count }

    func leave() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }
}
