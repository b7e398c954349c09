import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy in front of a server (the test PostgreSQL), so a test
/// can take the server away from a process and give it back: `stop()` closes
/// the listener and drops every connection through it (the client sees its
/// session end), `restart()` listens again on the same port.
public final class TCPProxy: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let upstreamHost: String
    public let upstreamPort: UInt16
    private let state = Mutex<(port: UInt16, listener: Int32?, connections: Set<Int32>)>((0, nil, []))

    /// The port the proxy listens on (fixed after the first `start`).
    public var port: UInt16 { state.withLock { $0.port } }

    public init(upstreamHost: String, upstreamPort: UInt16) {
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
    }

    /// Listens on 127.0.0.1 (on a free port the first time, the same port after).
    public func start() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "cannot listen on 127.0.0.1:\(port): errno \(error)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        state.withLock {
            $0.port = UInt16(bigEndian: actual.sin_port)
            $0.listener = fd
        }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "tcp-proxy-accept"
        thread.start()
    }

    /// Stops listening and drops every open connection.
    public func stop() {
        let (listener, connections) = state.withLock { state -> (Int32?, Set<Int32>) in
            defer { state.listener = nil; state.connections = [] }
            return (state.listener, state.connections)
        }
        if let listener { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    public func restart() throws {
        try start()
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return  // the listener was shut down
            }
            guard let upstream = try? connectUpstream() else {
                close(client)
                continue
            }
            let admitted = state.withLock { state -> Bool in
                guard state.listener == listener else { return false }
                state.connections.formUnion([client, upstream])
                return true
            }
            guard admitted else {
                close(client)
                close(upstream)
                return
            }
            let finished = Mutex(0)
            for (from, to) in [(client, upstream), (upstream, client)] {
                Thread { [self] in
                    Self.pump(from: from, to: to)
                    // Both directions done: the pair is closed once, here.
                    let both = finished.withLock { count -> Bool in
                        count += 1
                        return count == 2
                    }
                    if both {
                        state.withLock { $0.connections.subtract([client, upstream]) }
                        close(client)
                        close(upstream)
                    }
                }.start()
            }
        }
    }

    private func connectUpstream() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = Self.loopback(port: upstreamPort)
        address.sin_addr.s_addr = inet_addr(upstreamHost)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "cannot reach \(upstreamHost):\(upstreamPort)")
        }
        return fd
    }

    /// Copies until either side ends, then ends both directions.
    private static func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        outer: while true {
            let read = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { break }
            var sent = 0
            while sent < read {
                let written = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, read - sent, Int32(MSG_NOSIGNAL)) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break outer }
                sent += written
            }
        }
        shutdown(from, Int32(SHUT_RDWR))
        shutdown(to, Int32(SHUT_RDWR))
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
