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
    }

    let idleLimit: Duration
    let absoluteLimit: Duration
    private let sessions = Mutex<[String: Session]>([:])

    public init(idleLimit: Duration = .seconds(30 * 60), absoluteLimit: Duration = .seconds(12 * 3600)) {
        self.idleLimit = idleLimit
        self.absoluteLimit = absoluteLimit
    }

    static func token() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    public func start(_ user: ConsoleUser) -> Session {
        let now = ContinuousClock.now
        let session = Session(id: Self.token(), user: user, csrfToken: Self.token(), started: now, lastSeen: now)
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

    public func end(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }
}

/// Failed sign-ins: five for one name within 15 minutes lock that name until
/// the oldest of them is 15 minutes old; fifty over all names lock everyone
/// (password spraying) the same way.
public final class LoginThrottle: Sendable {
    let window: Duration
    let perName: Int
    let overall: Int
    private let failures = Mutex<(byName: [String: [ContinuousClock.Instant]], all: [ContinuousClock.Instant])>(([:], []))

    public init(window: Duration = .seconds(15 * 60), perName: Int = 5, overall: Int = 50) {
        self.window = window
        self.perName = perName
        self.overall = overall
    }

    /// nil: may try; else how long until the next try is allowed.
    public func retryAfter(name: String) -> Duration? {
        let now = ContinuousClock.now
        return failures.withLock { state -> Duration? in
            let recent = (state.byName[name] ?? []).filter { now - $0 < window }
            let all = state.all.filter { now - $0 < window }
            state.byName[name] = recent
            state.all = all
            if recent.count >= perName { return window - (now - recent[recent.count - perName]) }
            if all.count >= overall { return window - (now - all[all.count - overall]) }
            return nil
        }
    }

    public func failed(name: String) {
        let now = ContinuousClock.now
        failures.withLock { state in
            state.byName[name, default: []].append(now)
            state.all.append(now)
        }
    }

    public func succeeded(name: String) {
        _ = failures.withLock { $0.byName.removeValue(forKey: name) }
    }
}
