import Foundation

/// Policy is configuration: it is read from a file or the database as JSON.
/// Every field is optional on input (a missing field keeps the federal
/// default), so a state writes down only where it differs; a field the policy
/// does not have is an error, so a misspelt threshold cannot silently fall
/// back to the default.
extension Policy: Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case openCaseDays, locateDays, establishmentDays, enforcementDays, enforcementDaysWithService
        case referralsNeedingService, orderReviewMonths, closureNoticeDays
        case withholdingNoticeBusinessDays, medicalSupportNoticeBusinessDays, employerRemitBusinessDays
        case distributionBusinessDays, courtPreparationBusinessDaysBeforeHearing
        case taxOffsetAssistanceThresholdCents, taxOffsetNonAssistanceThresholdCents, passportDenialThresholdCents
        case creditBureauThresholdCents, licenseSuspensionMonthsOfSupport, closureArrearsThresholdCents
        case obligorSupportsAnotherFamily, ccpaLimitPercentSupportingAnotherFamily, ccpaLimitPercentOtherwise
        case ccpaArrearsSurchargePercent, ccpaArrearsAgeWeeks, assistancePrograms, calendar
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let all = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = all.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorruptedError(forKey: AnyKey(stringValue: unknown), in: all,
                                                   debugDescription: "the policy has no setting \(unknown)")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, into value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.openCaseDays, into: &openCaseDays)
        try read(.locateDays, into: &locateDays)
        try read(.establishmentDays, into: &establishmentDays)
        try read(.enforcementDays, into: &enforcementDays)
        try read(.enforcementDaysWithService, into: &enforcementDaysWithService)
        try read(.referralsNeedingService, into: &referralsNeedingService)
        try read(.orderReviewMonths, into: &orderReviewMonths)
        try read(.closureNoticeDays, into: &closureNoticeDays)
        try read(.withholdingNoticeBusinessDays, into: &withholdingNoticeBusinessDays)
        try read(.medicalSupportNoticeBusinessDays, into: &medicalSupportNoticeBusinessDays)
        try read(.employerRemitBusinessDays, into: &employerRemitBusinessDays)
        try read(.distributionBusinessDays, into: &distributionBusinessDays)
        try read(.courtPreparationBusinessDaysBeforeHearing, into: &courtPreparationBusinessDaysBeforeHearing)
        try read(.taxOffsetAssistanceThresholdCents, into: &taxOffsetAssistanceThresholdCents)
        try read(.taxOffsetNonAssistanceThresholdCents, into: &taxOffsetNonAssistanceThresholdCents)
        try read(.passportDenialThresholdCents, into: &passportDenialThresholdCents)
        try read(.creditBureauThresholdCents, into: &creditBureauThresholdCents)
        try read(.licenseSuspensionMonthsOfSupport, into: &licenseSuspensionMonthsOfSupport)
        try read(.closureArrearsThresholdCents, into: &closureArrearsThresholdCents)
        try read(.obligorSupportsAnotherFamily, into: &obligorSupportsAnotherFamily)
        try read(.ccpaLimitPercentSupportingAnotherFamily, into: &ccpaLimitPercentSupportingAnotherFamily)
        try read(.ccpaLimitPercentOtherwise, into: &ccpaLimitPercentOtherwise)
        try read(.ccpaArrearsSurchargePercent, into: &ccpaArrearsSurchargePercent)
        try read(.ccpaArrearsAgeWeeks, into: &ccpaArrearsAgeWeeks)
        try read(.assistancePrograms, into: &assistancePrograms)
        if let settings = try c.decodeIfPresent(CalendarSettings.self, forKey: .calendar) {
            guard let calendar = settings.calendar else {
                throw DecodingError.dataCorruptedError(
                    forKey: .calendar, in: c, debugDescription: "unknown time zone \(settings.timeZone)")
            }
            self.calendar = calendar
        }
    }

    /// Sets are written sorted so the same policy always encodes to the same bytes.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(openCaseDays, forKey: .openCaseDays)
        try c.encode(locateDays, forKey: .locateDays)
        try c.encode(establishmentDays, forKey: .establishmentDays)
        try c.encode(enforcementDays, forKey: .enforcementDays)
        try c.encode(enforcementDaysWithService, forKey: .enforcementDaysWithService)
        try c.encode(referralsNeedingService.sorted(), forKey: .referralsNeedingService)
        try c.encode(orderReviewMonths, forKey: .orderReviewMonths)
        try c.encode(closureNoticeDays, forKey: .closureNoticeDays)
        try c.encode(withholdingNoticeBusinessDays, forKey: .withholdingNoticeBusinessDays)
        try c.encode(medicalSupportNoticeBusinessDays, forKey: .medicalSupportNoticeBusinessDays)
        try c.encode(employerRemitBusinessDays, forKey: .employerRemitBusinessDays)
        try c.encode(distributionBusinessDays, forKey: .distributionBusinessDays)
        try c.encode(courtPreparationBusinessDaysBeforeHearing, forKey: .courtPreparationBusinessDaysBeforeHearing)
        try c.encode(taxOffsetAssistanceThresholdCents, forKey: .taxOffsetAssistanceThresholdCents)
        try c.encode(taxOffsetNonAssistanceThresholdCents, forKey: .taxOffsetNonAssistanceThresholdCents)
        try c.encode(passportDenialThresholdCents, forKey: .passportDenialThresholdCents)
        try c.encode(creditBureauThresholdCents, forKey: .creditBureauThresholdCents)
        try c.encode(licenseSuspensionMonthsOfSupport, forKey: .licenseSuspensionMonthsOfSupport)
        try c.encode(closureArrearsThresholdCents, forKey: .closureArrearsThresholdCents)
        try c.encode(obligorSupportsAnotherFamily, forKey: .obligorSupportsAnotherFamily)
        try c.encode(ccpaLimitPercentSupportingAnotherFamily, forKey: .ccpaLimitPercentSupportingAnotherFamily)
        try c.encode(ccpaLimitPercentOtherwise, forKey: .ccpaLimitPercentOtherwise)
        try c.encode(ccpaArrearsSurchargePercent, forKey: .ccpaArrearsSurchargePercent)
        try c.encode(ccpaArrearsAgeWeeks, forKey: .ccpaArrearsAgeWeeks)
        try c.encode(assistancePrograms.map(\.rawValue).sorted(), forKey: .assistancePrograms)
        try c.encode(CalendarSettings(calendar), forKey: .calendar)
    }
}

/// The business calendar as configuration: a zone identifier, holiday rules,
/// and listed closed and open dates.
private struct CalendarSettings: Codable {
    var timeZone: String
    var holidayRules: [HolidayRuleSettings]
    var additionalHolidays: [LocalDate]
    var openDates: [LocalDate]

    init(_ calendar: BusinessCalendar) {
        timeZone = calendar.timeZoneIdentifier
        holidayRules = calendar.holidayRules.map(HolidayRuleSettings.init)
        additionalHolidays = calendar.additionalHolidays.sorted()
        openDates = calendar.openDates.sorted()
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone) ?? BusinessCalendar.defaultTimeZoneIdentifier
        holidayRules = try c.decodeIfPresent([HolidayRuleSettings].self, forKey: .holidayRules)
            ?? HolidayRule.federal.map(HolidayRuleSettings.init)
        additionalHolidays = try c.decodeIfPresent([LocalDate].self, forKey: .additionalHolidays) ?? []
        openDates = try c.decodeIfPresent([LocalDate].self, forKey: .openDates) ?? []
    }

    var calendar: BusinessCalendar? {
        BusinessCalendar(timeZoneIdentifier: timeZone, holidayRules: holidayRules.map(\.rule),
                         additionalHolidays: Set(additionalHolidays), openDates: Set(openDates))
    }
}

/// `{"name": "...", "month": 1, "day": 1}` (fixed), `{"month": 1, "isoWeekday": 1, "ordinal": 3}`
/// (n-th weekday) or `{"month": 5, "isoWeekday": 1, "last": true}` (last weekday).
private struct HolidayRuleSettings: Codable {
    var name: String
    var month: Int
    var day: Int?
    var isoWeekday: Int?
    var ordinal: Int?
    var last: Bool?
    var shiftsOffWeekend: Bool?
    var firstYear: Int?

    init(_ rule: HolidayRule) {
        name = rule.name
        shiftsOffWeekend = rule.shiftsOffWeekend
        firstYear = rule.firstYear
        switch rule.placement {
        case let .fixed(month, day): self.month = month; self.day = day
        case let .nthWeekday(month, isoWeekday, ordinal): self.month = month; self.isoWeekday = isoWeekday; self.ordinal = ordinal
        case let .lastWeekday(month, isoWeekday): self.month = month; self.isoWeekday = isoWeekday; self.last = true
        }
    }

    var rule: HolidayRule {
        let placement: HolidayRule.Placement
        if let day {
            placement = .fixed(month: month, day: day)
        } else if last == true {
            placement = .lastWeekday(month: month, isoWeekday: isoWeekday ?? 1)
        } else {
            placement = .nthWeekday(month: month, isoWeekday: isoWeekday ?? 1, ordinal: ordinal ?? 1)
        }
        return HolidayRule(name: name, placement: placement, shiftsOffWeekend: shiftsOffWeekend ?? true, firstYear: firstYear)
    }
}
