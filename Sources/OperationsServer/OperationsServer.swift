import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization

/// What `/health/ready` reports: the names of the conditions that fail
/// (empty = ready). Conditions are named by the caller, e.g. `database`,
/// `group`, `retrying`.
public struct Readiness: Sendable, Hashable {
    public var failing: [String]

    public init(failing: [String]) {
        self.failing = failing
    }

    public var isReady: Bool { failing.isEmpty }

    /// `{"ready":true}` or `{"ready":false,"failing":["database"]}`.
    public var json: String {
        guard !isReady else { return #"{"ready":true}"# }
        let names = failing.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"ready":false,"failing":[\#(names)]}"#
    }
}

/// The operator's HTTP port: `GET /metrics` (Prometheus text),
/// `GET /health/live` and `GET /health/ready`.
///
/// The handlers only read state already in memory (the registry, and the
/// closures' snapshots), never the database or the broker, so they answer
/// at once however busy the worker's threads are.
public final class OperationsServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 = any free port (`onListening` is told the bound one).
        public var port: Int

        public init(host: String = "0.0.0.0", port: Int = 8080) {
            self.host = host
            self.port = port
        }
    }

    /// Fails with `BindFailure` when `host:port` cannot be bound now, so a
    /// second process on a host stops before it connects to anything or joins
    /// the group (the server binds for real later; this only catches the
    /// common case early). Port 0 always passes. IPv4 literal or 0.0.0.0 hosts
    /// are checked; names are left to the server.
    public static func checkAvailable(host: String, port: Int) throws {
        guard port != 0 else { return }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 {
            throw BindFailure(host: host, port: port, reason: String(cString: strerror(errno)))
        }
    }

    /// The server could not listen on its address (in use, not permitted).
    public struct BindFailure: Error, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var reason: String
        public var description: String {
            "cannot listen for HTTP on \(host):\(port): \(reason). Each process needs a port of its own: set CSE_HTTP_PORT "
                + "(or --http-port) to a free port, 0 for any free port, or off; several processes on one host need one each"
        }
    }

    private let configuration: Configuration
    private let registry: PrometheusCollectorRegistry
    private let isLive: @Sendable () -> Bool
    private let readiness: @Sendable () -> Readiness
    private let onListening: @Sendable (Int) -> Void
    private let logger: Logger

    public init(
        configuration: Configuration, registry: PrometheusCollectorRegistry, logger: Logger,
        isLive: @escaping @Sendable () -> Bool, readiness: @escaping @Sendable () -> Readiness,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.registry = registry
        self.isLive = isLive
        self.readiness = readiness
        self.onListening = onListening
        self.logger = logger
    }

    /// Listens until graceful shutdown (requests in flight finish); throws
    /// `BindFailure` when the address cannot be bound.
    public func run() async throws {
        let router = Router()
        let registry = self.registry
        let isLive = self.isLive
        let readiness = self.readiness
        let process = ProcessMetrics(registry: registry)
        router.get("/metrics") { _, _ in
            process.update()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/health/live") { _, _ in
            Self.json(isLive() ? .ok : .serviceUnavailable, isLive() ? #"{"live":true}"# : #"{"live":false}"#)
        }
        router.get("/health/ready") { _, _ in
            let answer = readiness()
            return Self.json(answer.isReady ? .ok : .serviceUnavailable, answer.json)
        }

        let listening = Mutex(false)
        var serverLogger = logger
        // Request-level chatter stays out of the worker's logs.
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let onListening = self.onListening
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "csworker"),
            onServerRunning: { channel in
                listening.withLock { $0 = true }
                onListening(channel.localAddress?.port ?? 0)
            },
            logger: serverLogger)
        do {
            try await app.run()
        } catch where !listening.withLock({ $0 }) {
            throw BindFailure(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
