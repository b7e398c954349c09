import CaseDomain
import JSON
import Foundation

/// Turns the bytes of one Kafka message into a typed `Event`, or says why it
/// cannot: `malformed-json` (not UTF-8 JSON, or not an object), `unknown-type`,
/// or `schema-violation` with the path of the first offending field. What it
/// accepts is exactly what schemas/events/*.json describe; the fixture corpus
/// and SchemaAgreementTests hold the two together.
///
/// Fields the contract does not name are ignored (the contract lets producers
/// add fields). Optional fields may be absent but not `null`.
public enum EventDecoder {
    public static func decode(_ bytes: [UInt8]) -> Result<Event, EventDecodingError> {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            return .failure(EventDecodingError(kind: .malformedJSON, field: nil, reason: error.description))
        }
        guard case .object(let fields) = document else {
            return .failure(
                EventDecodingError(
                    kind: .malformedJSON, field: nil, reason: "the message is JSON but not an object (\(document.typeName))"))
        }
        do throws(EventDecodingError) {
            return .success(try decodeEnvelope(FieldReader(fields: fields, path: .root)))
        } catch {
            return .failure(error)
        }
    }

    public static func decode(_ bytes: some Sequence<UInt8>) -> Result<Event, EventDecodingError> {
        decode(Array(bytes))
    }

    static func decodeEnvelope(_ envelope: FieldReader) throws(EventDecodingError) -> Event {
        let typeName = try envelope.rawString("type")
        guard let type = EventType(rawValue: typeName) else {
            throw EventDecodingError(kind: .unknownType, field: "type", reason: "type: unknown event type\(quotedIfPlain(typeName))")
        }
        let id = try envelope.uuid("id")
        let occurredAt = try envelope.timestamp("occurredAt")
        let source = try envelope.string("source")
        // Employer reports name a person, not a case: a caseId there is ignored, whatever it holds.
        let caseId = type.requiresCaseId ? try envelope.string("caseId") : nil
        let data = try envelope.object("data")
        return Event(id: id, occurredAt: occurredAt, source: source, caseId: caseId, payload: try decodePayload(type, data))
    }

    /// An event type name is not personal data, but it is still untrusted input:
    /// echo it only when it looks like a type name.
    private static func quotedIfPlain(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-_".utf8)
        let plain = !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy(allowed.contains)
        return plain ? " \"\(name)\"" : ""
    }

    static func decodePayload(_ type: EventType, _ data: FieldReader) throws(EventDecodingError) -> EventPayload {
        switch type {
        case .intakeApplication: .intakeApplication(try intakeApplication(data))
        case .intakePartyUpdate: .partyUpdate(try partyUpdate(data))
        case .intakeClosureRequest: .closureRequest(ClosureRequest(reason: try data.string("reason", .freeText)))
        case .intakeReviewRequested:
            .reviewRequested(
                ReviewRequested(
                    requestedBy: try data.oneOf("requestedBy", Requester.self), requestedOn: try data.date("requestedOn"),
                    reason: try data.optional("reason") { (key) throws(EventDecodingError) in try data.string(key, .freeText) }))
        case .intakeClosureResponse:
            .closureResponse(
                ClosureResponse(respondedOn: try data.date("respondedOn"), informationProvided: try data.bool("informationProvided")))
        case .intakeRemedyContested:
            .remedyContested(RemedyContested(remedy: try remedy(data), contestedOn: try data.date("contestedOn")))
        case .intakeContestDecided:
            .contestDecided(
                ContestDecided(
                    remedy: try remedy(data), decidedOn: try data.date("decidedOn"), outcome: try data.oneOf("outcome", ContestOutcome.self)))
        case .intakePaymentAgreement:
            .paymentAgreement(
                PaymentAgreementSigned(
                    agreementId: try data.string("agreementId"), monthlyCents: try data.receivedCents("monthlyCents"),
                    firstDueOn: try data.date("firstDueOn"), signedOn: try data.date("signedOn")))
        case .employerNewHire: .newHire(try newHire(data))
        case .employerTermination: .termination(try termination(data))
        case .employerQuarterlyWage: .quarterlyWage(try quarterlyWage(data))
        case .employerWithholdingRemittance: .withholdingRemittance(try withholdingRemittance(data))
        case .employerIWOResponse: .iwoResponse(try iwoResponse(data))
        case .courtOrderEstablished: .orderEstablished(try orderTerms(data))
        case .courtOrderModified: .orderModified(try orderModification(data))
        case .courtOrderTerminated:
            .orderTerminated(
                OrderTermination(
                    orderId: try data.string("orderId"), terminatedOn: try data.date("terminatedOn"),
                    reason: try data.oneOf("reason", OrderTerminationReason.self)))
        case .courtPaternityEstablished:
            .paternityEstablished(
                PaternityEstablished(childId: try data.string("childId"), method: try data.oneOf("method", PaternityMethod.self)))
        case .courtPaternityExcluded: .paternityExcluded(PaternityExcluded(childId: try data.string("childId")))
        case .courtHearingScheduled:
            .hearingScheduled(
                HearingScheduled(
                    hearingId: try data.string("hearingId"), hearingType: try data.oneOf("hearingType", HearingType.self),
                    scheduledFor: try data.timestamp("scheduledFor"), courtName: try data.text("courtName")))
        case .courtServiceCompleted: .serviceCompleted(try serviceOfProcess(data))
        case .courtServiceFailed: .serviceFailed(try serviceOfProcess(data))
        case .courtContemptFinding:
            .contemptFinding(
                ContemptFinding(
                    purgeAmountCents: try data.receivedCents("purgeAmountCents"), complianceDueOn: try data.date("complianceDueOn")))
        case .collectionReceived: .collectionReceived(try collectionReceived(data))
        case .collectionReversed:
            .collectionReversed(
                CollectionReversed(
                    collectionId: try data.string("collectionId"), reversedOn: try data.date("reversedOn"),
                    reason: try data.oneOf("reason", ReversalReason.self),
                    amountCents: try data.optional("amountCents", data.receivedCents)))
        case .accountAdjusted:
            .accountAdjusted(
                AccountAdjusted(
                    adjustmentId: try data.string("adjustmentId"), amountCents: try data.signedCents("amountCents"),
                    effectiveOn: try data.date("effectiveOn"), reason: try data.oneOf("reason", AdjustmentReason.self),
                    orderId: try data.optional("orderId") { (key) throws(EventDecodingError) in try data.string(key) }))
        case .disbursementReturned:
            .disbursementReturned(
                DisbursementReturned(
                    disbursementTaskId: try data.uuid("disbursementTaskId"), returnedOn: try data.date("returnedOn"),
                    reason: try data.oneOf("reason", DisbursementReturnReason.self)))
        case .matchUnemploymentClaim:
            .unemploymentClaim(
                UnemploymentClaim(
                    claimant: try employee(data.object("claimant"), requireNames: true),
                    agency: try fullEmployer(data.object("agency")), claimFiledOn: try data.date("claimFiledOn"),
                    weeklyBenefitCents: try data.receivedCents("weeklyBenefitCents"), receivedOn: try data.date("receivedOn")))
        case .matchFinancialAccount:
            .financialAccountMatch(
                FinancialAccountMatch(
                    accountHolder: try employee(data.object("accountHolder"), requireNames: true),
                    institution: try fullEmployer(data.object("institution")),
                    accountKind: try data.oneOf("accountKind", AccountKind.self), balanceCents: try data.cents("balanceCents"),
                    matchedOn: try data.date("matchedOn")))
        }
    }

    /// A remedy a parent may contest: one of the referral task types.
    static func remedy(_ r: FieldReader) throws(EventDecodingError) -> TaskType {
        let name = try r.rawString("remedy")
        guard let remedy = TaskType(rawValue: name), TaskType.remedies.contains(remedy) else {
            throw r.violation("remedy", "must be one of " + TaskType.remedies.map(\.rawValue).joined(separator: ", "))
        }
        return remedy
    }

    static func collectionReceived(_ r: FieldReader) throws(EventDecodingError) -> CollectionReceived {
        let collectionId = try r.string("collectionId")
        let sourceName = try r.rawString("source")
        guard let source = CollectionSource(rawValue: sourceName), CollectionSource.received.contains(source) else {
            throw r.violation("source", "must be one of " + CollectionSource.received.map(\.rawValue).joined(separator: ", "))
        }
        return CollectionReceived(
            collectionId: collectionId, source: source, amountCents: try r.receivedCents("amountCents"),
            receivedOn: try r.date("receivedOn"), jointReturn: try r.optional("jointReturn", r.bool) ?? false,
            taxYear: try r.optional("taxYear", r.year))
    }

    // MARK: Shared shapes (common.json $defs)

    static func address(_ r: FieldReader) throws(EventDecodingError) -> Address {
        Address(
            line1: try r.text("line1"), city: try r.text("city"), state: try r.state("state"),
            postalCode: try r.postalCode("postalCode"))
    }

    /// `fein` always; `name` and `address` required where the contract lists them, validated wherever present.
    static func employer(_ r: FieldReader, requireName: Bool, requireAddress: Bool) throws(EventDecodingError) -> EmployerRef {
        let fein = try r.fein("fein")
        let name = requireName ? try r.text("name") : try r.optional("name", r.text)
        let location = requireAddress ? try address(r.object("address")) : try r.optionalObject("address", address)
        return EmployerRef(fein: fein, name: name, address: location)
    }

    /// A party's employer is named in full (`employer` in common.json).
    static func fullEmployer(_ r: FieldReader) throws(EventDecodingError) -> EmployerRef {
        try employer(r, requireName: true, requireAddress: true)
    }

    static func party(_ r: FieldReader) throws(EventDecodingError) -> Party {
        Party(
            partyId: try r.string("partyId"),
            firstName: try r.text("firstName"),
            lastName: try r.text("lastName"),
            dateOfBirth: try r.optional("dateOfBirth", r.date),
            ssn: try r.optional("ssn", r.ssn),
            address: try r.optionalObject("address", address),
            employer: try r.optionalObject("employer", fullEmployer))
    }

    static func child(_ r: FieldReader) throws(EventDecodingError) -> Child {
        Child(
            childId: try r.string("childId"), firstName: try r.text("firstName"), lastName: try r.text("lastName"),
            dateOfBirth: try r.date("dateOfBirth"), paternityEstablished: try r.bool("paternityEstablished"))
    }

    static func employee(_ r: FieldReader, requireNames: Bool) throws(EventDecodingError) -> Employee {
        let ssn = try r.ssn("ssn")
        let firstName = requireNames ? try r.text("firstName") : try r.optional("firstName", r.text)
        let lastName = requireNames ? try r.text("lastName") : try r.optional("lastName", r.text)
        return Employee(
            ssn: ssn, firstName: firstName, lastName: lastName,
            address: try r.optionalObject("address", address))
    }

    static func orderTerms(_ r: FieldReader) throws(EventDecodingError) -> OrderTerms {
        OrderTerms(
            orderId: try r.string("orderId"),
            docketNumber: try r.string("docketNumber"),
            monthlySupportCents: try r.cents("monthlySupportCents"),
            monthlyArrearsPaymentCents: try r.optional("monthlyArrearsPaymentCents", r.cents),
            medicalSupportOrdered: try r.bool("medicalSupportOrdered"),
            effectiveOn: try r.date("effectiveOn"),
            judgmentArrearsCents: try r.optional("judgmentArrearsCents", r.cents))
    }

    // MARK: Per type

    static func intakeApplication(_ r: FieldReader) throws(EventDecodingError) -> IntakeApplication {
        var children: [Child] = []
        let program = try r.oneOf("program", Program.self)
        let receivedOn = try r.date("receivedOn")
        let custodialParty = try party(r.object("custodialParty"))
        let noncustodialParty = try party(r.object("noncustodialParty"))
        for element in try r.nonEmptyObjects("children", maximum: InputLimits.maximumChildren) {
            children.append(try child(element))
        }
        return IntakeApplication(
            program: program, receivedOn: receivedOn, custodialParty: custodialParty, noncustodialParty: noncustodialParty,
            children: children,
            existingOrder: try r.optionalObject("existingOrder", orderTerms))
    }

    static let partyUpdateFields = ["address", "ssn", "employer", "deceasedOn", "incarceratedUntil"]

    static func partyUpdate(_ r: FieldReader) throws(EventDecodingError) -> PartyUpdate {
        let partyId = try r.string("partyId")
        // An update that changes nothing is a producer bug worth a dead letter, not a silent no-op.
        guard partyUpdateFields.contains(where: r.has) else {
            throw r.violation(nil, "must contain at least one of " + partyUpdateFields.joined(separator: ", "))
        }
        return PartyUpdate(
            partyId: partyId,
            address: try r.optionalObject("address", address),
            ssn: try r.optional("ssn", r.ssn),
            employer: try r.optionalObject("employer", fullEmployer),
            deceasedOn: try r.optional("deceasedOn", r.date),
            incarceratedUntil: try r.optional("incarceratedUntil", r.date))
    }

    static func newHire(_ r: FieldReader) throws(EventDecodingError) -> NewHire {
        NewHire(
            employee: try employee(r.object("employee"), requireNames: true),
            employer: try fullEmployer(r.object("employer")),
            hireDate: try r.date("hireDate"),
            receivedOn: try r.date("receivedOn"))
    }

    static func termination(_ r: FieldReader) throws(EventDecodingError) -> Termination {
        Termination(
            employee: try employee(r.object("employee"), requireNames: false),
            employer: try employer(r.object("employer"), requireName: false, requireAddress: false),
            terminatedOn: try r.date("terminatedOn"),
            newEmployer: try r.optionalObject("newEmployer") { (e) throws(EventDecodingError) in
                try employer(e, requireName: false, requireAddress: false)
            })
    }

    static func quarterlyWage(_ r: FieldReader) throws(EventDecodingError) -> QuarterlyWage {
        QuarterlyWage(
            employee: try employee(r.object("employee"), requireNames: false),
            employer: try employer(r.object("employer"), requireName: true, requireAddress: false),
            quarter: try r.quarter("quarter"),
            wagesCents: try r.cents("wagesCents"))
    }

    static func withholdingRemittance(_ r: FieldReader) throws(EventDecodingError) -> WithholdingRemittance {
        let employer = try employer(r.object("employer"), requireName: false, requireAddress: false)
        let payDate = try r.date("payDate")
        let receivedOn = try r.date("receivedOn")
        var payments: [RemittancePayment] = []
        for element in try r.nonEmptyObjects("payments", maximum: InputLimits.maximumPayments) {
            payments.append(RemittancePayment(caseId: try element.string("caseId"), amountCents: try element.receivedCents("amountCents")))
        }
        return WithholdingRemittance(employer: employer, payDate: payDate, receivedOn: receivedOn, payments: payments)
    }

    static func iwoResponse(_ r: FieldReader) throws(EventDecodingError) -> IWOResponse {
        IWOResponse(
            caseId: try r.string("caseId"),
            employer: try employer(r.object("employer"), requireName: false, requireAddress: false),
            status: try r.oneOf("status", IWOStatus.self),
            medicalCoverage: try r.optional("medicalCoverage") { (key) throws(EventDecodingError) in try r.oneOf(key, MedicalCoverage.self) })
    }

    static func orderModification(_ r: FieldReader) throws(EventDecodingError) -> OrderModification {
        OrderModification(
            orderId: try r.string("orderId"),
            monthlySupportCents: try r.cents("monthlySupportCents"),
            effectiveOn: try r.date("effectiveOn"),
            monthlyArrearsPaymentCents: try r.optional("monthlyArrearsPaymentCents", r.cents),
            medicalSupportOrdered: try r.bool("medicalSupportOrdered"))
    }

    static func serviceOfProcess(_ r: FieldReader) throws(EventDecodingError) -> ServiceOfProcess {
        ServiceOfProcess(partyId: try r.string("partyId"), attemptedOn: try r.date("attemptedOn"))
    }
}
