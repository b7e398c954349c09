internal import CRdkafka
import Logging
import Synchronization
import TimeUnits

/// An idempotent producer whose sends complete when the broker has
/// acknowledged (or finally rejected) each message.
///
/// Thread-safe: any task or thread may send concurrently. A background thread
/// serves delivery reports. Call `close()` before dropping the last reference
/// so queued messages are flushed rather than purged.
public final class KafkaProducer: Sendable {
    private let client: RdKafkaClient
    private let pollThread: PollThread
    private let gate = UseGate()
    private let logger: Logger
    private let messageTimeout: Duration

    /// Creates the producer and waits (up to
    /// `configuration.brokerUnreachableTimeout`) for a broker to answer, so a
    /// wrong or dead broker address fails here with `.brokersUnreachable`.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws {
        let context = ClientContext(logger: logger, brokers: configuration.bootstrapServers)
        client = try RdKafkaClient(
            type: RD_KAFKA_PRODUCER, properties: try configuration.librdkafkaProperties(), context: context
        ) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        }
        pollThread = PollThread(client: client, name: "kafka-producer-poll")
        self.logger = logger
        self.messageTimeout = configuration.messageTimeout
        do {
            try client.checkReachable(timeout: configuration.brokerUnreachableTimeout)
        } catch {
            pollThread.stop()
            throw error
        }
    }

    deinit {
        pollThread.stop()
    }

    /// Produces one message and returns once the broker has acknowledged it.
    /// Not cancellable: the message is already on its way once enqueued and
    /// the call returns its outcome within the message timeout. If librdkafka's
    /// local queue is full, enqueueing blocks the calling thread (serving
    /// acknowledgements) until there is room, up to the message timeout.
    public func send(_ message: KafkaOutgoingMessage) async throws -> KafkaDeliveryReport {
        let result = await withCheckedContinuation { continuation in
            let delivery = PendingDelivery { continuation.resume(returning: $0) }
            if let error = enqueue(message, delivery: delivery) {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Enqueues every message, then waits for all acknowledgements. Results
    /// are in the order of `messages`; one failure does not stop the others.
    /// Messages to the same partition keep their order (idempotence).
    public func sendAll(_ messages: [KafkaOutgoingMessage]) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        guard !messages.isEmpty else { return [] }
        if gate.isClosed { throw KafkaError.closed("produce batch") }
        return await withCheckedContinuation { continuation in
            let batch = PendingBatch(count: messages.count, continuation: continuation)
            for (index, message) in messages.enumerated() {
                let delivery = PendingDelivery { batch.complete(index, $0) }
                if let error = enqueue(message, delivery: delivery) {
                    batch.complete(index, .failure(error))
                }
            }
        }
    }

    /// Waits until every queued message is acknowledged or failed.
    public func flush(timeout: Duration) throws {
        try gate.with("flush producer") {
            let err = rd_kafka_flush(client.handle, timeout.rdKafkaMilliseconds)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let pending = rd_kafka_outq_len(client.handle)
                throw KafkaError(
                    operation: "flush producer", err: err,
                    message: "\(pending) messages still unacknowledged after \(timeout.humanReadable)")
            }
        }
    }

    /// Flushes for up to `timeout`, then fails whatever is still queued
    /// (its sends return `_PURGE_QUEUE`/`_PURGE_INFLIGHT` errors) and stops
    /// the background thread. Later calls fail with `.closed`.
    public func close(timeout: Duration = .seconds(10)) {
        guard gate.close() else { return }
        if rd_kafka_flush(client.handle, timeout.rdKafkaMilliseconds) != RD_KAFKA_RESP_ERR_NO_ERROR {
            let pending = rd_kafka_outq_len(client.handle)
            logger.warning("closing producer with \(pending) unacknowledged messages; failing them")
            let flags = RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT
            rd_kafka_purge(client.handle, Int32(flags))
            // Purged messages report through the delivery callback; serve them
            // so every waiting send completes.
            _ = rd_kafka_flush(client.handle, 1000)
        }
        pollThread.stop()
    }

    /// Hands one message to librdkafka. On failure the delivery callback will
    /// never fire, so the caller completes the send with the returned error.
    private func enqueue(_ message: KafkaOutgoingMessage, delivery: PendingDelivery) -> KafkaError? {
        let operation = "produce to \(message.topic)"
        // Only the enqueue holds the gate: close() must not wait for
        // acknowledgements it is about to flush or purge.
        do { try gate.enter(operation) } catch { return error as? KafkaError }
        defer { gate.leave() }
        if let fatal = client.fatalError(operation: operation) { return fatal }
        let opaque = Unmanaged.passRetained(delivery).toOpaque()
        let deadline = ContinuousClock.now + messageTimeout
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                header.value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                }
            }
        }
        let failure: KafkaError? = message.topic.withCString { topic in
            withOptionalBytes(message.key) { key in
                withOptionalBytes(message.value) { value in
                    var vus = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 7)
                    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    vus[0].u.cstr = topic
                    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    vus[1].u.i32 = message.partition ?? RD_KAFKA_PARTITION_UA
                    vus[2].vtype = RD_KAFKA_VTYPE_KEY
                    vus[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    vus[2].u.mem.size = key.count
                    vus[3].vtype = RD_KAFKA_VTYPE_VALUE
                    vus[3].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    vus[3].u.mem.size = value.count
                    vus[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    vus[4].u.i = RD_KAFKA_MSG_F_COPY
                    vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    vus[5].u.ptr = opaque
                    var count = 6
                    if let headers {
                        vus[6].vtype = RD_KAFKA_VTYPE_HEADERS
                        vus[6].u.headers = headers
                        count = 7
                    }
                    while true {
                        guard let error = rd_kafka_produceva(client.handle, vus, count) else { return nil }
                        defer { rd_kafka_error_destroy(error) }
                        // A full local queue drains as the broker acknowledges;
                        // wait for that rather than failing the send.
                        if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL, ContinuousClock.now < deadline {
                            rd_kafka_poll(client.handle, 10)
                            continue
                        }
                        return KafkaError(operation: operation, error: error)
                    }
                }
            }
        }
        if failure != nil {
            // Not enqueued: librdkafka took ownership of neither.
            Unmanaged<PendingDelivery>.fromOpaque(opaque).release()
            if let headers { rd_kafka_headers_destroy(headers) }
        }
        return failure
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let bytes {
        // A zero-length buffer may have no base address; librdkafka would read
        // that as a null key/value, so point at a real empty array's storage.
        return bytes.isEmpty ? [0].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<0])) } : bytes.withUnsafeBytes(body)
    }
    return body(UnsafeRawBufferPointer(start: nil, count: 0))
}

/// One message awaiting its delivery report. Retained by librdkafka (through
/// the message opaque) from enqueue until the report, then released.
final class PendingDelivery: Sendable {
    let complete: @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void

    init(_ complete: @escaping @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        self.complete = complete
    }
}

/// Collects the reports of one `sendAll`, resuming its caller after the last.
final class PendingBatch: Sendable {
    typealias Results = [Result<KafkaDeliveryReport, KafkaError>]
    private let state: Mutex<(results: [Result<KafkaDeliveryReport, KafkaError>?], remaining: Int)>
    private let continuation: CheckedContinuation<Results, Never>

    init(count: Int, continuation: CheckedContinuation<Results, Never>) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.continuation = continuation
    }

    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let finished: Results? = state.withLock { state in
            precondition(state.results[index] == nil, "a message completed twice")
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results.map { $0! } : nil
        }
        if let finished { continuation.resume(returning: finished) }
    }
}

private func deliveryReportCallback(
    _ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let messageOpaque = message.pointee._private else { return }
    let delivery = Unmanaged<PendingDelivery>.fromOpaque(messageOpaque).takeRetainedValue()
    let m = message.pointee
    let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    let context = ClientContext.from(opaque)
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        context?.noteBrokerAnswered()
        delivery.complete(.success(KafkaDeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
        return
    }
    let operation = "produce to \(topic)"
    let detail = String(cString: rd_kafka_err2str(m.err))
    // A message that timed out while no broker was reachable failed because
    // of the brokers, not the message; say so.
    if m.err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, let context, context.brokersDown(longerThan: .zero) {
        delivery.complete(
            .failure(
                context.unreachable(
                    operation: operation, code: KafkaErrorCode(m.err),
                    reason: "the message timed out while no broker was reachable")))
        return
    }
    delivery.complete(.failure(KafkaError(operation: operation, err: m.err, message: detail)))
}
