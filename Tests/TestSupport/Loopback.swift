import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Plain TCP connections to 127.0.0.1, for the test helpers that talk to or
/// wait for local listeners.
public enum Loopback {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A connected socket (the caller closes it), or a failure naming errno.
    /// `timeout` bounds the connect and every later send and receive.
    public static func connect(port: Int, timeout: Duration? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let failure = Failure(description: "cannot connect to 127.0.0.1:\(port): errno \(errno)")
            close(fd)
            throw failure
        }
        return fd
    }

    /// A loopback port nothing listens on, as the kernel picks one for a bind
    /// to port 0 (outside what it is handing out to outgoing connections).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until something accepts connections on `port`; false at the deadline.
    /// `while` ends the wait early when it turns false (the listener's process died).
    public static func waitUntilListening(
        port: Int, timeout: Duration, while alive: () -> Bool = { true }
    ) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, alive() {
            if let fd = try? connect(port: port) {
                close(fd)
                return true
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
