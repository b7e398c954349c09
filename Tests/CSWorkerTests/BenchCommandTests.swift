import Foundation
import Testing

@testable import csworker

@Suite struct BenchArithmeticTests {
    @Test func maxBatchIsPassedOnOnlyWhenPositive() throws {
        #expect(try BenchCommand.parse(["--max-batch", "500"]).maxBatch == 500)
        #expect(try BenchCommand.parse([]).maxBatch == nil)
        #expect(throws: (any Error).self) { try BenchCommand.parse(["--max-batch", "0"]) }
    }

    @Test func nearestRankPercentiles() {
        let values = (1...100).map(Double.init).shuffled()
        #expect(BenchStatistics.percentile(50, of: values) == 50)
        #expect(BenchStatistics.percentile(95, of: values) == 95)
        #expect(BenchStatistics.percentile(99, of: values) == 99)
        #expect(BenchStatistics.percentile(100, of: values) == 100)
        #expect(BenchStatistics.percentile(0, of: values) == 1)
        #expect(BenchStatistics.percentile(99, of: [7]) == 7)
        #expect(BenchStatistics.percentile(50, of: []) == nil)
        // Small samples: p99 of four values is the largest, p50 the second.
        #expect(BenchStatistics.percentile(99, of: [4, 1, 3, 2]) == 4)
        #expect(BenchStatistics.percentile(50, of: [4, 1, 3, 2]) == 2)
    }

    @Test func medians() {
        #expect(BenchStatistics.median([3, 1, 2]) == 2)
        #expect(BenchStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(BenchStatistics.median([5]) == 5)
        #expect(BenchStatistics.median([]) == nil)
    }

    @Test func tokenBucketPacesAtTheRateAndCapsBursts() {
        var bucket = TokenBucket(rate: 2_000, burst: 200, start: 0)
        #expect(bucket.take(now: 0, limit: 1_000) == 0)
        #expect(abs(bucket.wait() - 0.0005) < 1e-9)
        #expect(bucket.take(now: 0.010, limit: 1_000) == 20)
        // A stall of a second grants the burst, not 2,000 events.
        #expect(bucket.take(now: 1.010, limit: 1_000) == 200)
        // The limit spends only what is produced; the rest stays for later.
        #expect(bucket.take(now: 1.020, limit: 5) == 5)
        #expect(bucket.take(now: 1.020, limit: 100) == 15)
        // Over a long steady run the count matches the rate.
        var steady = TokenBucket(rate: 2_000, burst: 200, start: 0)
        var produced = 0
        for tick in 1...1_000 { produced += steady.take(now: Double(tick) * 0.005, limit: .max) }
        // Floating-point accrual may leave the last token a hair short of whole.
        #expect((9_999...10_000).contains(produced))
    }

    @Test func statusFieldsParseFromProcStatus() {
        let status = "Name:\tcsworker\nVmHWM:\t  183204 kB\nVmRSS:\t  171332 kB\nThreads:\t12\n"
        #expect(BenchWorkerGroup.parseStatusField("VmRSS", in: status) == 171_332)
        #expect(BenchWorkerGroup.parseStatusField("VmHWM", in: status) == 183_204)
        #expect(BenchWorkerGroup.parseStatusField("VmSwap", in: status) == nil)
    }

    @Test func benchDatabaseURLKeepsTheServerAndChangesTheDatabase() {
        #expect(
            BenchRunner.databaseURL("postgresql://postgres@127.0.0.1:55432/csworker", database: "bench_b_1")
                == "postgresql://postgres@127.0.0.1:55432/bench_b_1")
        #expect(
            BenchRunner.databaseURL("postgresql://u:pw@db:5432/cases?sslmode=require", database: "bench_x")
                == "postgresql://u:pw@db:5432/bench_x?sslmode=require")
        #expect(BenchRunner.databaseURL("host=db dbname=cases", database: "bench_x") == "host=db dbname=cases dbname=bench_x")
    }

    @Test func reportShowsMediansEachRunAndRatios() {
        func figures(_ rate: Double, p99: Double? = nil) -> BenchFigures {
            BenchFigures(
                events: 1_000, loadSeconds: 0.5, eventsPerSecond: rate, transactionsPerEvent: 0.01, rowsWrittenPerEvent: 4,
                latencyP99Ms: p99, peakRSSMiB: [40, 60])
        }
        let results: [(BenchColumn, [BenchFigures])] = [
            (.batched, [figures(9_000, p99: 80), figures(10_000, p99: 120), figures(11_000, p99: 100)]),
            (.perEvent, [figures(1_000), figures(3_000)]),
            (.ceiling, [figures(20_000)]),
        ]
        let table = BenchReport.table(results)
        let rateLine = table.split(separator: "\n").first { $0.hasPrefix("events/s end to end") }
        #expect(rateLine?.contains("10000 [9000, 10000, 11000]") == true)
        #expect(rateLine?.contains("2000 [1000, 3000]") == true)
        let latencyLine = table.split(separator: "\n").first { $0.hasPrefix("latency p99 (ms)") }
        #expect(latencyLine?.contains("100.0 [80.0, 120.0, 100.0]") == true)
        #expect(latencyLine?.contains("- [-, -]") == true)
        #expect(table.contains("60.0 [60.0, 60.0, 60.0]"))
        #expect(BenchReport.ratios(results) == ["batched/per-event events/s = 5.00x", "batched/ceiling events/s = 0.50x"])
        #expect(BenchReport.ratios([(.ceiling, [figures(1)])]).isEmpty)
    }

    @Test func scalingColumnsAreComparedWithTheFirstAndWithTheirOwnWorkerCount() {
        func figures(_ rate: Double) -> BenchFigures {
            BenchFigures(events: 1_000, loadSeconds: nil, eventsPerSecond: rate, transactionsPerEvent: 0.01, rowsWrittenPerEvent: 4)
        }
        let results: [(BenchColumn, [BenchFigures])] = [
            (BenchColumn(mode: .batched, workers: 1), [figures(1_000)]),
            (BenchColumn(mode: .batched, workers: 2), [figures(1_800)]),
            (BenchColumn(mode: .batched, workers: 4), [figures(2_500)]),
            (BenchColumn(mode: .perEvent, workers: 1), [figures(250)]),
            (BenchColumn(mode: .perEvent, workers: 2), [figures(400)]),
            (.ceiling, [figures(5_000)]),
        ]
        let header = BenchReport.table(results).split(separator: "\n")[0].split(separator: " ", omittingEmptySubsequences: true)
        #expect(header.suffix(11).joined(separator: " ") == "batched x1 batched x2 batched x4 per-event x1 per-event x2 ceiling")
        #expect(BenchReport.ratios(results) == [
            "batched x1/per-event x1 events/s = 4.00x", "batched x1/ceiling events/s = 0.20x",
            "batched x2/per-event x2 events/s = 4.50x", "batched x2/ceiling events/s = 0.36x",
            "batched x4/ceiling events/s = 0.50x",
            "batched x2/batched x1 events/s = 1.80x", "batched x4/batched x1 events/s = 2.50x",
        ])
    }
}

/// One small real run of `csworker bench` against the local services
/// (`eval "$(scripts/services.sh env)"`).
@Suite(.serialized) struct BenchRunTests {
    @Test func smallBatchedRunReportsSaneFigures() async throws {
        let environment = ProcessInfo.processInfo.environment
        for name in ["CSE_KAFKA_BROKERS", "CSE_DATABASE_URL", "CSE_SSN_KEY"] {
            try #require(
                environment[name]?.isEmpty == false,
                "\(name) is not set: start the services and run eval \"$(scripts/services.sh env)\" first")
        }
        let outcome = try await BuiltBinary.run([
            "bench", "--cases", "30", "--runs", "1", "--modes", "batched", "--rate", "200", "--workers", "1",
            "--latency-seconds", "2", "--allow-existing-data",
        ])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("csworker bench: ") == true)

        func figure(_ label: String) -> Double? {
            guard let line = lines.first(where: { $0.hasPrefix(label) }) else { return nil }
            // "<label>  <median> [<runs>]": the first field after the label.
            return line.dropFirst(label.count).split(separator: " ").first.flatMap { Double($0) }
        }
        let rate = try #require(figure("events/s end to end"), "no events/s in:\n\(outcome.stdout)")
        #expect(rate > 0)
        let p50 = try #require(figure("latency p50 (ms)"), "no p50 in:\n\(outcome.stdout)")
        let p99 = try #require(figure("latency p99 (ms)"), "no p99 in:\n\(outcome.stdout)")
        #expect(p50 > 0)
        #expect(p99 >= p50)
        #expect(try #require(figure("peak RSS, largest worker (MiB)")) > 0)
        #expect(try #require(figure("rows written/event")) > 0)
        #expect(try #require(figure("latency samples")) > 0)
    }
}
