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

    /// Waits until something accepts connections on `port`; false at the deadline.
    public static func waitUntilListening(port: Int, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let fd = try? connect(port: port) {
                close(fd)
                return true
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
