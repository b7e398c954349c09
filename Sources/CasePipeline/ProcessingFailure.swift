import CaseContract
import CaseDomain
import CaseStorage
import Kafka

/// Failures of a batch that are neither passing (`RetryClassifier`) nor a
/// batch too big for its time limit: some record in it makes the batch fail
/// for good, unless the deployment itself is wrong. The worker narrows such a
/// batch to the records that cause it and dead-letters each as
/// `processing-failed`; only deployment problems stop the process.
enum ProcessingFailure {
    static let errorClass = "processing-failed"

    /// Whether a record can be the cause, so narrowing the batch can help.
    static func canBeCausedByInput(_ error: any Error) -> Bool {
        !RetryClassifier.isRetriable(error) && !StorageFailure.isOverTimeLimit(error)
            && !StorageFailure.isDeploymentProblem(error) && !(error is KafkaError)
    }

    /// A dead letter's reason: the class of the failure and where it happened,
    /// never a value (database messages and Swift descriptions can quote them).
    static func reason(_ error: any Error) -> String {
        if let reason = StorageFailure.reason(error) { return reason }
        if let error = error as? EventDecodingError { return DeadLetter.reason(error) }
        if let error = error as? RuleError { return DeadLetter.reason(error) }
        if let error = error as? LedgerError { return "the ledger refused it: \(LedgerReason.text(error))" }
        return "processing failed (\(String(reflecting: type(of: error))))"
    }
}
