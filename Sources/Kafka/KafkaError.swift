internal import CRdkafka

/// A librdkafka error code (`rd_kafka_resp_err_t`) with its symbolic name.
/// Negative codes are raised inside the client (`_TRANSPORT`, `_TIMED_OUT`...),
/// positive ones come from a broker (`TOPIC_ALREADY_EXISTS`...).
public struct KafkaErrorCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    init(_ err: rd_kafka_resp_err_t) { self.rawValue = err.rawValue }

    var rd: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

    /// librdkafka's name, e.g. `_ALL_BROKERS_DOWN`, `TOPIC_ALREADY_EXISTS`.
    public var name: String { String(cString: rd_kafka_err2name(rd)) }

    /// librdkafka's human-readable text for the code.
    public var text: String { String(cString: rd_kafka_err2str(rd)) }

    public var description: String { name }

    public static let noError = KafkaErrorCode(RD_KAFKA_RESP_ERR_NO_ERROR)
    public static let timedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR__TIMED_OUT)
    public static let messageTimedOut = KafkaErrorCode(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
    public static let transport = KafkaErrorCode(RD_KAFKA_RESP_ERR__TRANSPORT)
    public static let allBrokersDown = KafkaErrorCode(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    public static let queueFull = KafkaErrorCode(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    public static let invalidArgument = KafkaErrorCode(RD_KAFKA_RESP_ERR__INVALID_ARG)
    public static let state = KafkaErrorCode(RD_KAFKA_RESP_ERR__STATE)
    public static let fatal = KafkaErrorCode(RD_KAFKA_RESP_ERR__FATAL)
    public static let unknownTopicOrPartition = KafkaErrorCode(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    public static let topicAlreadyExists = KafkaErrorCode(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    public static let rebalanceInProgress = KafkaErrorCode(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
    public static let unknownMemberId = KafkaErrorCode(RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID)
    public static let illegalGeneration = KafkaErrorCode(RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION)
    public static let maxPollExceeded = KafkaErrorCode(RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED)

    /// Whether retrying the same operation later can succeed: the broker or the
    /// network is temporarily unable, not the request wrong. Used where
    /// librdkafka gives a bare code rather than an `rd_kafka_error_t`.
    public var isRetriable: Bool { Self.retriable.contains(rawValue) }

    private static let retriable: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, RD_KAFKA_RESP_ERR__TRANSPORT,
        RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE,
        RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__WAIT_COORD,
        RD_KAFKA_RESP_ERR__WAIT_CACHE, RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS,
        RD_KAFKA_RESP_ERR__IN_PROGRESS, RD_KAFKA_RESP_ERR__NODE_UPDATE,
        RD_KAFKA_RESP_ERR__PARTITION_EOF, RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST,
        RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND,
        RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH,
        RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED,
        RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
    ].map(\.rawValue))
}

extension KafkaErrorCode {
    /// Whether a produce that failed with this code can never succeed for the
    /// same message: it is too large for the client or the topic, its topic
    /// does not exist in the cluster (librdkafka's `_UNKNOWN_TOPIC`, given
    /// after metadata said so; the broker's `UNKNOWN_TOPIC_OR_PART` while
    /// metadata propagates stays retriable), the client may not write it, or
    /// the broker finds the record itself invalid. Transport, timeout and
    /// leadership errors are not: the same message goes through later.
    public var isPermanentRefusal: Bool { Self.permanentRefusals.contains(rawValue) }

    private static let permanentRefusals: Set<Int32> = Set([
        // librdkafka gives the broker's code also when it refuses a message
        // larger than its own `message.max.bytes` at produce time.
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_POLICY_VIOLATION,
        RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS, RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
        RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP,
    ].map(\.rawValue))

    public static let messageSizeTooLarge = KafkaErrorCode(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
}

/// A failed Kafka operation: what was being done, librdkafka's code and
/// message, and whether trying again can help. Never carries configuration
/// values or message payloads.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No broker of the configured list answered within the bound.
        case brokersUnreachable
        /// A configuration property is unknown, invalid or conflicts.
        case invalidConfiguration
        /// The operation did not complete within its timeout.
        case timedOut
        /// The client was closed before or during the operation.
        case closed
        /// Any other error raised by the client or returned by a broker.
        case failed
    }

    public let kind: Kind
    /// What was being done, e.g. "produce to cse.tasks.locate.v1".
    public let operation: String
    public let code: KafkaErrorCode
    public let message: String
    public let isRetriable: Bool
    /// The client instance can no longer be used (e.g. idempotent producer
    /// sequence state lost); the application must create a new one.
    public let isFatal: Bool

    public init(
        kind: Kind, operation: String, code: KafkaErrorCode, message: String,
        isRetriable: Bool? = nil, isFatal: Bool = false
    ) {
        self.kind = kind
        self.operation = operation
        self.code = code
        self.message = message
        self.isRetriable = isRetriable ?? (!isFatal && code.isRetriable)
        self.isFatal = isFatal
    }

    /// The message itself is refused for good (see `KafkaErrorCode.isPermanentRefusal`);
    /// a fatal client error is about the client, never the message.
    public var isPermanentRefusal: Bool { !isFatal && code.isPermanentRefusal }

    public var description: String {
        var qualifiers = [code.name]
        if isFatal { qualifiers.append("fatal") } else if isRetriable { qualifiers.append("retriable") }
        return "\(operation) failed: \(message) (\(qualifiers.joined(separator: ", ")))"
    }

    /// From a bare response code: the kind follows the code.
    init(operation: String, err: rd_kafka_resp_err_t, message: String? = nil) {
        let code = KafkaErrorCode(err)
        self.init(
            kind: Self.kind(of: code), operation: operation, code: code,
            message: message ?? code.text, isFatal: err == RD_KAFKA_RESP_ERR__FATAL)
    }

    /// From an `rd_kafka_error_t`, which knows its own retriability; the
    /// caller still owns (and destroys) `error`.
    init(operation: String, error: OpaquePointer) {
        let code = KafkaErrorCode(rd_kafka_error_code(error))
        self.init(
            kind: Self.kind(of: code), operation: operation, code: code,
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0)
    }

    static func closed(_ operation: String) -> KafkaError {
        KafkaError(
            kind: .closed, operation: operation, code: .state,
            message: "the client is closed", isRetriable: false)
    }

    static func invalidConfiguration(_ message: String, code: KafkaErrorCode = .invalidArgument) -> KafkaError {
        KafkaError(
            kind: .invalidConfiguration, operation: "configure Kafka client", code: code,
            message: message, isRetriable: false)
    }

    private static func kind(of code: KafkaErrorCode) -> Kind {
        switch code.rd {
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
            return .timedOut
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
            return .brokersUnreachable
        case RD_KAFKA_RESP_ERR__DESTROY:
            return .closed
        default:
            return .failed
        }
    }
}
