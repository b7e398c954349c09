import ArgumentParser
import CaseDomain
import CasePipeline
import CaseStorage
import Foundation
import JSON
import Logging
import Postgres
import TimeUnits

/// What the workers have done, read from the database: the operator's (and
/// the demo's) view of progress.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show processed events, cases by stage, active referrals, tasks by type and past due, the outbox backlog, dead letters and the consumer group's lag.",
        discussion: """
            The lag per input partition (high watermark minus the group's committed offset) is read from the
            brokers when CSE_KAFKA_BROKERS or --brokers is set, without joining the group.
            With --wait-for-events, exits 75 (EX_TEMPFAIL) when --timeout passes first.
            """
    )

    /// `--wait-for-events` gave up: not an error of the service, try again later (sysexits' EX_TEMPFAIL).
    static let timedOut = ExitCode(75)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var groupOptions: GroupOptions
    @OptionGroup var topicOptions: TopicOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Wait until this many input records are accounted for (processed or dead-lettered) and the outbox is drained.")
    var waitForEvents: Int?

    @Option(help: "Seconds to wait at most (with --wait-for-events); then exit 75.")
    var timeout: Int = 600

    @Flag(help: "Print the status as one JSON object.")
    var json = false

    func run() async throws {
        let url = try database.url()
        let topics = topicOptions.topics
        let policy = try policyOptions.load()
        let brokers = kafka.isConfigured ? try kafka.brokers() : nil
        let properties = try kafka.properties()
        try await reportingFailures {
            let connection = try connectDatabase(url: url, logger: Logger(label: "csworker.status"))
            defer { connection.close() }
            try requireCurrentSchema(connection)
            let status = ProcessingStatusReader(connection: connection, deadLetterTopic: topics.deadLetter)
            if let target = waitForEvents {
                try await wait(for: target, status: status)
            }
            // "Past due" counts days in the agency's zone.
            let readings = try OperationsReader(connection: connection, timeZone: policy.calendar.timeZoneIdentifier).read()
            let lag = try brokers.map {
                try GroupLag.read(
                    brokers: $0, properties: properties, group: groupOptions.group, topics: topics.input,
                    logger: Logger(label: "csworker.status"))
            }
            let current = try status.read()
            if json {
                print(StatusReport.json(current, readings: readings, lag: lag))
            } else {
                print(StatusReport.text(current, readings: readings, zone: policy.calendar.timeZoneIdentifier, lag: lag))
            }
        }
    }

    private func wait(for target: Int, status: ProcessingStatusReader) async throws {
        let progress = ProgressLine(label: "status")
        let started = ContinuousClock.now
        let deadline = started + .seconds(timeout)
        var previous = (count: 0, at: started)
        while true {
            let progressNow = try status.progress()
            let now = ContinuousClock.now
            let recent = Double(progressNow.accounted - previous.count) / max(0.001, Double((now - previous.at).inMilliseconds) / 1000)
            previous = (progressNow.accounted, now)
            progress.update(
                "\(progressNow.accounted)/\(target) records processed (\(Int(recent)) records/s), "
                    + "\(progressNow.waitingForCase) waiting for their case, \(progressNow.unpublished) messages waiting in the outbox")
            if progressNow.accounted >= target && progressNow.unpublished == 0 && progressNow.waitingForCase == 0 {
                progress.finish("\(progressNow.accounted)/\(target) records processed, outbox drained, "
                    + "in \((now - started).inMilliseconds) ms")
                return
            }
            guard now < deadline else {
                progress.finish("gave up after \(timeout) s: \(progressNow.accounted)/\(target) records, "
                    + "\(progressNow.unpublished) messages waiting in the outbox")
                throw Self.timedOut
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// The text `csworker status` prints.
enum StatusReport {
    /// `42 s`, `17 min`, `5.2 h`, `3.1 d`.
    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: "\(Int(seconds)) s"
        case ..<7_200: "\(Int(seconds / 60)) min"
        case ..<172_800: String(format: "%.1f h", seconds / 3_600)
        default: String(format: "%.1f d", seconds / 86_400)
        }
    }

    static func text(_ status: ProcessingStatus, readings: OperationsReadings? = nil, zone: String = "", lag: GroupLag? = nil) -> String {
        var lines: [String] = []
        let events = status.events
        lines.append("events recorded: \(events.recorded) (applied \(events.applied), "
            + "waiting for their case or person \(events.parked), "
            + "dead-lettered \(events.deadLettered))")
        let span = events.recordingSpanSeconds
        if span > 0 {
            lines.append("throughput: \(Int(Double(events.recorded) / span)) events/s (first to last event recorded: \(String(format: "%.1f", span)) s)")
        }
        lines.append("parked: \(status.parked.reportsWithoutPerson) employer reports about people on no case"
            + (status.parked.reportsWithoutPerson > 0 ? " (oldest kept \(Self.age(status.parked.oldestReportWithoutPersonSeconds)))" : "") + ", "
            + "\(status.parked.waitingForCase) events waiting for their case to open, "
            + "\(status.parked.waitingForOrder) waiting for the order they name"
            + (status.parked.oldestWaitingSeconds > 0 ? " (oldest waiting \(Self.age(status.parked.oldestWaitingSeconds)))" : ""))

        lines.append("cases by stage:")
        for stage in CaseStage.allCases {
            lines.append("  \(stage.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(status.casesByStage[stage, default: 0])")
        }
        lines.append("  total          \(status.cases)")

        lines.append("tasks by type (ISSUE / WITHDRAW):")
        for type in TaskType.allCases {
            let counts = status.tasksByType[type] ?? ProcessingStatus.TaskCounts()
            lines.append("  \(type.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(counts.issued) / \(counts.withdrawn)")
        }

        if let readings {
            lines.append("active referrals by type:")
            for type in TaskType.arrearsReferrals {
                lines.append("  \(type.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(readings.openReferralsByType[type, default: 0])")
            }
            let pastDue = readings.tasksPastDueByType.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
            lines.append("tasks past their dueBy, not yet published (days in \(zone)): "
                + (pastDue.isEmpty ? "none" : pastDue.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")))
        }

        lines.append("outbox: \(status.outbox.published) published, \(status.outbox.waiting) waiting, "
            + "\(status.outbox.setAside) set aside (refused by the broker; csworker outbox list), \(status.outbox.dropped) dropped")

        lines.append("dead letters by class:")
        for deadLetters in status.deadLettersByClass {
            lines.append("  \(deadLetters.errorClass.padding(toLength: 18, withPad: " ", startingAt: 0)) \(deadLetters.count)")
        }
        if status.deadLettersByClass.reduce(0, { $0 + $1.count }) == 0 { lines.append("  none") }
        if let lag {
            lines.append("consumer lag of group \(lag.group): \(lag.total) records")
            for partition in lag.partitions {
                let committed = partition.committed.map(String.init) ?? "none"
                let name = "\(partition.topic)[\(partition.partition)]"
                let width = lag.partitions.map { "\($0.topic)[\($0.partition)]".count }.max() ?? 0
                lines.append("  " + name + String(repeating: " ", count: width - name.count)
                    + "  lag \(partition.lag) (committed \(committed), end \(partition.end))")
            }
        } else {
            lines.append("consumer lag: set CSE_KAFKA_BROKERS or --brokers to read it")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ status: ProcessingStatus, readings: OperationsReadings, lag: GroupLag?) -> String {
        func int(_ value: Int) -> JSONValue { .int(Int64(value)) }
        func counts<K: RawRepresentable>(_ values: [K: Int]) -> JSONValue where K.RawValue == String {
            .object(Dictionary(uniqueKeysWithValues: values.map { ($0.key.rawValue, int($0.value)) }))
        }
        var object: [String: JSONValue] = [
            "events": .object([
                "recorded": int(status.events.recorded), "applied": int(status.events.applied),
                "parked": int(status.events.parked), "deadLettered": int(status.events.deadLettered),
            ]),
            "waiting": .object([
                "forCase": int(status.parked.waitingForCase), "forOrder": int(status.parked.waitingForOrder),
                "employerReportsWithoutPerson": int(status.parked.reportsWithoutPerson),
                "oldestEmployerReportWithoutPersonSeconds": .double(status.parked.oldestReportWithoutPersonSeconds),
                "oldestSeconds": .double(status.parked.oldestWaitingSeconds),
            ]),
            "casesByStage": counts(status.casesByStage), "cases": int(status.cases),
            "tasksByType": .object(Dictionary(uniqueKeysWithValues: status.tasksByType.map {
                ($0.key.rawValue, JSONValue.object(["issued": int($0.value.issued), "withdrawn": int($0.value.withdrawn)]))
            })),
            "activeReferralsByType": counts(readings.openReferralsByType),
            "tasksPastDueByType": counts(readings.tasksPastDueByType),
            "outbox": .object([
                "published": int(status.outbox.published), "waiting": int(status.outbox.waiting),
                "setAside": int(status.outbox.setAside), "dropped": int(status.outbox.dropped),
                "oldestUnpublishedSeconds": .double(readings.oldestUnpublishedSeconds),
            ]),
            "deadLettersByClass": .object(Dictionary(uniqueKeysWithValues: status.deadLettersByClass.map { ($0.errorClass, int($0.count)) })),
            "lastSweepFinished": readings.lastSweepFinished.map { .double($0) } ?? .null,
        ]
        if let lag {
            object["consumerLag"] = lag.json
        }
        return JSONValue.object(object).serializedString()
    }
}
