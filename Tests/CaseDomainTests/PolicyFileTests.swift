import CaseContract
import Foundation
import JSON
import Testing

@testable import CaseDomain

/// The agency's policy file: every setting optional, every setting checked,
/// the key named when one is wrong.
@Suite("Policy file")
struct PolicyFileTests {
    func decode(_ text: String) throws(PolicyFileError) -> Policy { try PolicyFile.decode(Array(text.utf8)) }

    func problem(_ text: String) -> PolicyFileError? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func anEmptyFile_isTheFederalDefaults() throws {
        #expect(try decode("{}") == Policy())
    }

    @Test func aFullFile_setsEverySection_andTheEffectivePolicyReadsBackEqual() throws {
        let policy = try decode("""
            {
              "timeZone": "America/New_York",
              "holidays": {
                "remove": ["Columbus Day"],
                "add": ["2026-11-27"],
                "addRules": [{"name": "Cesar Chavez Day", "month": 3, "day": 31},
                             {"name": "Mardi Gras Eve", "month": 2, "isoWeekday": 1, "last": true, "shiftsOffWeekend": false}],
                "open": ["2026-12-24"]
              },
              "timeframes": {"locateDays": 60, "withholdingNoticeBusinessDays": 3, "orderReviewMonths": 24},
              "thresholds": {"creditBureauCents": 50000, "licenseSuspensionMonthsOfSupport": 2, "passportDenialCents": 250000},
              "withholdingLimit": {"obligorSupportsAnotherFamily": true, "arrearsAgeWeeks": 10},
              "retention": {"unmatchedReportRetentionDays": 180},
              "referralsNeedingService": ["license-suspension"],
              "assistancePrograms": ["TANF"]
            }
            """)
        #expect(policy.calendar.timeZoneIdentifier == "America/New_York")
        #expect(!policy.calendar.holidayRules.contains(.columbusDay))
        #expect(policy.calendar.holidayRules.contains { $0.name == "Cesar Chavez Day" })
        #expect(policy.calendar.isHoliday(Fx.date("2026-11-27")))
        #expect(policy.calendar.isHoliday(Fx.date("2027-03-31")))
        #expect(!policy.calendar.isHoliday(Fx.date("2026-10-12")))  // Columbus Day, removed
        #expect(policy.locateDays == 60 && policy.withholdingNoticeBusinessDays == 3 && policy.orderReviewMonths == 24)
        #expect(policy.creditBureauThresholdCents == 50_000 && policy.licenseSuspensionMonthsOfSupport == 2)
        #expect(policy.obligorSupportsAnotherFamily && policy.ccpaArrearsAgeWeeks == 10)
        #expect(policy.referralsNeedingService == [.licenseSuspension])
        #expect(policy.assistancePrograms == [.tanf])
        #expect(policy.unmatchedReportRetentionDays == 180)
        #expect(Policy().unmatchedReportRetentionDays == 365)
        // Unchanged settings keep the federal figures.
        #expect(policy.enforcementDays == 30 && policy.taxOffsetNonAssistanceThresholdCents == 50_000)

        let shown = PolicyFile.encode(policy).serialized()
        #expect(try PolicyFile.decode(shown) == policy)
        #expect(PolicyFile.encode(Policy())["holidays"]?["remove"] == [])
    }

    /// The processes' settings (domain.md "Processes (v1.1)"): review, incarceration and
    /// referral timeframes, notice business days, days to contest per remedy, the home state.
    @Test func theProcessSettings_areRead_andReadBackEqual() throws {
        let policy = try decode("""
            {
              "timeframes": {"reviewDays": 120, "incarcerationReviewMinimumDays": 90, "intergovernmentalReferralDays": 10,
                             "noticeBusinessDays": 3, "incarcerationNoticeBusinessDays": 10},
              "contestDays": {"credit-bureau-report": 20, "passport-denial": 15, "financial-levy": 0},
              "homeState": "GA"
            }
            """)
        #expect(policy.reviewDays == 120 && policy.incarcerationReviewMinimumDays == 90 && policy.intergovernmentalReferralDays == 10)
        #expect(policy.noticeBusinessDays == 3 && policy.incarcerationNoticeBusinessDays == 10)
        #expect(policy.contestDays(for: .creditBureauReport) == 20 && policy.contestDays(for: .passportDenial) == 15)
        // 0: taken without a notice of the agency's own; a remedy not named keeps its default.
        #expect(policy.contestDays(for: .financialLevy) == 0 && policy.contestDays(for: .licenseSuspension) == 30)
        #expect(policy.contestDays(for: .taxOffsetReferral) == 0)
        #expect(policy.homeState == USState("GA"))
        #expect(try PolicyFile.decode(PolicyFile.encode(policy).serialized()) == policy)

        // The defaults are domain.md's figures, and the document states every remedy.
        let defaults = PolicyFile.encode(Policy())
        #expect(defaults["contestDays"] == [
            "tax-offset-referral": 0, "passport-denial": 0, "credit-bureau-report": 30, "license-suspension": 30, "financial-levy": 30,
        ])
        #expect(defaults["homeState"] == "NC")
        #expect(defaults["timeframes"]?["reviewDays"] == 180 && defaults["timeframes"]?["incarcerationReviewMinimumDays"] == 180)
        #expect(defaults["timeframes"]?["intergovernmentalReferralDays"] == 20)
        #expect(defaults["timeframes"]?["noticeBusinessDays"] == 2 && defaults["timeframes"]?["incarcerationNoticeBusinessDays"] == 15)
        #expect(try decode(#"{"contestDays": {}}"#) == Policy())
    }

    @Test func badProcessSettings_areRefused_namingTheKey() {
        #expect(problem(#"{"timeframes": {"reviewDays": -1}}"#)?.key == "timeframes.reviewDays")
        #expect(problem(#"{"timeframes": {"incarcerationReviewMinimumDays": 3651}}"#)?.key == "timeframes.incarcerationReviewMinimumDays")
        #expect(problem(#"{"timeframes": {"intergovernmentalReferralDays": "20"}}"#)?.key == "timeframes.intergovernmentalReferralDays")
        #expect(problem(#"{"timeframes": {"noticeBusinessDays": 261}}"#)?.key == "timeframes.noticeBusinessDays")
        #expect(problem(#"{"timeframes": {"incarcerationNoticeBusinessDays": 1.5}}"#)?.key == "timeframes.incarcerationNoticeBusinessDays")
        #expect(problem(#"{"contestDays": {"locate": 30}}"#)?.key == "contestDays.locate")
        #expect(problem(#"{"contestDays": {"credit-bureau-report": -1}}"#)?.key == "contestDays.credit-bureau-report")
        #expect(problem(#"{"contestDays": {"license-suspension": 3651}}"#)?.key == "contestDays.license-suspension")
        #expect(problem(#"{"contestDays": {"financial-levy": "30"}}"#)?.key == "contestDays.financial-levy")
        #expect(problem(#"{"contestDays": [30]}"#)?.key == "contestDays")
        #expect(problem(#"{"homeState": "nc"}"#)?.key == "homeState")
        #expect(problem(#"{"homeState": "XX"}"#)?.key == "homeState")
        #expect(problem(#"{"homeState": 37}"#)?.key == "homeState")
        #expect(problem(#"{"contestDays": {"locate": 30}}"#)?.description.contains("credit-bureau-report") == true)
    }

    @Test func anUnknownKey_isRefused_namingIt() {
        #expect(problem(#"{"thresholds": {"pasportDenialCents": 1}}"#)?.key == "thresholds.pasportDenialCents")
        #expect(problem(#"{"timezone": "America/Denver"}"#)?.key == "timezone")
        #expect(problem(#"{"holidays": {"remove": [], "extra": []}}"#)?.key == "holidays.extra")
    }

    @Test func invalidValues_areRefused_namingTheKey() {
        #expect(problem(#"{"timeZone": "Mars/Olympus"}"#)?.key == "timeZone")
        #expect(problem(#"{"timeframes": {"locateDays": -1}}"#)?.key == "timeframes.locateDays")
        #expect(problem(#"{"timeframes": {"locateDays": "75"}}"#)?.key == "timeframes.locateDays")
        #expect(problem(#"{"withholdingLimit": {"percentOtherwise": 160}}"#)?.key == "withholdingLimit.percentOtherwise")
        #expect(problem(#"{"holidays": {"add": ["2026-02-30"]}}"#)?.key == "holidays.add[0]")
        #expect(problem(#"{"holidays": {"remove": ["Arbor Day"]}}"#)?.key == "holidays.remove[0]")
        #expect(problem(#"{"holidays": {"addRules": [{"name": "X", "month": 13, "day": 1}]}}"#)?.key == "holidays.addRules[0]")
        #expect(problem(#"{"referralsNeedingService": ["locate"]}"#)?.key == "referralsNeedingService[0]")
        #expect(problem(#"{"assistancePrograms": ["WIC"]}"#)?.key == "assistancePrograms[0]")
        #expect(problem(#"{"retention": {"unmatchedReportRetentionDays": 0}}"#)?.key == "retention.unmatchedReportRetentionDays")
        #expect(problem(#"{"retention": {"unmatchedReportRetentionDays": 3651}}"#)?.key == "retention.unmatchedReportRetentionDays")
        #expect(problem(#"{"retention": {"unmatchedReportDays": 30}}"#)?.key == "retention.unmatchedReportDays")
        #expect(problem("[1, 2]")?.key == nil)
        #expect(problem("{not json") != nil)
        #expect(problem(#"{"timeZone": "Mars/Olympus"}"#)?.description.hasPrefix("timeZone: ") == true)
    }

    /// A state holiday added in the file moves a business-day deadline: the
    /// withholding notice for a new hire received Wednesday 2026-11-25 is due
    /// two business days later, Monday the 30th under the federal calendar
    /// (Thanksgiving the 26th), Tuesday December 1 when the state also closes
    /// the day after Thanksgiving.
    @Test func anExtraHolidayInTheFile_movesAWithholdingDueDate() throws {
        let state = try decode(#"{"holidays": {"add": ["2026-11-27"]}}"#)
        func dueBy(_ policy: Policy) throws -> LocalDate {
            var driver = CaseDriver(policy: policy)
            try driver.apply(Fx.application(existingOrder: Fx.order()))
            return try driver.apply(Fx.newHire(2, on: "2026-11-25", employer: Fx.bolt)).only(.incomeWithholding).dueBy
        }
        #expect(try dueBy(Policy()) == Fx.date("2026-11-30"))
        #expect(try dueBy(state) == Fx.date("2026-12-01"))
    }

    /// The policy deploy/ ships (ConfigMap csworker-policy) is a valid file and
    /// states the federal figures.
    @Test func theShippedPolicy_isValid_andTheFederalFigures() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let manifest = try String(contentsOf: root.appendingPathComponent("deploy/kubernetes/configmap-policy.yaml"), encoding: .utf8)
        // The block literal after `policy.json: |`, its four-space indent removed.
        let lines = manifest.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.hasSuffix("policy.json: |") })
        let document = lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { String($0.dropFirst(4)) }
        #expect(try decode(document.joined(separator: "\n")) == Policy())
    }
}
