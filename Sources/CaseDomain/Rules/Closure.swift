/// Case closure (45 CFR 303.11): a closure criterion or a request publishes a
/// case-review; the case closes only on a request made after the notice period.
extension RuleRun {
    /// A case-review naming the closure reason. The family must get
    /// `closureNoticeDays` (60) of notice, so the earliest closure date is the
    /// business date plus that; the review is due by then.
    mutating func requestClosureReview(_ reason: ClosureReason, detail: String?) {
        let earliest = businessDate.adding(days: policy.closureNoticeDays)
        if state.pendingClosure == nil {
            state.pendingClosure = ClosureReview(reason: reason, detail: detail, requestedOn: businessDate, earliestClosureOn: earliest)
        }
        emit(.caseReview, .issue, target: "closure:\(reason.rawValue)", dueBy: earliest, data: .caseReview(CaseReview(
            .closure(reason, closureNoticeDays: policy.closureNoticeDays, earliestClosureOn: earliest, detail: detail),
            arrearsCents: arrearsAsOfEvent)),
             basis: .timeframe("45 CFR 303.11(b)", from: businessDate, days: policy.closureNoticeDays, [
                ("criterion", .text(reason.rawValue)), ("pastDueCents", .cents(arrearsAsOfEvent)),
             ]))
    }

    /// Closing ends every enforcement action in force: withholding and medical
    /// notices at each employer and every active referral are withdrawn.
    mutating func closeCase(reason: String) {
        for index in state.employments.indices { withdrawWithholding(fromEmploymentAt: index, reason: "CASE_CLOSED") }
        withdrawAllReferrals(reason: "CASE_CLOSED")
        state.closedOn = businessDate
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
}
