import ArgumentParser
import CaseStorage
import Foundation
import Logging

/// `csworker outbox list|retry|drop`: messages the broker refused for good
/// (too large, no such topic, not authorised), which the relay set aside so
/// the rest of the outbox kept moving; retry once the cause is fixed (a
/// topic's `max.message.bytes`, an ACL), or drop with a reason.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "List outbox messages the broker refused for good, and retry or drop them.",
        subcommands: [List.self, Retry.self, Drop.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List set-aside outbox messages, oldest first: id, topic, size, when and why (never the payload).",
            discussion: "Needs CSE_DATABASE_URL."
        )

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var logging: LoggingOptions

        @Flag(help: "Include messages already dropped.")
        var dropped = false

        @Flag(help: "One JSON object per line instead of a table.")
        var json = false

        func run() async throws {
            let databaseURL = try database.url()
            try await reportingFailures {
                let database = try connectDatabase(url: databaseURL, logger: Logger(label: "csworker.outbox"), attempts: 2)
                defer { database.close() }
                let messages = try OutboxSetAside(connection: database).list(includingDropped: dropped)
                if json {
                    for message in messages { print(SetAsideLine.json(message)) }
                } else {
                    print(messages.isEmpty ? "no set-aside messages" : messages.map(SetAsideLine.text).joined(separator: "\n"))
                }
            }
        }
    }

    /// What `retry` and `drop` both take: the database and the messages.
    struct Selection: ParsableArguments {
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var logging: LoggingOptions

        @Option(name: .customLong("id"), parsing: .singleValue, help: ArgumentHelp("A set-aside message's id (repeatable).", valueName: "uuid"))
        var ids: [String] = []

        func validate() throws {
            if ids.isEmpty { throw ValidationError("give --id (one or more)") }
            for id in ids where UUID(uuidString: id) == nil { throw ValidationError("--id must be a UUID: \(id)") }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give set-aside messages back to the relay, which publishes them at its next pass (after the messages that overtook them).",
            discussion: "Recorded with who retried. Needs CSE_DATABASE_URL."
        )

        @OptionGroup var selection: Selection

        @Option(help: "Why, for the record (optional).")
        var reason: String?

        func run() async throws {
            try await intervene(.retry, selection, reason: reason)
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give up on set-aside messages: never published, kept and marked dropped for audit.",
            discussion: "Recorded with who dropped and why. Needs CSE_DATABASE_URL."
        )

        @OptionGroup var selection: Selection

        @Option(help: "Why it is dropped (required: the record says who, when and why).")
        var reason: String

        func validate() throws {
            if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must say why") }
        }

        func run() async throws {
            try await intervene(.drop, selection, reason: reason)
        }
    }
}

extension AsyncParsableCommand {
    /// Each id in its own transaction with its record; unknown or not-set-aside
    /// ids are reported and make the exit code a usage error.
    func intervene(_ action: OutboxIntervention, _ selection: OutboxCommand.Selection, reason: String?) async throws {
        let databaseURL = try selection.database.url()
        try await reportingFailures {
            let connection = try connectDatabase(url: databaseURL, logger: Logger(label: "csworker.outbox"), attempts: 2)
            defer { connection.close() }
            let store = OutboxSetAside(connection: connection)
            let who = "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName)
            var refused = false
            for id in selection.ids.compactMap(UUID.init(uuidString:)) {
                let text = id.uuidString.lowercased()
                switch try store.intervene(action, messageId: id, actor: who, reason: reason) {
                case .done: print(action == .retry ? "retried \(text)" : "dropped \(text)")
                case .unknown:
                    printError("csworker: no outbox message with id \(text)")
                    refused = true
                case .notSetAside:
                    printError("csworker: outbox message \(text) is not set aside (published, waiting or dropped)")
                    refused = true
                }
            }
            if refused { throw ServiceExit.usage }
        }
    }
}

/// How `outbox list` prints a set-aside message.
enum SetAsideLine {
    static func fields(_ message: SetAsideMessage) -> [(String, String)] {
        let format = Date.ISO8601FormatStyle()
        return [
            ("id", message.messageId.uuidString.lowercased()), ("topic", message.topic), ("bytes", String(message.valueBytes)),
            ("created", message.createdAt.formatted(format)), ("setAside", message.setAsideAt.formatted(format)),
            ("reason", message.reason), ("dropped", message.droppedAt.map { $0.formatted(format) } ?? ""),
        ]
    }

    static func json(_ message: SetAsideMessage) -> String {
        let object = Dictionary(uniqueKeysWithValues: fields(message).filter { !$0.1.isEmpty })
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func text(_ message: SetAsideMessage) -> String {
        let f = Dictionary(uniqueKeysWithValues: fields(message))
        var line = "\(f["id"]!)  \(f["setAside"]!)  \(f["topic"]!)  \(f["bytes"]!) bytes  \(f["reason"]!)"
        if let dropped = f["dropped"], !dropped.isEmpty { line += "  (dropped \(dropped))" }
        return line
    }
}
