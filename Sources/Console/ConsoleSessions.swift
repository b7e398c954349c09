import Foundation
import Synchronization

/// Signed-in sessions, in this process's memory (one console process; a
/// restart signs everyone out). A session ends after 30 minutes idle or 12
/// hours in all.
public final class ConsoleSessions: Sendable {
    public struct Session: Sendable {
        public var id: String
        public var user: ConsoleUser
        /// Sent with every state change (form field or X-CSRF-Token header).
        public var csrfToken: String
        var started: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
        /// When the user was last found in the users file with this role.
        var verified: ContinuousClock.Instant
    }

    let idleLimit: Duration
    let absoluteLimit: Duration
    /// How often a session's user is looked up in the users file again.
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

    public func start(_ user: ConsoleUser) -> Session {
        let now = ContinuousClock.now
        let session = Session(id: Self.token(), user: user, csrfToken: Self.token(), started: now, lastSeen: now, verified: now)
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

    /// Whether the session's user should be looked up in the users file again (once a minute).
    func needsVerifying(_ session: Session) -> Bool {
        ContinuousClock.now - session.verified >= verifyEvery
    }

    func verified(_ id: String) {
        sessions.withLock { $0[id]?.verified = .now }
    }

    public func end(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }
}

/// Failed sign-ins: five for one name within 15 minutes lock that name until
/// the oldest of them is 15 minutes old. There is no lockout over all names
/// (anyone could lock everyone out); guessing across names is slowed by the
/// password hash and by `SignInGate`'s two checks at a time.
public final class LoginThrottle: Sendable {
    let window: Duration
    let perName: Int
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(window: Duration = .seconds(15 * 60), perName: Int = 5) {
        self.window = window
        self.perName = perName
    }

    /// nil: may try; else how long until the next try is allowed.
    public func retryAfter(name: String) -> Duration? {
        let now = ContinuousClock.now
        return failures.withLock { byName -> Duration? in
            let recent = (byName[name] ?? []).filter { now - $0 < window }
            byName[name] = recent.isEmpty ? nil : recent
            if recent.count >= perName { return window - (now - recent[recent.count - perName]) }
            return nil
        }
    }

    public func failed(name: String) {
        let now = ContinuousClock.now
        failures.withLock { $0[name, default: []].append(now) }
    }

    public func succeeded(name: String) {
        _ = failures.withLock { $0.removeValue(forKey: name) }
    }
}

/// At most `limit` password checks at once: each scrypt check takes 32 MiB
/// and ~100 ms of a core, so a burst of sign-ins queues instead of exhausting
/// memory and CPU.
actor SignInGate {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int = 2) {
        self.limit = limit
    }

    func enter() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }
}
