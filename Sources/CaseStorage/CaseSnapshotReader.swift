import JSON
import CaseDomain
import Foundation

/// Why a stored case snapshot could not be read: where (the field path, e.g.
/// `ledger.obligations[0].terms[1].effectiveOn`) and what is wrong with it,
/// never the value itself (it may be a name or an identifier).
public struct CaseSnapshotFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Outermost first; array positions are `[n]` components.
    public var path: [String]
    public var problem: String

    public init(path: [String] = [], problem: String) {
        self.path = path
        self.problem = problem
    }

    public var pathText: String {
        var text = ""
        for component in path {
            if !text.isEmpty, !component.hasPrefix("[") { text += "." }
            text += component
        }
        return text.isEmpty ? "(document)" : text
    }

    public var description: String { "corrupt case snapshot at \(pathText): \(problem)" }

    /// The same error one level further out (errors gain their path while unwinding,
    /// so reading a good snapshot builds no path strings).
    func inside(_ component: String) -> CaseSnapshotFormatError {
        CaseSnapshotFormatError(path: [component] + path, problem: problem)
    }
}

/// Reads what `CaseSnapshotWriter` writes, and what JSONEncoder wrote before
/// it: a pull parser (`JSONPullReader`, as strict as `JSONValue.parse`) and
/// each stored type built straight from its members, with no tree in between.
/// Members may come in any order; optionals may be absent or `null`; unknown
/// keys are skipped (as JSONDecoder does), and so is a party's `ssn` (SSNs come
/// only from the sealed column). Anything else that does not fit is an error
/// naming the field: a corrupt row fails loudly instead of becoming a
/// different case.
public enum CaseSnapshotReader {
    public static func decode(_ bytes: [UInt8]) throws(CaseSnapshotFormatError) -> CaseState {
        do {
            return try JSONPullReader.read(bytes) { reader in try Field.within(nil) { try caseState(&reader) } }
        } catch let error as CaseSnapshotFormatError {
            throw error
        } catch {
            throw Field.problem(error)
        }
    }

    // MARK: The stored types

    static func caseState(_ r: inout JSONPullReader) throws -> CaseState {
        var caseId: String?, program: Program?, applicationReceivedOn: LocalDate?, openedOn: LocalDate?
        var custodialParty: PartyRecord?, noncustodialParty: PartyRecord?, children: [ChildRecord]?, ledger: Ledger?
        var orders: [SupportOrder]?, employments: [Employment]?, endedEmployments: [EndedEmployment]?
        var referrals: [ActiveReferral]?, hearings: [Hearing]?, serviceOfProcess: [ServiceAttempt]?
        var appliedEventIds: [UUID]?, latestEvent: EventPosition?
        var locateRequestedOn: LocalDate?, establishmentPreparationRequestedOn: LocalDate?, contempt: ContemptRecord?
        var pendingClosure: ClosureReview?, closedOn: LocalDate?, referralsEvaluatedThrough: LocalDate?
        var collections: [CollectionRecord] = [], returnedDisbursements: [ReturnedDisbursement] = []
        var processes = CaseProcesses()
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "caseId": caseId = try Field.within("caseId") { try Read.string(&r) }
            case "program": program = try Field.within("program") { try Read.code(&r) }
            case "applicationReceivedOn":
                applicationReceivedOn = try Field.within("applicationReceivedOn") { try Read.date(&r) }
            case "openedOn": openedOn = try Field.within("openedOn") { try Read.date(&r) }
            case "custodialParty": custodialParty = try Field.within("custodialParty") { try party(&r) }
            case "noncustodialParty": noncustodialParty = try Field.within("noncustodialParty") { try party(&r) }
            case "children": children = try Field.within("children") { try Read.array(&r, child) }
            case "orders": orders = try Field.within("orders") { try Read.array(&r, order) }
            case "employments": employments = try Field.within("employments") { try Read.array(&r, employment) }
            case "endedEmployments":
                endedEmployments = try Field.within("endedEmployments") { try Read.array(&r, endedEmployment) }
            case "ledger": ledger = try Field.within("ledger") { try self.ledger(&r) }
            // Absent in rows written before collections from other sources.
            case "collections": collections = try Field.within("collections") { try Read.array(&r, collection) }
            case "returnedDisbursements":
                returnedDisbursements = try Field.within("returnedDisbursements") { try Read.array(&r, returnedDisbursement) }
            case "referrals": referrals = try Field.within("referrals") { try Read.array(&r, referral) }
            case "hearings": hearings = try Field.within("hearings") { try Read.array(&r, hearing) }
            case "serviceOfProcess":
                serviceOfProcess = try Field.within("serviceOfProcess") { try Read.array(&r, serviceAttempt) }
            case "locateRequestedOn":
                locateRequestedOn = try Field.within("locateRequestedOn") { try Read.optional(&r, Read.date) }
            case "establishmentPreparationRequestedOn":
                establishmentPreparationRequestedOn = try Field.within("establishmentPreparationRequestedOn") {
                    try Read.optional(&r, Read.date)
                }
            case "contempt": contempt = try Field.within("contempt") { try Read.optional(&r, self.contempt) }
            case "pendingClosure":
                pendingClosure = try Field.within("pendingClosure") { try Read.optional(&r, closureReview) }
            // Absent in rows written before the v1.1 processes.
            case "processes": processes = try Field.within("processes") { try self.processes(&r) }
            case "closedOn": closedOn = try Field.within("closedOn") { try Read.optional(&r, Read.date) }
            case "referralsEvaluatedThrough":
                referralsEvaluatedThrough = try Field.within("referralsEvaluatedThrough") { try Read.optional(&r, Read.date) }
            case "appliedEventIds": appliedEventIds = try Field.within("appliedEventIds") { try Read.array(&r, Read.uuid) }
            case "latestEvent": latestEvent = try Field.within("latestEvent") { try eventPosition(&r) }
            default: try r.skipValue()
            }
        }
        var state = CaseState(
            caseId: try Field.need(caseId, "caseId"), program: try Field.need(program, "program"),
            applicationReceivedOn: try Field.need(applicationReceivedOn, "applicationReceivedOn"),
            openedOn: try Field.need(openedOn, "openedOn"),
            custodialParty: try Field.need(custodialParty, "custodialParty"),
            noncustodialParty: try Field.need(noncustodialParty, "noncustodialParty"),
            children: try Field.need(children, "children"), ledger: try Field.need(ledger, "ledger"))
        state.orders = try Field.need(orders, "orders")
        state.employments = try Field.need(employments, "employments")
        state.collections = collections
        state.returnedDisbursements = returnedDisbursements
        state.endedEmployments = try Field.need(endedEmployments, "endedEmployments")
        state.referrals = try Field.need(referrals, "referrals")
        state.hearings = try Field.need(hearings, "hearings")
        state.serviceOfProcess = try Field.need(serviceOfProcess, "serviceOfProcess")
        state.locateRequestedOn = locateRequestedOn
        state.establishmentPreparationRequestedOn = establishmentPreparationRequestedOn
        state.contempt = contempt
        state.pendingClosure = pendingClosure
        state.processes = processes
        state.closedOn = closedOn
        state.referralsEvaluatedThrough = referralsEvaluatedThrough
        state.appliedEventIds = try Field.need(appliedEventIds, "appliedEventIds")
        state.latestEvent = latestEvent
        return state
    }

    static func eventPosition(_ r: inout JSONPullReader) throws -> EventPosition {
        var occurredAt: Date?, eventId: UUID?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "occurredAt": occurredAt = try Field.within("occurredAt") { try Read.referenceDateTime(&r) }
            case "eventId": eventId = try Field.within("eventId") { try Read.uuid(&r) }
            default: try r.skipValue()
            }
        }
        return EventPosition(occurredAt: try Field.need(occurredAt, "occurredAt"), eventId: try Field.need(eventId, "eventId"))
    }

    static func party(_ r: inout JSONPullReader) throws -> PartyRecord {
        var partyId: String?, firstName: String?, lastName: String?, dateOfBirth: LocalDate?, address: Address?
        var addressUsable: Bool?, deceasedOn: LocalDate?, incarceratedUntil: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "partyId": partyId = try Field.within("partyId") { try Read.string(&r) }
            case "firstName": firstName = try Field.within("firstName") { try Read.string(&r) }
            case "lastName": lastName = try Field.within("lastName") { try Read.string(&r) }
            case "dateOfBirth": dateOfBirth = try Field.within("dateOfBirth") { try Read.optional(&r, Read.date) }
            case "address": address = try Field.within("address") { try Read.optional(&r, self.address) }
            case "addressUsable": addressUsable = try Field.within("addressUsable") { try Read.bool(&r) }
            case "deceasedOn": deceasedOn = try Field.within("deceasedOn") { try Read.optional(&r, Read.date) }
            case "incarceratedUntil": incarceratedUntil = try Field.within("incarceratedUntil") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        return PartyRecord(
            partyId: try Field.need(partyId, "partyId"), firstName: try Field.need(firstName, "firstName"),
            lastName: try Field.need(lastName, "lastName"), dateOfBirth: dateOfBirth, ssn: nil, address: address,
            addressUsable: try Field.need(addressUsable, "addressUsable"), deceasedOn: deceasedOn, incarceratedUntil: incarceratedUntil)
    }

    static func address(_ r: inout JSONPullReader) throws -> Address {
        var line1: String?, city: String?, state: USState?, postalCode: String?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "line1": line1 = try Field.within("line1") { try Read.string(&r) }
            case "city": city = try Field.within("city") { try Read.string(&r) }
            case "state": state = try Field.within("state") { try Read.usState(&r) }
            case "postalCode": postalCode = try Field.within("postalCode") { try Read.string(&r) }
            default: try r.skipValue()
            }
        }
        return Address(
            line1: try Field.need(line1, "line1"), city: try Field.need(city, "city"), state: try Field.need(state, "state"),
            postalCode: try Field.need(postalCode, "postalCode"))
    }

    static func child(_ r: inout JSONPullReader) throws -> ChildRecord {
        var childId: String?, firstName: String?, lastName: String?, dateOfBirth: LocalDate?, paternity: PaternityStatus?
        var geneticTestingRequestedOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "childId": childId = try Field.within("childId") { try Read.string(&r) }
            case "firstName": firstName = try Field.within("firstName") { try Read.string(&r) }
            case "lastName": lastName = try Field.within("lastName") { try Read.string(&r) }
            case "dateOfBirth": dateOfBirth = try Field.within("dateOfBirth") { try Read.date(&r) }
            case "paternity": paternity = try Field.within("paternity") { try self.paternity(&r) }
            case "geneticTestingRequestedOn":
                geneticTestingRequestedOn = try Field.within("geneticTestingRequestedOn") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        return ChildRecord(
            childId: try Field.need(childId, "childId"), firstName: try Field.need(firstName, "firstName"),
            lastName: try Field.need(lastName, "lastName"), dateOfBirth: try Field.need(dateOfBirth, "dateOfBirth"),
            paternity: try Field.need(paternity, "paternity"), geneticTestingRequestedOn: geneticTestingRequestedOn)
    }

    static func paternity(_ r: inout JSONPullReader) throws -> PaternityStatus {
        var status: String?, method: PaternityMethod?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "status": status = try Field.within("status") { try Read.string(&r) }
            case "method": method = try Field.within("method") { try Read.optional(&r, Read.code) }
            default: try r.skipValue()
            }
        }
        switch try Field.need(status, "status") {
        case "OPEN": return .open
        case "EXCLUDED": return .excluded
        case "ESTABLISHED": return .established(method)
        default: throw CaseSnapshotFormatError(path: ["status"], problem: "not a paternity status")
        }
    }

    static func order(_ r: inout JSONPullReader) throws -> SupportOrder {
        var orderId: String?, docketNumber: String?, monthlySupportCents: Cents?, monthlyArrearsPaymentCents: Cents?
        var medicalSupportOrdered: Bool?, effectiveOn: LocalDate?, status: OrderStatus?, terminatedOn: LocalDate?
        var terminationReason: OrderTerminationReason?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "orderId": orderId = try Field.within("orderId") { try Read.string(&r) }
            case "docketNumber": docketNumber = try Field.within("docketNumber") { try Read.string(&r) }
            case "monthlySupportCents": monthlySupportCents = try Field.within("monthlySupportCents") { try Read.cents(&r) }
            case "monthlyArrearsPaymentCents":
                monthlyArrearsPaymentCents = try Field.within("monthlyArrearsPaymentCents") { try Read.optional(&r, Read.cents) }
            case "medicalSupportOrdered":
                medicalSupportOrdered = try Field.within("medicalSupportOrdered") { try Read.bool(&r) }
            case "effectiveOn": effectiveOn = try Field.within("effectiveOn") { try Read.date(&r) }
            case "status": status = try Field.within("status") { try Read.code(&r) }
            case "terminatedOn": terminatedOn = try Field.within("terminatedOn") { try Read.optional(&r, Read.date) }
            case "terminationReason":
                terminationReason = try Field.within("terminationReason") { try Read.optional(&r, Read.code) }
            default: try r.skipValue()
            }
        }
        var order = SupportOrder(terms: OrderTerms(
            orderId: try Field.need(orderId, "orderId"), docketNumber: try Field.need(docketNumber, "docketNumber"),
            monthlySupportCents: try Field.need(monthlySupportCents, "monthlySupportCents"),
            monthlyArrearsPaymentCents: monthlyArrearsPaymentCents,
            medicalSupportOrdered: try Field.need(medicalSupportOrdered, "medicalSupportOrdered"),
            effectiveOn: try Field.need(effectiveOn, "effectiveOn")))
        order.status = try Field.need(status, "status")
        order.terminatedOn = terminatedOn
        order.terminationReason = terminationReason
        return order
    }

    static func employment(_ r: inout JSONPullReader) throws -> Employment {
        var fein: FEIN?, name: String?, address: Address?, since: LocalDate?, withholding: WithholdingStatus?
        var withholdingOrderId: String?, medicalSupportNoticeIssued: Bool?, medicalCoverage: MedicalCoverage?
        var lastReportedQuarter: Quarter?, lastReportedWagesCents: Cents?
        var incomeSource: IncomeSource?, weeklyBenefitCents: Cents?, acceptedOn: LocalDate?, lastRemittedOn: LocalDate?
        var notRemittingReviewOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "fein": fein = try Field.within("fein") { try Read.fein(&r) }
            case "name": name = try Field.within("name") { try Read.optional(&r, Read.string) }
            case "address": address = try Field.within("address") { try Read.optional(&r, self.address) }
            case "since": since = try Field.within("since") { try Read.date(&r) }
            case "withholding": withholding = try Field.within("withholding") { try Read.code(&r) }
            case "withholdingOrderId":
                withholdingOrderId = try Field.within("withholdingOrderId") { try Read.optional(&r, Read.string) }
            case "medicalSupportNoticeIssued":
                medicalSupportNoticeIssued = try Field.within("medicalSupportNoticeIssued") { try Read.bool(&r) }
            case "medicalCoverage": medicalCoverage = try Field.within("medicalCoverage") { try Read.optional(&r, Read.code) }
            case "lastReportedQuarter":
                lastReportedQuarter = try Field.within("lastReportedQuarter") { try Read.optional(&r, Read.quarter) }
            case "lastReportedWagesCents":
                lastReportedWagesCents = try Field.within("lastReportedWagesCents") { try Read.optional(&r, Read.cents) }
            case "incomeSource": incomeSource = try Field.within("incomeSource") { try Read.optional(&r, Read.code) }
            case "weeklyBenefitCents":
                weeklyBenefitCents = try Field.within("weeklyBenefitCents") { try Read.optional(&r, Read.cents) }
            case "acceptedOn": acceptedOn = try Field.within("acceptedOn") { try Read.optional(&r, Read.date) }
            case "lastRemittedOn": lastRemittedOn = try Field.within("lastRemittedOn") { try Read.optional(&r, Read.date) }
            case "notRemittingReviewOn":
                notRemittingReviewOn = try Field.within("notRemittingReviewOn") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        var employment = Employment(
            fein: try Field.need(fein, "fein"), name: name, address: address, since: try Field.need(since, "since"))
        employment.withholding = try Field.need(withholding, "withholding")
        employment.withholdingOrderId = withholdingOrderId
        employment.medicalSupportNoticeIssued = try Field.need(medicalSupportNoticeIssued, "medicalSupportNoticeIssued")
        employment.medicalCoverage = medicalCoverage
        employment.lastReportedQuarter = lastReportedQuarter
        employment.lastReportedWagesCents = lastReportedWagesCents
        employment.incomeSource = incomeSource
        employment.weeklyBenefitCents = weeklyBenefitCents
        employment.acceptedOn = acceptedOn
        employment.lastRemittedOn = lastRemittedOn
        employment.notRemittingReviewOn = notRemittingReviewOn
        return employment
    }

    static func endedEmployment(_ r: inout JSONPullReader) throws -> EndedEmployment {
        var fein: FEIN?, endedOn: LocalDate?, reason: String?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "fein": fein = try Field.within("fein") { try Read.fein(&r) }
            case "endedOn": endedOn = try Field.within("endedOn") { try Read.date(&r) }
            case "reason": reason = try Field.within("reason") { try Read.string(&r) }
            default: try r.skipValue()
            }
        }
        return EndedEmployment(
            fein: try Field.need(fein, "fein"), endedOn: try Field.need(endedOn, "endedOn"),
            reason: try Field.need(reason, "reason"))
    }

    static func ledger(_ r: inout JSONPullReader) throws -> Ledger {
        var obligations: [Obligation]?, payments: [Payment]?, assignedToState: Bool?, accountCharges: [AccountCharge] = []
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "obligations": obligations = try Field.within("obligations") { try Read.array(&r, obligation) }
            case "payments": payments = try Field.within("payments") { try Read.array(&r, payment) }
            case "assignedToState": assignedToState = try Field.within("assignedToState") { try Read.bool(&r) }
            case "accountCharges": accountCharges = try Field.within("accountCharges") { try Read.array(&r, accountCharge) }
            default: try r.skipValue()
            }
        }
        return Ledger(
            obligations: try Field.need(obligations, "obligations"), payments: try Field.need(payments, "payments"),
            assignedToState: try Field.need(assignedToState, "assignedToState"), accountCharges: accountCharges)
    }

    static func accountCharge(_ r: inout JSONPullReader) throws -> AccountCharge {
        var id: String?, kind: AccountCharge.Kind?, referenceId: String?, dueOn: LocalDate?, amountCents: Cents?, reason: String?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "id": id = try Field.within("id") { try Read.string(&r) }
            case "kind": kind = try Field.within("kind") { try Read.code(&r) }
            case "referenceId": referenceId = try Field.within("referenceId") { try Read.string(&r) }
            case "dueOn": dueOn = try Field.within("dueOn") { try Read.date(&r) }
            case "amountCents": amountCents = try Field.within("amountCents") { try Read.cents(&r) }
            case "reason": reason = try Field.within("reason") { try Read.string(&r) }
            default: try r.skipValue()
            }
        }
        return AccountCharge(
            id: try Field.need(id, "id"), kind: try Field.need(kind, "kind"), referenceId: try Field.need(referenceId, "referenceId"),
            dueOn: try Field.need(dueOn, "dueOn"), amountCents: try Field.need(amountCents, "amountCents"),
            reason: try Field.need(reason, "reason"))
    }

    static func collection(_ r: inout JSONPullReader) throws -> CollectionRecord {
        var collectionId: String?, eventId: UUID?, taxYear: Cents?
        var heldUntil: LocalDate?, disbursementDueOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "collectionId": collectionId = try Field.within("collectionId") { try Read.string(&r) }
            case "eventId": eventId = try Field.within("eventId") { try Read.uuid(&r) }
            case "taxYear": taxYear = try Field.within("taxYear") { try Read.optional(&r, Read.cents) }
            case "heldUntil": heldUntil = try Field.within("heldUntil") { try Read.optional(&r, Read.date) }
            case "disbursementDueOn": disbursementDueOn = try Field.within("disbursementDueOn") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        return CollectionRecord(
            collectionId: try Field.need(collectionId, "collectionId"), eventId: try Field.need(eventId, "eventId"),
            taxYear: taxYear.map { Int($0) }, heldUntil: heldUntil,
            disbursementDueOn: try Field.need(disbursementDueOn, "disbursementDueOn"))
    }

    static func returnedDisbursement(_ r: inout JSONPullReader) throws -> ReturnedDisbursement {
        var taskId: UUID?, paymentId: String?, familyCents: Cents?, returnedOn: LocalDate?, reason: DisbursementReturnReason?
        var reissuedOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "taskId": taskId = try Field.within("taskId") { try Read.uuid(&r) }
            case "paymentId": paymentId = try Field.within("paymentId") { try Read.string(&r) }
            case "familyCents": familyCents = try Field.within("familyCents") { try Read.cents(&r) }
            case "returnedOn": returnedOn = try Field.within("returnedOn") { try Read.date(&r) }
            case "reason": reason = try Field.within("reason") { try Read.code(&r) }
            case "reissuedOn": reissuedOn = try Field.within("reissuedOn") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        return ReturnedDisbursement(
            taskId: try Field.need(taskId, "taskId"), paymentId: try Field.need(paymentId, "paymentId"),
            familyCents: try Field.need(familyCents, "familyCents"), returnedOn: try Field.need(returnedOn, "returnedOn"),
            reason: try Field.need(reason, "reason"), reissuedOn: reissuedOn)
    }

    static func obligation(_ r: inout JSONPullReader) throws -> Obligation {
        var orderId: String?, terms: [SupportTerm]?, terminatedOn: LocalDate?, judgmentArrearsCents: Cents?
        var judgmentDueOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "orderId": orderId = try Field.within("orderId") { try Read.string(&r) }
            case "terms": terms = try Field.within("terms") { try Read.array(&r, supportTerm) }
            case "terminatedOn": terminatedOn = try Field.within("terminatedOn") { try Read.optional(&r, Read.date) }
            case "judgmentArrearsCents":
                judgmentArrearsCents = try Field.within("judgmentArrearsCents") { try Read.cents(&r) }
            case "judgmentDueOn": judgmentDueOn = try Field.within("judgmentDueOn") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        let knownTerms = try Field.need(terms, "terms")
        guard let obligation = Obligation(
            orderId: try Field.need(orderId, "orderId"), terms: knownTerms, terminatedOn: terminatedOn,
            judgmentArrearsCents: try Field.need(judgmentArrearsCents, "judgmentArrearsCents"),
            // Snapshots written before judgments fell due when entered: the effective date.
            judgmentDueOn: judgmentDueOn ?? knownTerms.first?.effectiveOn ?? LocalDate(daysSinceEpoch: 0))
        else {
            throw CaseSnapshotFormatError(path: ["terms"], problem: "empty, or effective dates not strictly increasing")
        }
        return obligation
    }

    static func supportTerm(_ r: inout JSONPullReader) throws -> SupportTerm {
        var effectiveOn: LocalDate?, monthlySupportCents: Cents?, monthlyArrearsPaymentCents: Cents?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "effectiveOn": effectiveOn = try Field.within("effectiveOn") { try Read.date(&r) }
            case "monthlySupportCents": monthlySupportCents = try Field.within("monthlySupportCents") { try Read.cents(&r) }
            case "monthlyArrearsPaymentCents":
                monthlyArrearsPaymentCents = try Field.within("monthlyArrearsPaymentCents") { try Read.cents(&r) }
            default: try r.skipValue()
            }
        }
        return SupportTerm(
            effectiveOn: try Field.need(effectiveOn, "effectiveOn"),
            monthlySupportCents: try Field.need(monthlySupportCents, "monthlySupportCents"),
            monthlyArrearsPaymentCents: try Field.need(monthlyArrearsPaymentCents, "monthlyArrearsPaymentCents"))
    }

    static func payment(_ r: inout JSONPullReader) throws -> Payment {
        var id: String?, amountCents: Cents?, receivedOn: LocalDate?, arrearsAssignedToState: Bool?, source: CollectionSource?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "id": id = try Field.within("id") { try Read.string(&r) }
            case "amountCents": amountCents = try Field.within("amountCents") { try Read.cents(&r) }
            case "receivedOn": receivedOn = try Field.within("receivedOn") { try Read.date(&r) }
            case "arrearsAssignedToState":
                arrearsAssignedToState = try Field.within("arrearsAssignedToState") { try Read.bool(&r) }
            case "source": source = try Field.within("source") { try Read.optional(&r, Read.code) }
            default: try r.skipValue()
            }
        }
        return Payment(
            id: try Field.need(id, "id"), amountCents: try Field.need(amountCents, "amountCents"),
            receivedOn: try Field.need(receivedOn, "receivedOn"),
            arrearsAssignedToState: try Field.need(arrearsAssignedToState, "arrearsAssignedToState"), source: source)
    }

    static func referral(_ r: inout JSONPullReader) throws -> ActiveReferral {
        var type: TaskType?, issuedOn: LocalDate?, arrearsCents: Cents?, taskId: UUID?, thresholdCents: Cents?, noticedOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "type": type = try Field.within("type") { try Read.code(&r) }
            case "issuedOn": issuedOn = try Field.within("issuedOn") { try Read.date(&r) }
            case "arrearsCents": arrearsCents = try Field.within("arrearsCents") { try Read.cents(&r) }
            case "taskId": taskId = try Field.within("taskId") { try Read.uuid(&r) }
            case "thresholdCents": thresholdCents = try Field.within("thresholdCents") { try Read.optional(&r, Read.cents) }
            case "noticedOn": noticedOn = try Field.within("noticedOn") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        return ActiveReferral(
            type: try Field.need(type, "type"), issuedOn: try Field.need(issuedOn, "issuedOn"),
            arrearsCents: try Field.need(arrearsCents, "arrearsCents"), taskId: try Field.need(taskId, "taskId"),
            thresholdCents: thresholdCents, noticedOn: noticedOn)
    }

    static func hearing(_ r: inout JSONPullReader) throws -> Hearing {
        var hearingId: String?, type: HearingType?, scheduledFor: Date?, courtName: String?, preparationDueBy: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "hearingId": hearingId = try Field.within("hearingId") { try Read.string(&r) }
            case "type": type = try Field.within("type") { try Read.code(&r) }
            case "scheduledFor": scheduledFor = try Field.within("scheduledFor") { try Read.referenceDateTime(&r) }
            case "courtName": courtName = try Field.within("courtName") { try Read.string(&r) }
            case "preparationDueBy": preparationDueBy = try Field.within("preparationDueBy") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        return Hearing(
            hearingId: try Field.need(hearingId, "hearingId"), type: try Field.need(type, "type"),
            scheduledFor: try Field.need(scheduledFor, "scheduledFor"), courtName: try Field.need(courtName, "courtName"),
            preparationDueBy: try Field.need(preparationDueBy, "preparationDueBy"))
    }

    static func serviceAttempt(_ r: inout JSONPullReader) throws -> ServiceAttempt {
        var partyId: String?, outcome: ServiceOutcome?, attemptedOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "partyId": partyId = try Field.within("partyId") { try Read.string(&r) }
            case "outcome": outcome = try Field.within("outcome") { try Read.code(&r) }
            case "attemptedOn": attemptedOn = try Field.within("attemptedOn") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        return ServiceAttempt(
            partyId: try Field.need(partyId, "partyId"), outcome: try Field.need(outcome, "outcome"),
            attemptedOn: try Field.need(attemptedOn, "attemptedOn"))
    }

    static func contempt(_ r: inout JSONPullReader) throws -> ContemptRecord {
        var purgeAmountCents: Cents?, complianceDueOn: LocalDate?, foundOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "purgeAmountCents": purgeAmountCents = try Field.within("purgeAmountCents") { try Read.cents(&r) }
            case "complianceDueOn": complianceDueOn = try Field.within("complianceDueOn") { try Read.date(&r) }
            case "foundOn": foundOn = try Field.within("foundOn") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        return ContemptRecord(
            purgeAmountCents: try Field.need(purgeAmountCents, "purgeAmountCents"),
            complianceDueOn: try Field.need(complianceDueOn, "complianceDueOn"), foundOn: try Field.need(foundOn, "foundOn"))
    }

    static func closureReview(_ r: inout JSONPullReader) throws -> ClosureReview {
        var reason: ClosureReason?, detail: String?, requestedOn: LocalDate?, earliestClosureOn: LocalDate?
        var noticeSent = false, answeredOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "reason": reason = try Field.within("reason") { try Read.code(&r) }
            case "detail": detail = try Field.within("detail") { try Read.optional(&r, Read.string) }
            case "requestedOn": requestedOn = try Field.within("requestedOn") { try Read.date(&r) }
            case "earliestClosureOn": earliestClosureOn = try Field.within("earliestClosureOn") { try Read.date(&r) }
            case "noticeSent": noticeSent = try Field.within("noticeSent") { try Read.bool(&r) }
            case "answeredOn": answeredOn = try Field.within("answeredOn") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        return ClosureReview(
            reason: try Field.need(reason, "reason"), detail: detail, requestedOn: try Field.need(requestedOn, "requestedOn"),
            earliestClosureOn: try Field.need(earliestClosureOn, "earliestClosureOn"), noticeSent: noticeSent, answeredOn: answeredOn)
    }

    static func processes(_ r: inout JSONPullReader) throws -> CaseProcesses {
        var processes = CaseProcesses()
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "remedyNotices": processes.remedyNotices = try Field.within("remedyNotices") { try Read.array(&r, remedyNotice) }
            case "agreement": processes.agreement = try Field.within("agreement") { try Read.optional(&r, agreement) }
            case "review": processes.review = try Field.within("review") { try Read.optional(&r, review) }
            case "reviewRightsNoticedOn":
                processes.reviewRightsNoticedOn = try Field.within("reviewRightsNoticedOn") { try Read.optional(&r, Read.date) }
            case "incarcerationNoticedUntil":
                processes.incarcerationNoticedUntil = try Field.within("incarcerationNoticedUntil") { try Read.optional(&r, Read.date) }
            case "intergovernmental":
                processes.intergovernmental = try Field.within("intergovernmental") { try Read.optional(&r, intergovernmental) }
            default: try r.skipValue()
            }
        }
        return processes
    }

    static func remedyNotice(_ r: inout JSONPullReader) throws -> RemedyNotice {
        var remedy: TaskType?, noticedOn: LocalDate?, contestBy: LocalDate?, pastDueCents: Cents?, thresholdCents: Cents?
        var status: RemedyNotice.Status?, statusOn: LocalDate?, account: LevyAccount?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "remedy": remedy = try Field.within("remedy") { try Read.code(&r) }
            case "noticedOn": noticedOn = try Field.within("noticedOn") { try Read.date(&r) }
            case "contestBy": contestBy = try Field.within("contestBy") { try Read.date(&r) }
            case "pastDueCents": pastDueCents = try Field.within("pastDueCents") { try Read.cents(&r) }
            case "thresholdCents": thresholdCents = try Field.within("thresholdCents") { try Read.cents(&r) }
            case "status": status = try Field.within("status") { try Read.code(&r) }
            case "statusOn": statusOn = try Field.within("statusOn") { try Read.optional(&r, Read.date) }
            case "account": account = try Field.within("account") { try Read.optional(&r, levyAccount) }
            default: try r.skipValue()
            }
        }
        return RemedyNotice(
            remedy: try Field.need(remedy, "remedy"), noticedOn: try Field.need(noticedOn, "noticedOn"),
            contestBy: try Field.need(contestBy, "contestBy"), pastDueCents: try Field.need(pastDueCents, "pastDueCents"),
            thresholdCents: try Field.need(thresholdCents, "thresholdCents"), status: try Field.need(status, "status"),
            statusOn: statusOn, account: account)
    }

    static func levyAccount(_ r: inout JSONPullReader) throws -> LevyAccount {
        var institution: EmployerRef?, accountKind: AccountKind?, balanceCents: Cents?, matchedOn: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "institution": institution = try Field.within("institution") { try employerRef(&r) }
            case "accountKind": accountKind = try Field.within("accountKind") { try Read.code(&r) }
            case "balanceCents": balanceCents = try Field.within("balanceCents") { try Read.cents(&r) }
            case "matchedOn": matchedOn = try Field.within("matchedOn") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        return LevyAccount(
            institution: try Field.need(institution, "institution"), accountKind: try Field.need(accountKind, "accountKind"),
            balanceCents: try Field.need(balanceCents, "balanceCents"), matchedOn: try Field.need(matchedOn, "matchedOn"))
    }

    static func employerRef(_ r: inout JSONPullReader) throws -> EmployerRef {
        var fein: FEIN?, name: String?, address: Address?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "fein": fein = try Field.within("fein") { try Read.fein(&r) }
            case "name": name = try Field.within("name") { try Read.optional(&r, Read.string) }
            case "address": address = try Field.within("address") { try Read.optional(&r, self.address) }
            default: try r.skipValue()
            }
        }
        return EmployerRef(fein: try Field.need(fein, "fein"), name: name, address: address)
    }

    static func agreement(_ r: inout JSONPullReader) throws -> PaymentAgreement {
        var agreementId: String?, monthlyCents: Cents?, firstDueOn: LocalDate?, signedOn: LocalDate?, keptThrough: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "agreementId": agreementId = try Field.within("agreementId") { try Read.string(&r) }
            case "monthlyCents": monthlyCents = try Field.within("monthlyCents") { try Read.cents(&r) }
            case "firstDueOn": firstDueOn = try Field.within("firstDueOn") { try Read.date(&r) }
            case "signedOn": signedOn = try Field.within("signedOn") { try Read.date(&r) }
            case "keptThrough": keptThrough = try Field.within("keptThrough") { try Read.optional(&r, Read.date) }
            default: try r.skipValue()
            }
        }
        return PaymentAgreement(
            agreementId: try Field.need(agreementId, "agreementId"), monthlyCents: try Field.need(monthlyCents, "monthlyCents"),
            firstDueOn: try Field.need(firstDueOn, "firstDueOn"), signedOn: try Field.need(signedOn, "signedOn"), keptThrough: keptThrough)
    }

    static func review(_ r: inout JSONPullReader) throws -> OrderReviewRequest {
        var requestedBy: Requester?, requestedOn: LocalDate?, countedFrom: LocalDate?, dueOn: LocalDate?, otherParentLocated: Bool?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "requestedBy": requestedBy = try Field.within("requestedBy") { try Read.code(&r) }
            case "requestedOn": requestedOn = try Field.within("requestedOn") { try Read.date(&r) }
            case "countedFrom": countedFrom = try Field.within("countedFrom") { try Read.date(&r) }
            case "dueOn": dueOn = try Field.within("dueOn") { try Read.date(&r) }
            case "otherParentLocated": otherParentLocated = try Field.within("otherParentLocated") { try Read.bool(&r) }
            default: try r.skipValue()
            }
        }
        return OrderReviewRequest(
            requestedBy: try Field.need(requestedBy, "requestedBy"), requestedOn: try Field.need(requestedOn, "requestedOn"),
            countedFrom: try Field.need(countedFrom, "countedFrom"), dueOn: try Field.need(dueOn, "dueOn"),
            otherParentLocated: try Field.need(otherParentLocated, "otherParentLocated"))
    }

    static func intergovernmental(_ r: inout JSONPullReader) throws -> IntergovernmentalCase {
        var toState: USState?, needs: [IntergovernmentalNeed]?, locatedOn: LocalDate?, dueBy: LocalDate?
        try r.beginObject()
        while let key = try r.nextKey() {
            switch key {
            case "toState": toState = try Field.within("toState") { try Read.usState(&r) }
            case "needs": needs = try Field.within("needs") { try Read.array(&r) { (r: inout JSONPullReader) throws -> IntergovernmentalNeed in try Read.code(&r) } }
            case "locatedOn": locatedOn = try Field.within("locatedOn") { try Read.date(&r) }
            case "dueBy": dueBy = try Field.within("dueBy") { try Read.date(&r) }
            default: try r.skipValue()
            }
        }
        return IntergovernmentalCase(
            toState: try Field.need(toState, "toState"), needs: try Field.need(needs, "needs"),
            locatedOn: try Field.need(locatedOn, "locatedOn"), dueBy: try Field.need(dueBy, "dueBy"))
    }
}

/// Field paths for errors: each member read runs `within` its key, and an
/// error gains the key while unwinding (reading a good snapshot builds no path).
private enum Field {
    static func within<T>(_ component: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CaseSnapshotFormatError {
            guard let component else { throw error }
            throw error.inside(component)
        } catch {
            let problem = problem(error)
            guard let component else { throw problem }
            throw problem.inside(component)
        }
    }

    /// The reader's and parser's errors as a snapshot error at the current place.
    static func problem(_ error: any Error) -> CaseSnapshotFormatError {
        switch error {
        case let error as CaseSnapshotFormatError: error
        case let mismatch as JSONPullReader.Mismatch:
            CaseSnapshotFormatError(problem: "expected \(mismatch.expected), found \(mismatch.found.rawValue)")
        case let syntax as JSONParseError: CaseSnapshotFormatError(problem: syntax.description)
        default: CaseSnapshotFormatError(problem: "\(type(of: error))")
        }
    }

    static func need<T>(_ value: T?, _ key: String) throws -> T {
        guard let value else { throw CaseSnapshotFormatError(path: [key], problem: "missing") }
        return value
    }
}

/// Values in their stored representation.
private enum Read {
    static func optional<T>(_ r: inout JSONPullReader, _ read: (inout JSONPullReader) throws -> T) throws -> T? {
        try r.readNull() ? nil : try read(&r)
    }

    static func array<T>(_ r: inout JSONPullReader, _ element: (inout JSONPullReader) throws -> T) throws -> [T] {
        var result: [T] = []
        try r.beginArray()
        while try r.nextElement() {
            result.append(try Field.within("[\(result.count)]") { try element(&r) })
        }
        return result
    }

    static func string(_ r: inout JSONPullReader) throws -> String { try r.readString() }

    static func bool(_ r: inout JSONPullReader) throws -> Bool { try r.readBool() }

    /// Integer cents only: a fraction or an out-of-range number is corruption, not money.
    static func cents(_ r: inout JSONPullReader) throws -> Cents {
        guard case .int(let cents) = try r.readNumber() else {
            throw CaseSnapshotFormatError(problem: "expected integer cents, found number")
        }
        return cents
    }

    static func code<Code: RawRepresentable<String>>(_ r: inout JSONPullReader) throws -> Code {
        guard let code = Code(rawValue: try r.readString()) else {
            throw CaseSnapshotFormatError(problem: "not a known \(Code.self) value")
        }
        return code
    }

    static func date(_ r: inout JSONPullReader) throws -> LocalDate {
        guard let date = try r.withStringBytes({ LocalDate(iso8601UTF8: $0) }) else {
            throw CaseSnapshotFormatError(problem: "not a YYYY-MM-DD date")
        }
        return date
    }

    /// 8-4-4-4-12 hex digits, either case (UUID.uuidString writes upper case).
    static func uuid(_ r: inout JSONPullReader) throws -> UUID {
        let parsed: UUID? = try r.withStringBytes { text in
            guard text.count == 36 else { return nil }
            var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let complete = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
                var index = 0
                var high: UInt8? = nil
                for (position, character) in text.enumerated() {
                    if position == 8 || position == 13 || position == 18 || position == 23 {
                        guard character == UInt8(ascii: "-") else { return false }
                        continue
                    }
                    guard let nibble = hexValue(character) else { return false }
                    if let first = high {
                        out[index] = first << 4 | nibble
                        index += 1
                        high = nil
                    } else {
                        high = nibble
                    }
                }
                return index == 16
            }
            return complete ? UUID(uuid: bytes) : nil
        }
        guard let parsed else { throw CaseSnapshotFormatError(problem: "not a UUID") }
        return parsed
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func fein(_ r: inout JSONPullReader) throws -> FEIN {
        guard let fein = FEIN(try r.readString()) else { throw CaseSnapshotFormatError(problem: "not a FEIN") }
        return fein
    }

    static func quarter(_ r: inout JSONPullReader) throws -> Quarter {
        guard let quarter = Quarter(try r.readString()) else { throw CaseSnapshotFormatError(problem: "not a YYYYQn quarter") }
        return quarter
    }

    static func usState(_ r: inout JSONPullReader) throws -> USState {
        guard let state = USState(try r.readString()) else { throw CaseSnapshotFormatError(problem: "not a USPS state code") }
        return state
    }

    /// Seconds since 2001-01-01 (JSONEncoder's default for `Date`); whole seconds may come as an integer.
    static func referenceDateTime(_ r: inout JSONPullReader) throws -> Date {
        switch try r.readNumber() {
        case .double(let seconds): return Date(timeIntervalSinceReferenceDate: seconds)
        case .int(let seconds): return Date(timeIntervalSinceReferenceDate: Double(seconds))
        default: throw CaseSnapshotFormatError(problem: "expected a number of seconds")
        }
    }
}
