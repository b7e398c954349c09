import ArgumentParser
import CaseDomain
import CasePipeline
import Foundation
import Logging
import Postgres

/// What the workers have done, read from the database: the operator's (and
/// the demo's) view of progress.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show processed events, cases by stage, tasks by type, the outbox backlog and dead letters."
    )

    @Option(name: .customLong("database-url"), help: ArgumentHelp("libpq connection string or URI (env CSE_DATABASE_URL).", valueName: "url"))
    var databaseURLFlag: String?

    @OptionGroup var topicOptions: TopicOptions

    @Option(help: "Wait until this many input records are accounted for (processed or dead-lettered) and the outbox is drained.")
    var waitForEvents: Int?

    @Option(help: "Seconds to wait at most (with --wait-for-events).")
    var timeout: Int = 600

    func run() async throws {
        guard let url = databaseURLFlag ?? ProcessInfo.processInfo.environment["CSE_DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database configured: set CSE_DATABASE_URL or pass --database-url")
        }
        let topics = topicOptions.topics
        try await reportingFailures {
            let connection = try connectDatabase(url: url, logger: Logger(label: "csworker.status"))
            defer { connection.close() }
            let queries = StatusQueries(connection: connection, deadLetterTopic: topics.deadLetter)
            if let target = waitForEvents {
                try await wait(for: target, queries: queries)
            }
            print(try queries.report())
        }
    }

    private func wait(for target: Int, queries: StatusQueries) async throws {
        let progress = ProgressLine(label: "status")
        let started = ContinuousClock.now
        let deadline = started + .seconds(timeout)
        var previous = (count: 0, at: started)
        while true {
            let progressNow = try queries.progress()
            let now = ContinuousClock.now
            let recent = Double(progressNow.accounted - previous.count) / max(0.001, Double(milliseconds(now - previous.at)) / 1000)
            previous = (progressNow.accounted, now)
            progress.update(
                "\(progressNow.accounted)/\(target) records processed (\(Int(recent)) records/s), "
                    + "\(progressNow.waitingForCase) waiting for their case, \(progressNow.unpublished) messages waiting in the outbox")
            if progressNow.accounted >= target && progressNow.unpublished == 0 && progressNow.waitingForCase == 0 {
                progress.finish("\(progressNow.accounted)/\(target) records processed, outbox drained, "
                    + "in \(milliseconds(now - started)) ms")
                return
            }
            guard now < deadline else {
                progress.finish("gave up after \(timeout) s: \(progressNow.accounted)/\(target) records, "
                    + "\(progressNow.unpublished) messages waiting in the outbox")
                throw ExitCode(1)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// Read-only counts over the worker's tables.
struct StatusQueries {
    let connection: PostgresConnection
    let deadLetterTopic: String

    struct Progress {
        /// Events recorded (applied, parked or dead-lettered) plus records that never
        /// decoded into an event (dead-lettered by position, with no event id).
        var accounted: Int
        var unpublished: Int
        /// Events waiting for their case to be opened (applied when it opens,
        /// dead-lettered as unknown-case after the workers' grace period).
        var waitingForCase: Int
    }

    func progress() throws -> Progress {
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM processed_events)
                 + (SELECT count(*) FROM outbox o WHERE o.topic = $1
                      AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(o.headers) h WHERE h->>'name' = 'event-id')),
                   (SELECT count(*) FROM outbox WHERE published_at IS NULL),
                   (SELECT count(*) FROM parked_events WHERE match_kind = 'case')
            """, deadLetterTopic)[0]
        return Progress(
            accounted: try row.decode(Int.self, column: 0), unpublished: try row.decode(Int.self, column: 1),
            waitingForCase: try row.decode(Int.self, column: 2))
    }

    func report() throws -> String {
        var lines: [String] = []
        let totals = try connection.query(
            """
            SELECT count(*), count(*) FILTER (WHERE outcome = 'applied'), count(*) FILTER (WHERE outcome = 'parked'),
                   count(*) FILTER (WHERE outcome = 'dead-lettered'),
                   extract(epoch FROM max(processed_at) - min(processed_at))::float8
            FROM processed_events
            """)[0]
        let events = try totals.decode(Int.self, column: 0)
        let span = try totals.decode(Double?.self, column: 4) ?? 0
        lines.append("events recorded: \(events) (applied \(try totals.decode(Int.self, column: 1)), "
            + "waiting for their case or person \(try totals.decode(Int.self, column: 2)), "
            + "dead-lettered \(try totals.decode(Int.self, column: 3)))")
        if span > 0 {
            lines.append("throughput: \(Int(Double(events) / span)) events/s (first to last event recorded: \(String(format: "%.1f", span)) s)")
        }
        let parked = try connection.query(
            "SELECT count(*) FILTER (WHERE match_kind = 'ssn'), count(*) FILTER (WHERE match_kind = 'case') FROM parked_events")[0]
        lines.append("parked: \(try parked.decode(Int.self, column: 0)) employer reports about people on no case, "
            + "\(try parked.decode(Int.self, column: 1)) events waiting for their case to open")

        lines.append("cases by stage:")
        var byStage: [String: Int] = [:]
        for row in try connection.query("SELECT stage, count(*) FROM cases GROUP BY stage") {
            byStage[try row.decode(String.self, column: 0)] = try row.decode(Int.self, column: 1)
        }
        for stage in CaseStage.allCases {
            lines.append("  \(stage.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(byStage[stage.rawValue, default: 0])")
        }
        lines.append("  total          \(byStage.values.reduce(0, +))")

        lines.append("tasks by type (ISSUE / WITHDRAW):")
        var byType: [String: (issue: Int, withdraw: Int)] = [:]
        for row in try connection.query(
            """
            SELECT t->>'type', count(*) FILTER (WHERE t->>'action' = 'ISSUE'), count(*) FILTER (WHERE t->>'action' = 'WITHDRAW')
            FROM case_history, jsonb_array_elements(tasks) t GROUP BY 1
            """)
        {
            byType[try row.decode(String.self, column: 0)] = (try row.decode(Int.self, column: 1), try row.decode(Int.self, column: 2))
        }
        for type in TaskType.allCases {
            let counts = byType[type.rawValue] ?? (0, 0)
            lines.append("  \(type.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(counts.issue) / \(counts.withdraw)")
        }

        let outbox = try connection.query(
            """
            SELECT count(*) FILTER (WHERE published_at IS NOT NULL), count(*) FILTER (WHERE published_at IS NULL)
            FROM outbox
            """)[0]
        lines.append("outbox: \(try outbox.decode(Int.self, column: 0)) published, \(try outbox.decode(Int.self, column: 1)) waiting")

        lines.append("dead letters by class:")
        var deadLetters = 0
        for row in try connection.query(
            """
            SELECT h->>'value', count(*) FROM outbox o, jsonb_array_elements(o.headers) h
            WHERE o.topic = $1 AND h->>'name' = 'error-class' GROUP BY 1 ORDER BY 1
            """, deadLetterTopic)
        {
            let count = try row.decode(Int.self, column: 1)
            deadLetters += count
            lines.append("  \(try row.decode(String.self, column: 0).padding(toLength: 18, withPad: " ", startingAt: 0)) \(count)")
        }
        if deadLetters == 0 { lines.append("  none") }
        return lines.joined(separator: "\n")
    }
}
