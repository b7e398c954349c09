internal import CRdkafka
import Dispatch
import Foundation
import Logging
import Synchronization
import TimeUnits

/// The librdkafka version actually loaded at run time, e.g. "2.16.0".
public let librdkafkaVersion: String = String(cString: rd_kafka_version_str())

/// The loaded librdkafka version as librdkafka encodes it (0xMMmmrrxx).
public let librdkafkaVersionNumber: Int = Int(rd_kafka_version())

/// What librdkafka's callbacks need to reach Swift: handed to librdkafka as
/// the handle's opaque, retained until the handle is destroyed.
final class ClientContext: Sendable {
    struct Connectivity: Sendable {
        /// Set by `_ALL_BROKERS_DOWN`, cleared by any sign of a live broker.
        var allDownSince: ContinuousClock.Instant?
        var lastTransportError: String?
        var fatal: KafkaError?
    }

    let logger: Logger
    /// The configured bootstrap list, as written in errors ("127.0.0.1:1").
    let brokers: String
    let connectivity = Mutex(Connectivity())
    let rebalance: RebalanceDispatch?
    /// librdkafka reports every reconnect attempt to a dead broker (several a
    /// second at first); one line per distinct message per window is enough.
    let repeats = LogRepeatFilter(window: .seconds(30))

    init(logger: Logger, brokers: [String], rebalance: RebalanceDispatch? = nil) {
        self.logger = logger
        self.brokers = brokers.joined(separator: ",")
        self.rebalance = rebalance
    }

    func noteBrokerAnswered() {
        connectivity.withLock { $0.allDownSince = nil }
    }

    func brokersDown(longerThan bound: Duration) -> Bool {
        connectivity.withLock { state in
            state.allDownSince.map { ContinuousClock.now - $0 >= bound } ?? false
        }
    }

    var fatalError: KafkaError? { connectivity.withLock { $0.fatal } }

    func unreachable(operation: String, code: KafkaErrorCode, reason: String) -> KafkaError {
        let last = connectivity.withLock { $0.lastTransportError }
        var message = "brokers \(brokers) unreachable: \(reason)"
        if let last { message += " (last error: \(last))" }
        return KafkaError(
            kind: .brokersUnreachable, operation: operation, code: code, message: message, isRetriable: true)
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientContext? {
        opaque.map { Unmanaged<ClientContext>.fromOpaque($0).takeUnretainedValue() }
    }

    static func of(_ rk: OpaquePointer?) -> ClientContext? {
        rk.flatMap { from(rd_kafka_opaque($0)) }
    }
}

/// Owns one `rd_kafka_t`. librdkafka handles are thread-safe, so any thread
/// may call through `handle`; the handle is destroyed only in `deinit`, when
/// no Swift code can be using it any more. Wrappers that run threads which
/// use the handle must stop them before releasing their client.
final class RdKafkaClient: @unchecked Sendable {
    let handle: OpaquePointer
    let context: ClientContext
    private let contextReference: Unmanaged<ClientContext>

    init(
        type: rd_kafka_type_t, properties: [(String, String)], context: ClientContext,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError.invalidConfiguration("cannot allocate a librdkafka configuration")
        }
        var errstr = [CChar](repeating: 0, count: 512)
        for (name, value) in properties {
            let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                // librdkafka's own text quotes the value; say only which property.
                let problem = result == RD_KAFKA_CONF_UNKNOWN ? "unknown" : "invalid value for"
                throw KafkaError.invalidConfiguration("\(problem) configuration property \"\(name)\"")
            }
        }
        configure(conf)
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, kafkaErrorCallback)
        let reference = Unmanaged.passRetained(context)
        rd_kafka_conf_set_opaque(conf, reference.toOpaque())

        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            reference.release()
            // These messages name conflicting properties, never values.
            throw KafkaError.invalidConfiguration(
                "cannot create Kafka client: \(String(cBuffer: errstr))")
        }
        self.handle = rk
        self.context = context
        self.contextReference = reference
        context.logger.debug(
            "created Kafka client",
            metadata: [
                "librdkafka": "\(librdkafkaVersion)",
                "configuration": "\(KafkaConfigurationOverrides.redacted(properties))",
            ])
    }

    deinit {
        rd_kafka_destroy(handle)
        contextReference.release()
    }

    /// Asks the brokers for cluster metadata (all topics or only the locally
    /// known ones). The caller destroys the result with `rd_kafka_metadata_destroy`.
    func fetchMetadata(
        allTopics: Bool, timeout: Duration, operation: String
    ) throws -> UnsafePointer<rd_kafka_metadata_t> {
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        let start = ContinuousClock.now
        let err = rd_kafka_metadata(handle, allTopics ? 1 : 0, nil, &metadata, timeout.rdKafkaMilliseconds)
        let waited = ContinuousClock.now - start
        switch err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            context.noteBrokerAnswered()
            return metadata!
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE:
            throw context.unreachable(
                operation: operation, code: KafkaErrorCode(err),
                reason: "no broker answered (waited \(waited.humanReadable))")
        default:
            throw KafkaError(operation: operation, err: err)
        }
    }

    /// Fails with `.brokersUnreachable` unless a broker answers within `timeout`.
    func checkReachable(timeout: Duration) throws {
        let metadata = try fetchMetadata(
            allTopics: false, timeout: timeout, operation: "connect to brokers \(context.brokers)")
        rd_kafka_metadata_destroy(metadata)
    }

    /// The fatal error that made this client unusable, if one occurred.
    func fatalError(operation: String) -> KafkaError? {
        guard context.fatalError != nil else { return nil }
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        return KafkaError(
            kind: .failed, operation: operation, code: KafkaErrorCode(err),
            message: "client failed fatally: \(String(cBuffer: errstr))", isRetriable: false, isFatal: true)
    }
}

/// librdkafka logs with syslog levels; map them onto swift-log's.
private func kafkaLogCallback(
    _ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ text: UnsafePointer<CChar>?
) {
    guard let context = ClientContext.of(rk) else { return }
    let message = text.map { String(cString: $0) } ?? ""
    guard let suppressed = context.repeats.admit(message) else { return }
    let swiftLevel: Logger.Level =
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    var metadata: Logger.Metadata = ["librdkafka.facility": "\(facility.map { String(cString: $0) } ?? "")"]
    if suppressed > 0 { metadata["repeats.suppressed"] = "\(suppressed)" }
    context.logger.log(level: swiftLevel, "\(message)", metadata: metadata)
}

/// Client-level errors: connectivity, authentication, fatal idempotence
/// failures. librdkafka keeps retrying on its own; we remember what the
/// operations need to fail with a clear error instead of waiting forever.
private func kafkaErrorCallback(
    _ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let context = ClientContext.from(opaque) else { return }
    let code = KafkaErrorCode(rawValue: err)
    let reasonText = reason.map { String(cString: $0) } ?? code.text
    switch code.rd {
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        context.connectivity.withLock { state in
            if state.allDownSince == nil { state.allDownSince = .now }
        }
    case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__AUTHENTICATION,
        RD_KAFKA_RESP_ERR__SSL:
        context.connectivity.withLock { $0.lastTransportError = reasonText }
    case RD_KAFKA_RESP_ERR__FATAL:
        let error = KafkaError(
            kind: .failed, operation: "Kafka client", code: code, message: reasonText, isRetriable: false,
            isFatal: true)
        context.connectivity.withLock { $0.fatal = error }
        context.logger.critical("Kafka client failed fatally: \(reasonText)")
        return
    default:
        break
    }
    guard let suppressed = context.repeats.admit("\(code.rawValue) \(reasonText)") else { return }
    var metadata: Logger.Metadata = ["kafka.error": "\(code.name)", "kafka.brokers": "\(context.brokers)"]
    if suppressed > 0 { metadata["repeats.suppressed"] = "\(suppressed)" }
    context.logger.warning("Kafka client error: \(reasonText)", metadata: metadata)
}

/// Serves a handle's main queue (delivery reports, error and statistics
/// callbacks) on a dedicated thread until stopped.
final class PollThread: @unchecked Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    init(client: RdKafkaClient, name: String) {
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                rd_kafka_poll(client.handle, 100)
            }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread has made its last `rd_kafka_poll` call.
    func stop() {
        if running.exchange(false, ordering: .acquiringAndReleasing) {
            finished.wait()
        }
    }
}

/// Lets `close()` wait for calls in progress on other threads and refuse
/// later ones, without holding a lock across blocking librdkafka calls
/// (a rebalance handler running inside `poll` may commit).
final class UseGate: Sendable {
    private let state = Mutex<(inFlight: Int, closed: Bool)>((0, false))

    func enter(_ operation: String) throws -> Void {
        let admitted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
        if !admitted { throw KafkaError.closed(operation) }
    }

    func leave() {
        state.withLock { $0.inFlight -= 1 }
    }

    func with<T>(_ operation: String, _ body: () throws -> T) throws -> T {
        try enter(operation)
        defer { leave() }
        return try body()
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Marks closed and waits for calls in progress; false if already closed.
    /// Must not be called from inside a call it waits for.
    func close() -> Bool {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return false }
        while state.withLock({ $0.inFlight }) > 0 {
            usleep(1000)
        }
        return true
    }
}

// MARK: - Topic partition lists

typealias PartitionList = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

func makePartitionList(_ entries: [(topic: String, partition: Int32, offset: Int64?)]) -> PartitionList {
    let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
    for entry in entries {
        let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)!
        if let offset = entry.offset { element.pointee.offset = offset }
    }
    return list
}

func makePartitionList(_ partitions: [TopicPartition]) -> PartitionList {
    makePartitionList(partitions.map { ($0.topic, $0.partition, nil) })
}

struct PartitionListEntry {
    var topicPartition: TopicPartition
    var offset: Int64
    var error: rd_kafka_resp_err_t
}

func readPartitionList(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [PartitionListEntry] {
    guard let list, let elements = list.pointee.elems else { return [] }
    return (0..<Int(list.pointee.cnt)).map { index in
        let element = elements[index]
        return PartitionListEntry(
            topicPartition: TopicPartition(topic: String(cString: element.topic), partition: element.partition),
            offset: element.offset, error: element.err)
    }
}

extension String {
    /// Text of a NUL-terminated C buffer librdkafka wrote into.
    init(cBuffer: [CChar]) {
        self.init(decoding: cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Lets a message through the first time and then at most once per window,
/// saying how many identical ones it held back in between.
final class LogRepeatFilter: Sendable {
    private struct Seen {
        var lastLogged: ContinuousClock.Instant
        var suppressed: Int
    }

    private let window: Duration
    private let seen = Mutex<[String: Seen]>([:])

    init(window: Duration) {
        self.window = window
    }

    /// nil: drop this one. Otherwise log it, noting the returned number of
    /// repeats dropped since it was last logged.
    func admit(_ message: String, now: ContinuousClock.Instant = .now) -> Int? {
        let message = Self.withoutTimings(message)
        return seen.withLock { seen in
            if var entry = seen[message], now - entry.lastLogged < window {
                entry.suppressed += 1
                seen[message] = entry
                return nil
            }
            let suppressed = seen[message]?.suppressed ?? 0
            if seen.count > 256 { seen.removeAll(keepingCapacity: true) }
            seen[message] = Seen(lastLogged: now, suppressed: 0)
            return suppressed
        }
    }

    /// "... Connection refused (after 0ms in state CONNECT)" differs only in
    /// its timing from one attempt to the next.
    static func withoutTimings(_ message: String) -> String {
        guard let start = message.range(of: "(after ") else { return message }
        guard let end = message[start.upperBound...].firstIndex(of: ")") else { return message }
        return String(message[..<start.lowerBound] + message[message.index(after: end)...])
    }
}
