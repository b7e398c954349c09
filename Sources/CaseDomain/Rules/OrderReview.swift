/// Review and adjustment of orders (45 CFR 303.8): requests, the notice that
/// a review started, the 180-day clock, and the notice of the right to ask
/// for one every 36 months and when a parent is incarcerated.
extension RuleRun {
    /// A parent or the agency asked for a review: due `reviewDays` after the
    /// request, or after the other parent is located if that is later; both
    /// parents are told it started.
    mutating func handleReviewRequested(_ request: ReviewRequested) {
        guard state.hasEnforceableOrder else {
            note("review requested on \(request.requestedOn) by \(request.requestedBy.rawValue): the case has no order to review")
            return
        }
        let located = otherParentLocated(request.requestedBy)
        let countedFrom = request.requestedOn
        state.processes.review = OrderReviewRequest(
            requestedBy: request.requestedBy, requestedOn: request.requestedOn, countedFrom: countedFrom,
            dueOn: countedFrom.adding(days: policy.reviewDays), otherParentLocated: located)
        note("review and adjustment requested by \(request.requestedBy.rawValue) on \(request.requestedOn)"
             + (located ? "" : "; the other parent is not located: the clock starts when he is"))
        issueReviewTask()
        let review = state.processes.review!
        for recipient in [NoticeRecipient.custodialParty, .noncustodialParent] {
            sendNotice(.reviewStarted(requestedBy: review.requestedBy, requestedOn: review.requestedOn, reviewDueBy: review.dueOn),
                       to: recipient, target: noticeTarget(.reviewStarted, recipient), on: businessDate,
                       basis: .timeframe("45 CFR 303.8(b)", from: review.countedFrom, days: policy.reviewDays, [
                        ("requestedBy", .text(review.requestedBy.rawValue)), ("requestedOn", .date(review.requestedOn)),
                       ]))
        }
    }

    /// The `case-review` REVIEW_AND_ADJUSTMENT with the review's current due date.
    mutating func issueReviewTask() {
        guard let review = state.processes.review else { return }
        var facts: [(String, TaskBasis.Value)] = [("requestedBy", .text(review.requestedBy.rawValue)), ("requestedOn", .date(review.requestedOn))]
        if review.countedFrom > review.requestedOn { facts.append(("otherParentLocatedOn", .date(review.countedFrom))) }
        emit(.caseReview, .issue, target: "review-and-adjustment", dueBy: review.dueOn, data: .caseReview(CaseReview(
            .reviewAndAdjustment(requestedBy: review.requestedBy, requestedOn: review.requestedOn, countedFrom: review.countedFrom,
                                 reviewDays: policy.reviewDays))),
             basis: .timeframe("45 CFR 303.8(e)", from: review.countedFrom, days: policy.reviewDays, facts))
    }

    /// The parent the review needs besides the one who asked: for the agency's
    /// own review, the noncustodial parent.
    func otherParentLocated(_ requestedBy: Requester) -> Bool {
        requestedBy == .noncustodialParty ? state.custodialParty.hasUsableAddress : state.isNoncustodialParentLocated
    }

    /// Locating the other parent after the request moves the review's clock.
    mutating func restartReviewClockIfLocated() {
        guard let review = state.processes.review, !review.otherParentLocated, otherParentLocated(review.requestedBy) else { return }
        let countedFrom = max(review.requestedOn, businessDate)
        state.processes.review?.otherParentLocated = true
        state.processes.review?.countedFrom = countedFrom
        state.processes.review?.dueOn = countedFrom.adding(days: policy.reviewDays)
        note("the other parent was located on \(businessDate): the review is due \(countedFrom.adding(days: policy.reviewDays))")
        issueReviewTask()
    }

    /// A new order or new terms finish a requested review.
    mutating func finishReview(by what: String) {
        guard let review = state.processes.review else { return }
        state.processes.review = nil
        note("review requested on \(review.requestedOn) finished by \(what)")
    }

    // MARK: Review rights

    /// The first anniversary on or after `from` -- every `orderReviewMonths`
    /// after the active order's terms took effect -- not yet noticed.
    func nextReviewRightsAnniversary(from: LocalDate) -> LocalDate? {
        guard let order = state.activeOrder, policy.orderReviewMonths > 0 else { return nil }
        let start = max(from, state.processes.reviewRightsNoticedOn.map { $0.adding(days: 1) } ?? from)
        let monthsBetween = (start.year - order.effectiveOn.year) * 12 + start.month - order.effectiveOn.month
        var k = max(1, monthsBetween / policy.orderReviewMonths)
        while order.effectiveOn.adding(months: policy.orderReviewMonths * k) < start { k += 1 }
        return order.effectiveOn.adding(months: policy.orderReviewMonths * k)
    }

    mutating func sendReviewRightsIfDue(on date: LocalDate) {
        guard let order = state.activeOrder, nextReviewRightsAnniversary(from: date) == date else { return }
        sendReviewRights(order: order, on: date, dueBy: businessDays(policy.noticeBusinessDays, after: date), incarceratedUntil: nil,
                         basis: TaskBasis("45 CFR 303.8(b)(2)", [
                            ("orderId", .text(order.orderId)), ("countedFrom", .date(order.effectiveOn)), ("months", .count(policy.orderReviewMonths)),
                         ]))
    }

    mutating func sendReviewRights(order: SupportOrder, on date: LocalDate, dueBy: LocalDate, incarceratedUntil: LocalDate?, basis: TaskBasis) {
        state.processes.reviewRightsNoticedOn = date
        for recipient in [NoticeRecipient.custodialParty, .noncustodialParent] {
            sendNotice(.reviewRights(orderId: order.orderId, docketNumber: order.docketNumber, termsEffectiveOn: order.effectiveOn,
                                     incarceratedUntil: incarceratedUntil),
                       to: recipient, target: noticeTarget(.reviewRights, recipient), on: date, dueBy: dueBy, basis: basis)
        }
    }

    /// The noncustodial parent is incarcerated for more than
    /// `incarcerationReviewMinimumDays`: both parents learn of the right to a
    /// review within `incarcerationNoticeBusinessDays` (45 CFR 303.8(b)(7)(ii)).
    mutating func learnOfIncarceration(until release: LocalDate) {
        state.noncustodialParty.incarceratedUntil = release
        let days = businessDate.days(until: release)
        note("noncustodial parent incarcerated until \(release) (\(days) days)")
        guard days > policy.incarcerationReviewMinimumDays, state.processes.incarcerationNoticedUntil != release else { return }
        guard let order = state.activeOrder else {
            note("no order in force: no review rights to give")
            return
        }
        state.processes.incarcerationNoticedUntil = release
        sendReviewRights(order: order, on: businessDate, dueBy: businessDays(policy.incarcerationNoticeBusinessDays, after: businessDate),
                         incarceratedUntil: release,
                         basis: .timeframe("45 CFR 303.8(b)(7)(ii)", from: businessDate, days: policy.incarcerationNoticeBusinessDays, businessDays: true, [
                            ("orderId", .text(order.orderId)), ("incarceratedUntil", .date(release)),
                            ("incarcerationDays", .count(days)), ("minimumDays", .count(policy.incarcerationReviewMinimumDays)),
                         ]))
    }
}
