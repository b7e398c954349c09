import JSON
import CaseDomain
import Foundation

/// `cases.state`: a `CaseState` as JSON, written by hand because Foundation's
/// JSONEncoder was a third of the worker's CPU. The format is exactly the one
/// the Codable conformances produce (same keys, same values: dates
/// `YYYY-MM-DD`, cents as integers, UUIDs upper case, hearing times as seconds
/// since 2001-01-01, nil optionals left out), so rows written before this
/// writer and SQL reading keys of `cases.state` see no difference; only the key
/// order may differ. `CaseSnapshotReader` reads it back.
///
/// SSNs never enter the snapshot: the writer has no `ssn` key at all (they
/// are sealed into `cases.sealed_ssns` by `CaseSnapshotCodec`).
public enum CaseSnapshotWriter {
    public static func encode(_ state: CaseState) throws(CaseSnapshotFormatError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(state, appendingTo: &bytes)
        return bytes
    }

    /// Appends to `bytes`, so a batch can write every snapshot into one buffer.
    public static func encode(_ state: CaseState, appendingTo bytes: inout [UInt8]) throws(CaseSnapshotFormatError) {
        var writer = SnapshotWriter()
        swap(&writer.out, &bytes)
        writer.out.reserveCapacity(writer.out.count + estimatedSize(state))
        defer { swap(&writer.out, &bytes) }
        try writer.caseState(state)
    }

    /// Roughly what the JSON takes, so the buffer grows once at most.
    static func estimatedSize(_ state: CaseState) -> Int {
        let ledger = state.ledger.obligations.count * 160 + state.ledger.payments.count * 110
        let employment = state.employments.count * 330 + state.endedEmployments.count * 80
        let rest = state.children.count * 170 + state.orders.count * 250 + state.referrals.count * 120
            + state.hearings.count * 150 + state.serviceOfProcess.count * 80
        return 900 + state.appliedEventIds.count * 39 + ledger + employment + rest
    }
}

/// The bytes and the punctuation; one method per stored type below. Keys are
/// compile-time literals, and the first key of every type is non-optional, so
/// commas are placed statically.
private struct SnapshotWriter {
    var out: [UInt8] = []

    mutating func open(_ firstKey: StaticString) {
        JSONOutput.appendLiteral("{\"", to: &out)
        JSONOutput.appendLiteral(firstKey, to: &out)
        JSONOutput.appendLiteral("\":", to: &out)
    }

    mutating func key(_ key: StaticString) {
        JSONOutput.appendLiteral(",\"", to: &out)
        JSONOutput.appendLiteral(key, to: &out)
        JSONOutput.appendLiteral("\":", to: &out)
    }

    mutating func close() { out.append(UInt8(ascii: "}")) }

    mutating func string(_ value: String) { JSONOutput.appendString(value, to: &out) }
    mutating func cents(_ value: Cents) { JSONOutput.appendInteger(value, to: &out) }
    mutating func bool(_ value: Bool) { JSONOutput.appendBool(value, to: &out) }
    mutating func code<Code: RawRepresentable<String>>(_ value: Code) { string(value.rawValue) }
    mutating func fein(_ value: FEIN) { string(value.digits) }

    /// `YYYY-MM-DD` as `LocalDate.description` spells it.
    mutating func date(_ value: LocalDate) {
        guard (0...9999).contains(value.year) else {
            string(value.description)
            return
        }
        out.append(UInt8(ascii: "\""))
        digits(value.year, width: 4)
        out.append(UInt8(ascii: "-"))
        digits(value.month, width: 2)
        out.append(UInt8(ascii: "-"))
        digits(value.day, width: 2)
        out.append(UInt8(ascii: "\""))
    }

    mutating func digits(_ value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Upper case, as `UUID.uuidString` (and so JSONEncoder) writes it.
    mutating func uuid(_ value: UUID) {
        out.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: value.uuid) { bytes in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
                out.append(Self.upperHex(byte >> 4))
                out.append(Self.upperHex(byte & 0x0F))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }

    mutating func array<Element>(_ elements: [Element], _ write: (inout SnapshotWriter, Element) throws -> Void) rethrows {
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            try write(&self, element)
        }
        out.append(UInt8(ascii: "]"))
    }

    // MARK: The stored types, keys in declaration order (as the Codable conformances)

    mutating func caseState(_ state: CaseState) throws(CaseSnapshotFormatError) {
        open("caseId"); string(state.caseId)
        key("program"); code(state.program)
        key("applicationReceivedOn"); date(state.applicationReceivedOn)
        key("openedOn"); date(state.openedOn)
        key("custodialParty"); party(state.custodialParty)
        key("noncustodialParty"); party(state.noncustodialParty)
        key("children"); array(state.children) { $0.child($1) }
        key("orders"); array(state.orders) { $0.order($1) }
        key("employments"); array(state.employments) { $0.employment($1) }
        key("endedEmployments"); array(state.endedEmployments) { $0.endedEmployment($1) }
        key("ledger"); ledger(state.ledger)
        key("collections"); array(state.collections) { $0.collection($1) }
        key("returnedDisbursements"); array(state.returnedDisbursements) { $0.returnedDisbursement($1) }
        key("referrals"); array(state.referrals) { $0.referral($1) }
        key("hearings")
        out.append(UInt8(ascii: "["))
        for (index, hearing) in state.hearings.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard hearing.scheduledFor.timeIntervalSinceReferenceDate.isFinite else {
                throw CaseSnapshotFormatError(path: ["hearings", "[\(index)]", "scheduledFor"], problem: "not a finite time")
            }
            self.hearing(hearing)
        }
        out.append(UInt8(ascii: "]"))
        key("serviceOfProcess"); array(state.serviceOfProcess) { $0.serviceAttempt($1) }
        if let value = state.locateRequestedOn { key("locateRequestedOn"); date(value) }
        if let value = state.establishmentPreparationRequestedOn { key("establishmentPreparationRequestedOn"); date(value) }
        if let value = state.contempt { key("contempt"); contempt(value) }
        if let value = state.pendingClosure { key("pendingClosure"); closureReview(value) }
        key("processes"); processes(state.processes)
        if let value = state.closedOn { key("closedOn"); date(value) }
        if let value = state.referralsEvaluatedThrough { key("referralsEvaluatedThrough"); date(value) }
        key("appliedEventIds"); array(state.appliedEventIds) { $0.uuid($1) }
        if let value = state.latestEvent {
            key("latestEvent")
            open("occurredAt"); JSONOutput.appendFinite(value.occurredAt.timeIntervalSinceReferenceDate, to: &out)
            key("eventId"); uuid(value.eventId)
            close()
        }
        close()
    }

    /// No `ssn`: see `CaseSnapshotWriter`.
    mutating func party(_ party: PartyRecord) {
        open("partyId"); string(party.partyId)
        key("firstName"); string(party.firstName)
        key("lastName"); string(party.lastName)
        if let value = party.dateOfBirth { key("dateOfBirth"); date(value) }
        if let value = party.address { key("address"); address(value) }
        key("addressUsable"); bool(party.addressUsable)
        if let value = party.deceasedOn { key("deceasedOn"); date(value) }
        if let value = party.incarceratedUntil { key("incarceratedUntil"); date(value) }
        close()
    }

    mutating func address(_ address: Address) {
        open("line1"); string(address.line1)
        key("city"); string(address.city)
        key("state"); string(address.state.code)
        key("postalCode"); string(address.postalCode)
        close()
    }

    mutating func child(_ child: ChildRecord) {
        open("childId"); string(child.childId)
        key("firstName"); string(child.firstName)
        key("lastName"); string(child.lastName)
        key("dateOfBirth"); date(child.dateOfBirth)
        key("paternity"); paternity(child.paternity)
        if let value = child.geneticTestingRequestedOn { key("geneticTestingRequestedOn"); date(value) }
        close()
    }

    mutating func paternity(_ status: PaternityStatus) {
        switch status {
        case .open: open("status"); string("OPEN")
        case .excluded: open("status"); string("EXCLUDED")
        case .established(let method):
            open("status"); string("ESTABLISHED")
            if let method { key("method"); code(method) }
        }
        close()
    }

    mutating func order(_ order: SupportOrder) {
        open("orderId"); string(order.orderId)
        key("docketNumber"); string(order.docketNumber)
        key("monthlySupportCents"); cents(order.monthlySupportCents)
        if let value = order.monthlyArrearsPaymentCents { key("monthlyArrearsPaymentCents"); cents(value) }
        key("medicalSupportOrdered"); bool(order.medicalSupportOrdered)
        key("effectiveOn"); date(order.effectiveOn)
        key("status"); code(order.status)
        if let value = order.terminatedOn { key("terminatedOn"); date(value) }
        if let value = order.terminationReason { key("terminationReason"); code(value) }
        close()
    }

    mutating func employment(_ employment: Employment) {
        open("fein"); fein(employment.fein)
        if let value = employment.name { key("name"); string(value) }
        if let value = employment.address { key("address"); address(value) }
        key("since"); date(employment.since)
        key("withholding"); code(employment.withholding)
        if let value = employment.withholdingOrderId { key("withholdingOrderId"); string(value) }
        key("medicalSupportNoticeIssued"); bool(employment.medicalSupportNoticeIssued)
        if let value = employment.medicalCoverage { key("medicalCoverage"); code(value) }
        if let value = employment.lastReportedQuarter { key("lastReportedQuarter"); string(value.description) }
        if let value = employment.lastReportedWagesCents { key("lastReportedWagesCents"); cents(value) }
        if let value = employment.incomeSource { key("incomeSource"); code(value) }
        if let value = employment.weeklyBenefitCents { key("weeklyBenefitCents"); cents(value) }
        if let value = employment.acceptedOn { key("acceptedOn"); date(value) }
        if let value = employment.lastRemittedOn { key("lastRemittedOn"); date(value) }
        if let value = employment.notRemittingReviewOn { key("notRemittingReviewOn"); date(value) }
        close()
    }

    mutating func endedEmployment(_ ended: EndedEmployment) {
        open("fein"); fein(ended.fein)
        key("endedOn"); date(ended.endedOn)
        key("reason"); string(ended.reason)
        close()
    }

    mutating func ledger(_ ledger: Ledger) {
        open("obligations"); array(ledger.obligations) { $0.obligation($1) }
        key("payments"); array(ledger.payments) { $0.payment($1) }
        key("assignedToState"); bool(ledger.assignedToState)
        if !ledger.accountCharges.isEmpty { key("accountCharges"); array(ledger.accountCharges) { $0.accountCharge($1) } }
        close()
    }

    mutating func accountCharge(_ charge: AccountCharge) {
        open("id"); string(charge.id)
        key("kind"); code(charge.kind)
        key("referenceId"); string(charge.referenceId)
        key("dueOn"); date(charge.dueOn)
        key("amountCents"); cents(charge.amountCents)
        key("reason"); string(charge.reason)
        close()
    }

    mutating func collection(_ record: CollectionRecord) {
        open("collectionId"); string(record.collectionId)
        key("eventId"); uuid(record.eventId)
        if let value = record.taxYear { key("taxYear"); cents(Cents(value)) }
        if let value = record.heldUntil { key("heldUntil"); date(value) }
        key("disbursementDueOn"); date(record.disbursementDueOn)
        close()
    }

    mutating func returnedDisbursement(_ returned: ReturnedDisbursement) {
        open("taskId"); uuid(returned.taskId)
        key("paymentId"); string(returned.paymentId)
        key("familyCents"); cents(returned.familyCents)
        key("returnedOn"); date(returned.returnedOn)
        key("reason"); code(returned.reason)
        if let value = returned.reissuedOn { key("reissuedOn"); date(value) }
        close()
    }

    mutating func obligation(_ obligation: Obligation) {
        open("orderId"); string(obligation.orderId)
        key("terms"); array(obligation.terms) { $0.supportTerm($1) }
        if let value = obligation.terminatedOn { key("terminatedOn"); date(value) }
        key("judgmentArrearsCents"); cents(obligation.judgmentArrearsCents)
        key("judgmentDueOn"); date(obligation.judgmentDueOn)
        close()
    }

    mutating func supportTerm(_ term: SupportTerm) {
        open("effectiveOn"); date(term.effectiveOn)
        key("monthlySupportCents"); cents(term.monthlySupportCents)
        key("monthlyArrearsPaymentCents"); cents(term.monthlyArrearsPaymentCents)
        close()
    }

    mutating func payment(_ payment: Payment) {
        open("id"); string(payment.id)
        key("amountCents"); cents(payment.amountCents)
        key("receivedOn"); date(payment.receivedOn)
        key("arrearsAssignedToState"); bool(payment.arrearsAssignedToState)
        if let value = payment.source { key("source"); code(value) }
        close()
    }

    mutating func referral(_ referral: ActiveReferral) {
        open("type"); code(referral.type)
        key("issuedOn"); date(referral.issuedOn)
        key("arrearsCents"); cents(referral.arrearsCents)
        key("taskId"); uuid(referral.taskId)
        if let value = referral.thresholdCents { key("thresholdCents"); cents(value) }
        if let value = referral.noticedOn { key("noticedOn"); date(value) }
        close()
    }

    /// `scheduledFor` as JSONEncoder's default date strategy writes it.
    mutating func hearing(_ hearing: Hearing) {
        open("hearingId"); string(hearing.hearingId)
        key("type"); code(hearing.type)
        key("scheduledFor"); JSONOutput.appendFinite(hearing.scheduledFor.timeIntervalSinceReferenceDate, to: &out)
        key("courtName"); string(hearing.courtName)
        key("preparationDueBy"); date(hearing.preparationDueBy)
        close()
    }

    mutating func serviceAttempt(_ attempt: ServiceAttempt) {
        open("partyId"); string(attempt.partyId)
        key("outcome"); code(attempt.outcome)
        key("attemptedOn"); date(attempt.attemptedOn)
        close()
    }

    mutating func contempt(_ contempt: ContemptRecord) {
        open("purgeAmountCents"); cents(contempt.purgeAmountCents)
        key("complianceDueOn"); date(contempt.complianceDueOn)
        key("foundOn"); date(contempt.foundOn)
        close()
    }

    mutating func closureReview(_ review: ClosureReview) {
        open("reason"); code(review.reason)
        if let value = review.detail { key("detail"); string(value) }
        key("requestedOn"); date(review.requestedOn)
        key("earliestClosureOn"); date(review.earliestClosureOn)
        key("noticeSent"); bool(review.noticeSent)
        if let value = review.answeredOn { key("answeredOn"); date(value) }
        close()
    }

    mutating func processes(_ processes: CaseProcesses) {
        open("remedyNotices"); array(processes.remedyNotices) { $0.remedyNotice($1) }
        if let value = processes.agreement {
            key("agreement")
            open("agreementId"); string(value.agreementId)
            key("monthlyCents"); cents(value.monthlyCents)
            key("firstDueOn"); date(value.firstDueOn)
            key("signedOn"); date(value.signedOn)
            if let kept = value.keptThrough { key("keptThrough"); date(kept) }
            close()
        }
        if let value = processes.review {
            key("review")
            open("requestedBy"); code(value.requestedBy)
            key("requestedOn"); date(value.requestedOn)
            key("countedFrom"); date(value.countedFrom)
            key("dueOn"); date(value.dueOn)
            key("otherParentLocated"); bool(value.otherParentLocated)
            close()
        }
        if let value = processes.reviewRightsNoticedOn { key("reviewRightsNoticedOn"); date(value) }
        if let value = processes.incarcerationNoticedUntil { key("incarcerationNoticedUntil"); date(value) }
        if let value = processes.intergovernmental {
            key("intergovernmental")
            open("toState"); string(value.toState.code)
            key("needs"); array(value.needs) { $0.code($1) }
            key("locatedOn"); date(value.locatedOn)
            key("dueBy"); date(value.dueBy)
            close()
        }
        close()
    }

    mutating func remedyNotice(_ notice: RemedyNotice) {
        open("remedy"); code(notice.remedy)
        key("noticedOn"); date(notice.noticedOn)
        key("contestBy"); date(notice.contestBy)
        key("pastDueCents"); cents(notice.pastDueCents)
        key("thresholdCents"); cents(notice.thresholdCents)
        key("status"); code(notice.status)
        if let value = notice.statusOn { key("statusOn"); date(value) }
        if let account = notice.account {
            key("account")
            open("institution")
            open("fein"); fein(account.institution.fein)
            if let value = account.institution.name { key("name"); string(value) }
            if let value = account.institution.address { key("address"); address(value) }
            close()
            key("accountKind"); code(account.accountKind)
            key("balanceCents"); cents(account.balanceCents)
            key("matchedOn"); date(account.matchedOn)
            close()
        }
        close()
    }
}
