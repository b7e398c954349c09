import ArgumentParser
import CaseContract
import CaseDomain
import CasePipeline
import Foundation
import JSON
import Kafka
import Logging

/// `csworker events send`: an operator's way to put a hand-written event on
/// its input topic without other Kafka tools, checked by the worker's own
/// decoder first and keyed as the contract says.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Send hand-written events to the input topics.",
        subcommands: [Send.self]
    )

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate events against the contract, then produce each to its input topic with the contract's key.",
            discussion: """
                A file holds one JSON event, a JSON array of events, or one event per line. Every event is
                checked with the decoder the workers use; if any is invalid, nothing is sent and the command
                exits 65 naming each one and why. Keys: the caseId for intake and court events, the employer's
                FEIN (nine digits) for employer reports. Prints where each event landed.
                """
        )

        /// Input that does not satisfy the contract (sysexits' EX_DATAERR).
        static let invalidInput = ExitCode(65)

        @Argument(help: "Event files (JSON object, JSON array, or one event per line).")
        var files: [String]

        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var topicOptions: TopicOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("name at least one event file") }
        }

        func run() async throws {
            var messages: [(label: String, event: Event, message: KafkaOutgoingMessage)] = []
            var problems: [String] = []
            let topics = topicOptions.topics
            for file in files {
                guard let contents = FileManager.default.contents(atPath: file) else {
                    throw ValidationError("cannot read \(file)")
                }
                let events: [[UInt8]]
                do {
                    events = try EventFile.split(Array(contents))
                } catch {
                    problems.append("\(file): \(error)")
                    continue
                }
                for (index, bytes) in events.enumerated() {
                    let label = events.count == 1 ? file : "\(file) event \(index + 1)"
                    switch EventDecoder.decode(bytes) {
                    case .failure(let error):
                        problems.append("\(label): \(error)")
                    case .success(let event):
                        let message = KafkaOutgoingMessage(
                            topic: topics.prefix + event.type.topic.rawValue, key: Array(EventFile.key(of: event).utf8), value: bytes)
                        messages.append((label, event, message))
                    }
                }
            }
            guard problems.isEmpty else {
                for problem in problems { printError("csworker: invalid event: \(problem)") }
                printError("csworker: nothing sent (\(problems.count) invalid of \(problems.count + messages.count))")
                throw Self.invalidInput
            }
            var configuration = KafkaProducerConfiguration(bootstrapServers: try kafka.brokers())
            configuration.properties = try kafka.properties()
            try await reportingFailures {
                let producer = try KafkaProducer(configuration: configuration, logger: Logger(label: "csworker.events"))
                defer { producer.close() }
                let reports = try await producer.sendAll(messages.map(\.message))
                for (sent, report) in zip(messages, reports) {
                    let delivery = try report.get()
                    print("sent \(sent.event.type.rawValue) \(sent.event.id.uuidString.lowercased()) key \(String(decoding: sent.message.key ?? [], as: UTF8.self)) -> \(delivery)")
                }
            }
        }
    }
}

/// How `events send` reads a file and keys an event.
enum EventFile {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// One JSON object, a JSON array of objects, or JSON lines: the events' bytes.
    static func split(_ contents: [UInt8]) throws -> [[UInt8]] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = contents.first(where: { !isSpace($0) }) else { throw Unreadable(description: "the file is empty") }
        if first == UInt8(ascii: "[") {
            let value: JSONValue
            do {
                value = try JSONValue.parse(contents)
            } catch {
                throw Unreadable(description: "not a JSON array of events: \(error)")
            }
            guard case .array(let elements) = value, !elements.isEmpty else { throw Unreadable(description: "an empty array") }
            return elements.map { $0.serialized() }
        }
        // A single object, pretty-printed or not, parses whole; otherwise one event per line.
        if (try? JSONValue.parse(contents)) != nil {
            return [Array(contents.drop(while: isSpace).reversed().drop(while: isSpace).reversed())]
        }
        return contents.split(separator: 0x0A).map { Array($0) }.filter { line in line.contains { !isSpace($0) } }
    }

    /// The contract's key: the case id, or the reporting employer's or institution's FEIN.
    static func key(of event: Event) -> String {
        switch event.payload {
        case .newHire(let report): report.employer.fein.digits
        case .termination(let report): report.employer.fein.digits
        case .quarterlyWage(let report): report.employer.fein.digits
        case .withholdingRemittance(let report): report.employer.fein.digits
        case .iwoResponse(let report): report.employer.fein.digits
        case .unemploymentClaim(let match): match.agency.fein.digits
        case .financialAccountMatch(let match): match.institution.fein.digits
        default: event.caseId ?? ""
        }
    }
}
