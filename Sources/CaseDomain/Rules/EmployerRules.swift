import Foundation

/// `cse.employer-reports.v1`. Reports name a person, not a case: the pipeline
/// applies each report once per case on which that person is the noncustodial
/// parent (a remittance: once per case it pays).
extension RuleRun {
    /// The report must be about this case's noncustodial parent.
    func requireObligor(_ employee: Employee) throws(RuleError) {
        guard state.noncustodialParty.ssn == employee.ssn || obligorSSNs.contains(employee.ssn) else {
            throw .personNotOnCase(caseId: state.caseId)
        }
    }

    /// A report's address for a parent the case has no usable address for (it locates him).
    mutating func takeAddressIfLost(_ address: Address?, from report: String) {
        guard !state.noncustodialParty.hasUsableAddress, let address else { return }
        state.noncustodialParty.address = address
        state.noncustodialParty.addressUsable = true
        note("noncustodial parent address taken from \(report)")
    }

    /// 42 USC 653a(g)(1) counts the two business days from when the new-hire
    /// information reaches the State Directory of New Hires, so the notice is due
    /// two business days after `receivedOn`, not after the event's time (which may
    /// be later if the report sat in a queue).
    mutating func handleNewHire(_ hire: NewHire) throws(RuleError) {
        try requireObligor(hire.employee)
        takeAddressIfLost(hire.employee.address, from: "the new-hire report")
        recordEmployment(hire.employer, since: hire.hireDate, informationReceivedOn: hire.receivedOn)
    }

    mutating func handleTermination(_ termination: Termination) throws(RuleError) {
        try requireObligor(termination.employee)
        endEmployment(fein: termination.employer.fein, endedOn: termination.terminatedOn, reason: "TERMINATED")
        if let next = termination.newEmployer {
            recordEmployment(next, since: termination.terminatedOn, informationReceivedOn: businessDate)
        }
    }

    /// Wages from an employer not on file are employment information like a new
    /// hire, unless that employment is known to have ended during or after the
    /// quarter: wage reports lag by months, so those wages predate the ending.
    mutating func handleQuarterlyWage(_ wage: QuarterlyWage) throws(RuleError) {
        try requireObligor(wage.employee)
        if state.employment(fein: wage.employer.fein) == nil {
            if let ended = state.endedEmployments.first(where: { $0.fein == wage.employer.fein }), ended.endedOn >= wage.quarter.firstDay {
                note("wages of \(wage.quarter) from \(wage.employer.fein) predate the employment's end on \(ended.endedOn)")
                return
            }
            recordEmployment(wage.employer, since: wage.quarter.firstDay, informationReceivedOn: businessDate)
        }
        guard let index = state.employments.firstIndex(where: { $0.fein == wage.employer.fein }) else { return }
        if state.employments[index].lastReportedQuarter.map({ $0 <= wage.quarter }) ?? true {
            state.employments[index].lastReportedQuarter = wage.quarter
            state.employments[index].lastReportedWagesCents = wage.wagesCents
        }
        note("wages of \(wage.quarter) reported by \(wage.employer.fein)")
    }

    mutating func handleIWOResponse(_ response: IWOResponse) throws(RuleError) {
        guard response.caseId == state.caseId else {
            throw .wrongCase(eventCaseId: response.caseId, stateCaseId: state.caseId)
        }
        let fein = response.employer.fein
        switch response.status {
        case .notEmployed:
            endEmployment(fein: fein, endedOn: businessDate, reason: "NOT_EMPLOYED")
        case .accepted:
            if let index = state.employments.firstIndex(where: { $0.fein == fein }) {
                guard state.employments[index].withholding != .none else {
                    // The answer crossed the notice's withdrawal (nothing left to withhold,
                    // the order ended): no withholding is in force to accept, and none
                    // may later be withdrawn twice.
                    note("employer \(fein) accepted an income withholding order no longer in force: nothing to withhold")
                    break
                }
                if state.employments[index].withholding != .accepted {
                    state.employments[index].acceptedOn = businessDate
                    state.employments[index].notRemittingReviewOn = nil
                }
                state.employments[index].withholding = .accepted
                if state.employments[index].withholdingOrderId == nil {
                    state.employments[index].withholdingOrderId = state.activeOrder?.orderId
                }
            } else {
                // An answer to a notice sent before this service held the case: the
                // employer confirms the employment, and with an order in force that
                // has something to withhold the withholding is in place.
                var employment = Employment(fein: fein, name: response.employer.name, address: response.employer.address, since: businessDate)
                if let order = state.activeOrder, order.monthlyWithholdingCents > 0 {
                    employment.withholding = .accepted
                    employment.acceptedOn = businessDate
                    employment.withholdingOrderId = order.orderId
                }
                insertEmployment(employment)
            }
            note("employer \(fein) accepted the income withholding order")
        }
        if let coverage = response.medicalCoverage,
            let index = state.employments.firstIndex(where: { $0.fein == fein })
        {
            state.employments[index].medicalCoverage = coverage
            note("medical coverage at \(fein): \(coverage.rawValue)")
        }
    }

    /// The target of a remittance's `disbursement` task (part of its id).
    static func remittanceDisbursementTarget(_ eventId: UUID) -> String { "payment:\(eventId.lowercasedText)" }

    /// Applies this case's share of the remittance to the ledger and asks for the
    /// family's share to be distributed within `distributionBusinessDays` of
    /// receipt (45 CFR 302.32). The task also says whether the employer remitted
    /// within `employerRemitBusinessDays` of payday (42 USC 666(b)(6)).
    mutating func handleRemittance(_ remittance: WithholdingRemittance, eventId: UUID) throws(RuleError) {
        let mine = remittance.payments.filter { $0.caseId == state.caseId }
        guard !mine.isEmpty else { throw .noPaymentForCase(caseId: state.caseId) }
        // Each payment on its own: a negative line must not hide inside a positive sum.
        if let line = mine.first(where: { $0.amountCents <= 0 }) {
            throw .ledgerRejected(caseId: state.caseId, .nonPositivePayment(paymentId: "\(eventId.lowercasedText):\(state.caseId)", cents: line.amountCents))
        }
        guard let amount = Money.sum(mine.map(\.amountCents)), amount <= Ledger.maximumAmountCents else {
            throw .ledgerRejected(caseId: state.caseId, .amountTooLarge(field: "payments.amountCents", cents: .max))
        }
        let paymentId = "\(eventId.lowercasedText):\(state.caseId)"
        let allocation: PaymentAllocation
        do {
            allocation = try state.ledger.applyPayment(id: paymentId, amountCents: amount, receivedOn: remittance.receivedOn)
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
        let remitDueOn = businessDays(policy.employerRemitBusinessDays, after: remittance.payDate)
        note("payment of \(Money.dollars(amount)) from \(remittance.employer.fein): \(Money.dollars(allocation.toCurrentSupportCents)) to current support, \(Money.dollars(allocation.toArrearsCents)) to arrears, \(Money.dollars(allocation.unappliedCents)) held")
        // One per payment: a late event can change how a payment was applied, and
        // its corrected disbursement must replace that payment's, not another's.
        if let index = state.employments.firstIndex(where: { $0.fein == remittance.employer.fein }),
            state.employments[index].lastRemittedOn.map({ $0 < remittance.receivedOn }) ?? true
        {
            state.employments[index].lastRemittedOn = remittance.receivedOn
        }
        emit(.disbursement, .issue, target: Self.remittanceDisbursementTarget(eventId),
             dueBy: businessDays(policy.distributionBusinessDays, after: remittance.receivedOn), data: .disbursement(Disbursement(
                paymentId: paymentId, source: .employerWithholding, amountCents: amount,
                toCurrentSupportCents: allocation.toCurrentSupportCents, toArrearsCents: allocation.toArrearsCents,
                unappliedCents: allocation.unappliedCents, disbursedToFamilyCents: allocation.disbursedToFamilyCents,
                retainedByStateCents: allocation.retainedByStateCents, custodialPartyId: state.custodialParty.partyId,
                receivedOn: remittance.receivedOn, remittance: .init(
                    employerFein: remittance.employer.fein, payDate: remittance.payDate, remittanceDueOn: remitDueOn,
                    remittedLate: remittance.receivedOn > remitDueOn))),
             basis: .timeframe("45 CFR 302.32(b)", from: remittance.receivedOn, days: policy.distributionBusinessDays, businessDays: true,
                               [("payDate", .date(remittance.payDate)), ("remittanceDueOn", .date(remitDueOn))]))
    }
}
