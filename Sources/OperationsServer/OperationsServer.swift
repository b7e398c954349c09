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
public final class OperationsServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 = any free port (the bound one is returned by `start`).
        public var port: Int

        public init(host: String = "0.0.0.0", port: Int = 8080) {
            self.host = host
            self.port = port
        }
    }

    /// The server could not listen on its address (in use, not permitted).
    public struct BindFailure: Error, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var reason: String
        public var description: String { "cannot listen for HTTP on \(host):\(port): \(reason)" }
    }

    private let configuration: Configuration
    private let registry: PrometheusCollectorRegistry
    private let isLive: @Sendable () -> Bool
    private let readiness: @Sendable () -> Readiness
    private let logger: Logger
    private let running = Mutex<(group: ServiceGroup, task: Task<Void, Never>)?>(nil)

    public init(
        configuration: Configuration, registry: PrometheusCollectorRegistry, logger: Logger,
        isLive: @escaping @Sendable () -> Bool, readiness: @escaping @Sendable () -> Readiness
    ) {
        self.configuration = configuration
        self.registry = registry
        self.isLive = isLive
        self.readiness = readiness
        self.logger = logger
    }

    /// Starts listening; returns the bound port once the socket is bound, or
    /// throws `BindFailure`.
    public func start() async throws -> Int {
        let router = Router()
        let registry = self.registry
        let isLive = self.isLive
        let readiness = self.readiness
        router.get("/metrics") { _, _ in
            Response(
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

        let bound = BoundPort()
        var serverLogger = logger
        // Request-level chatter stays out of the worker's logs.
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "csworker"),
            onServerRunning: { channel in bound.resolve(.success(channel.localAddress?.port ?? 0)) },
            logger: serverLogger)
        // A group of its own, without signal handlers: `csworker run` handles
        // SIGTERM itself and stops the server after the worker (`stop`).
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: serverLogger))
        let configuration = self.configuration
        let task = Task {
            do {
                try await group.run()
            } catch {
                bound.resolve(.failure(BindFailure(host: configuration.host, port: configuration.port, reason: "\(error)")))
            }
        }
        running.withLock { $0 = (group, task) }
        return try await bound.value()
    }

    /// Stops listening, lets requests in flight finish, and waits for the server to close.
    public func stop() async {
        guard let running = running.withLock({ $0.take() }) else { return }
        await running.group.triggerGracefulShutdown()
        await running.task.value
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// The first of "bound to port N" or "failed", handed to one waiter.
private final class BoundPort: Sendable {
    private let state = Mutex<(result: Result<Int, any Error>?, waiter: CheckedContinuation<Int, any Error>?)>((nil, nil))

    func resolve(_ result: Result<Int, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            return state.waiter.take()
        }
        waiter?.resume(with: result)
    }

    func value() async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Int, any Error>? in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
