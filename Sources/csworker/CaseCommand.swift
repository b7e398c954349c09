import ArgumentParser
import CaseDomain
import CaseStorage
import Foundation
import Logging

struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Read cases back.",
        subcommands: [Show.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a case: stage, arrears, support, employer, active referrals and its history (SSNs masked)."
        )

        @Argument(help: "The case id, e.g. CS-0000042.")
        var caseId: String

        @Flag(help: "Print the contract's JSON instead of text.")
        var json = false

        @Option(name: .customLong("as-of"), help: ArgumentHelp("Compute arrears as of this date (YYYY-MM-DD; default today in the agency zone).", valueName: "date"))
        var asOfText: String?

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var policyOptions: PolicyOptions
        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            if let asOfText, LocalDate(iso8601: asOfText) == nil {
                throw ValidationError("--as-of must be a date, YYYY-MM-DD")
            }
        }

        func run() async throws {
            let url = try database.url()
            // "Now" for an operator's question is the wall clock's date in the agency zone.
            let policy = try policyOptions.load()
            let asOf = asOfText.flatMap { LocalDate(iso8601: $0) } ?? policy.calendar.businessDate(of: Date())
            try await reportingFailures {
                let connection = try connectDatabase(url: url, logger: Logger(label: "csworker.case"), attempts: 2)
                defer { connection.close() }
                try requireCurrentSchema(connection)
                guard let view = try CaseReadModel(connection: connection).show(caseId: caseId, asOf: asOf) else {
                    printError("csworker: no case \(caseId)")
                    throw ServiceExit.usage
                }
                print(json ? try view.json() : view.text)
            }
        }
    }
}
