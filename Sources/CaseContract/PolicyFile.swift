import CaseDomain
import Foundation
import JSON

/// An agency's policy as a file (`CSE_POLICY_FILE`, `--policy-file`): JSON,
/// every field optional -- a missing field keeps the federal default -- and
/// every field checked, so a misspelt threshold or an impossible value stops
/// the process instead of silently falling back to the default.
///
/// ```json
/// {
///   "timeZone": "America/New_York",
///   "holidays": {
///     "remove": ["Columbus Day"],
///     "add": ["2026-11-27"],
///     "addRules": [{"name": "Cesar Chavez Day", "month": 3, "day": 31}],
///     "open": []
///   },
///   "timeframes": {"locateDays": 60, "withholdingNoticeBusinessDays": 2},
///   "thresholds": {"creditBureauCents": 50000, "licenseSuspensionMonthsOfSupport": 2},
///   "withholdingLimit": {"obligorSupportsAnotherFamily": false},
///   "inputBounds": {"paymentCents": 50000000, "futureToleranceHours": 12},
///   "retention": {"unmatchedReportRetentionDays": 365},
///   "referralsNeedingService": ["license-suspension"],
///   "contestDays": {"credit-bureau-report": 30, "financial-levy": 20},
///   "homeState": "NC",
///   "assistancePrograms": ["TANF", "FOSTER_CARE"]
/// }
/// ```
public enum PolicyFile {
    /// The policy the file describes on top of the federal defaults.
    public static func decode(_ bytes: [UInt8]) throws(PolicyFileError) -> Policy {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw PolicyFileError(key: nil, problem: "not a JSON document: \(error.description)")
        }
        var reader = Reader()
        return try reader.policy(document)
    }

    /// The effective policy as a complete document (every field, holiday rules
    /// as the rules in force): what `csworker policy show --json` prints and
    /// `decode` reads back to an equal policy.
    public static func encode(_ policy: Policy) -> JSONValue {
        let calendar = policy.calendar
        let federal = Set(HolidayRule.federal)
        let kept = calendar.holidayRules.filter { federal.contains($0) }
        return [
            "timeZone": .string(calendar.timeZoneIdentifier),
            "holidays": [
                "remove": .array(HolidayRule.federal.filter { !kept.contains($0) }.map { .string($0.name) }),
                "add": .array(calendar.additionalHolidays.sorted().map { .string($0.description) }),
                "addRules": .array(calendar.holidayRules.filter { !federal.contains($0) }.map(ruleDocument)),
                "open": .array(calendar.openDates.sorted().map { .string($0.description) }),
            ],
            "timeframes": .object(Dictionary(uniqueKeysWithValues: Setting.timeframes.map { ($0.key, .int($0.read(policy))) })),
            "thresholds": .object(Dictionary(uniqueKeysWithValues: Setting.thresholds.map { ($0.key, .int($0.read(policy))) })),
            "withholdingLimit": .object(
                Dictionary(uniqueKeysWithValues: Setting.withholdingLimit.map { ($0.key, .int($0.read(policy))) })
                    .merging(["obligorSupportsAnotherFamily": .bool(policy.obligorSupportsAnotherFamily)]) { $1 }),
            "inputBounds": .object(Dictionary(uniqueKeysWithValues: Setting.inputBounds.map { ($0.key, .int($0.read(policy))) })),
            "retention": .object(Dictionary(uniqueKeysWithValues: Setting.retention.map { ($0.key, .int($0.read(policy))) })),
            "referralsNeedingService": .array(policy.referralsNeedingService.sorted().map { .string($0.rawValue) }),
            "contestDays": .object(Dictionary(uniqueKeysWithValues: TaskType.remedies.map { ($0.rawValue, .int(Int64(policy.contestDays(for: $0)))) })),
            "homeState": .string(policy.homeState.code),
            "assistancePrograms": .array(policy.assistancePrograms.map(\.rawValue).sorted().map(JSONValue.string)),
        ]
    }

    private static func ruleDocument(_ rule: HolidayRule) -> JSONValue {
        var fields: [String: JSONValue] = ["name": .string(rule.name)]
        switch rule.placement {
        case let .fixed(month, day):
            fields["month"] = .int(Int64(month))
            fields["day"] = .int(Int64(day))
        case let .nthWeekday(month, weekday, ordinal):
            fields["month"] = .int(Int64(month))
            fields["isoWeekday"] = .int(Int64(weekday))
            fields["ordinal"] = .int(Int64(ordinal))
        case let .lastWeekday(month, weekday):
            fields["month"] = .int(Int64(month))
            fields["isoWeekday"] = .int(Int64(weekday))
            fields["last"] = true
        }
        if !rule.shiftsOffWeekend { fields["shiftsOffWeekend"] = false }
        if let year = rule.firstYear { fields["firstYear"] = .int(Int64(year)) }
        return .object(fields)
    }

    /// One numeric setting: its key in the file, where it lives in `Policy`, the values it may take.
    struct Setting: Sendable {
        enum Path: Sendable {
            case count(WritableKeyPath<Policy, Int> & Sendable)
            case cents(WritableKeyPath<Policy, Cents> & Sendable)
        }

        let key: String
        let path: Path
        let range: ClosedRange<Int>

        init(key: String, path: WritableKeyPath<Policy, Int> & Sendable, range: ClosedRange<Int>) {
            self.key = key
            self.path = .count(path)
            self.range = range
        }

        init(key: String, cents path: WritableKeyPath<Policy, Cents> & Sendable, range: ClosedRange<Int>) {
            self.key = key
            self.path = .cents(path)
            self.range = range
        }

        func read(_ policy: Policy) -> Int64 {
            switch path {
            case .count(let path): Int64(policy[keyPath: path])
            case .cents(let path): policy[keyPath: path]
            }
        }

        func write(_ value: Int64, to policy: inout Policy) {
            switch path {
            case .count(let path): policy[keyPath: path] = Int(value)
            case .cents(let path): policy[keyPath: path] = value
            }
        }

        static let days = 0...3_650, businessDays = 0...260
        static let timeframes: [Setting] = [
            Setting(key: "openCaseDays", path: \.openCaseDays, range: days),
            Setting(key: "locateDays", path: \.locateDays, range: days),
            Setting(key: "establishmentDays", path: \.establishmentDays, range: days),
            Setting(key: "enforcementDays", path: \.enforcementDays, range: days),
            Setting(key: "enforcementDaysWithService", path: \.enforcementDaysWithService, range: days),
            Setting(key: "orderReviewMonths", path: \.orderReviewMonths, range: 1...240),
            Setting(key: "closureNoticeDays", path: \.closureNoticeDays, range: days),
            Setting(key: "reviewDays", path: \.reviewDays, range: days),
            Setting(key: "incarcerationReviewMinimumDays", path: \.incarcerationReviewMinimumDays, range: days),
            Setting(key: "intergovernmentalReferralDays", path: \.intergovernmentalReferralDays, range: days),
            Setting(key: "withholdingNoticeBusinessDays", path: \.withholdingNoticeBusinessDays, range: businessDays),
            Setting(key: "medicalSupportNoticeBusinessDays", path: \.medicalSupportNoticeBusinessDays, range: businessDays),
            Setting(key: "employerRemitBusinessDays", path: \.employerRemitBusinessDays, range: businessDays),
            Setting(key: "distributionBusinessDays", path: \.distributionBusinessDays, range: businessDays),
            Setting(key: "jointReturnHoldDays", path: \.jointReturnHoldDays, range: days),
            Setting(key: "remittanceExpectedDays", path: \.remittanceExpectedDays, range: 1...days.upperBound),
            Setting(key: "noticeBusinessDays", path: \.noticeBusinessDays, range: businessDays),
            Setting(key: "incarcerationNoticeBusinessDays", path: \.incarcerationNoticeBusinessDays, range: businessDays),
            Setting(key: "courtPreparationBusinessDaysBeforeHearing", path: \.courtPreparationBusinessDaysBeforeHearing, range: businessDays),
        ]
        static let cents = 0...Int(Ledger.maximumAmountCents)
        static let thresholds: [Setting] = [
            Setting(key: "taxOffsetAssistanceCents", cents: \.taxOffsetAssistanceThresholdCents, range: cents),
            Setting(key: "taxOffsetNonAssistanceCents", cents: \.taxOffsetNonAssistanceThresholdCents, range: cents),
            Setting(key: "passportDenialCents", cents: \.passportDenialThresholdCents, range: cents),
            Setting(key: "creditBureauCents", cents: \.creditBureauThresholdCents, range: cents),
            Setting(key: "licenseSuspensionMonthsOfSupport", path: \.licenseSuspensionMonthsOfSupport, range: 1...120),
            Setting(key: "closureArrearsCents", cents: \.closureArrearsThresholdCents, range: cents),
            // domain.md's name for it, not the `...Cents` pattern of the others.
            Setting(key: "levyThresholdCents", cents: \.levyThresholdCents, range: cents),
        ]
        /// Caps on amounts in events, never above the contract's bound.
        static let amounts = 1...Int(InputLimits.maximumCents)
        static let inputBounds: [Setting] = [
            Setting(key: "paymentCents", cents: \.amountCaps.paymentCents, range: amounts),
            Setting(key: "monthlyCents", cents: \.amountCaps.monthlyCents, range: amounts),
            Setting(key: "judgmentCents", cents: \.amountCaps.judgmentCents, range: amounts),
            Setting(key: "wagesCents", cents: \.amountCaps.wagesCents, range: amounts),
            Setting(key: "futureToleranceHours", path: \.futureToleranceHours, range: 0...720),
        ]
        static let withholdingLimit: [Setting] = [
            Setting(key: "percentSupportingAnotherFamily", path: \.ccpaLimitPercentSupportingAnotherFamily, range: 0...100),
            Setting(key: "percentOtherwise", path: \.ccpaLimitPercentOtherwise, range: 0...100),
            Setting(key: "arrearsSurchargePercent", path: \.ccpaArrearsSurchargePercent, range: 0...100),
            Setting(key: "arrearsAgeWeeks", path: \.ccpaArrearsAgeWeeks, range: 0...520),
            Setting(key: "unemploymentWithholdingPercent", path: \.unemploymentWithholdingPercent, range: 1...100),
        ]
        /// At least a day: a report is never deleted in the batch that parked it.
        static let retention: [Setting] = [
            Setting(key: "unmatchedReportRetentionDays", path: \.unmatchedReportRetentionDays, range: 1...days.upperBound),
        ]
    }

    /// Reads the document, naming the key of the first problem.
    private struct Reader {
        var policy = Policy()

        mutating func policy(_ document: JSONValue) throws(PolicyFileError) -> Policy {
            let top = try object(document, at: nil)
            try onlyKnownKeys(top, ["timeZone", "holidays", "timeframes", "thresholds", "withholdingLimit", "inputBounds", "retention",
                                    "referralsNeedingService", "contestDays", "homeState", "assistancePrograms"], at: nil)
            var zone = policy.calendar.timeZoneIdentifier
            if let value = top["timeZone"] {
                zone = try string(value, at: "timeZone")
                guard TimeZone(identifier: zone) != nil else {
                    throw PolicyFileError(key: "timeZone", problem: "\"\(zone)\" is not a time zone this system knows (an IANA name such as America/New_York)")
                }
            }
            var rules = HolidayRule.federal, added: Set<LocalDate> = [], open: Set<LocalDate> = []
            if let value = top["holidays"] {
                let holidays = try object(value, at: "holidays")
                try onlyKnownKeys(holidays, ["remove", "add", "addRules", "open"], at: "holidays")
                for (index, name) in try strings(holidays["remove"], at: "holidays.remove").enumerated() {
                    guard let rule = rules.first(where: { $0.name == name }) else {
                        throw PolicyFileError(
                            key: "holidays.remove[\(index)]",
                            problem: "\"\(name)\" is not a federal holiday (one of: \(HolidayRule.federal.map(\.name).joined(separator: ", ")))")
                    }
                    rules.removeAll { $0 == rule }
                }
                added = Set(try dates(holidays["add"], at: "holidays.add"))
                open = Set(try dates(holidays["open"], at: "holidays.open"))
                for (index, value) in try array(holidays["addRules"], at: "holidays.addRules").enumerated() {
                    rules.append(try holidayRule(value, at: "holidays.addRules[\(index)]"))
                }
            }
            policy.calendar = BusinessCalendar(
                timeZone: TimeZone(identifier: zone)!, holidayRules: rules, additionalHolidays: added, openDates: open)
            try numbers(top["timeframes"], Setting.timeframes, at: "timeframes")
            try numbers(top["thresholds"], Setting.thresholds, at: "thresholds")
            try numbers(top["inputBounds"], Setting.inputBounds, at: "inputBounds")
            try numbers(top["retention"], Setting.retention, at: "retention")
            if let value = top["withholdingLimit"] {
                var limit = try object(value, at: "withholdingLimit")
                if let supports = limit.removeValue(forKey: "obligorSupportsAnotherFamily") {
                    guard case .bool(let flag) = supports else {
                        throw PolicyFileError(key: "withholdingLimit.obligorSupportsAnotherFamily", problem: "must be true or false")
                    }
                    policy.obligorSupportsAnotherFamily = flag
                }
                try numbers(.object(limit), Setting.withholdingLimit, at: "withholdingLimit")
            }
            if let value = top["referralsNeedingService"] {
                policy.referralsNeedingService = []
                for (index, name) in try strings(value, at: "referralsNeedingService").enumerated() {
                    guard let type = TaskType(rawValue: name), TaskType.arrearsReferrals.contains(type) else {
                        throw PolicyFileError(
                            key: "referralsNeedingService[\(index)]",
                            problem: "\"\(name)\" is not a referral type (one of: \(TaskType.arrearsReferrals.map(\.rawValue).joined(separator: ", ")))")
                    }
                    policy.referralsNeedingService.insert(type)
                }
            }
            if let value = top["contestDays"] {
                // Per remedy; a remedy not named keeps its default, 0 takes it without a notice period.
                let fields = try object(value, at: "contestDays")
                for name in fields.keys.sorted() {
                    let key = "contestDays.\(name)"
                    guard let type = TaskType(rawValue: name), TaskType.remedies.contains(type) else {
                        throw PolicyFileError(
                            key: key, problem: "\"\(name)\" is not a remedy (one of: \(TaskType.remedies.map(\.rawValue).joined(separator: ", ")))")
                    }
                    guard case .int(let days) = fields[name]! else { throw PolicyFileError(key: key, problem: "must be a whole number") }
                    guard Setting.days.contains(Int(days)) else {
                        throw PolicyFileError(key: key, problem: "\(days) is out of range (\(Setting.days.lowerBound)...\(Setting.days.upperBound))")
                    }
                    policy.contestDays[type] = days == 0 ? nil : Int(days)
                }
            }
            if let value = top["homeState"] {
                let code = try string(value, at: "homeState")
                guard let state = USState(code) else {
                    throw PolicyFileError(key: "homeState", problem: "\"\(code)\" is not a USPS code of a state, DC, a territory or an armed-forces region, in upper case (e.g. NC)")
                }
                policy.homeState = state
            }
            if let value = top["assistancePrograms"] {
                policy.assistancePrograms = []
                for (index, name) in try strings(value, at: "assistancePrograms").enumerated() {
                    guard let program = Program(rawValue: name) else {
                        throw PolicyFileError(key: "assistancePrograms[\(index)]", problem: "\"\(name)\" is not a program")
                    }
                    policy.assistancePrograms.insert(program)
                }
            }
            return policy
        }

        mutating func numbers(_ value: JSONValue?, _ settings: [Setting], at key: String) throws(PolicyFileError) {
            guard let value else { return }
            let fields = try object(value, at: key)
            try onlyKnownKeys(fields, settings.map(\.key), at: key)
            for setting in settings {
                guard let field = fields[setting.key] else { continue }
                let path = "\(key).\(setting.key)"
                guard case .int(let number) = field else { throw PolicyFileError(key: path, problem: "must be a whole number") }
                guard setting.range.contains(Int(number)) else {
                    throw PolicyFileError(key: path, problem: "\(number) is out of range (\(setting.range.lowerBound)...\(setting.range.upperBound))")
                }
                setting.write(number, to: &policy)
            }
        }

        func holidayRule(_ value: JSONValue, at key: String) throws(PolicyFileError) -> HolidayRule {
            let fields = try object(value, at: key)
            try onlyKnownKeys(fields, ["name", "month", "day", "isoWeekday", "ordinal", "last", "shiftsOffWeekend", "firstYear"], at: key)
            guard let nameValue = fields["name"] else { throw PolicyFileError(key: "\(key).name", problem: "is required") }
            let name = try string(nameValue, at: "\(key).name")
            func int(_ field: String) throws(PolicyFileError) -> Int? {
                guard let value = fields[field] else { return nil }
                guard case .int(let number) = value else { throw PolicyFileError(key: "\(key).\(field)", problem: "must be a whole number") }
                return Int(number)
            }
            guard let month = try int("month") else { throw PolicyFileError(key: "\(key).month", problem: "is required") }
            let placement: HolidayRule.Placement
            if let day = try int("day") {
                placement = .fixed(month: month, day: day)
            } else if let weekday = try int("isoWeekday") {
                if fields["last"] == .bool(true) {
                    placement = .lastWeekday(month: month, isoWeekday: weekday)
                } else {
                    placement = .nthWeekday(month: month, isoWeekday: weekday, ordinal: try int("ordinal") ?? 1)
                }
            } else {
                throw PolicyFileError(key: key, problem: "needs \"day\" (a fixed date) or \"isoWeekday\" (with \"ordinal\" or \"last\")")
            }
            var shifts = true
            if let value = fields["shiftsOffWeekend"] {
                guard case .bool(let flag) = value else { throw PolicyFileError(key: "\(key).shiftsOffWeekend", problem: "must be true or false") }
                shifts = flag
            }
            let rule = HolidayRule(name: name, placement: placement, shiftsOffWeekend: shifts, firstYear: try int("firstYear"))
            guard rule.isValid else {
                throw PolicyFileError(key: key, problem: "does not name a day every year (month 1-12, day 1-31, isoWeekday 1-7, ordinal 1-5)")
            }
            return rule
        }

        func object(_ value: JSONValue, at key: String?) throws(PolicyFileError) -> [String: JSONValue] {
            guard case .object(let fields) = value else { throw PolicyFileError(key: key, problem: "must be an object") }
            return fields
        }

        func array(_ value: JSONValue?, at key: String) throws(PolicyFileError) -> [JSONValue] {
            guard let value else { return [] }
            guard case .array(let items) = value else { throw PolicyFileError(key: key, problem: "must be a list") }
            return items
        }

        func string(_ value: JSONValue, at key: String) throws(PolicyFileError) -> String {
            guard case .string(let text) = value else { throw PolicyFileError(key: key, problem: "must be a string") }
            return text
        }

        func strings(_ value: JSONValue?, at key: String) throws(PolicyFileError) -> [String] {
            var result: [String] = []
            for (index, item) in try array(value, at: key).enumerated() { result.append(try string(item, at: "\(key)[\(index)]")) }
            return result
        }

        func dates(_ value: JSONValue?, at key: String) throws(PolicyFileError) -> [LocalDate] {
            var result: [LocalDate] = []
            for (index, text) in try strings(value, at: key).enumerated() {
                guard let date = LocalDate(iso8601: text) else {
                    throw PolicyFileError(key: "\(key)[\(index)]", problem: "\"\(text)\" is not a YYYY-MM-DD date")
                }
                result.append(date)
            }
            return result
        }

        func onlyKnownKeys(_ fields: [String: JSONValue], _ known: [String], at key: String?) throws(PolicyFileError) {
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
                throw PolicyFileError(
                    key: key.map { "\($0).\(unknown)" } ?? unknown,
                    problem: "no such setting (known here: \(known.joined(separator: ", ")))")
            }
        }
    }
}

/// A policy file that cannot be used: which key, and why.
public struct PolicyFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the offending key (`thresholds.creditBureauCents`), nil for the whole document.
    public var key: String?
    public var problem: String

    public init(key: String?, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { key.map { "\($0): \(problem)" } ?? problem }
}
