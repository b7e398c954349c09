import CasePipeline
import Testing

/// The worker's phases and what each transition asks of the loop: pure, no broker.
@Suite("Worker lifecycle: phases and transitions")
struct WorkerLifecycleTests {
    let t0 = ContinuousClock.now

    @Test func joiningThenConsumingOnTheFirstAssignment() {
        var lifecycle = WorkerLifecycle()
        #expect(lifecycle.phase == .joining && !lifecycle.holdsAssignment)
        #expect(lifecycle.assigned() == .none)
        #expect(lifecycle.phase == .consuming && lifecycle.holdsAssignment)
    }

    @Test func aFailingBatchPausesOnce_retriesSinceItsFirstFailure_andResumesWhenApplied() {
        var lifecycle = WorkerLifecycle()
        _ = lifecycle.assigned()
        #expect(lifecycle.batchFailed(at: t0) == .pausePartitions)
        #expect(lifecycle.phase == .retrying(since: t0))
        #expect(lifecycle.batchFailed(at: t0 + .seconds(5)) == .none)
        #expect(lifecycle.retryingSince == t0)
        // Partitions assigned while retrying join the pause.
        #expect(lifecycle.assigned() == .pausePartitions)
        #expect(lifecycle.batchApplied() == .resumePartitions)
        #expect(lifecycle.phase == .consuming && lifecycle.retryingSince == nil)
        #expect(lifecycle.batchApplied() == .none)
    }

    @Test func losingTheAssignmentGoesBackToJoining_evenWhileRetrying() {
        var lifecycle = WorkerLifecycle()
        _ = lifecycle.assigned()
        _ = lifecycle.batchFailed(at: t0)
        #expect(lifecycle.lost() == .none)
        #expect(lifecycle.phase == .joining && !lifecycle.holdsAssignment)
        #expect(lifecycle.assigned() == .none)
        #expect(lifecycle.phase == .consuming)
    }

    @Test func stopDrainsTheBatchInHand_butAbandonsOneThatIsFailing() {
        var consuming = WorkerLifecycle()
        _ = consuming.assigned()
        #expect(consuming.stopRequested() == .none)
        #expect(consuming.phase == .draining && consuming.isStopping)
        #expect(consuming.batchApplied() == .none)
        // A failure after the stop: leave it to the partitions' next owner.
        #expect(consuming.batchFailed(at: t0) == .abandonBatch)

        var retrying = WorkerLifecycle()
        _ = retrying.assigned()
        _ = retrying.batchFailed(at: t0)
        #expect(retrying.stopRequested() == .abandonBatch)
        #expect(retrying.phase == .draining)
        #expect(retrying.stopRequested() == .none)
    }

    @Test func theLoopEndingLeavesTheGroupOnce() {
        var lifecycle = WorkerLifecycle()
        _ = lifecycle.assigned()
        _ = lifecycle.stopRequested()
        #expect(lifecycle.loopEnded() == .leaveGroup)
        #expect(lifecycle.phase == .stopped && !lifecycle.holdsAssignment)
        #expect(lifecycle.loopEnded() == .none)
        #expect(lifecycle.stopRequested() == .none && lifecycle.assigned() == .none && lifecycle.phase == .stopped)
    }

    @Test func aFailureBeforeAnyAssignmentStillRetries() {
        var lifecycle = WorkerLifecycle()
        #expect(lifecycle.batchFailed(at: t0) == .pausePartitions)
        #expect(lifecycle.batchApplied() == .resumePartitions)
        #expect(lifecycle.phase == .joining)
    }
}
