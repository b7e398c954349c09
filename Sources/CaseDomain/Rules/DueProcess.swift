/// Notice and a chance to contest before a remedy (42 USC 666(a)(7)(B) for
/// credit reporting, state law for licenses and levies), contests and their
/// decisions, and payment agreements (domain.md "Processes (v1.1)").
extension RuleRun {
    // MARK: Notices to parents

    enum NoticeRecipient { case noncustodialParent, custodialParty }

    /// A `party-notice` to one parent, due within `noticeBusinessDays`.
    mutating func sendNotice(_ letter: PartyNotice.Letter, to recipient: NoticeRecipient, target: String, on date: LocalDate,
                             dueBy: LocalDate? = nil, basis: TaskBasis) {
        let party = recipient == .noncustodialParent ? state.noncustodialParty : state.custodialParty
        let notice = PartyNotice(
            letter, partyId: party.partyId, role: recipient == .noncustodialParent ? .noncustodialParent : .custodialParty,
            firstName: party.firstName, lastName: party.lastName, address: party.hasUsableAddress ? party.address : nil)
        emit(.partyNotice, .issue, target: target, dueBy: dueBy ?? businessDays(policy.noticeBusinessDays, after: date),
             data: .partyNotice(notice), basis: basis)
    }

    /// The notice's target: one letter per kind and party.
    func noticeTarget(_ kind: PartyNotice.Kind, _ recipient: NoticeRecipient) -> String {
        let partyId = recipient == .noncustodialParent ? state.noncustodialParty.partyId : state.custodialParty.partyId
        return "\(kind.rawValue.lowercased().replacingOccurrences(of: "_", with: "-")):\(partyId)"
    }

    // MARK: Remedies that wait for their notice

    /// A remedy whose threshold is crossed on `date`: taken at once when the
    /// policy gives no contest period, else announced (ENFORCEMENT_INTENT) and
    /// taken once `contestBy` has passed with no contest open. `dayIsOver`:
    /// the whole of `date` is known (the sweep judges days that ended).
    mutating func takeOrAnnounce(_ type: TaskType, arrears: Cents, threshold: Cents, on date: LocalDate, dayIsOver: Bool) {
        if type == .licenseSuspension, state.processes.agreement != nil { return }
        let contestDays = policy.contestDays(for: type)
        guard contestDays > 0 else {
            issueReferral(type, arrears: arrears, threshold: threshold, on: date, noticedOn: nil)
            return
        }
        let target = RemedyNotice.target(type)
        guard let notice = state.processes.notice(target: target) else {
            let contestBy = date.adding(days: contestDays)
            sendNotice(.enforcementIntent(remedy: type, pastDueCents: arrears, thresholdCents: threshold, contestBy: contestBy, institution: nil),
                       to: .noncustodialParent, target: target, on: date,
                       basis: TaskBasis(type.legalBasis, [
                        ("pastDueCents", .cents(arrears)), ("thresholdCents", .cents(threshold)), ("crossedOn", .date(date)),
                        ("contestDays", .count(contestDays)), ("contestBy", .date(contestBy)),
                       ]))
            record(RemedyNotice(remedy: type, noticedOn: date, contestBy: contestBy, pastDueCents: arrears, thresholdCents: threshold))
            return
        }
        guard notice.status == .awaiting, contestPeriodOver(notice, on: date, dayIsOver: dayIsOver) else { return }
        forgetNotice(target)
        issueReferral(type, arrears: arrears, threshold: threshold, on: date, noticedOn: notice.noticedOn, contestBy: notice.contestBy)
    }

    /// The remedy's threshold is no longer crossed: a notice waiting for its
    /// date lapses, a contest is moot, an overturned remedy's facts changed.
    mutating func lapseNotice(_ type: TaskType, arrears: Cents, threshold: Cents?, on date: LocalDate) {
        let target = RemedyNotice.target(type)
        guard let notice = state.processes.notice(target: target) else { return }
        forgetNotice(target)
        let under = threshold.map { " under \(Money.dollars($0))" } ?? ""
        note(notice.status == .overturned
             ? "\(type.rawValue): past-due \(Money.dollars(arrears))\(under) on \(date); the overturned remedy may be announced again"
             : "notice of intent (\(type.rawValue)) of \(notice.noticedOn) lapsed: past-due \(Money.dollars(arrears))\(under) on \(date)")
    }

    func contestPeriodOver(_ notice: RemedyNotice, on date: LocalDate, dayIsOver: Bool) -> Bool {
        dayIsOver ? date >= notice.contestBy : date > notice.contestBy
    }

    mutating func issueReferral(_ type: TaskType, arrears: Cents, threshold: Cents, on date: LocalDate, noticedOn: LocalDate?,
                                contestBy: LocalDate? = nil, decidedOn: LocalDate? = nil) {
        var facts: [(String, TaskBasis.Value)] = [("pastDueCents", .cents(arrears)), ("thresholdCents", .cents(threshold)), ("crossedOn", .date(date))]
        if let noticedOn { facts.append(("noticedOn", .date(noticedOn))) }
        if let contestBy { facts.append(("contestBy", .date(contestBy))) }
        if let decidedOn { facts.append(("contestUpheldOn", .date(decidedOn))) }
        emit(type, .issue, target: referralTarget, dueBy: date.adding(days: policy.enforcementDays(for: type)), data: .referral(ArrearsReferral(
            arrearsCents: arrears, asOf: date, obligor: obligor, program: state.program, thresholdCents: threshold)),
             basis: .timeframe(type.legalBasis, from: date, days: policy.enforcementDays(for: type), facts))
        state.referrals.append(ActiveReferral(type: type, issuedOn: date, arrearsCents: arrears, taskId: tasks.last!.id,
                                              thresholdCents: threshold, noticedOn: noticedOn))
        state.referrals.sort { $0.type < $1.type }
    }

    mutating func record(_ notice: RemedyNotice) {
        state.processes.remedyNotices.removeAll { $0.target == notice.target }
        state.processes.remedyNotices.append(notice)
        state.processes.remedyNotices.sort { $0.target < $1.target }
    }

    mutating func forgetNotice(_ target: String) { state.processes.remedyNotices.removeAll { $0.target == target } }

    // MARK: Levies

    /// A financial institution data match above the levy threshold: announced,
    /// or levied at once when the policy gives no contest period.
    mutating func announceLevy(_ account: LevyAccount, pastDue: Cents) {
        guard state.processes.agreement == nil else {
            note("levy on \(account.levyTarget) held: a payment agreement is being kept")
            return
        }
        let contestDays = policy.contestDays(for: .financialLevy)
        guard contestDays > 0 else {
            issueLevy(account, pastDue: pastDue, on: businessDate, notice: nil)
            return
        }
        let target = RemedyNotice.target(.financialLevy, account: account)
        if var known = state.processes.notice(target: target) {
            // The same account again: the balance is the latest, the notice stands.
            known.account = account
            record(known)
            note("\(account.levyTarget) matched again; the notice of \(known.noticedOn) stands")
            return
        }
        let contestBy = businessDate.adding(days: contestDays)
        sendNotice(.enforcementIntent(remedy: .financialLevy, pastDueCents: pastDue, thresholdCents: policy.levyThresholdCents,
                                      contestBy: contestBy, institution: account.institution),
                   to: .noncustodialParent, target: target, on: businessDate,
                   basis: TaskBasis(TaskType.financialLevy.legalBasis, [
                    ("pastDueCents", .cents(pastDue)), ("thresholdCents", .cents(policy.levyThresholdCents)),
                    ("balanceCents", .cents(account.balanceCents)), ("matchedOn", .date(account.matchedOn)),
                    ("contestDays", .count(contestDays)), ("contestBy", .date(contestBy)),
                   ]))
        record(RemedyNotice(remedy: .financialLevy, noticedOn: businessDate, contestBy: contestBy, pastDueCents: pastDue,
                            thresholdCents: policy.levyThresholdCents, account: account))
    }

    /// Levy notices on `date`: taken once the contest period is over with
    /// past-due support still at the threshold, dropped when it is not or an
    /// agreement is being kept.
    mutating func evaluateLevyNotices(on date: LocalDate, dayIsOver: Bool) {
        // Most cases have none: no arrears projection for them on every event and day.
        guard state.processes.remedyNotices.contains(where: { $0.account != nil }) else { return }
        let pastDue = state.ledger.arrears(asOf: date)
        for notice in state.processes.remedyNotices where notice.account != nil {
            let account = notice.account!
            if pastDue < policy.levyThresholdCents || state.processes.agreement != nil {
                forgetNotice(notice.target)
                note(state.processes.agreement != nil
                     ? "levy on \(account.levyTarget) dropped: a payment agreement is being kept"
                     : "notice of intent to levy \(account.levyTarget) lapsed: past-due \(Money.dollars(pastDue)) on \(date)")
            } else if notice.status == .awaiting, contestPeriodOver(notice, on: date, dayIsOver: dayIsOver) {
                forgetNotice(notice.target)
                issueLevy(account, pastDue: pastDue, on: date, notice: notice)
            }
        }
    }

    mutating func issueLevy(_ account: LevyAccount, pastDue: Cents, on date: LocalDate, notice: RemedyNotice?, decidedOn: LocalDate? = nil) {
        guard account.balanceCents > 0 else {
            note("\(account.levyTarget) holds nothing to levy")
            return
        }
        let levy = min(account.balanceCents, pastDue)
        var facts: [(String, TaskBasis.Value)] = [
            ("pastDueCents", .cents(pastDue)), ("thresholdCents", .cents(policy.levyThresholdCents)),
            ("balanceCents", .cents(account.balanceCents)), ("matchedOn", .date(account.matchedOn)),
        ]
        if let notice { facts += [("noticedOn", .date(notice.noticedOn)), ("contestBy", .date(notice.contestBy))] }
        if let decidedOn { facts.append(("contestUpheldOn", .date(decidedOn))) }
        emit(.financialLevy, .issue, target: account.levyTarget, dueBy: date.adding(days: policy.enforcementDays), data: .financialLevy(FinancialLevy(
            institution: account.institution, accountKind: account.accountKind, levyCents: levy, pastDueCents: pastDue,
            balanceCents: account.balanceCents, matchedOn: account.matchedOn, obligor: obligor)),
             basis: .timeframe(TaskType.financialLevy.legalBasis, from: date, days: policy.enforcementDays, facts))
    }

    // MARK: Contests

    mutating func handleRemedyContested(_ contest: RemedyContested) {
        let notices = state.processes.remedyNotices.filter { $0.remedy == contest.remedy && $0.status == .awaiting }
        for var notice in notices {
            notice.status = .contested
            notice.statusOn = contest.contestedOn
            record(notice)
        }
        if !notices.isEmpty {
            note("\(contest.remedy.rawValue) contested on \(contest.contestedOn): held until decided")
        } else if let active = state.referral(contest.remedy) {
            // Contested after it was taken: it stands until decided, and an
            // OVERTURNED decision withdraws it.
            record(RemedyNotice(remedy: contest.remedy, noticedOn: active.noticedOn ?? active.issuedOn, contestBy: active.issuedOn,
                                pastDueCents: active.arrearsCents, thresholdCents: active.thresholdCents ?? 0,
                                status: .contested, statusOn: contest.contestedOn))
            note("\(contest.remedy.rawValue) contested on \(contest.contestedOn) after it was taken: it stands until decided")
        } else {
            note("\(contest.remedy.rawValue) contested on \(contest.contestedOn): no notice or referral of it is in force")
        }
    }

    mutating func handleContestDecided(_ decision: ContestDecided) {
        let notices = state.processes.remedyNotices.filter { $0.remedy == decision.remedy && $0.status != .overturned }
        let pastDue = arrearsAsOfEvent
        if notices.isEmpty {
            note("contest of \(decision.remedy.rawValue) decided \(decision.outcome.rawValue): nothing of it was held")
        }
        for notice in notices {
            switch decision.outcome {
            case .upheld:
                forgetNotice(notice.target)
                note("contest of \(decision.remedy.rawValue) upheld on \(decision.decidedOn)")
                if let account = notice.account {
                    if pastDue >= policy.levyThresholdCents, state.processes.agreement == nil {
                        issueLevy(account, pastDue: pastDue, on: arrearsDate, notice: notice, decidedOn: decision.decidedOn)
                    }
                } else if state.referral(decision.remedy) == nil, let threshold = referralThreshold(decision.remedy),
                    referralCrossed(decision.remedy, arrears: pastDue, threshold: threshold),
                    decision.remedy != .licenseSuspension || state.processes.agreement == nil
                {
                    issueReferral(decision.remedy, arrears: pastDue, threshold: threshold, on: arrearsDate, noticedOn: notice.noticedOn,
                                  contestBy: notice.contestBy, decidedOn: decision.decidedOn)
                }
            case .overturned:
                note("contest of \(decision.remedy.rawValue) overturned on \(decision.decidedOn): dropped until the facts change")
                if notice.account != nil {
                    forgetNotice(notice.target)
                    continue
                }
                if state.referral(decision.remedy) != nil {
                    withdrawReferral(decision.remedy, arrears: pastDue, asOf: arrearsDate, reason: "CONTEST_OVERTURNED")
                }
                var dropped = notice
                dropped.status = .overturned
                dropped.statusOn = decision.decidedOn
                record(dropped)
            }
        }
    }

    // MARK: Payment agreements

    /// A signed agreement brings the parent back into compliance: the license
    /// suspension is withdrawn, and new license and levy actions wait while
    /// the agreed amounts are paid.
    mutating func handlePaymentAgreement(_ signed: PaymentAgreementSigned) {
        state.processes.agreement = PaymentAgreement(
            agreementId: signed.agreementId, monthlyCents: signed.monthlyCents, firstDueOn: signed.firstDueOn, signedOn: signed.signedOn)
        note("payment agreement \(signed.agreementId): \(Money.dollars(signed.monthlyCents)) a month from \(signed.firstDueOn)")
        if state.referral(.licenseSuspension) != nil {
            withdrawReferral(.licenseSuspension, arrears: arrearsAsOfEvent, asOf: arrearsDate, reason: "PAYMENT_AGREEMENT")
        }
        for notice in state.processes.remedyNotices where notice.remedy == .licenseSuspension || notice.remedy == .financialLevy {
            forgetNotice(notice.target)
            note("notice of intent (\(notice.remedy.rawValue)) of \(notice.noticedOn) held: the payment agreement is being kept")
        }
    }

    /// At the end of each agreed month: paid as agreed, or the agreement ends.
    mutating func keepAgreement(on date: LocalDate) {
        guard let agreement = state.processes.agreement else { return }
        var month = agreement.firstUncheckedMonth
        while month.last <= date {
            let paid = paidCents(from: max(month.first, agreement.signedOn), through: month.last)
            guard paid >= agreement.monthlyCents else {
                state.processes.agreement = nil
                note("payment agreement \(agreement.agreementId) broken: \(Money.dollars(paid)) of \(Money.dollars(agreement.monthlyCents)) paid by \(month.last)")
                return
            }
            state.processes.agreement?.keptThrough = month.last
            month = month.adding(1)
        }
    }

    /// Money received from `from` through `through`, net of what was reversed.
    func paidCents(from: LocalDate, through: LocalDate) -> Cents {
        state.ledger.payments.reduce(0) { sum, payment in
            guard payment.receivedOn >= from, payment.receivedOn <= through else { return sum }
            return Money.sum([sum, payment.amountCents, -state.ledger.reversedCents(ofPayment: payment.id)]) ?? sum
        }
    }

    /// The first day in `from..<before` on which a process waiting on a date
    /// moves: a contest period ends, an agreed month ends, the case closes by
    /// itself, review rights fall due.
    func nextProcessDate(from: LocalDate, before: LocalDate) -> LocalDate? {
        var dates: [LocalDate] = state.processes.remedyNotices.filter { $0.status == .awaiting && $0.contestBy >= from }.map(\.contestBy)
        if let agreement = state.processes.agreement {
            dates.append(max(agreement.firstUncheckedMonth, LedgerMonth(from)).last)
        }
        if let closesOn = state.pendingClosure?.closesOn, closesOn >= from { dates.append(closesOn) }
        if let anniversary = nextReviewRightsAnniversary(from: from) { dates.append(anniversary) }
        return dates.filter { $0 < before }.min()
    }
}

extension PaymentAgreement {
    /// The first agreed month not yet found paid.
    var firstUncheckedMonth: LedgerMonth { keptThrough.map { LedgerMonth($0).adding(1) } ?? LedgerMonth(firstDueOn) }
}
