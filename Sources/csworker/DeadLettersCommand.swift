import ArgumentParser
import CasePipeline
import CaseStorage
import Foundation
import Kafka
import Logging

/// `csworker deadletters list|replay`: what was refused, why and when, and
/// putting it back once its cause is fixed.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletters",
        abstract: "List dead letters, or replay them into the topics they came from.",
        subcommands: [List.self, Replay.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters, oldest first: id, when, source topic/partition/offset, error class and reason (never the payload).",
            discussion: "Needs CSE_DATABASE_URL."
        )

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var logging: LoggingOptions

        @Option(help: "Show only the newest N.")
        var limit: Int?

        @Flag(help: "One JSON object per line instead of a table.")
        var json = false

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let databaseURL = try database.url()
            let topics = topicOptions.topics
            try await reportingFailures {
                let database = try connectDatabase(url: databaseURL, logger: Logger(label: "csworker.deadletters"), attempts: 2)
                defer { database.close() }
                // Listing opens nothing sealed: any key will do.
                let store = DeadLetterStore(connection: database, protector: SSNProtector(key: .random()))
                let records = try store.list(topic: topics.deadLetter, limit: limit)
                if json {
                    for record in records { print(DeadLetterLine.json(record)) }
                } else {
                    print(DeadLetterLine.table(records))
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-produce dead letters, byte for byte with their original key, to the input topic they came from.",
            discussion: """
                An event already applied is not applied twice (the workers dedupe event ids); an event refused
                earlier (say, unknown-case before its case was opened) is processed again. Each replay is recorded,
                so --all skips what was replayed before unless --force. Needs CSE_DATABASE_URL, CSE_KAFKA_BROKERS
                and CSE_SSN_KEY (dead letters are sealed at rest).
                """
        )

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var ssnKeyOptions: SSNKeyOptions
        @OptionGroup var logging: LoggingOptions

        @Flag(help: "List what would be replayed, and why others would be skipped; send nothing.")
        var dryRun = false

        @Option(name: .customLong("id"), parsing: .singleValue, help: ArgumentHelp("A dead letter's id or its event id (repeatable).", valueName: "uuid"))
        var ids: [String] = []

        @Flag(help: "Replay every dead letter not replayed yet.")
        var all = false

        @Option(name: .customLong("class"), help: ArgumentHelp("Only dead letters of this error class, e.g. unknown-case.", valueName: "class"))
        var errorClass: String?

        @Flag(help: "Replay again dead letters already replayed.")
        var force = false

        func validate() throws {
            guard ids.isEmpty != !all else { throw ValidationError("give either --id (one or more) or --all") }
            for id in ids where UUID(uuidString: id) == nil { throw ValidationError("--id must be a UUID: \(id)") }
        }

        func run() async throws {
            let databaseURL = try database.url()
            let brokers = dryRun ? [] : try kafka.brokers()
            let key = try ssnKeyOptions.key()
            let topics = topicOptions.topics
            let logger = Logger(label: "csworker.deadletters")
            let selection: DeadLetterReplay.Selection = all ? .all : .ids(ids.compactMap(UUID.init(uuidString:)))
            try await reportingFailures {
                let database = try connectDatabase(url: databaseURL, logger: logger, attempts: 2)
                defer { database.close() }
                var producer: KafkaProducer?
                if !dryRun {
                    var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: brokers)
                    producerConfiguration.properties = try kafka.properties()
                    producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
                }
                defer { producer?.close() }
                let replay = DeadLetterReplay(
                    store: DeadLetterStore(connection: database, protector: SSNProtector(key: key)), producer: producer,
                    topics: topics, logger: logger)
                let who = "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName)
                let report = try await replay.replay(selection, errorClass: errorClass, force: force, by: who)
                let verb = dryRun ? "would replay" : "replayed"
                for record in report.replayed {
                    print("\(verb) \(record.messageId.uuidString.lowercased()) -> \(record.header(DeadLetter.Header.sourceTopic) ?? "?")")
                }
                for (record, reason) in report.skipped {
                    print("\(dryRun ? "would skip" : "skipped") \(record.messageId.uuidString.lowercased()): \(TerminalText.printable(reason))")
                }
                print("\(report.replayed.count) \(verb), \(report.skipped.count) \(dryRun ? "would be skipped (dry run: nothing sent)" : "skipped")")
                if !report.unknownIds.isEmpty {
                    printError("csworker: no dead letter with id \(report.unknownIds.map { $0.uuidString.lowercased() }.joined(separator: ", "))")
                    throw ServiceExit.usage
                }
            }
        }
    }
}

/// How `deadletters list` prints a dead letter.
enum DeadLetterLine {
    static func fields(_ record: DeadLetterRecord) -> [(String, String)] {
        [
            ("id", record.messageId.uuidString.lowercased()),
            ("eventId", record.eventId?.uuidString.lowercased() ?? ""),
            ("when", record.createdAt.formatted(Date.ISO8601FormatStyle())),
            ("sourceTopic", record.header(DeadLetter.Header.sourceTopic) ?? ""),
            ("sourcePartition", record.header(DeadLetter.Header.sourcePartition) ?? ""),
            ("sourceOffset", record.header(DeadLetter.Header.sourceOffset) ?? ""),
            ("errorClass", record.header(DeadLetter.Header.errorClass) ?? ""),
            ("reason", record.header(DeadLetter.Header.reason) ?? ""),
            ("replayedAt", record.replayedAt.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? ""),
            ("replayOf", record.header(DeadLetter.Header.replayOf) ?? ""),
            ("attempts", record.header(DeadLetter.Header.attempts) ?? ""),
            ("firstFailedAt", record.header(DeadLetter.Header.firstFailedAt) ?? ""),
            ("consumerGroup", record.header(DeadLetter.Header.consumerGroup) ?? ""),
            ("originalTimestamp", record.header(DeadLetter.Header.originalTimestamp) ?? ""),
        ]
    }

    static func json(_ record: DeadLetterRecord) -> String {
        var object: [String: Any] = Dictionary(uniqueKeysWithValues: fields(record).filter { !$0.1.isEmpty })
        let original = record.originalHeaders
        if !original.isEmpty { object["originalHeaders"] = Dictionary(original.map { ($0.name, $0.value) }) { _, last in last } }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func table(_ records: [DeadLetterRecord]) -> String {
        guard !records.isEmpty else { return "no dead letters" }
        return records.map { record in
            let f = Dictionary(uniqueKeysWithValues: fields(record))
            var line = "\(f["id"]!)  \(f["when"]!)  \(f["sourceTopic"]!)[\(f["sourcePartition"]!)]@\(f["sourceOffset"]!)  \(f["errorClass"]!): \(f["reason"]!)"
            if let event = f["eventId"], !event.isEmpty { line += "  event \(event)" }
            if let replayOf = f["replayOf"], !replayOf.isEmpty { line += "  replay of \(replayOf), attempt \(f["attempts"] ?? "?")" }
            if let replayed = f["replayedAt"], !replayed.isEmpty { line += "  (replayed \(replayed))" }
            // Reasons and ids come from the refused event: no control sequence reaches the terminal.
            return TerminalText.printable(line)
        }.joined(separator: "\n")
    }
}
