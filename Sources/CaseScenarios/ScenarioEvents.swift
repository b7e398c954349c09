import Crypto
import Foundation

/// Single events with exact inputs, for tests that need a precise situation
/// (a new hire that arrives before its case, a remittance that overpays).
/// Every builder has defaults for everything but the identifiers that tie
/// events together (case id, SSN, FEIN), so a test names only what it checks:
///
///     let hire = ScenarioEvents.newHire(ssn: "934127765", occurredAt: day1)
///     let open = ScenarioEvents.intakeApplication(caseId: "CS-1", occurredAt: day2)
///
/// Business dates in `data` default to the UTC day of `occurredAt`
/// (`receivedOn`, `attemptedOn`...), or to a plausible offset from it
/// (`hireDate` a week earlier, `effectiveOn` the next 1st of the month).
///
/// `id` defaults to a UUID derived from the event's content (type, case,
/// time, source and data): building the same event twice gives the same id,
/// which is exactly what a redelivery looks like. Pass `id:` to make two
/// identical-looking events distinct.
///
/// Court events are stamped in the court's local America/Chicago time with its
/// offset, all others in UTC (`Z`).
public enum ScenarioEvents {
    public static let defaultOccurredAt: Date = ScenarioDate(year: 2026, month: 1, day: 5)!.at(hour: 15)

    public static let intakeSource = "ncfast"
    public static let newHireSource = "sdnh"
    public static let wageSource = "nc-des"
    public static let remittanceSource = "nc-scu"
    public static let employerSource = "employer-portal"
    public static let courtSource = "court-clerk-mecklenburg"
    public static let courtName = "Mecklenburg County District Court"

    // MARK: cse.intake.v1

    /// `intake.application`. Parties default to `ScenarioParty.sampleCustodial/sampleNoncustodial(caseId:)`
    /// and one child with paternity established.
    public static func intakeApplication(
        caseId: String, program: Program = .nonTANF, receivedOn: ScenarioDate? = nil,
        custodialParty: ScenarioParty? = nil, noncustodialParty: ScenarioParty? = nil, children: [ScenarioChild]? = nil,
        existingOrder: ScenarioOrderTerms? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        let receivedOn = receivedOn ?? ScenarioDate(occurredAt)
        let custodial = custodialParty ?? .sampleCustodial(caseId: caseId)
        let noncustodial = noncustodialParty ?? .sampleNoncustodial(caseId: caseId)
        let children = children ?? [.sample(caseId: caseId)]
        return caseEvent("intake.application", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("program", program.rawValue)
            w.field("receivedOn", receivedOn)
            w.key("custodialParty")
            custodial.write(to: &w)
            w.key("noncustodialParty")
            noncustodial.write(to: &w)
            w.key("children")
            w.beginArray()
            for child in children { child.write(to: &w) }
            w.endArray()
            if let existingOrder {
                w.key("existingOrder")
                existingOrder.write(to: &w)
            }
        }
    }

    /// `intake.party-update`: give at least one of address, ssn, employer, deceasedOn, incarceratedUntil.
    /// `partyId` defaults to the case's noncustodial party.
    public static func partyUpdate(
        caseId: String, partyId: String? = nil, address: ScenarioAddress? = nil, ssn: String? = nil,
        employer: ScenarioEmployer? = nil, deceasedOn: ScenarioDate? = nil, incarceratedUntil: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("intake.party-update", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("partyId", partyId ?? ScenarioParty.noncustodialPartyId(caseId: caseId))
            if let address {
                w.key("address")
                address.write(to: &w)
            }
            w.optionalField("ssn", ssn)
            if let employer {
                w.key("employer")
                employer.write(to: &w)
            }
            w.optionalField("deceasedOn", deceasedOn)
            w.optionalField("incarceratedUntil", incarceratedUntil)
        }
    }

    public static func closureRequest(
        caseId: String, reason: String = "Custodial party requested closure",
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("intake.closure-request", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("reason", reason)
        }
    }

    /// `intake.review-requested`: a review and adjustment of the order. `requestedOn` defaults to the day of `occurredAt`.
    public static func reviewRequested(
        caseId: String, requestedBy: Requester = .noncustodialParty, requestedOn: ScenarioDate? = nil, reason: String? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("intake.review-requested", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("requestedBy", requestedBy.rawValue)
            w.field("requestedOn", requestedOn ?? ScenarioDate(occurredAt))
            w.optionalField("reason", reason)
        }
    }

    /// `intake.closure-response`: the recipient's answer to a notice of intent to close.
    public static func closureResponse(
        caseId: String, informationProvided: Bool = true, respondedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("intake.closure-response", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("respondedOn", respondedOn ?? ScenarioDate(occurredAt))
            w.field("informationProvided", informationProvided)
        }
    }

    /// `intake.remedy-contested`: the parent contests a remedy he was given notice of.
    public static func remedyContested(
        caseId: String, remedy: Remedy = .creditBureauReport, contestedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("intake.remedy-contested", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("remedy", remedy.rawValue)
            w.field("contestedOn", contestedOn ?? ScenarioDate(occurredAt))
        }
    }

    /// `intake.contest-decided`.
    public static func contestDecided(
        caseId: String, remedy: Remedy = .creditBureauReport, outcome: ContestOutcome = .upheld, decidedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("intake.contest-decided", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("remedy", remedy.rawValue)
            w.field("decidedOn", decidedOn ?? ScenarioDate(occurredAt))
            w.field("outcome", outcome.rawValue)
        }
    }

    /// `intake.payment-agreement`: `monthlyCents` a month from `firstDueOn` (default the 1st of the next month).
    public static func paymentAgreement(
        caseId: String, agreementId: String, monthlyCents: Int64 = 15_000, firstDueOn: ScenarioDate? = nil, signedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = intakeSource, id: String? = nil
    ) -> ScenarioEvent {
        let signedOn = signedOn ?? ScenarioDate(occurredAt)
        return caseEvent("intake.payment-agreement", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("agreementId", agreementId)
            w.field("monthlyCents", monthlyCents)
            w.field("firstDueOn", firstDueOn ?? signedOn.firstOfNextMonth)
            w.field("signedOn", signedOn)
        }
    }

    // MARK: cse.employer-reports.v1

    /// `employer.new-hire` for the person with `ssn`; `hireDate` defaults to a week before `receivedOn`.
    public static func newHire(
        ssn: String, fein: String = ScenarioEmployer.sample.fein, employerName: String = ScenarioEmployer.sample.name,
        employerAddress: ScenarioAddress = ScenarioEmployer.sample.address,
        firstName: String = "Marcus", lastName: String = "Whitfield", employeeAddress: ScenarioAddress? = nil,
        hireDate: ScenarioDate? = nil, receivedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = newHireSource, id: String? = nil
    ) -> ScenarioEvent {
        let receivedOn = receivedOn ?? ScenarioDate(occurredAt)
        let hireDate = hireDate ?? receivedOn.adding(days: -7)
        return employerEvent("employer.new-hire", key: ScenarioKey.feinKey(fein), occurredAt: occurredAt, source: source, id: id) { w in
            person("employee", ssn: ssn, firstName: firstName, lastName: lastName, address: employeeAddress, to: &w)
            w.key("employer")
            ScenarioEmployer(fein: fein, name: employerName, address: employerAddress).write(to: &w)
            w.field("hireDate", hireDate)
            w.field("receivedOn", receivedOn)
        }
    }

    /// `employer.termination`; `newEmployer`, when the employer knows it, is written in full.
    public static func termination(
        ssn: String, fein: String = ScenarioEmployer.sample.fein, terminatedOn: ScenarioDate? = nil,
        newEmployer: ScenarioEmployer? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = employerSource, id: String? = nil
    ) -> ScenarioEvent {
        let terminatedOn = terminatedOn ?? ScenarioDate(occurredAt).adding(days: -7)
        return employerEvent("employer.termination", key: ScenarioKey.feinKey(fein), occurredAt: occurredAt, source: source, id: id) { w in
            w.key("employee")
            w.beginObject()
            w.field("ssn", ssn)
            w.endObject()
            w.key("employer")
            w.beginObject()
            w.field("fein", fein)
            w.endObject()
            w.field("terminatedOn", terminatedOn)
            if let newEmployer {
                w.key("newEmployer")
                newEmployer.write(to: &w)
            }
        }
    }

    /// `employer.quarterly-wage`; `quarter` is `YYYYQn`.
    public static func quarterlyWage(
        ssn: String, fein: String = ScenarioEmployer.sample.fein, employerName: String = ScenarioEmployer.sample.name,
        quarter: String = "2025Q4", wagesCents: Int64 = 1_150_000,
        occurredAt: Date = defaultOccurredAt, source: String = wageSource, id: String? = nil
    ) -> ScenarioEvent {
        employerEvent("employer.quarterly-wage", key: ScenarioKey.feinKey(fein), occurredAt: occurredAt, source: source, id: id) { w in
            w.key("employee")
            w.beginObject()
            w.field("ssn", ssn)
            w.endObject()
            w.key("employer")
            w.beginObject()
            w.field("fein", fein)
            w.field("name", employerName)
            w.endObject()
            w.field("quarter", quarter)
            w.field("wagesCents", wagesCents)
        }
    }

    /// `employer.withholding-remittance`, keyed by the employer's FEIN.
    /// `payDate` defaults to three weekdays before `receivedOn`.
    public static func remittance(
        fein: String = ScenarioEmployer.sample.fein, payments: [ScenarioPayment],
        payDate: ScenarioDate? = nil, receivedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = remittanceSource, id: String? = nil
    ) -> ScenarioEvent {
        let receivedOn = receivedOn ?? ScenarioDate(occurredAt)
        let payDate = payDate ?? receivedOn.adding(days: receivedOn.weekday <= 2 ? -5 : -3)
        return employerEvent(
            "employer.withholding-remittance", key: ScenarioKey.feinKey(fein), occurredAt: occurredAt, source: source, id: id
        ) { w in
            w.key("employer")
            w.beginObject()
            w.field("fein", fein)
            w.endObject()
            w.field("payDate", payDate)
            w.field("receivedOn", receivedOn)
            w.key("payments")
            w.beginArray()
            for payment in payments {
                w.beginObject()
                w.field("caseId", payment.caseId)
                w.field("amountCents", payment.amountCents)
                w.endObject()
            }
            w.endArray()
        }
    }

    /// Shorthand: `remittance(fein:, payments: [("CS-1", 20_000), ("CS-2", 15_500)])`.
    public static func remittance(
        fein: String = ScenarioEmployer.sample.fein, payments: [(caseId: String, amountCents: Int64)],
        payDate: ScenarioDate? = nil, receivedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = remittanceSource, id: String? = nil
    ) -> ScenarioEvent {
        remittance(
            fein: fein, payments: payments.map { ScenarioPayment(caseId: $0.caseId, amountCents: $0.amountCents) },
            payDate: payDate, receivedOn: receivedOn, occurredAt: occurredAt, source: source, id: id)
    }

    /// `employer.iwo-response`, keyed by the employer's FEIN like every employer report.
    public static func iwoResponse(
        caseId: String, fein: String = ScenarioEmployer.sample.fein, status: IWOStatus = .accepted,
        medicalCoverage: MedicalCoverage? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = employerSource, id: String? = nil
    ) -> ScenarioEvent {
        return employerEvent("employer.iwo-response", key: ScenarioKey.feinKey(fein), occurredAt: occurredAt, source: source, id: id) { w in
            w.field("caseId", caseId)
            w.key("employer")
            w.beginObject()
            w.field("fein", fein)
            w.endObject()
            w.field("status", status.rawValue)
            w.optionalField("medicalCoverage", medicalCoverage?.rawValue)
        }
    }

    // MARK: cse.court-outcomes.v1

    /// `court.order-established`; `orderId` defaults to `<caseId>-O1`, `effectiveOn` to the next 1st of the month.
    public static func orderEstablished(
        caseId: String, orderId: String? = nil, docketNumber: String = "26CVD004213", monthlySupportCents: Int64 = 45_000,
        monthlyArrearsPaymentCents: Int64? = nil, medicalSupportOrdered: Bool = false, effectiveOn: ScenarioDate? = nil,
        judgmentArrearsCents: Int64? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        let terms = ScenarioOrderTerms(
            orderId: orderId ?? defaultOrderId(caseId: caseId), docketNumber: docketNumber, monthlySupportCents: monthlySupportCents,
            monthlyArrearsPaymentCents: monthlyArrearsPaymentCents, medicalSupportOrdered: medicalSupportOrdered,
            effectiveOn: effectiveOn ?? ScenarioDate(occurredAt).firstOfNextMonth, judgmentArrearsCents: judgmentArrearsCents)
        return orderEstablished(caseId: caseId, terms: terms, occurredAt: occurredAt, source: source, id: id)
    }

    public static func orderEstablished(
        caseId: String, terms: ScenarioOrderTerms,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("court.order-established", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            terms.writeMembers(to: &w)
        }
    }

    public static func orderModified(
        caseId: String, orderId: String? = nil, monthlySupportCents: Int64, effectiveOn: ScenarioDate? = nil,
        monthlyArrearsPaymentCents: Int64? = nil, medicalSupportOrdered: Bool = false,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        let effectiveOn = effectiveOn ?? ScenarioDate(occurredAt).firstOfNextMonth
        return caseEvent("court.order-modified", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("orderId", orderId ?? defaultOrderId(caseId: caseId))
            w.field("monthlySupportCents", monthlySupportCents)
            w.field("effectiveOn", effectiveOn)
            w.optionalField("monthlyArrearsPaymentCents", monthlyArrearsPaymentCents)
            w.field("medicalSupportOrdered", medicalSupportOrdered)
        }
    }

    public static func orderTerminated(
        caseId: String, orderId: String? = nil, terminatedOn: ScenarioDate? = nil, reason: OrderTerminationReason = .emancipation,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        let terminatedOn = terminatedOn ?? ScenarioDate(occurredAt)
        return caseEvent("court.order-terminated", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("orderId", orderId ?? defaultOrderId(caseId: caseId))
            w.field("terminatedOn", terminatedOn)
            w.field("reason", reason.rawValue)
        }
    }

    /// `childId` defaults to the case's first child, `<caseId>-C1`.
    public static func paternityEstablished(
        caseId: String, childId: String? = nil, method: PaternityMethod = .geneticTest,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("court.paternity-established", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("childId", childId ?? ScenarioChild.childId(caseId: caseId, number: 1))
            w.field("method", method.rawValue)
        }
    }

    public static func paternityExcluded(
        caseId: String, childId: String? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("court.paternity-excluded", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("childId", childId ?? ScenarioChild.childId(caseId: caseId, number: 1))
        }
    }

    /// `scheduledFor` defaults to four weeks after `occurredAt`, 9:00 court time.
    public static func hearingScheduled(
        caseId: String, hearingId: String? = nil, hearingType: HearingType = .establishment, scheduledFor: Date? = nil,
        courtName: String = courtName,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        let scheduled = scheduledFor.map(wholeSeconds)
            ?? Int64(ScenarioDate(occurredAt).adding(days: 28).nextWeekday.daysSinceEpoch) * 86_400 + 15 * 3600
        return caseEvent("court.hearing-scheduled", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("hearingId", hearingId ?? "\(caseId)-H\(scheduled / 86_400 % 100_000)")
            w.field("hearingType", hearingType.rawValue)
            w.key("scheduledFor")
            w.timestamp(seconds: scheduled, offsetSeconds: WireTime.centralOffsetSeconds(atUTC: scheduled))
            w.field("courtName", courtName)
        }
    }

    /// `partyId` defaults to the case's noncustodial party.
    public static func serviceCompleted(
        caseId: String, partyId: String? = nil, attemptedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        service("court.service-completed", caseId: caseId, partyId: partyId, attemptedOn: attemptedOn, occurredAt: occurredAt, source: source, id: id)
    }

    public static func serviceFailed(
        caseId: String, partyId: String? = nil, attemptedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        service("court.service-failed", caseId: caseId, partyId: partyId, attemptedOn: attemptedOn, occurredAt: occurredAt, source: source, id: id)
    }

    /// `complianceDueOn` defaults to 30 days after `occurredAt`.
    public static func contemptFinding(
        caseId: String, purgeAmountCents: Int64 = 90_000, complianceDueOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = courtSource, id: String? = nil
    ) -> ScenarioEvent {
        let due = complianceDueOn ?? ScenarioDate(occurredAt).adding(days: 30)
        return caseEvent("court.contempt-finding", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("purgeAmountCents", purgeAmountCents)
            w.field("complianceDueOn", due)
        }
    }

    public static func defaultOrderId(caseId: String) -> String { caseId + "-O1" }

    // MARK: cse.collections.v1 (contract v1.1)

    public static let disbursementUnitSource = "nc-sdu"

    /// `collection.received`, keyed by case. `receivedOn` defaults to the day of `occurredAt`.
    public static func collectionReceived(
        caseId: String, collectionId: String, source collectionSource: CollectionSource = .directPayment, amountCents: Int64 = 40_000,
        receivedOn: ScenarioDate? = nil, jointReturn: Bool? = nil, taxYear: Int64? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = disbursementUnitSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("collection.received", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("collectionId", collectionId)
            w.field("source", collectionSource.rawValue)
            w.field("amountCents", amountCents)
            w.field("receivedOn", receivedOn ?? ScenarioDate(occurredAt))
            if let jointReturn { w.field("jointReturn", jointReturn) }
            w.optionalField("taxYear", taxYear)
        }
    }

    /// `collection.reversed`; `amountCents` nil reverses what is left of it.
    public static func collectionReversed(
        caseId: String, collectionId: String, reason: ReversalReason = .nsf, amountCents: Int64? = nil, reversedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = disbursementUnitSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("collection.reversed", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("collectionId", collectionId)
            w.field("reversedOn", reversedOn ?? ScenarioDate(occurredAt))
            w.field("reason", reason.rawValue)
            w.optionalField("amountCents", amountCents)
        }
    }

    /// `account.adjusted`: positive adds to what is owed, negative credits it.
    public static func accountAdjusted(
        caseId: String, adjustmentId: String, amountCents: Int64, reason: AdjustmentReason = .audit, effectiveOn: ScenarioDate? = nil,
        orderId: String? = nil, occurredAt: Date = defaultOccurredAt, source: String = "nc-accounts", id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("account.adjusted", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("adjustmentId", adjustmentId)
            w.field("amountCents", amountCents)
            w.field("effectiveOn", effectiveOn ?? ScenarioDate(occurredAt))
            w.field("reason", reason.rawValue)
            w.optionalField("orderId", orderId)
        }
    }

    /// `disbursement.returned`: the family's payment came back.
    public static func disbursementReturned(
        caseId: String, disbursementTaskId: String, reason: DisbursementReturnReason = .undeliverable, returnedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = disbursementUnitSource, id: String? = nil
    ) -> ScenarioEvent {
        caseEvent("disbursement.returned", caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("disbursementTaskId", disbursementTaskId)
            w.field("returnedOn", returnedOn ?? ScenarioDate(occurredAt))
            w.field("reason", reason.rawValue)
        }
    }

    // MARK: cse.data-matches.v1 (contract v1.1)

    /// `match.unemployment-claim`, keyed by the agency's FEIN.
    public static func unemploymentClaim(
        ssn: String, firstName: String = "Marcus", lastName: String = "Bell", address: ScenarioAddress? = nil,
        agency: ScenarioEmployer = ScenarioEmployer.workforceAgency, claimFiledOn: ScenarioDate? = nil, weeklyBenefitCents: Int64 = 42_000,
        receivedOn: ScenarioDate? = nil, occurredAt: Date = defaultOccurredAt, source: String = "nc-des-ui", id: String? = nil
    ) -> ScenarioEvent {
        employerEvent("match.unemployment-claim", key: ScenarioKey.feinKey(agency.fein), occurredAt: occurredAt, source: source, id: id) { w in
            person("claimant", ssn: ssn, firstName: firstName, lastName: lastName, address: address, to: &w)
            w.key("agency")
            agency.write(to: &w)
            w.field("claimFiledOn", claimFiledOn ?? ScenarioDate(occurredAt).adding(days: -10))
            w.field("weeklyBenefitCents", weeklyBenefitCents)
            w.field("receivedOn", receivedOn ?? ScenarioDate(occurredAt))
        }
    }

    /// `match.financial-account`, keyed by the institution's FEIN.
    public static func financialAccountMatch(
        ssn: String, firstName: String = "Marcus", lastName: String = "Bell", institution: ScenarioEmployer = ScenarioEmployer.bank,
        accountKind: AccountKind = .checking, balanceCents: Int64 = 150_000, matchedOn: ScenarioDate? = nil,
        occurredAt: Date = defaultOccurredAt, source: String = "fidm", id: String? = nil
    ) -> ScenarioEvent {
        employerEvent("match.financial-account", key: ScenarioKey.feinKey(institution.fein), occurredAt: occurredAt, source: source, id: id) { w in
            person("accountHolder", ssn: ssn, firstName: firstName, lastName: lastName, address: nil, to: &w)
            w.key("institution")
            institution.write(to: &w)
            w.field("accountKind", accountKind.rawValue)
            w.field("balanceCents", balanceCents)
            w.field("matchedOn", matchedOn ?? ScenarioDate(occurredAt))
        }
    }

    /// A person reported by SSN (an employee, a claimant, an account holder).
    private static func person(
        _ key: String, ssn: String, firstName: String, lastName: String, address: ScenarioAddress?, to w: inout JSONWriter
    ) {
        w.key(key)
        w.beginObject()
        w.field("ssn", ssn)
        w.field("firstName", firstName)
        w.field("lastName", lastName)
        if let address {
            w.key("address")
            address.write(to: &w)
        }
        w.endObject()
    }

    // MARK: envelope

    private static func service(
        _ type: String, caseId: String, partyId: String?, attemptedOn: ScenarioDate?, occurredAt: Date, source: String, id: String?
    ) -> ScenarioEvent {
        let attemptedOn = attemptedOn ?? ScenarioDate(occurredAt)
        return caseEvent(type, caseId: caseId, occurredAt: occurredAt, source: source, id: id) { w in
            w.field("partyId", partyId ?? ScenarioParty.noncustodialPartyId(caseId: caseId))
            w.field("attemptedOn", attemptedOn)
        }
    }

    static func caseEvent(
        _ type: String, caseId: String, occurredAt: Date, source: String, id: String?, poison: PoisonClass? = nil,
        data: (inout JSONWriter) -> Void
    ) -> ScenarioEvent {
        envelope(type: type, caseId: caseId, key: ScenarioKey.caseKey(caseId), occurredAt: occurredAt, source: source, id: id, poison: poison, data: data)
    }

    static func employerEvent(
        _ type: String, key: [UInt8], occurredAt: Date, source: String, id: String?, poison: PoisonClass? = nil,
        data: (inout JSONWriter) -> Void
    ) -> ScenarioEvent {
        envelope(type: type, caseId: nil, key: key, occurredAt: occurredAt, source: source, id: id, poison: poison, data: data)
    }

    static func wholeSeconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }

    /// Writes `{"id","type","occurredAt","source","caseId"?,"data"}`. Court
    /// clerks stamp local time with an offset, everyone else UTC.
    static func envelope(
        type: String, caseId: String?, key: [UInt8], occurredAt: Date, source: String, id: String?, poison: PoisonClass?,
        data: (inout JSONWriter) -> Void
    ) -> ScenarioEvent {
        let topic = ScenarioTopic.of(type: type)
        let seconds = wholeSeconds(occurredAt)
        let offset = topic == ScenarioTopic.courtOutcomes ? WireTime.centralOffsetSeconds(atUTC: seconds) : 0

        func writeEnvelope(id: String, to w: inout JSONWriter, data: (inout JSONWriter) -> Void) {
            w.beginObject()
            w.field("id", id)
            w.field("type", type)
            w.key("occurredAt")
            w.timestamp(seconds: seconds, offsetSeconds: offset)
            w.field("source", source)
            w.optionalField("caseId", caseId)
            w.key("data")
            w.beginObject()
            data(&w)
            w.endObject()
            w.endObject()
        }
        let eventId: String
        var w = JSONWriter(capacity: 768)
        if let id {
            eventId = id
            writeEnvelope(id: id, to: &w, data: data)
        } else {
            // The id depends on the data: render the data first.
            var body = JSONWriter(capacity: 640)
            data(&body)
            eventId = contentId(type: type, caseId: caseId, seconds: seconds, source: source, data: body.bytes)
            writeEnvelope(id: eventId, to: &w) { $0.rawMembers(body.bytes) }
        }
        return ScenarioEvent(
            topic: topic, key: key, value: w.bytes, eventId: eventId, type: type, caseId: caseId,
            occurredAt: Date(timeIntervalSince1970: TimeInterval(seconds)), poison: poison)
    }

    private static func contentId(type: String, caseId: String?, seconds: Int64, source: String, data: [UInt8]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("\(type)|\(caseId ?? "")|\(seconds)|\(source)|".utf8))
        hasher.update(data: data)
        let digest = Array(hasher.finalize())
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 {
            high = high << 8 | UInt64(digest[i])
            low = low << 8 | UInt64(digest[8 + i])
        }
        return UUIDText.format(high, low)
    }
}
