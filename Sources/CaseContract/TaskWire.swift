import CaseDomain
import Foundation
import JSON

/// The contract's task envelope (schemas/tasks/<type>.json): `id`, `type`,
/// `caseId`, `createdAt`, `dueBy`, `causationId` and `data`, which always
/// carries `action`. Written by hand from the typed task, keys sorted and no
/// whitespace, so the same task is always the same bytes.
extension CaseTask {
    /// The Kafka message value.
    public func wireJSON() -> [UInt8] { wireMembers.serialized() }

    public var wireValue: JSONValue { wireMembers.object }

    /// `data`: the typed payload's fields and `action`.
    public var wireData: [String: JSONValue] {
        guard case .object(let fields) = wireDataMembers.object else { return [:] }
        return fields
    }

    var wireMembers: JSONMembers {
        var envelope = JSONMembers()
        envelope["id"] = .string(id.lowercasedText)
        envelope["type"] = .string(type.rawValue)
        envelope["caseId"] = .string(caseId)
        envelope["createdAt"] = .string(RFC3339.utcString(createdAt))
        envelope["dueBy"] = .string(dueBy.description)
        envelope["causationId"] = .string(causationId.lowercasedText)
        envelope[object: "data"] = wireDataMembers
        return envelope
    }

    var wireDataMembers: JSONMembers {
        var fields = data.wireFields
        fields["action"] = .string(action.rawValue)
        fields["basis"] = basis.wire
        if withdrawnAsCorrection { fields["reason"] = .string(TaskWire.correctionReason) }
        return fields
    }
}

public enum TaskWire {
    /// The `reason` of a WITHDRAW that a late event, merged in business order,
    /// showed was never required.
    public static let correctionReason = "CORRECTED_IN_BUSINESS_ORDER"
}

extension TaskData {
    var wireFields: JSONMembers {
        var f = JSONMembers()
        switch self {
        case .incomeWithholding(let notice):
            f["employer"] = notice.employer.wire
            f["obligor"] = notice.obligor.wire
            f["orderId"] = notice.orderId.map(JSONValue.string)
            if let terms = notice.terms {
                f["docketNumber"] = .string(terms.docketNumber)
                f["currentSupportCents"] = .int(terms.currentSupportCents)
                f["arrearsPaymentCents"] = .int(terms.arrearsPaymentCents)
                f["totalPerMonthCents"] = .int(terms.totalPerMonthCents)
                f["ccpaLimitPercent"] = .int(Int64(terms.ccpaLimitPercent))
                if let limit = terms.benefitLimit {
                    f["weeklyBenefitCents"] = .int(limit.weeklyBenefitCents)
                    f["withholdingPercent"] = .int(Int64(limit.withholdingPercent))
                    f["weeklyLimitCents"] = .int(limit.weeklyLimitCents)
                }
            }
            f["incomeSource"] = notice.incomeSource.map { .string($0.rawValue) }
            if notice.amended { f["amended"] = true }
            f["reason"] = notice.reason.map(JSONValue.string)
        case .medicalSupportNotice(let notice):
            f["employer"] = notice.employer.wire
            f["obligor"] = notice.obligor.wire
            f["orderId"] = notice.orderId.map(JSONValue.string)
            f["docketNumber"] = notice.docketNumber.map(JSONValue.string)
            f["childIds"] = notice.childIds.map { .array($0.map(JSONValue.string)) }
            f["reason"] = notice.reason.map(JSONValue.string)
        case .referral(let referral):
            f["arrearsCents"] = .int(referral.arrearsCents)
            f["asOf"] = .string(referral.asOf.description)
            f["obligor"] = referral.obligor.wire
            f["program"] = .string(referral.program.rawValue)
            f["thresholdCents"] = referral.thresholdCents.map(JSONValue.int)
            f["reason"] = referral.reason.map(JSONValue.string)
        case .locate(let request):
            f["partyId"] = .string(request.partyId)
            f["role"] = .string(request.role.rawValue)
            f["firstName"] = .string(request.firstName)
            f["lastName"] = .string(request.lastName)
            f["dateOfBirth"] = request.dateOfBirth.map { .string($0.description) }
            f["reason"] = .string(request.reason.rawValue)
            f["ssnKnown"] = .bool(request.ssnKnown)
            f["lastKnownAddress"] = request.lastKnownAddress.map(\.wire)
        case .geneticTesting(let request):
            f["childId"] = .string(request.childId)
            f["childFirstName"] = .string(request.childFirstName)
            f["childLastName"] = .string(request.childLastName)
            f["childDateOfBirth"] = .string(request.childDateOfBirth.description)
            f["allegedFatherPartyId"] = .string(request.allegedFatherPartyId)
            f["custodialPartyId"] = .string(request.custodialPartyId)
        case .courtPreparation(let preparation):
            f["noncustodialPartyId"] = .string(preparation.noncustodialPartyId)
            if let hearing = preparation.hearing {
                f["reason"] = "HEARING"
                f["hearingId"] = .string(hearing.hearingId)
                f["hearingType"] = .string(hearing.hearingType.rawValue)
                f["scheduledFor"] = .string(RFC3339.utcString(hearing.scheduledFor))
                f["hearingDate"] = .string(hearing.hearingDate.description)
                f["courtName"] = .string(hearing.courtName)
            } else {
                f["reason"] = "ESTABLISHMENT"
                f["childIds"] = .array((preparation.establishingFor ?? []).map(JSONValue.string))
            }
        case .disbursement(let d):
            f["paymentId"] = .string(d.paymentId)
            f["source"] = .string(d.source.rawValue)
            f["amountCents"] = .int(d.amountCents)
            f["toCurrentSupportCents"] = .int(d.toCurrentSupportCents)
            f["toArrearsCents"] = .int(d.toArrearsCents)
            f["unappliedCents"] = .int(d.unappliedCents)
            f["disbursedToFamilyCents"] = .int(d.disbursedToFamilyCents)
            f["retainedByStateCents"] = .int(d.retainedByStateCents)
            f["custodialPartyId"] = .string(d.custodialPartyId)
            f["receivedOn"] = .string(d.receivedOn.description)
            if let remittance = d.remittance {
                f["employerFein"] = .string(remittance.employerFein.description)
                f["payDate"] = .string(remittance.payDate.description)
                f["remittanceDueOn"] = .string(remittance.remittanceDueOn.description)
                f["remittedLate"] = .bool(remittance.remittedLate)
            }
            f["collectionId"] = d.collectionId.map(JSONValue.string)
            f["heldUntil"] = d.heldUntil.map { .string($0.description) }
            f["redisbursementOf"] = d.redisbursementOf.map { .string($0.lowercasedText) }
            f["reversedCents"] = d.reversedCents.map(JSONValue.int)
            f["reason"] = d.reason.map(JSONValue.string)
        case .financialLevy(let levy):
            f["institution"] = levy.institution.wire
            f["accountKind"] = .string(levy.accountKind.rawValue)
            f["levyCents"] = .int(levy.levyCents)
            f["pastDueCents"] = .int(levy.pastDueCents)
            f["balanceCents"] = .int(levy.balanceCents)
            f["matchedOn"] = .string(levy.matchedOn.description)
            f["obligor"] = levy.obligor.wire
            f["reason"] = levy.reason.map(JSONValue.string)
        case .partyNotice(let notice):
            f["notice"] = .string(notice.letter.kind.rawValue)
            f["partyId"] = .string(notice.partyId)
            f["role"] = .string(notice.role.rawValue)
            f["firstName"] = .string(notice.firstName)
            f["lastName"] = .string(notice.lastName)
            f["address"] = notice.address.map(\.wire)
            switch notice.letter {
            case let .enforcementIntent(remedy, pastDue, threshold, contestBy, institution):
                f["remedy"] = .string(remedy.rawValue)
                f["pastDueCents"] = .int(pastDue)
                f["thresholdCents"] = .int(threshold)
                f["contestBy"] = .string(contestBy.description)
                f["institution"] = institution.map(\.wire)
            case let .reviewRights(orderId, docketNumber, termsEffectiveOn, incarceratedUntil):
                f["orderId"] = .string(orderId)
                f["docketNumber"] = .string(docketNumber)
                f["termsEffectiveOn"] = .string(termsEffectiveOn.description)
                f["rightToRequestReview"] = true
                f["incarceratedUntil"] = incarceratedUntil.map { .string($0.description) }
            case let .closureIntent(criterion, closeOn):
                f["criterion"] = .string(criterion.rawValue)
                f["closeOn"] = .string(closeOn.description)
            case let .reviewStarted(requestedBy, requestedOn, reviewDueBy):
                f["requestedBy"] = .string(requestedBy.rawValue)
                f["requestedOn"] = .string(requestedOn.description)
                f["reviewDueBy"] = .string(reviewDueBy.description)
            }
        case .intergovernmentalReferral(let referral):
            f["toState"] = .string(referral.toState.code)
            f["needs"] = .array(referral.needs.map { .string($0.rawValue) })
            f["pastDueCents"] = .int(referral.pastDueCents)
            f["obligor"] = referral.obligor.wire
            f["locatedAt"] = referral.locatedAt.map(\.wire)
            f["locatedOn"] = .string(referral.locatedOn.description)
            f["reason"] = referral.reason.map(JSONValue.string)
        case .caseReview(let review):
            switch review.reason {
            case let .missingInformation(missing, receivedOn):
                f["reason"] = "MISSING_INFORMATION"
                f["missing"] = .array(missing.map(JSONValue.string))
                f["applicationReceivedOn"] = .string(receivedOn.description)
            case let .orderReview(orderId, termsEffectiveOn, reviewMonths):
                f["reason"] = "ORDER_REVIEW"
                f["orderId"] = .string(orderId)
                f["termsEffectiveOn"] = .string(termsEffectiveOn.description)
                f["reviewMonths"] = .int(Int64(reviewMonths))
            case let .contemptCompliance(purge, complianceDueOn):
                f["reason"] = "CONTEMPT_COMPLIANCE"
                f["purgeAmountCents"] = .int(purge)
                f["complianceDueOn"] = .string(complianceDueOn.description)
            case let .closure(reason, noticeDays, earliest, detail):
                f["reason"] = .string(reason.rawValue)
                f["closureNoticeDays"] = .int(Int64(noticeDays))
                f["earliestClosureOn"] = .string(earliest.description)
                f["detail"] = detail.map(JSONValue.string)
            case let .employerNotRemitting(fein, acceptedOn, days):
                f["reason"] = "EMPLOYER_NOT_REMITTING"
                f["employerFein"] = .string(fein.description)
                f["acceptedOn"] = .string(acceptedOn.description)
                f["remittanceExpectedDays"] = .int(Int64(days))
            case let .overpaidDisbursement(collectionId, overpaid, reversedOn, taskId):
                f["reason"] = "OVERPAID_DISBURSEMENT"
                f["collectionId"] = .string(collectionId)
                f["overpaidCents"] = .int(overpaid)
                f["reversedOn"] = .string(reversedOn.description)
                f["disbursementTaskId"] = taskId.map { .string($0.lowercasedText) }
            case let .reviewAndAdjustment(requestedBy, requestedOn, countedFrom, reviewDays):
                f["reason"] = "REVIEW_AND_ADJUSTMENT"
                f["requestedBy"] = .string(requestedBy.rawValue)
                f["requestedOn"] = .string(requestedOn.description)
                f["countedFrom"] = .string(countedFrom.description)
                f["reviewDays"] = .int(Int64(reviewDays))
            case let .closureResponse(criterion, respondedOn, closeOn):
                f["reason"] = "CLOSURE_RESPONSE"
                f["criterion"] = .string(criterion.rawValue)
                f["respondedOn"] = .string(respondedOn.description)
                f["closeOn"] = .string(closeOn.description)
            }
            f["arrearsCents"] = review.arrearsCents.map(JSONValue.int)
        }
        return f
    }
}

extension TaskBasis {
    var wire: JSONValue {
        var fields: [String: JSONValue] = ["rule": .string(rule)]
        for fact in facts {
            switch fact.value {
            case .cents(let cents): fields[fact.name] = .int(cents)
            case .date(let date): fields[fact.name] = .string(date.description)
            case .count(let count): fields[fact.name] = .int(Int64(count))
            case .text(let text): fields[fact.name] = .string(text)
            }
        }
        return .object(fields)
    }
}

extension Obligor {
    var wire: JSONValue {
        ["partyId": .string(partyId), "firstName": .string(firstName), "lastName": .string(lastName)]
    }
}

extension EmployerRef {
    var wire: JSONValue {
        var fields: [String: JSONValue] = ["fein": .string(fein.description)]
        fields["name"] = name.map(JSONValue.string)
        fields["address"] = address.map(\.wire)
        return .object(fields)
    }
}

extension Address {
    var wire: JSONValue {
        ["line1": .string(line1), "city": .string(city), "state": .string(state.code), "postalCode": .string(postalCode)]
    }
}

/// RFC 3339 timestamps in UTC, formatted by hand so no locale, calendar or
/// machine zone can change the bytes.
public enum RFC3339 {
    public static func utcString(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, msOfDay) = floorDivided(millis, by: 86_400_000)
        let day = LocalDate(daysSinceEpoch: Int(days))
        let seconds = msOfDay / 1000, fraction = msOfDay % 1000
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let time = "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        return "\(day)T\(time)" + (fraction == 0 ? "" : ".\(pad(fraction, 3))") + "Z"
    }

    private static func floorDivided(_ value: Int64, by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (q, value - q * divisor)
    }
}
