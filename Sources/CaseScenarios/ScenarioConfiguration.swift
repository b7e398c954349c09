import Foundation

/// What population of cases to simulate and how its events should look.
/// Shares are probabilities in 0...1, drawn per case (per child for paternity).
public struct ScenarioConfiguration: Sendable, Hashable {
    public var cases: Int
    public var seed: UInt64
    /// Business time starts here: no event occurs earlier.
    public var startDate: ScenarioDate
    /// Events occur in `[startDate, startDate + months)`.
    public var months: Int
    /// Applications arrive over the first `intakeMonths` (default: half the period), so the
    /// stream mixes new cases with older ones in enforcement.
    public var intakeMonths: Int?
    /// Case id prefix: `<prefix>-0000042`. Give runs that share a database different prefixes.
    public var caseIdPrefix: String

    /// Relative weights of the programs a case comes from.
    public var programMix: ProgramMix
    /// Noncustodial parents whose address, employer or SSN is unknown at intake.
    public var unknownAddressShare: Double
    public var unknownEmployerShare: Double
    public var unknownSSNShare: Double
    /// Children whose legal father is not established at intake.
    public var childWithoutPaternityShare: Double
    /// Cases that arrive with a support order already entered.
    public var existingOrderShare: Double
    /// Cases whose noncustodial parent's new hire is reported before the application
    /// arrives: the report names a person with no case yet, matched later.
    public var newHireBeforeIntakeShare: Double
    /// New hires of people with no case at all, per case (the directory reports everyone).
    public var unrelatedNewHiresPerCase: Double
    /// Share of all messages that are poison (meant for the dead-letter topic).
    public var poisonShare: Double
    /// Relative weights of the poison classes.
    public var poisonMix: PoisonMix

    public init(
        cases: Int = 1_000, seed: UInt64 = 1, startDate: ScenarioDate = Self.defaultStartDate, months: Int = 12,
        intakeMonths: Int? = nil, caseIdPrefix: String = "CS", programMix: ProgramMix = ProgramMix(),
        unknownAddressShare: Double = 0.20, unknownEmployerShare: Double = 0.45, unknownSSNShare: Double = 0.10,
        childWithoutPaternityShare: Double = 0.25, existingOrderShare: Double = 0.20,
        newHireBeforeIntakeShare: Double = 0.05, unrelatedNewHiresPerCase: Double = 0.5,
        poisonShare: Double = 0, poisonMix: PoisonMix = PoisonMix()
    ) {
        self.cases = cases
        self.seed = seed
        self.startDate = startDate
        self.months = months
        self.intakeMonths = intakeMonths
        self.caseIdPrefix = caseIdPrefix
        self.programMix = programMix
        self.unknownAddressShare = unknownAddressShare
        self.unknownEmployerShare = unknownEmployerShare
        self.unknownSSNShare = unknownSSNShare
        self.childWithoutPaternityShare = childWithoutPaternityShare
        self.existingOrderShare = existingOrderShare
        self.newHireBeforeIntakeShare = newHireBeforeIntakeShare
        self.unrelatedNewHiresPerCase = unrelatedNewHiresPerCase
        self.poisonShare = poisonShare
        self.poisonMix = poisonMix
    }

    /// Throughput runs: clean input only.
    public static func benchmark(cases: Int, seed: UInt64 = 1, months: Int = 12) -> ScenarioConfiguration {
        ScenarioConfiguration(cases: cases, seed: seed, months: months, poisonShare: 0)
    }

    /// A fixed Monday whose 12 months lie in the past, so tests generate the
    /// same events every day and none later than the day they run (workers
    /// refuse an `occurredAt` past the time it was reported).
    public static let defaultStartDate: ScenarioDate = "2025-11-03"

    /// The demo and integration tests: every path, including 1% poison.

    /// `csworker feed` and the demo: business time ends on the Monday at or
    /// before `today` and starts `months` earlier, so nothing is dated after
    /// the day it runs.
    public static func demo(cases: Int = 1_000, seed: UInt64 = 1, months: Int = 12, today: Date = Date()) -> ScenarioConfiguration {
        ScenarioConfiguration(cases: cases, seed: seed, startDate: startDate(endingBy: today, months: months), months: months, poisonShare: 0.01)
    }

    /// The Monday `months` before the last Monday on or before `today`.
    public static func startDate(endingBy today: Date, months: Int) -> ScenarioDate {
        let monday = ScenarioDate(today)
        let end = monday.adding(days: -monday.weekday)
        let start = end.adding(months: -months)
        return start.adding(days: -start.weekday)
    }

    var intakeDays: Int {
        let months = max(1, intakeMonths ?? max(1, self.months / 2))
        return max(1, startDate.adding(months: months).daysSinceEpoch - startDate.daysSinceEpoch)
    }

    public var endDate: ScenarioDate { startDate.adding(months: months) }

    public func caseId(_ index: Int) -> String {
        var digits = [UInt8]()
        appendDigits(index, width: max(7, String(index).utf8.count), to: &digits)
        return caseIdPrefix + "-" + String(decoding: digits, as: UTF8.self)
    }
}

public struct ProgramMix: Sendable, Hashable {
    public var tanf: Double
    public var nonTANF: Double
    public var medicaid: Double
    public var fosterCare: Double
    public var interstate: Double

    public init(tanf: Double = 0.30, nonTANF: Double = 0.42, medicaid: Double = 0.15, fosterCare: Double = 0.05, interstate: Double = 0.08) {
        self.tanf = tanf
        self.nonTANF = nonTANF
        self.medicaid = medicaid
        self.fosterCare = fosterCare
        self.interstate = interstate
    }

    var weights: [Double] { [tanf, nonTANF, medicaid, fosterCare, interstate] }
}

public struct PoisonMix: Sendable, Hashable {
    public var malformedJSON: Double
    public var schemaViolation: Double
    public var unknownType: Double
    /// Court events for cases that were never opened.
    public var unknownCase: Double

    public init(malformedJSON: Double = 0.3, schemaViolation: Double = 0.3, unknownType: Double = 0.2, unknownCase: Double = 0.2) {
        self.malformedJSON = malformedJSON
        self.schemaViolation = schemaViolation
        self.unknownType = unknownType
        self.unknownCase = unknownCase
    }

    var weights: [Double] { [malformedJSON, schemaViolation, unknownType, unknownCase] }
}
