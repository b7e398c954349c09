import CaseStorage
import Kafka

/// Which failures are worth retrying: the database or broker is briefly
/// unable (restart, failover, serialization failure, deadlock), not the
/// request wrong. Those are retried with backoff and never dead-lettered.
/// Database failures are classified by storage (`StorageFailure`), so the
/// pipeline needs no SQL driver types.
enum RetryClassifier {
    static func isRetriable(_ error: any Error) -> Bool {
        if StorageFailure.isTransient(error) { return true }
        if let error = error as? KafkaError {
            return error.isRetriable || error.kind == .brokersUnreachable || error.kind == .timedOut
        }
        return false
    }
}
