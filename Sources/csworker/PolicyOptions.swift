import ArgumentParser
import CaseContract
import CaseDomain
import Foundation

/// The agency's policy: read once per process from `--policy-file` or
/// `CSE_POLICY_FILE` (the federal figures when neither is set) and handed to
/// every component that judges time or thresholds. A file that cannot be
/// used stops the command with exit 64, naming the key.
struct PolicyOptions: ParsableArguments {
    @Option(name: .customLong("policy-file"), help: ArgumentHelp(
        "The agency's policy: time zone, holidays, thresholds, timeframes (JSON; env CSE_POLICY_FILE; default the federal figures). See `csworker policy show`.",
        valueName: "path"))
    var policyFileFlag: String?

    /// Where the policy came from, for logs and `policy show`; nil = the federal defaults.
    func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        Setting.policyFile.resolve(flag: policyFileFlag, environment: environment).value
    }

    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Policy {
        guard let path = path(environment: environment) else { return Policy() }
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw ValidationError("policy file \(path) cannot be read (--policy-file / CSE_POLICY_FILE)")
        }
        do {
            return try PolicyFile.decode(Array(contents))
        } catch {
            throw ValidationError("policy file \(path): \(error)")
        }
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "The agency's policy in effect.",
        subcommands: [Show.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective policy: the policy file over the federal defaults, every setting.",
            discussion: """
                Without --policy-file or CSE_POLICY_FILE this is the federal policy. --json prints the
                complete document, which is itself a valid policy file.
                """
        )

        @OptionGroup var policyOptions: PolicyOptions
        @OptionGroup var logging: LoggingOptions

        @Flag(help: "Print the complete policy document as JSON.")
        var json = false

        @Option(help: "Years whose closed dates are listed (text output).")
        var year: [Int] = []

        func run() async throws {
            let policy = try policyOptions.load()
            if json {
                print(String(decoding: PolicyFile.encode(policy).serialized(), as: UTF8.self))
                return
            }
            let thisYear = policy.calendar.businessDate(of: Date()).year
            print(Self.text(policy, source: policyOptions.path(), years: year.isEmpty ? [thisYear, thisYear + 1] : year))
        }

        static func text(_ policy: Policy, source: String?, years: [Int]) -> String {
            let document = PolicyFile.encode(policy)
            var lines = ["policy: \(source ?? "federal defaults (no policy file)")"]
            lines.append("time zone: \(policy.calendar.timeZoneIdentifier)")
            let federal = Set(HolidayRule.federal)
            lines.append("holidays observed: \(policy.calendar.holidayRules.map(\.name).joined(separator: ", "))")
            let removed = HolidayRule.federal.filter { !policy.calendar.holidayRules.contains($0) }.map(\.name)
            if !removed.isEmpty { lines.append("federal holidays not observed: \(removed.joined(separator: ", "))") }
            let stateRules = policy.calendar.holidayRules.filter { !federal.contains($0) }.map(\.name)
            if !stateRules.isEmpty { lines.append("state holidays: \(stateRules.joined(separator: ", "))") }
            if !policy.calendar.openDates.isEmpty {
                lines.append("open despite a holiday: \(policy.calendar.openDates.sorted().map(\.description).joined(separator: ", "))")
            }
            for year in years {
                lines.append("closed in \(year): \(policy.calendar.holidays(in: year).map(\.description).joined(separator: ", "))")
            }
            for section in ["timeframes", "thresholds", "withholdingLimit", "inputBounds", "retention"] {
                guard case .object(let fields)? = document[section] else { continue }
                lines.append("\(section):")
                for key in fields.keys.sorted() {
                    lines.append("  \(key): \(String(decoding: fields[key]!.serialized(), as: UTF8.self))")
                }
            }
            let service = policy.referralsNeedingService.sorted().map(\.rawValue)
            lines.append("referrals needing service first: \(service.isEmpty ? "none" : service.joined(separator: ", "))")
            let contest = TaskType.remedies.map { "\($0.rawValue) \(policy.contestDays(for: $0))" }
            lines.append("days to contest a remedy after its notice (0: taken without one): \(contest.joined(separator: ", "))")
            lines.append("home state (a parent located only elsewhere may need an intergovernmental referral): \(policy.homeState.code)")
            lines.append("assistance programs: \(policy.assistancePrograms.map(\.rawValue).sorted().joined(separator: ", "))")
            return lines.joined(separator: "\n")
        }
    }
}
