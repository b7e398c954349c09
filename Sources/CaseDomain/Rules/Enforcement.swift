/// Income withholding, medical support notices and the arrears referrals
/// (tax offset, passport denial, credit bureau, license suspension).
extension RuleRun {
    // MARK: Employment and withholding

    /// Employment information (new hire, quarterly wage, intake, party update):
    /// records the employer and, when an order is in force, sends the income
    /// withholding notice within `withholdingNoticeBusinessDays` of
    /// `informationReceivedOn` (42 USC 653a(g)(1)). An employer already on file
    /// gets no second notice.
    mutating func recordEmployment(_ employer: EmployerRef, since: LocalDate, informationReceivedOn: LocalDate) {
        if let index = state.employments.firstIndex(where: { $0.fein == employer.fein }) {
            // Fill in what an earlier, thinner report (quarterly wage) lacked.
            if state.employments[index].name == nil { state.employments[index].name = employer.name }
            if state.employments[index].address == nil { state.employments[index].address = employer.address }
            note("employer \(employer.fein) already on file")
            if state.employments[index].withholding == .none {
                sendWithholding(toEmploymentAt: index, informationReceivedOn: informationReceivedOn)
            }
            return
        }
        let index = insertEmployment(Employment(fein: employer.fein, name: employer.name, address: employer.address, since: since))
        note("employer \(employer.fein) recorded")
        sendWithholding(toEmploymentAt: index, informationReceivedOn: informationReceivedOn)
    }

    /// Adds an employment in FEIN order (the state's arrays stay sorted); its index.
    @discardableResult
    mutating func insertEmployment(_ employment: Employment) -> Int {
        let index = state.employments.firstIndex { $0.fein.digits > employment.fein.digits } ?? state.employments.endIndex
        state.employments.insert(employment, at: index)
        return index
    }

    /// Sends (or re-sends with new terms) the income withholding notice, and the
    /// National Medical Support Notice when the order includes health coverage
    /// and this employer has not had one. Nothing without an order in force. An
    /// order that sets nothing a month (a zero order for health coverage only)
    /// withholds nothing: no notice, and one in force is withdrawn.
    mutating func sendWithholding(toEmploymentAt index: Int, informationReceivedOn: LocalDate) {
        guard let order = state.activeOrder, !state.isClosed, state.noncustodialParty.deceasedOn == nil else { return }
        let employment = state.employments[index]
        let arrearsPayment = order.monthlyArrearsPaymentCents ?? 0
        let dueBy = businessDays(policy.withholdingNoticeBusinessDays, after: informationReceivedOn)
        let basis = TaskBasis.timeframe(
            employment.incomeSource == .unemploymentBenefits ? "42 USC 666(b); 42 USC 654(19); 45 CFR 302.65" : "42 USC 666(b); 42 USC 653a(g)(1)",
            from: informationReceivedOn, days: policy.withholdingNoticeBusinessDays, businessDays: true,
            [("orderId", .text(order.orderId)), ("monthlyWithholdingCents", .cents(order.monthlyWithholdingCents))])
        if order.monthlyWithholdingCents > 0 {
            let terms = WithholdingNotice.Terms(
                docketNumber: order.docketNumber, currentSupportCents: order.monthlySupportCents,
                arrearsPaymentCents: arrearsPayment, totalPerMonthCents: order.monthlyWithholdingCents,
                ccpaLimitPercent: ccpaLimitPercent(asOf: businessDate), benefitLimit: benefitLimit(employment))
            // The employer is already withholding: these terms replace the ones it has (42 USC 666(b)).
            emit(.incomeWithholding, .issue, target: employerTarget(employment.fein), dueBy: dueBy, data: .incomeWithholding(WithholdingNotice(
                employer: employerOnFile(employment), obligor: obligor, orderId: order.orderId, terms: terms,
                amended: employment.withholding != .none, incomeSource: employment.incomeSource)), basis: basis)
            state.employments[index].withholding = .issued
            state.employments[index].withholdingOrderId = order.orderId
        } else if employment.withholding != .none {
            emit(.incomeWithholding, .withdraw, target: employerTarget(employment.fein), dueBy: dueBy, data: .incomeWithholding(
                WithholdingNotice(employer: employerOnFile(employment), obligor: obligor, orderId: order.orderId, reason: "NOTHING_TO_WITHHOLD")),
                basis: basis)
            state.employments[index].withholding = .none
            state.employments[index].withholdingOrderId = nil
            state.employments[index].acceptedOn = nil
        }
        if order.medicalSupportOrdered && !employment.medicalSupportNoticeIssued {
            sendMedicalSupportNotice(toEmploymentAt: index, order: order, informationReceivedOn: informationReceivedOn)
        }
    }

    /// National Medical Support Notice within `medicalSupportNoticeBusinessDays` (45 CFR 303.32).
    mutating func sendMedicalSupportNotice(toEmploymentAt index: Int, order: SupportOrder, informationReceivedOn: LocalDate) {
        let employment = state.employments[index]
        emit(.medicalSupportNotice, .issue, target: employerTarget(employment.fein),
             dueBy: businessDays(policy.medicalSupportNoticeBusinessDays, after: informationReceivedOn),
             data: .medicalSupportNotice(MedicalSupportNotice(
                employer: employerOnFile(employment), obligor: obligor, orderId: order.orderId, docketNumber: order.docketNumber,
                childIds: state.children.filter { $0.paternity != .excluded }.map(\.childId))),
             basis: .timeframe("45 CFR 303.32", from: informationReceivedOn, days: policy.medicalSupportNoticeBusinessDays, businessDays: true,
                               [("orderId", .text(order.orderId))]))
        state.employments[index].medicalSupportNoticeIssued = true
    }

    /// Withdraws what went to this employer (withholding, medical support notice)
    /// and keeps the employment; `endEmployment` removes it too.
    mutating func withdrawWithholding(fromEmploymentAt index: Int, reason: String) {
        let employment = state.employments[index]
        let dueBy = businessDays(policy.withholdingNoticeBusinessDays, after: businessDate)
        let employer = employerOnFile(employment), orderId = employment.withholdingOrderId
        if employment.withholding != .none {
            emit(.incomeWithholding, .withdraw, target: employerTarget(employment.fein), dueBy: dueBy, data: .incomeWithholding(
                WithholdingNotice(employer: employer, obligor: obligor, orderId: orderId, reason: reason)),
                 basis: .timeframe("42 USC 666(b)", from: businessDate, days: policy.withholdingNoticeBusinessDays, businessDays: true,
                                   [("reason", .text(reason))]))
        }
        if employment.medicalSupportNoticeIssued {
            emit(.medicalSupportNotice, .withdraw, target: employerTarget(employment.fein),
                 dueBy: businessDays(policy.medicalSupportNoticeBusinessDays, after: businessDate), data: .medicalSupportNotice(
                    MedicalSupportNotice(employer: employer, obligor: obligor, orderId: orderId, reason: reason)),
                 basis: .timeframe("45 CFR 303.32", from: businessDate, days: policy.medicalSupportNoticeBusinessDays, businessDays: true,
                                   [("reason", .text(reason))]))
        }
        state.employments[index].withholding = .none
        state.employments[index].withholdingOrderId = nil
        state.employments[index].acceptedOn = nil
        state.employments[index].medicalSupportNoticeIssued = false
    }

    /// The parent no longer works there (termination, NOT_EMPLOYED answer).
    mutating func endEmployment(fein: FEIN, endedOn: LocalDate, reason: String) {
        state.endedEmployments.removeAll { $0.fein == fein }
        let ended = EndedEmployment(fein: fein, endedOn: endedOn, reason: reason)
        state.endedEmployments.insert(ended, at: state.endedEmployments.firstIndex { $0.fein.digits > fein.digits } ?? state.endedEmployments.endIndex)
        guard let index = state.employments.firstIndex(where: { $0.fein == fein }) else {
            note("employer \(fein) was not on file")
            return
        }
        withdrawWithholding(fromEmploymentAt: index, reason: reason)
        state.employments.remove(at: index)
        note("employment at \(fein) ended (\(reason))")
    }

    /// Unemployment benefits: `unemploymentWithholdingPercent` of the weekly benefit at most.
    func benefitLimit(_ employment: Employment) -> WithholdingNotice.BenefitLimit? {
        guard employment.incomeSource == .unemploymentBenefits, let weekly = employment.weeklyBenefitCents else { return nil }
        let percent = policy.unemploymentWithholdingPercent
        return WithholdingNotice.BenefitLimit(
            weeklyBenefitCents: weekly, withholdingPercent: percent, weeklyLimitCents: (Money.product(weekly, Int64(percent)) ?? .max) / 100)
    }

    /// 15 USC 1673(b): 50% when the obligor supports another family, else 60%,
    /// plus 5 points when the oldest unpaid support is more than 12 weeks old.
    func ccpaLimitPercent(asOf date: LocalDate) -> Int {
        let olderThanLimit = state.ledger.oldestUnpaidDueDate(asOf: date).map {
            $0.days(until: date) > policy.ccpaArrearsAgeWeeks * 7
        } ?? false
        return policy.ccpaLimitPercent(arrearsOlderThanLimit: olderThanLimit)
    }

    func employerTarget(_ fein: FEIN) -> String { "employer:\(fein.digits)" }

    /// The employer as the case has it on file.
    func employerOnFile(_ employment: Employment) -> EmployerRef {
        EmployerRef(fein: employment.fein, name: employment.name, address: employment.address)
    }

    // MARK: Arrears referrals

    /// Issues each referral once when arrears cross its threshold and withdraws
    /// it when they fall back: tax offset and credit bureau as soon as arrears are
    /// under their thresholds, passport denial and license suspension only once
    /// arrears are paid off. A remedy the policy gives a contest period is
    /// announced first and taken when the period is over (`takeOrAnnounce`).
    /// Due within the enforcement timeframe (30 days, 60 where service is
    /// needed first; 45 CFR 303.6(c)(2)) counted from `date`.
    mutating func evaluateReferrals(asOf date: LocalDate, dayIsOver: Bool = false) {
        let arrears = state.ledger.arrears(asOf: date)
        for type in TaskType.arrearsReferrals {
            let threshold = referralThreshold(type)
            let crossed = threshold.map { referralCrossed(type, arrears: arrears, threshold: $0) } ?? false
            if let active = state.referral(type) {
                if referralEnds(type, arrears: arrears, crossed: crossed) {
                    withdrawReferral(type, arrears: arrears, asOf: date, reason: nil)
                }
            } else if crossed, let threshold {
                takeOrAnnounce(type, arrears: arrears, threshold: threshold, on: date, dayIsOver: dayIsOver)
            } else {
                lapseNotice(type, arrears: arrears, threshold: threshold, on: date)
            }
        }
    }

    func referralCrossed(_ type: TaskType, arrears: Cents, threshold: Cents) -> Bool {
        type == .passportDenial ? arrears > threshold : arrears >= threshold && arrears > 0
    }

    /// Withdraws an active referral: arrears fell back (`reason` nil), or a
    /// contest, an agreement or the case's closing ended it.
    mutating func withdrawReferral(_ type: TaskType, arrears: Cents, asOf date: LocalDate, reason: String?) {
        guard let active = state.referral(type) else { return }
        var facts: [(String, TaskBasis.Value)] = [("pastDueCents", .cents(arrears))]
        if let reason {
            facts.insert(("reason", .text(reason)), at: 0)
        } else {
            if let threshold = referralThreshold(type) { facts.append(("thresholdCents", .cents(threshold))) }
            facts.append((type == .passportDenial || type == .licenseSuspension ? "paidOffOn" : "fellUnderOn", .date(date)))
        }
        facts.append(("issuedOn", .date(active.issuedOn)))
        emit(type, .withdraw, target: referralTarget, dueBy: date.adding(days: policy.enforcementDays(for: type)), data: .referral(ArrearsReferral(
            arrearsCents: arrears, asOf: date, obligor: obligor, program: state.program,
            thresholdCents: reason == nil ? referralThreshold(type) : nil, reason: reason)),
             basis: TaskBasis(type.legalBasis, facts))
        state.referrals.removeAll { $0.type == type }
    }

    /// Time passes: referrals and the processes waiting on a date are judged
    /// on every date something can change by itself (a charge falls due, a
    /// month's support becomes past due, a contest period or an agreed month
    /// ends, a case's notice of closure runs out, review rights fall due) from
    /// the last evaluation up to, not including, `date`, with the facts known
    /// then. That is what a daily sweep sees, so the rules follow business
    /// time whether a sweep or the next event moves the case forward.
    mutating func advance(to date: LocalDate) {
        guard let from = state.referralsEvaluatedThrough else {
            state.referralsEvaluatedThrough = date
            return
        }
        guard date > from else { return }
        if !wasClosed, !state.isClosed {
            let changes = state.ledger.arrearsChangeDates(from: from, before: date)
            var index = changes.startIndex, next = from
            // A day's consequences (a notice with its contest period, an agreed
            // month) can add days of their own to judge: the next process date
            // is asked for again after each day.
            while true {
                while index < changes.endIndex, changes[index] < next { index += 1 }
                let candidates = [index < changes.endIndex ? changes[index] : nil, nextProcessDate(from: next, before: date)]
                guard let day = candidates.compactMap({ $0 }).min() else { break }
                keepAgreement(on: day)
                evaluateReferrals(asOf: day, dayIsOver: true)
                evaluateLevyNotices(on: day, dayIsOver: true)
                sendReviewRightsIfDue(on: day)
                closeIfNoticeRanOut(on: day)
                if state.isClosed { break }
                next = day.adding(days: 1)
            }
            if !state.isClosed { reviewPayersNotRemitting(before: date) }
        }
        state.referralsEvaluatedThrough = date
    }

    /// A payer that accepted an income withholding order and has remitted
    /// nothing for the case by the end of `remittanceExpectedDays` after
    /// accepting gets a review, once per acceptance (42 USC 666(b)(6): an
    /// employer that fails to withhold and remit is liable for the amount).
    mutating func reviewPayersNotRemitting(before date: LocalDate) {
        for index in state.employments.indices {
            let employment = state.employments[index]
            guard employment.withholding == .accepted, let acceptedOn = employment.acceptedOn,
                employment.notRemittingReviewOn == nil, employment.lastRemittedOn.map({ $0 < acceptedOn }) ?? true
            else { continue }
            let lastDay = acceptedOn.adding(days: policy.remittanceExpectedDays)
            guard lastDay < date else { continue }
            let noticedOn = lastDay.adding(days: 1)
            emit(.caseReview, .issue, target: "employer-not-remitting:\(employment.fein.digits)",
                 dueBy: businessDays(policy.withholdingNoticeBusinessDays, after: noticedOn), data: .caseReview(CaseReview(
                    .employerNotRemitting(employerFein: employment.fein, acceptedOn: acceptedOn,
                                          remittanceExpectedDays: policy.remittanceExpectedDays))),
                 basis: .timeframe("42 USC 666(b)(6)", from: acceptedOn, days: policy.remittanceExpectedDays,
                                   employment.lastRemittedOn.map { [("lastRemittedOn", .date($0))] } ?? []))
            state.employments[index].notRemittingReviewOn = noticedOn
        }
    }

    /// Withdraws every active referral (case closing).
    mutating func withdrawAllReferrals(reason: String, on date: LocalDate? = nil) {
        let asOf = date ?? arrearsDate
        let arrears = state.ledger.arrears(asOf: asOf)
        for referral in state.referrals { withdrawReferral(referral.type, arrears: arrears, asOf: asOf, reason: reason) }
        state.processes.remedyNotices = []
    }

    var referralTarget: String { "obligor:\(state.noncustodialParty.partyId)" }

    /// Nil when the referral cannot apply: license suspension is measured in
    /// months of current support, so a case that never had an order has no threshold.
    func referralThreshold(_ type: TaskType) -> Cents? {
        switch type {
        case .taxOffsetReferral: return policy.taxOffsetThresholdCents(for: state.program)
        case .passportDenial: return policy.passportDenialThresholdCents
        case .creditBureauReport: return policy.creditBureauThresholdCents
        case .licenseSuspension:
            // After termination, the support the order last set still measures the debt.
            let monthly = state.activeOrder?.monthlySupportCents ?? state.orders.last?.monthlySupportCents ?? 0
            // Saturates: a threshold past 2^63 cents is one no arrears reach.
            return monthly > 0 ? Money.product(monthly, Int64(policy.licenseSuspensionMonthsOfSupport)) ?? .max : nil
        default: return nil
        }
    }

    private func referralEnds(_ type: TaskType, arrears: Cents, crossed: Bool) -> Bool {
        switch type {
        case .passportDenial, .licenseSuspension: arrears <= 0
        default: !crossed
        }
    }
}
