import Foundation

/// `cse.court-outcomes.v1`: orders, paternity, hearings, service, contempt.
extension RuleRun {
    /// A new order (court or an application's existing order): on the ledger,
    /// withholding to every current employer, and in assistance cases a review
    /// of the order due `orderReviewMonths` (36) after it takes effect (45 CFR 303.8).
    mutating func recordOrder(_ terms: OrderTerms) throws(RuleError) {
        do {
            try state.ledger.establishOrder(
                orderId: terms.orderId, monthlySupportCents: terms.monthlySupportCents,
                monthlyArrearsPaymentCents: terms.monthlyArrearsPaymentCents ?? 0, effectiveOn: terms.effectiveOn,
                judgmentArrearsCents: terms.judgmentArrearsCents ?? 0, enteredOn: businessDate)
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
        guard !state.orders.contains(where: { $0.orderId == terms.orderId }) else {
            note("order \(terms.orderId) already recorded with the same terms")
            return
        }
        state.orders.append(SupportOrder(terms: terms))
        let judgment = terms.judgmentArrearsCents.map { ", judgment arrears \(Money.dollars($0))" } ?? ""
        note("order \(terms.orderId) recorded: \(Money.dollars(terms.monthlySupportCents)) a month from \(terms.effectiveOn)\(judgment)")
        for index in state.employments.indices {
            sendWithholding(toEmploymentAt: index, informationReceivedOn: businessDate)
        }
        scheduleOrderReview(orderId: terms.orderId, termsEffectiveOn: terms.effectiveOn)
        finishReview(by: "order \(terms.orderId)")
    }

    mutating func scheduleOrderReview(orderId: String, termsEffectiveOn: LocalDate) {
        guard policy.isAssistance(state.program) else { return }
        let reviewDue = termsEffectiveOn.adding(months: policy.orderReviewMonths)
        emit(.caseReview, .issue, target: "order-review:\(orderId)", dueBy: reviewDue, data: .caseReview(CaseReview(
            .orderReview(orderId: orderId, termsEffectiveOn: termsEffectiveOn, reviewMonths: policy.orderReviewMonths))),
             basis: TaskBasis("45 CFR 303.8(b)", [
                ("countedFrom", .date(termsEffectiveOn)), ("months", .count(policy.orderReviewMonths)), ("program", .text(state.program.rawValue)),
             ]))
    }

    /// New terms: withholding is re-issued with the new amounts to every current
    /// employer (a new task id, since the causing event differs); a medical
    /// support notice follows the order's health-coverage term both ways.
    mutating func handleOrderModified(_ modification: OrderModification) throws(RuleError) {
        guard let orderIndex = state.orders.firstIndex(where: { $0.orderId == modification.orderId }) else {
            throw .unknownOrder(caseId: state.caseId, orderId: modification.orderId)
        }
        do {
            try state.ledger.modifyOrder(
                orderId: modification.orderId, monthlySupportCents: modification.monthlySupportCents,
                monthlyArrearsPaymentCents: modification.monthlyArrearsPaymentCents, effectiveOn: modification.effectiveOn)
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
        note("order \(modification.orderId) modified: \(Money.dollars(modification.monthlySupportCents)) a month from \(modification.effectiveOn)")
        finishReview(by: "the modification of order \(modification.orderId)")
        // A correction effective before the latest terms changes the past (the
        // ledger re-derives it) but not what the order says today.
        guard modification.effectiveOn >= state.orders[orderIndex].effectiveOn else { return }
        state.orders[orderIndex].monthlySupportCents = modification.monthlySupportCents
        if let arrearsPayment = modification.monthlyArrearsPaymentCents {
            state.orders[orderIndex].monthlyArrearsPaymentCents = arrearsPayment
        }
        state.orders[orderIndex].medicalSupportOrdered = modification.medicalSupportOrdered
        state.orders[orderIndex].effectiveOn = modification.effectiveOn
        guard state.orders[orderIndex].status == .active, state.activeOrder?.orderId == modification.orderId else { return }
        for index in state.employments.indices {
            if !modification.medicalSupportOrdered && state.employments[index].medicalSupportNoticeIssued {
                let employment = state.employments[index]
                emit(.medicalSupportNotice, .withdraw, target: employerTarget(employment.fein),
                     dueBy: businessDays(policy.medicalSupportNoticeBusinessDays, after: businessDate), data: .medicalSupportNotice(
                        MedicalSupportNotice(employer: employerOnFile(employment), obligor: obligor, orderId: modification.orderId,
                                             reason: "MEDICAL_SUPPORT_NO_LONGER_ORDERED")),
                     basis: .timeframe("45 CFR 303.32", from: businessDate, days: policy.medicalSupportNoticeBusinessDays, businessDays: true,
                                       [("orderId", .text(modification.orderId)), ("modifiedEffectiveOn", .date(modification.effectiveOn))]))
                state.employments[index].medicalSupportNoticeIssued = false
            }
            sendWithholding(toEmploymentAt: index, informationReceivedOn: businessDate)
        }
        scheduleOrderReview(orderId: modification.orderId, termsEffectiveOn: modification.effectiveOn)
    }

    /// Accrual stops after `terminatedOn`; withholding and medical notices are
    /// withdrawn. With nothing owed once the last month is charged, the case
    /// meets a closure criterion (45 CFR 303.11(b)): a case-review.
    mutating func handleOrderTerminated(_ termination: OrderTermination) throws(RuleError) {
        guard let orderIndex = state.orders.firstIndex(where: { $0.orderId == termination.orderId }) else {
            throw .unknownOrder(caseId: state.caseId, orderId: termination.orderId)
        }
        do {
            try state.ledger.terminateOrder(orderId: termination.orderId, terminatedOn: termination.terminatedOn)
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
        state.orders[orderIndex].status = .terminated
        state.orders[orderIndex].terminatedOn = termination.terminatedOn
        state.orders[orderIndex].terminationReason = termination.reason
        note("order \(termination.orderId) terminated on \(termination.terminatedOn) (\(termination.reason.rawValue))")
        if state.activeOrder != nil {
            // Another order is still in force: employers now withhold under its terms.
            for index in state.employments.indices {
                sendWithholding(toEmploymentAt: index, informationReceivedOn: businessDate)
            }
            return
        }
        for index in state.employments.indices {
            withdrawWithholding(fromEmploymentAt: index, reason: "ORDER_TERMINATED")
        }
        // Everything the order will ever charge is due by the later of the two dates.
        let asOf = max(businessDate, termination.terminatedOn)
        let owed = state.ledger.balance(asOf: asOf)
        if owed <= 0 {
            requestClosureReview(.orderTerminatedNoArrears, detail: "order \(termination.orderId) terminated with no arrears")
        } else if owed < policy.closureArrearsThresholdCents {
            requestClosureReview(.noCurrentOrderLowArrears,
                                 detail: "order \(termination.orderId) terminated; \(owed) cents owed, under \(policy.closureArrearsThresholdCents)")
        }
    }

    mutating func handlePaternityEstablished(_ outcome: PaternityEstablished) throws(RuleError) {
        guard let index = state.children.firstIndex(where: { $0.childId == outcome.childId }) else {
            throw .unknownChild(caseId: state.caseId, childId: outcome.childId)
        }
        state.children[index].paternity = .established(outcome.method)
        note("paternity of child \(outcome.childId) established by \(outcome.method.rawValue)")
    }

    /// The alleged father is excluded: a closure criterion (45 CFR 303.11(b)).
    mutating func handlePaternityExcluded(_ outcome: PaternityExcluded) throws(RuleError) {
        guard let index = state.children.firstIndex(where: { $0.childId == outcome.childId }) else {
            throw .unknownChild(caseId: state.caseId, childId: outcome.childId)
        }
        state.children[index].paternity = .excluded
        note("alleged father excluded for child \(outcome.childId)")
        requestClosureReview(.paternityExcluded, detail: "paternity excluded for child \(outcome.childId)")
    }

    /// Court preparation due `courtPreparationBusinessDaysBeforeHearing` (10)
    /// business days before the hearing's date in the agency zone. A hearing
    /// scheduled too close for that is due at once (the event's business date).
    mutating func handleHearingScheduled(_ hearing: HearingScheduled) {
        let hearingDate = calendar.businessDate(of: hearing.scheduledFor)
        let dueBy = max(businessDate, calendar.subtractingBusinessDays(policy.courtPreparationBusinessDaysBeforeHearing, from: hearingDate))
        let record = Hearing(hearingId: hearing.hearingId, type: hearing.hearingType, scheduledFor: hearing.scheduledFor,
                             courtName: hearing.courtName, preparationDueBy: dueBy)
        state.hearings.removeAll { $0.hearingId == hearing.hearingId }
        state.hearings.append(record)
        state.hearings.sort { ($0.scheduledFor, $0.hearingId) < ($1.scheduledFor, $1.hearingId) }
        emit(.courtPreparation, .issue, target: "hearing:\(hearing.hearingId)", dueBy: dueBy, data: .courtPreparation(CourtPreparation(
            noncustodialPartyId: state.noncustodialParty.partyId,
            hearing: CourtPreparation.HearingDetails(
                hearingId: hearing.hearingId, hearingType: hearing.hearingType, scheduledFor: hearing.scheduledFor,
                hearingDate: hearingDate, courtName: hearing.courtName))),
             basis: TaskBasis("agency policy courtPreparationBusinessDaysBeforeHearing", [
                ("hearingDate", .date(hearingDate)), ("businessDaysBefore", .count(policy.courtPreparationBusinessDaysBeforeHearing)),
             ]))
    }

    /// Service completed at the party's address confirms it; a failed attempt
    /// makes it unusable and asks for locate (for the noncustodial parent that
    /// can move the case back to LOCATE).
    mutating func handleService(_ service: ServiceOfProcess, outcome: ServiceOutcome) throws(RuleError) {
        let isNoncustodial = service.partyId == state.noncustodialParty.partyId
        guard isNoncustodial || service.partyId == state.custodialParty.partyId else {
            throw .unknownParty(caseId: state.caseId, partyId: service.partyId)
        }
        state.serviceOfProcess.removeAll { $0.partyId == service.partyId }
        state.serviceOfProcess.append(ServiceAttempt(partyId: service.partyId, outcome: outcome, attemptedOn: service.attemptedOn))
        state.serviceOfProcess.sort { $0.partyId < $1.partyId }
        let usable = outcome == .completed
        if isNoncustodial {
            if state.noncustodialParty.address != nil { state.noncustodialParty.addressUsable = usable }
        } else if state.custodialParty.address != nil {
            state.custodialParty.addressUsable = usable
        }
        note("service on party \(service.partyId) \(outcome == .completed ? "completed" : "failed") on \(service.attemptedOn)")
        if outcome == .failed {
            requestLocate(partyId: service.partyId, reason: .serviceFailed)
        }
    }

    /// The contempt order sets a purge amount and a compliance date. A
    /// caseworker review falls due on that date to check compliance and, if the
    /// purge was not paid, go back to court (a case-review rather than court
    /// preparation: no hearing exists yet). Due at once if the date has passed.
    mutating func handleContemptFinding(_ finding: ContemptFinding) {
        state.contempt = ContemptRecord(purgeAmountCents: finding.purgeAmountCents, complianceDueOn: finding.complianceDueOn, foundOn: businessDate)
        note("contempt found: purge \(Money.dollars(finding.purgeAmountCents)) by \(finding.complianceDueOn)")
        emit(.caseReview, .issue, target: "contempt-compliance", dueBy: max(businessDate, finding.complianceDueOn), data: .caseReview(
            CaseReview(.contemptCompliance(purgeAmountCents: finding.purgeAmountCents, complianceDueOn: finding.complianceDueOn))),
             basis: TaskBasis("court contempt order", [
                ("foundOn", .date(businessDate)), ("purgeAmountCents", .cents(finding.purgeAmountCents)),
                ("complianceDueOn", .date(finding.complianceDueOn)),
             ]))
    }
}
