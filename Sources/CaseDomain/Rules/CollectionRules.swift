import Foundation

/// `cse.collections.v1`: money from every source besides an employer's
/// remittance, reversals, the agency's adjustments and disbursements that
/// came back (domain.md, "Money from every source").
extension RuleRun {
    /// Applies the collection to the ledger (tax offsets to past-due support
    /// only) and asks for it to be distributed within
    /// `distributionBusinessDays` of receipt (45 CFR 302.32), or when a
    /// joint-return federal offset's injured-spouse hold ends (45 CFR 303.72).
    /// The same `collectionId` again is the same money: no second effect.
    mutating func handleCollectionReceived(_ collection: CollectionReceived, eventId: UUID) throws(RuleError) {
        let paymentId = CollectionRecord.paymentId(collection.collectionId)
        if let known = state.collection(collection.collectionId), let payment = state.ledger.payment(id: known.paymentId) {
            guard payment.amountCents == collection.amountCents, payment.receivedOn == collection.receivedOn,
                payment.collectionSource == collection.source
            else {
                throw .ledgerRejected(caseId: state.caseId, .conflictingPayment(paymentId: paymentId))
            }
            note("collection \(collection.collectionId) already recorded by event \(known.eventId.lowercasedText): the same money, no second effect")
            return
        }
        let allocation: PaymentAllocation
        do {
            allocation = try state.ledger.applyPayment(
                id: paymentId, amountCents: collection.amountCents, receivedOn: collection.receivedOn, source: collection.source)
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
        let heldUntil = collection.jointReturn && collection.source == .federalTaxOffset
            ? collection.receivedOn.adding(days: policy.jointReturnHoldDays) : nil
        let record = CollectionRecord(
            collectionId: collection.collectionId, eventId: eventId, taxYear: collection.taxYear, heldUntil: heldUntil,
            disbursementDueOn: heldUntil ?? businessDays(policy.distributionBusinessDays, after: collection.receivedOn))
        state.collections.append(record)
        let refund = allocation.neverAppliedCents > 0 && collection.source.paysPastDueOnly
            ? ", \(Money.dollars(allocation.neverAppliedCents)) more than was past due (refund to the parent)" : ""
        note("collection \(collection.collectionId) of \(Money.dollars(collection.amountCents)) (\(collection.source.rawValue)) received \(collection.receivedOn): \(Money.dollars(allocation.toCurrentSupportCents)) to current support, \(Money.dollars(allocation.toArrearsCents)) to arrears, \(Money.dollars(allocation.unappliedCents)) unapplied\(refund)")
        if let heldUntil { note("joint-return offset held for an injured-spouse claim until \(heldUntil)") }
        emitDisbursement(of: record)
    }

    /// Takes the collection (or part of it) out of the account from its
    /// business date: what it paid is owed again and the thresholds are judged
    /// on the new arrears. A disbursement not yet gone out is corrected (or
    /// withdrawn); one that went out asks for recovery of what the family got.
    mutating func handleCollectionReversed(_ reversal: CollectionReversed, eventId: UUID) throws(RuleError) {
        guard let record = state.collection(reversal.collectionId), let payment = state.ledger.payment(id: record.paymentId) else {
            throw .unknownCollection(caseId: state.caseId, collectionId: reversal.collectionId)
        }
        let alreadyReversed = state.ledger.reversedCents(ofPayment: payment.id)
        let left = payment.amountCents - alreadyReversed
        let amount = reversal.amountCents ?? left
        guard amount > 0, amount <= left else {
            throw .reversalExceedsCollection(caseId: state.caseId, collectionId: reversal.collectionId, leftCents: left)
        }
        // Money cannot be taken back before it came in: a reversal dated
        // earlier (a keying slip) counts from the day it was received.
        let reversedOn = max(reversal.reversedOn, payment.receivedOn)
        do {
            try state.ledger.addCharge(AccountCharge(
                id: "reversal:\(reversal.collectionId):\(eventId.lowercasedText)", kind: .reversal, referenceId: payment.id,
                dueOn: reversedOn, amountCents: amount, reason: reversal.reason.rawValue))
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
        note("collection \(reversal.collectionId) reversed \(reversedOn) (\(reversal.reason.rawValue)): \(Money.dollars(amount)) owed again")
        guard record.disbursementDueOn <= reversedOn else {
            // Not gone out yet: what goes out is what is left of the collection.
            emitDisbursement(of: record)
            return
        }
        let before = familyShare(of: payment, reversedCents: alreadyReversed)
        let after = familyShare(of: payment, reversedCents: alreadyReversed + amount)
        guard before > after else {
            note("the family received none of the reversed amount: nothing to recover")
            return
        }
        emit(.caseReview, .issue, target: "overpaid-disbursement:\(reversal.collectionId)",
             dueBy: businessDays(policy.distributionBusinessDays, after: businessDate), data: .caseReview(CaseReview(
                .overpaidDisbursement(collectionId: reversal.collectionId, overpaidCents: before - after, reversedOn: reversedOn,
                                      disbursementTaskId: disbursementTaskId(of: record)))),
             basis: TaskBasis("45 CFR 302.32", [
                ("disbursementDueOn", .date(record.disbursementDueOn)), ("reversedOn", .date(reversedOn)),
                ("reason", .text(reversal.reason.rawValue)), ("reversedCents", .cents(amount)),
             ]))
    }

    /// Positive: owed from `effectiveOn`, past due from then. Negative: a
    /// credit applied like a payment (current month, then the oldest arrears).
    mutating func handleAccountAdjusted(_ adjustment: AccountAdjusted) throws(RuleError) {
        if let orderId = adjustment.orderId, !state.orders.contains(where: { $0.orderId == orderId }) {
            throw .unknownOrder(caseId: state.caseId, orderId: orderId)
        }
        let id = "adjustment:\(adjustment.adjustmentId)"
        let order = adjustment.orderId.map { " on order \($0)" } ?? ""
        do throws(LedgerError) {
            if adjustment.amountCents > 0 {
                try state.ledger.addCharge(AccountCharge(
                    id: id, kind: .adjustment, referenceId: adjustment.adjustmentId, dueOn: adjustment.effectiveOn,
                    amountCents: adjustment.amountCents, reason: adjustment.reason.rawValue))
                note("account adjusted (\(adjustment.reason.rawValue))\(order): \(Money.dollars(adjustment.amountCents)) added to what is owed from \(adjustment.effectiveOn)")
            } else if adjustment.amountCents < 0, adjustment.amountCents != .min {
                let credit = try state.ledger.applyPayment(
                    id: id, amountCents: -adjustment.amountCents, receivedOn: adjustment.effectiveOn, source: .accountCredit)
                try state.ledger.addCharge(AccountCharge(
                    id: "credit:\(adjustment.adjustmentId)", kind: .credit, referenceId: adjustment.adjustmentId,
                    dueOn: adjustment.effectiveOn, amountCents: -adjustment.amountCents, reason: adjustment.reason.rawValue))
                note("account adjusted (\(adjustment.reason.rawValue))\(order): \(Money.dollars(-adjustment.amountCents)) credited from \(adjustment.effectiveOn): \(Money.dollars(credit.toCurrentSupportCents)) to current support, \(Money.dollars(credit.toArrearsCents)) to arrears, \(Money.dollars(credit.unappliedCents)) held")
            } else {
                throw LedgerError.nonPositivePayment(paymentId: id, cents: adjustment.amountCents)
            }
        } catch {
            throw .ledgerRejected(caseId: state.caseId, error)
        }
    }

    /// The family did not get its money: hold it, find the custodial party
    /// (`locateDays`), and disburse again once an address arrives.
    mutating func handleDisbursementReturned(_ returned: DisbursementReturned) throws(RuleError) {
        if state.returnedDisbursements.contains(where: { $0.taskId == returned.disbursementTaskId }) {
            note("disbursement \(returned.disbursementTaskId.lowercasedText) already recorded as returned")
            return
        }
        guard let payment = disbursedPayment(taskId: returned.disbursementTaskId) else {
            throw .unknownDisbursement(caseId: state.caseId, taskId: returned.disbursementTaskId)
        }
        let family = familyShare(of: payment, reversedCents: state.ledger.reversedCents(ofPayment: payment.id))
        state.returnedDisbursements.append(ReturnedDisbursement(
            taskId: returned.disbursementTaskId, paymentId: payment.id, familyCents: family, returnedOn: returned.returnedOn,
            reason: returned.reason))
        note("disbursement of \(Money.dollars(family)) returned \(returned.returnedOn) (\(returned.reason.rawValue)): held until the custodial party has an address")
        state.custodialParty.addressUsable = false
        requestLocate(partyId: state.custodialParty.partyId, reason: .disbursementReturned)
    }

    /// The custodial party has an address again: what was held goes out.
    mutating func redisburseHeld() {
        for index in state.returnedDisbursements.indices where state.returnedDisbursements[index].reissuedOn == nil {
            let held = state.returnedDisbursements[index]
            state.returnedDisbursements[index].reissuedOn = businessDate
            guard held.familyCents > 0, let payment = state.ledger.payment(id: held.paymentId) else { continue }
            emit(.disbursement, .issue, target: "redisbursement:\(held.taskId.lowercasedText)",
                 dueBy: businessDays(policy.distributionBusinessDays, after: businessDate), data: .disbursement(Disbursement(
                    paymentId: held.paymentId, source: payment.collectionSource, amountCents: held.familyCents, toCurrentSupportCents: 0,
                    toArrearsCents: 0, unappliedCents: 0, disbursedToFamilyCents: held.familyCents, retainedByStateCents: 0,
                    custodialPartyId: state.custodialParty.partyId, receivedOn: payment.receivedOn,
                    collectionId: state.collections.first { $0.paymentId == held.paymentId }?.collectionId,
                    redisbursementOf: held.taskId)),
                 basis: .timeframe("45 CFR 302.32(b)", from: businessDate, days: policy.distributionBusinessDays, businessDays: true,
                                   [("returnedOn", .date(held.returnedOn)), ("addressReceivedOn", .date(businessDate))]))
        }
    }

    // MARK: Disbursements of collections

    /// The disbursement of a collection, from its allocation less what was reversed before it went out.
    mutating func emitDisbursement(of record: CollectionRecord) {
        guard let payment = state.ledger.payment(id: record.paymentId), let allocation = state.ledger.allocation(ofPayment: payment.id) else { return }
        let reversed = state.ledger.reversedCents(ofPayment: payment.id)
        let target = record.disbursementTarget, source = payment.collectionSource
        if reversed >= payment.amountCents {
            emit(.disbursement, .withdraw, target: target, dueBy: record.disbursementDueOn, data: .disbursement(Disbursement(
                paymentId: payment.id, source: source, amountCents: payment.amountCents, toCurrentSupportCents: 0, toArrearsCents: 0,
                unappliedCents: 0, disbursedToFamilyCents: 0, retainedByStateCents: 0, custodialPartyId: state.custodialParty.partyId,
                receivedOn: payment.receivedOn, collectionId: record.collectionId, reversedCents: reversed, reason: "COLLECTION_REVERSED")),
                 basis: TaskBasis("45 CFR 302.32", [("reversedCents", .cents(reversed)), ("disbursementDueOn", .date(record.disbursementDueOn))]))
            return
        }
        let shares = allocation.shares(reversedCents: reversed)
        emit(.disbursement, .issue, target: target, dueBy: record.disbursementDueOn, data: .disbursement(Disbursement(
            paymentId: payment.id, source: source, amountCents: payment.amountCents,
            toCurrentSupportCents: allocation.toCurrentSupportCents, toArrearsCents: allocation.toArrearsCents,
            unappliedCents: allocation.unappliedCents, disbursedToFamilyCents: shares.family, retainedByStateCents: shares.retained,
            custodialPartyId: state.custodialParty.partyId, receivedOn: payment.receivedOn, collectionId: record.collectionId,
            heldUntil: record.heldUntil, reversedCents: reversed > 0 ? reversed : nil)),
             basis: record.heldUntil != nil
                ? .timeframe("45 CFR 303.72(h)(5)", from: payment.receivedOn, days: policy.jointReturnHoldDays, [("source", .text(source.rawValue))])
                : .timeframe(source.paysPastDueOnly ? "45 CFR 302.32(b); 45 CFR 303.72" : "45 CFR 302.32(b)", from: payment.receivedOn,
                             days: policy.distributionBusinessDays, businessDays: true, [("source", .text(source.rawValue))]))
    }

    func familyShare(of payment: Payment, reversedCents: Cents) -> Cents {
        state.ledger.allocation(ofPayment: payment.id)?.shares(reversedCents: reversedCents).family ?? 0
    }

    /// The `disbursement` task the rules issued for a collection.
    func disbursementTaskId(of record: CollectionRecord) -> UUID {
        TaskIdentity.id(causationId: record.eventId, caseId: state.caseId, type: .disbursement, target: record.disbursementTarget, action: .issue)
    }

    /// The payment whose disbursement task has `taskId`: a collection's, or
    /// an employer remittance's (`<eventId>:<caseId>`, target `payment:<eventId>`).
    func disbursedPayment(taskId: UUID) -> Payment? {
        for record in state.collections where disbursementTaskId(of: record) == taskId {
            return state.ledger.payment(id: record.paymentId)
        }
        let suffix = ":\(state.caseId)"
        for payment in state.ledger.payments where payment.source == nil && payment.id.hasSuffix(suffix) {
            guard let eventId = UUID(uuidString: String(payment.id.dropLast(suffix.count))) else { continue }
            let id = TaskIdentity.id(causationId: eventId, caseId: state.caseId, type: .disbursement,
                                     target: Self.remittanceDisbursementTarget(eventId), action: .issue)
            if id == taskId { return payment }
        }
        return nil
    }
}

/// `cse.data-matches.v1`: matches other agencies run, applied like employer
/// reports to every case on which the person is the noncustodial parent.
extension RuleRun {
    /// Unemployment benefits are withheld through the State Workforce Agency
    /// (42 USC 654(19); 45 CFR 302.65): an income withholding notice to the
    /// agency within `withholdingNoticeBusinessDays` of the claim's receipt,
    /// capped at `unemploymentWithholdingPercent` of the weekly benefit. A
    /// claim with an address also locates the parent.
    mutating func handleUnemploymentClaim(_ claim: UnemploymentClaim) throws(RuleError) {
        try requireObligor(claim.claimant)
        takeAddressIfLost(claim.claimant.address, from: "the unemployment claim")
        let fein = claim.agency.fein
        if let index = state.employments.firstIndex(where: { $0.fein == fein }) {
            let changed = state.employments[index].weeklyBenefitCents != claim.weeklyBenefitCents
            state.employments[index].incomeSource = .unemploymentBenefits
            state.employments[index].weeklyBenefitCents = claim.weeklyBenefitCents
            note("unemployment claim filed \(claim.claimFiledOn) with \(fein) already on file")
            if state.employments[index].withholding == .none || changed {
                sendWithholding(toEmploymentAt: index, informationReceivedOn: claim.receivedOn)
            }
            return
        }
        var employment = Employment(fein: fein, name: claim.agency.name, address: claim.agency.address, since: claim.claimFiledOn)
        employment.incomeSource = .unemploymentBenefits
        employment.weeklyBenefitCents = claim.weeklyBenefitCents
        let index = insertEmployment(employment)
        note("unemployment benefits of \(Money.dollars(claim.weeklyBenefitCents)) a week from \(fein), claim filed \(claim.claimFiledOn)")
        sendWithholding(toEmploymentAt: index, informationReceivedOn: claim.receivedOn)
    }

    /// A financial institution data match (42 USC 666(a)(17)) on a parent
    /// whose past-due support is at least `levyThresholdCents`: a levy for
    /// the lesser of the balance and the past-due amount, after its notice
    /// and contest period (`announceLevy`).
    mutating func handleFinancialAccountMatch(_ match: FinancialAccountMatch) throws(RuleError) {
        try requireObligor(match.accountHolder)
        let pastDue = arrearsAsOfEvent
        let account = LevyAccount(institution: match.institution, accountKind: match.accountKind, balanceCents: match.balanceCents,
                                  matchedOn: match.matchedOn)
        guard pastDue >= policy.levyThresholdCents else {
            note("\(account.levyTarget) matched; past-due \(Money.dollars(pastDue)) under the levy threshold \(Money.dollars(policy.levyThresholdCents))")
            return
        }
        guard match.balanceCents > 0 else {
            note("\(account.levyTarget) matched with nothing in it")
            return
        }
        announceLevy(account, pastDue: pastDue)
    }
}
