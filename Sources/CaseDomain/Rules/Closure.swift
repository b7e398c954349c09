/// Case closure (45 CFR 303.11): a closure criterion sends the recipient a
/// notice of intent (CLOSURE_INTENT) and the office a case-review; the case
/// closes by itself on `closeOn` unless the criterion stopped holding or the
/// recipient answered with information. A recipient's own request closes the
/// case on a second request made after the notice period.
extension RuleRun {
    /// A case-review naming the closure reason and, for a criterion the agency
    /// found, CLOSURE_INTENT to the recipient. The family must get
    /// `closureNoticeDays` (60) of notice, so the case closes no earlier than
    /// the business date plus that; the review is due by then.
    mutating func requestClosureReview(_ reason: ClosureReason, detail: String?) {
        let earliest = businessDate.adding(days: policy.closureNoticeDays)
        let noticeSent = reason.closesAfterNotice && state.custodialParty.deceasedOn == nil
        // A pending review stands unless the recipient answered it, or it sent no notice and this one does.
        let pendingStands = state.pendingClosure.map { $0.answeredOn == nil && ($0.noticeSent || !noticeSent) } ?? false
        if !pendingStands {
            state.pendingClosure = ClosureReview(reason: reason, detail: detail, requestedOn: businessDate, earliestClosureOn: earliest,
                                                 noticeSent: noticeSent)
        }
        let basis = TaskBasis.timeframe("45 CFR 303.11(b)", from: businessDate, days: policy.closureNoticeDays, [
            ("criterion", .text(reason.rawValue)), ("pastDueCents", .cents(arrearsAsOfEvent)),
        ])
        emit(.caseReview, .issue, target: "closure:\(reason.rawValue)", dueBy: earliest, data: .caseReview(CaseReview(
            .closure(reason, closureNoticeDays: policy.closureNoticeDays, earliestClosureOn: earliest, detail: detail),
            arrearsCents: arrearsAsOfEvent)), basis: basis)
        if noticeSent, state.pendingClosure?.earliestClosureOn == earliest {
            sendNotice(.closureIntent(criterion: reason, closeOn: earliest), to: .custodialParty,
                       target: noticeTarget(.closureIntent, .custodialParty), on: businessDate,
                       basis: .timeframe("45 CFR 303.11(d)(4)", from: businessDate, days: policy.closureNoticeDays, [
                        ("criterion", .text(reason.rawValue)), ("pastDueCents", .cents(arrearsAsOfEvent)), ("closeOn", .date(earliest)),
                       ]))
        }
    }

    /// The notice of intent ran out on `date`: the case closes if the
    /// criterion still holds -- no payment came since the notice, no order is
    /// in force where the criterion says none is, paternity is still excluded.
    mutating func closeIfNoticeRanOut(on date: LocalDate) {
        guard let pending = state.pendingClosure, pending.closesOn == date else { return }
        if let stillOpen = closureCriterionNoLongerHolds(pending, on: date) {
            state.pendingClosure = nil
            note("closure (\(pending.reason.rawValue)) not taken on \(date): \(stillOpen)")
            return
        }
        closeCase(reason: "\(pending.reason.rawValue): notice of \(pending.requestedOn) ran out on \(date) with no answer", on: date)
    }

    /// Why the criterion no longer holds on `date`, or nil when it does.
    func closureCriterionNoLongerHolds(_ pending: ClosureReview, on date: LocalDate) -> String? {
        let paid = paidCents(from: pending.requestedOn.adding(days: 1), through: date)
        if paid > 0, pending.reason != .noncustodialParentDeceased {
            return "\(Money.dollars(paid)) was received after the notice"
        }
        switch pending.reason {
        case .noCurrentOrderLowArrears:
            if state.activeOrder != nil { return "an order is in force" }
            let owed = state.ledger.balance(asOf: date)
            if owed >= policy.closureArrearsThresholdCents { return "\(Money.dollars(owed)) is owed" }
        case .orderTerminatedNoArrears:
            if state.activeOrder != nil { return "an order is in force" }
            if state.ledger.balance(asOf: date) > 0 { return "arrears are owed" }
        case .paternityExcluded:
            if state.children.contains(where: { $0.paternity != .excluded }) { return "a child's paternity is not excluded" }
        case .noncustodialParentDeceased, .custodialPartyDeceased, .requested:
            break
        }
        return nil
    }

    /// Closing ends every enforcement action in force: withholding and medical
    /// notices at each employer and every active referral are withdrawn.
    mutating func closeCase(reason: String, on date: LocalDate? = nil) {
        for index in state.employments.indices { withdrawWithholding(fromEmploymentAt: index, reason: "CASE_CLOSED") }
        withdrawAllReferrals(reason: "CASE_CLOSED", on: date)
        withdrawIntergovernmentalReferral(reason: "CASE_CLOSED")
        state.closedOn = date ?? businessDate
        state.pendingClosure = nil
        note("case closed: \(reason)")
    }

    mutating func handleClosureRequest(_ request: ClosureRequest) {
        guard !state.isClosed else {
            note("closure requested for a case already closed")
            return
        }
        if let pending = state.pendingClosure, businessDate >= pending.earliestClosureOn {
            closeCase(reason: request.reason)
        } else {
            requestClosureReview(.requested, detail: request.reason)
        }
    }

    /// The recipient's answer to CLOSURE_INTENT: with information, the case
    /// stays open and the office reviews what was said.
    mutating func handleClosureResponse(_ response: ClosureResponse) {
        guard let pending = state.pendingClosure, pending.noticeSent, pending.answeredOn == nil else {
            note("closure response of \(response.respondedOn): no notice of intent to close is pending")
            return
        }
        guard response.informationProvided else {
            note("closure response of \(response.respondedOn) without information: the case closes on \(pending.earliestClosureOn)")
            return
        }
        state.pendingClosure?.answeredOn = response.respondedOn
        note("closure response of \(response.respondedOn) with information: the case stays open")
        emit(.caseReview, .issue, target: "closure-response", dueBy: pending.earliestClosureOn, data: .caseReview(CaseReview(
            .closureResponse(pending.reason, respondedOn: response.respondedOn, closeOn: pending.earliestClosureOn))),
             basis: TaskBasis("45 CFR 303.11(d)(4)", [
                ("criterion", .text(pending.reason.rawValue)), ("noticedOn", .date(pending.requestedOn)),
                ("respondedOn", .date(response.respondedOn)), ("closeOn", .date(pending.earliestClosureOn)),
             ]))
    }
}

extension ClosureReason {
    /// Criteria the agency found itself close after the recipient's notice
    /// runs out; a recipient's own request (or her death) needs the office.
    var closesAfterNotice: Bool {
        switch self {
        case .requested, .custodialPartyDeceased: false
        case .noncustodialParentDeceased, .paternityExcluded, .orderTerminatedNoArrears, .noCurrentOrderLowArrears: true
        }
    }
}
