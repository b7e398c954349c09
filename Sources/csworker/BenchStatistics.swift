import CaseStorage
import Foundation

/// The arithmetic of `csworker bench`, kept free of I/O so it is tested on its own.
enum BenchStatistics {
    /// Nearest-rank percentile (p in 0...100) of unsorted values; nil when empty.
    static func percentile(_ p: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The middle value, or the mean of the two middle values; nil when empty.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Paces production at an offered rate: tokens accrue at `rate` per second up
/// to `burst`, and each produced event spends one. A producer that falls
/// behind catches up by at most `burst` events at once rather than flooding.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: Double

    /// `start` and later `now` values are seconds on one monotonic clock.
    init(rate: Double, burst: Double, start: Double) {
        precondition(rate > 0 && burst >= 1)
        self.rate = rate
        self.burst = burst
        tokens = 0
        last = start
    }

    /// How many events may be produced now (at most `limit`); spends them.
    mutating func take(now: Double, limit: Int) -> Int {
        tokens = min(burst, tokens + max(0, now - last) * rate)
        last = max(last, now)
        let granted = min(Int(tokens), limit)
        tokens -= Double(granted)
        return granted
    }

    /// Seconds until at least one token is available.
    func wait() -> Double { tokens >= 1 ? 0 : (1 - tokens) / rate }
}

/// One run's measured figures; nil where a mode does not measure it.
struct BenchFigures: Sendable, Hashable {
    var events: Int
    var loadSeconds: Double?
    var eventsPerSecond: Double
    var transactionsPerEvent: Double
    var rowsWrittenPerEvent: Double
    /// nil when the server does not load pg_stat_statements.
    var statementsPerEvent: Double? = nil
    /// The statements that took the most server time (`--top-statements`).
    var topStatements: [StatementReading] = []
    var latencyP50Ms: Double?
    var latencyP95Ms: Double?
    var latencyP99Ms: Double?
    /// Percentiles over the events applied when they arrived, leaving out those
    /// that waited for their case or person to exist (their tasks could not
    /// come earlier); and how many waited.
    var onArrivalP95Ms: Double?
    var onArrivalP99Ms: Double?
    var waitedForCase: Int?
    /// The p50 latency split: produced until its batch transaction began, and
    /// from then until its first task was published.
    var untilBatchP50Ms: Double?
    var batchToPublishP50Ms: Double?
    /// Latency sample size: events of the paced phase that caused tasks.
    var latencySamples: Int?
    /// The rate the paced phase actually achieved.
    var offeredEventsPerSecond: Double?
    var peakRSSMiB: [Double]?
    var restingRSSMiB: [Double]?
    /// CPU µs per event over the throughput phase (loading excluded), by process.
    var cpuPerEvent: BenchCPU?
}

enum BenchMode: String, CaseIterable, Sendable {
    case batched
    case perEvent = "per-event"
    case ceiling
}

/// One column of the report: a mode, and the worker count when several are compared.
struct BenchColumn: Hashable, Sendable {
    var mode: BenchMode
    var workers: Int?

    init(mode: BenchMode, workers: Int? = nil) {
        self.mode = mode
        self.workers = workers
    }

    static let batched = BenchColumn(mode: .batched)
    static let perEvent = BenchColumn(mode: .perEvent)
    static let ceiling = BenchColumn(mode: .ceiling)

    var label: String { workers.map { "\(mode.rawValue) x\($0)" } ?? mode.rawValue }
}

/// Renders the medians across runs (each run's value in brackets) as a table.
enum BenchReport {
    struct Row: Sendable {
        var label: String
        var value: @Sendable (BenchFigures) -> Double?
        var digits: Int
    }

    static let rows: [Row] = [
        Row(label: "events", value: { Double($0.events) }, digits: 0),
        Row(label: "load into topics (s)", value: { $0.loadSeconds }, digits: 2),
        Row(label: "events/s end to end", value: { $0.eventsPerSecond }, digits: 0),
        Row(label: "transactions/event", value: { $0.transactionsPerEvent }, digits: 3),
        Row(label: "rows written/event", value: { $0.rowsWrittenPerEvent }, digits: 2),
        Row(label: "SQL statements/event", value: { $0.statementsPerEvent }, digits: 3),
        Row(label: "CPU µs/event: workers", value: { $0.cpuPerEvent?.workers }, digits: 0),
        Row(label: "CPU µs/event: PostgreSQL", value: { $0.cpuPerEvent?.postgres }, digits: 0),
        Row(label: "CPU µs/event: broker", value: { $0.cpuPerEvent?.broker }, digits: 0),
        Row(label: "CPU µs/event: bench", value: { $0.cpuPerEvent?.bench }, digits: 0),
        Row(label: "CPU µs/event: all", value: { $0.cpuPerEvent?.total }, digits: 0),
        Row(label: "offered events/s (latency phase)", value: { $0.offeredEventsPerSecond }, digits: 0),
        Row(label: "latency p50 (ms)", value: { $0.latencyP50Ms }, digits: 1),
        Row(label: "latency p95 (ms)", value: { $0.latencyP95Ms }, digits: 1),
        Row(label: "latency p99 (ms)", value: { $0.latencyP99Ms }, digits: 1),
        Row(label: "  p95, applied on arrival (ms)", value: { $0.onArrivalP95Ms }, digits: 1),
        Row(label: "  p99, applied on arrival (ms)", value: { $0.onArrivalP99Ms }, digits: 1),
        Row(label: "  events that waited for their case", value: { $0.waitedForCase.map(Double.init) }, digits: 0),
        Row(label: "  p50 until its batch began (ms)", value: { $0.untilBatchP50Ms }, digits: 1),
        Row(label: "  p50 batch began to published (ms)", value: { $0.batchToPublishP50Ms }, digits: 1),
        Row(label: "latency samples", value: { $0.latencySamples.map(Double.init) }, digits: 0),
        Row(label: "peak RSS, largest worker (MiB)", value: { $0.peakRSSMiB?.max() }, digits: 1),
        Row(label: "RSS caught up, largest worker (MiB)", value: { $0.restingRSSMiB?.max() }, digits: 1),
    ]

    static func format(_ value: Double?, digits: Int) -> String {
        guard let value else { return "-" }
        return String(format: "%.\(digits)f", value)
    }

    static func median(_ runs: [BenchFigures], _ row: Row) -> Double? {
        BenchStatistics.median(runs.compactMap(row.value))
    }

    static func table(_ results: [(BenchColumn, [BenchFigures])]) -> String {
        var lines: [[String]] = [["figure (median [runs])"] + results.map { $0.0.label }]
        for row in rows {
            var line = [row.label]
            for (_, runs) in results {
                let each = runs.map { format(row.value($0), digits: row.digits) }.joined(separator: ", ")
                line.append("\(format(median(runs, row), digits: row.digits)) [\(each)]")
            }
            lines.append(line)
        }
        let widths = (0..<lines[0].count).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { line in
            zip(line, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    /// Per mode, the last run's costliest statements: calls per event, server time.
    static func statements(_ results: [(BenchColumn, [BenchFigures])]) -> [String] {
        var lines: [String] = []
        for (column, runs) in results {
            guard let last = runs.last, !last.topStatements.isEmpty else { continue }
            lines.append("top statements, \(column.label) (last run): calls/event, total ms, rows/call, statement")
            for statement in last.topStatements {
                let text = statement.query.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                let figures = String(
                    format: "  %7.3f %9.0f %8.1f  ", Double(statement.calls) / Double(last.events), statement.totalMilliseconds,
                    Double(statement.rows) / Double(max(statement.calls, 1)))
                lines.append(figures + text.prefix(110))
            }
        }
        return lines
    }

    /// "batched/per-event = 3.20x" lines for the columns present: each batched
    /// column against the per-event column of the same worker count (or the
    /// only one) and the ceiling, and against the first batched column (scaling).
    static func ratios(_ results: [(BenchColumn, [BenchFigures])]) -> [String] {
        let rates = results.compactMap { column, runs in
            BenchStatistics.median(runs.map(\.eventsPerSecond)).map { (column, $0) }
        }
        func rate(_ mode: BenchMode, workers: Int?) -> (BenchColumn, Double)? {
            let candidates = rates.filter { $0.0.mode == mode }
            return candidates.first { $0.0.workers == workers } ?? (candidates.count == 1 ? candidates[0] : nil)
        }
        let batched = rates.filter { $0.0.mode == .batched && $0.1 > 0 }
        var lines: [String] = []
        for (column, value) in batched {
            for other in [BenchMode.perEvent, .ceiling] {
                guard let (otherColumn, otherRate) = rate(other, workers: column.workers), otherRate > 0 else { continue }
                lines.append("\(column.label)/\(otherColumn.label) events/s = \(String(format: "%.2f", value / otherRate))x")
            }
        }
        if let (first, base) = batched.first {
            for (column, value) in batched.dropFirst() {
                lines.append("\(column.label)/\(first.label) events/s = \(String(format: "%.2f", value / base))x")
            }
        }
        return lines
    }
}
