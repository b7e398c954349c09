import Kafka
import Postgres

/// Which failures are worth retrying: the database or broker is briefly
/// unable (restart, failover, serialization failure, deadlock), not the
/// request wrong. Those are retried with backoff and never dead-lettered.
enum RetryClassifier {
    static func isRetriable(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresError: error.isRetriable
        case let error as KafkaError: error.isRetriable || error.kind == .brokersUnreachable || error.kind == .timedOut
        default: false
        }
    }
}
