import Kafka
import Testing

@testable import CasePipeline

/// Full batches through a backlog, short ones while the worker keeps up.
@Suite("Pipeline: batch size")
struct BatchLimitTests {
    static func configuration(maxBatch: Int, caughtUpBatch: Int) -> Worker.Configuration {
        var configuration = Worker.Configuration(
            consumer: KafkaConsumerConfiguration(bootstrapServers: ["127.0.0.1:1"], groupId: "g"), topics: PipelineTopics())
        configuration.maxBatch = maxBatch
        configuration.caughtUpBatch = caughtUpBatch
        return configuration
    }

    @Test func aBacklogBeyondOneBatchGetsFullBatches_elseTheCaughtUpSize() {
        let configuration = Self.configuration(maxBatch: 2_000, caughtUpBatch: 500)
        #expect(configuration.batchLimit(buffered: 5_000) == 2_000)
        #expect(configuration.batchLimit(buffered: 2_001) == 2_000)
        #expect(configuration.batchLimit(buffered: 2_000) == 500)
        #expect(configuration.batchLimit(buffered: 120) == 500)
        // One record per transaction stays one.
        #expect(Self.configuration(maxBatch: 1, caughtUpBatch: 500).batchLimit(buffered: 300) == 1)
        #expect(Self.configuration(maxBatch: 1, caughtUpBatch: 500).batchLimit(buffered: 1) == 1)
    }
}
