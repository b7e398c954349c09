/// What the worker does with a batch that failed for good (a failure some
/// record can cause, `ProcessingFailure.canBeCausedByInput`): applies it in
/// halves, then single records, each piece its own transaction, and sets
/// aside (`refuse`: a `processing-failed` dead letter) each single record
/// that still fails. k poison records among n cost about 2k·log2(n)
/// transactions; the rest applies as it would have, in the same order.
/// A single record that fails is tried once more without releasing the
/// events waiting for it (`applyAlone`): if that succeeds, what failed was a
/// waiting event, which stays parked until expiry sets it aside, and the
/// record is not punished for it.
/// A passing failure (or a piece past its time limit) is thrown: the caller
/// retries the whole batch, and the pieces already committed come again as
/// duplicates of events already recorded.
enum BatchNarrowing {
    static func apply(
        _ records: [InboundRecord], failedWith failure: any Error,
        process: ([InboundRecord]) throws -> BatchReport,
        applyAlone: (InboundRecord) throws -> BatchReport,
        refuse: (InboundRecord, any Error) throws -> BatchReport
    ) throws -> BatchReport {
        if records.count == 1 {
            do {
                return try applyAlone(records[0])
            } catch where ProcessingFailure.canBeCausedByInput(error) {
                return try refuse(records[0], failure)
            }
        }
        let middle = records.count / 2
        var report = BatchReport()
        for half in [Array(records[..<middle]), Array(records[middle...])] {
            do {
                report.add(try process(half))
            } catch where ProcessingFailure.canBeCausedByInput(error) {
                report.add(try apply(half, failedWith: error, process: process, applyAlone: applyAlone, refuse: refuse))
            }
        }
        return report
    }
}
