import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One blocking `GET` over a fresh loopback connection, bounded by `timeout`
/// (connect, send and every read). Run it through `onThread`.
public enum HTTPGet {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func get(port: Int, path: String, timeout: Duration = .seconds(5)) throws -> Response {
        let fd: Int32
        do {
            fd = try Loopback.connect(port: port, timeout: timeout)
        } catch let failure as Loopback.Failure {
            throw Failure(description: failure.description)
        }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw Failure(description: "send failed: errno \(errno)")
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                if count < 0 { throw Failure(description: "no answer from 127.0.0.1:\(port)\(path) within \(timeout)") }
                break
            }
            received += buffer[..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first,
            let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { throw Failure(description: "not an HTTP response: \(text.prefix(200))") }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Response(status: status, body: body)
    }
}
