import CaseContract
import JSON
import Foundation
import Testing

@testable import CaseDomain

/// Independent oracle for timestamps: Foundation's ISO 8601 formatter.
private func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
    return formatter.date(from: text)!
}

private func day(_ text: String) -> LocalDate { LocalDate(iso8601: text)! }
private func ssn(_ text: String) -> SSN { SSN(text)! }
private func fein(_ text: String) -> FEIN { FEIN(text)! }
private func state(_ code: String) -> USState { USState(code)! }
private func uuid(_ text: String) -> UUID { UUID(uuidString: text)! }

private let piedmontFreight = EmployerRef(
    fein: fein("561234567"), name: "Piedmont Freight Logistics LLC",
    address: Address(line1: "4100 Westinghouse Blvd", city: "Charlotte", state: state("NC"), postalCode: "28273"))
private let gastoniaAddress = Address(line1: "88 Hollis St Apt 3", city: "Gastonia", state: state("NC"), postalCode: "28052-4419")

@Suite struct EventsDecoderTests {
    func decodeValid(_ name: String) throws -> Event {
        let result = try EventFixtures.decode("valid", name + ".json")
        if case .failure(let error) = result { Issue.record("\(name): \(error.reason)") }
        return try result.get()
    }

    @Test func intakeApplicationWithExistingOrder() throws {
        let expected = Event(
            id: uuid("0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b11"), occurredAt: instant("2026-03-02T14:05:11Z"), source: "ncfast",
            caseId: "NC-MECK-2026-004512",
            payload: .intakeApplication(
                IntakeApplication(
                    program: .tanf, receivedOn: day("2026-03-02"),
                    custodialParty: Party(
                        partyId: "P-100231", firstName: "Tanisha", lastName: "Greene", dateOfBirth: day("1994-07-19"),
                        ssn: ssn("945678901"),
                        address: Address(line1: "1412 Tuckaseegee Rd", city: "Charlotte", state: state("NC"), postalCode: "28208")),
                    noncustodialParty: Party(
                        partyId: "P-100232", firstName: "Marcus", lastName: "Greene", dateOfBirth: day("1991-11-03"),
                        ssn: ssn("912456789"), address: gastoniaAddress, employer: piedmontFreight),
                    children: [
                        Child(childId: "C-55810", firstName: "Jaylen", lastName: "Greene", dateOfBirth: day("2016-05-21"), paternityEstablished: true),
                        Child(childId: "C-55811", firstName: "Amara", lastName: "Greene", dateOfBirth: day("2019-09-02"), paternityEstablished: true),
                    ],
                    existingOrder: OrderTerms(
                        orderId: "ORD-22-CVD-1187", docketNumber: "22-CVD-1187", monthlySupportCents: 48500,
                        monthlyArrearsPaymentCents: 5000, medicalSupportOrdered: true, effectiveOn: day("2022-04-01"),
                        judgmentArrearsCents: 120000))))
        #expect(try decodeValid("intake.application-tanf-existing-order") == expected)
        #expect(expected.type == .intakeApplication && expected.type.topic == .intake)
    }

    @Test func intakeApplicationWithoutNoncustodialSSN() throws {
        let event = try decodeValid("intake.application-ncp-to-locate")
        guard case .intakeApplication(let application) = event.payload else { Issue.record("wrong payload"); return }
        #expect(event.occurredAt == instant("2026-03-05T09:12:47.318-05:00"))
        #expect(application.program == .nonTANF)
        #expect(application.noncustodialParty == Party(partyId: "P-100302", firstName: "Daniel", lastName: "Ortiz"))
        #expect(application.children.map(\.paternityEstablished) == [false])
        #expect(application.existingOrder == nil)
    }

    @Test func unknownFieldsAreIgnoredAndFEINIsNormalised() throws {
        let withExtras = try decodeValid("intake.application-interstate-with-unknown-fields")
        let plain = try decodeValid("intake.application-tanf-existing-order")
        guard case .intakeApplication(let a) = withExtras.payload, case .intakeApplication(let b) = plain.payload else {
            Issue.record("wrong payload")
            return
        }
        #expect(withExtras.id == uuid("f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9"))
        #expect(withExtras.occurredAt == instant("2026-03-10T08:30:00.5+09:30"))
        #expect(a.program == .interstate)
        #expect(a.custodialParty.address?.state == state("PR"))
        // "561234567" here, "56-1234567" in the other sample: the same employer.
        #expect(a.noncustodialParty.employer == b.noncustodialParty.employer)
    }

    @Test func partyUpdates() throws {
        #expect(
            try decodeValid("intake.party-update-address-and-ssn").payload
                == .partyUpdate(
                    PartyUpdate(
                        partyId: "P-100232",
                        address: Address(line1: "17 Lakeview Dr", city: "Mooresville", state: state("NC"), postalCode: "28117"),
                        ssn: ssn("912456789"))))
        #expect(
            try decodeValid("intake.party-update-deceased").payload
                == .partyUpdate(PartyUpdate(partyId: "P-300410", deceasedOn: day("2026-05-14"))))
        #expect(
            try decodeValid("intake.party-update-employer").payload
                == .partyUpdate(PartyUpdate(partyId: "P-100302", employer: piedmontFreight)))
    }

    @Test func partyUpdateWithARelease() throws {
        #expect(
            try decodeValid("intake.party-update-incarcerated").payload
                == .partyUpdate(PartyUpdate(partyId: "P-100232", incarceratedUntil: day("2027-12-31"))))
    }

    @Test func reviewRequests() throws {
        let event = try decodeValid("intake.review-requested")
        #expect(event.caseId == "NC-MECK-2026-004512" && event.type.topic == .intake && event.type.requiresCaseId)
        #expect(
            event.payload
                == .reviewRequested(
                    ReviewRequested(
                        requestedBy: .noncustodialParty, requestedOn: day("2026-09-11"),
                        reason: "Lost his job at Piedmont Freight in August;\nasks for the support to be reviewed.")))
        #expect(
            try decodeValid("intake.review-requested-agency-without-reason").payload
                == .reviewRequested(ReviewRequested(requestedBy: .agency, requestedOn: day("2026-10-01"))))
    }

    @Test func closureResponses() throws {
        #expect(
            try decodeValid("intake.closure-response").payload
                == .closureResponse(ClosureResponse(respondedOn: day("2026-07-17"), informationProvided: true)))
        #expect(
            try decodeValid("intake.closure-response-no-information").payload
                == .closureResponse(ClosureResponse(respondedOn: day("2026-07-21"), informationProvided: false)))
    }

    @Test func contestsAndTheirDecisions() throws {
        #expect(
            try decodeValid("intake.remedy-contested").payload
                == .remedyContested(RemedyContested(remedy: .creditBureauReport, contestedOn: day("2026-07-31"))))
        #expect(
            try decodeValid("intake.remedy-contested-financial-levy").payload
                == .remedyContested(RemedyContested(remedy: .financialLevy, contestedOn: day("2026-08-04"))))
        #expect(
            try decodeValid("intake.contest-decided-upheld").payload
                == .contestDecided(ContestDecided(remedy: .creditBureauReport, decidedOn: day("2026-08-27"), outcome: .upheld)))
        #expect(
            try decodeValid("intake.contest-decided-overturned").payload
                == .contestDecided(ContestDecided(remedy: .licenseSuspension, decidedOn: day("2026-09-01"), outcome: .overturned)))
        // Only the remedies a parent is given notice of: every other task type is refused, naming the field.
        let document = try JSONValue.parse(EventFixtures.bytes("valid", "intake.remedy-contested.json"))
        for type in TaskType.allCases {
            guard case .object(var envelope) = document, case .object(var data)? = envelope["data"] else { return }
            data["remedy"] = .string(type.rawValue)
            envelope["data"] = .object(data)
            let result = EventDecoder.decode(JSONValue.object(envelope).serialized())
            if TaskType.remedies.contains(type) {
                #expect(result.event != nil, "\(type.rawValue)")
            } else {
                #expect(result.error?.field == "data.remedy", "\(type.rawValue)")
            }
        }
    }

    @Test func paymentAgreement() throws {
        let event = try decodeValid("intake.payment-agreement")
        #expect(
            event.payload
                == .paymentAgreement(
                    PaymentAgreementSigned(
                        agreementId: "PA-2026-00412", monthlyCents: 15000, firstDueOn: day("2026-09-01"), signedOn: day("2026-08-10"))))
        // The agreed amount is capped like monthly support.
        var policy = Policy()
        policy.amountCaps.monthlyCents = 10_000
        let error = InputLimits.violation(in: event, policy: policy, reportedAt: event.occurredAt)
        #expect(error?.field == "data.monthlyCents")
        #expect(InputLimits.violation(in: event, policy: Policy(), reportedAt: event.occurredAt) == nil)
    }

    @Test func closureRequest() throws {
        let event = try decodeValid("intake.closure-request")
        #expect(event.payload == .closureRequest(ClosureRequest(reason: "Custodial party requested closure in writing; no assistance received.")))
        #expect(event.caseId == "NC-MECK-2026-004512")
    }

    @Test func newHire() throws {
        let event = try decodeValid("employer.new-hire")
        #expect(
            event
                == Event(
                    id: uuid("11111111-2222-4333-8444-555555555555"), occurredAt: instant("2026-04-06T06:00:00Z"), source: "sdnh",
                    caseId: nil,
                    payload: .newHire(
                        NewHire(
                            employee: Employee(ssn: ssn("912456789"), firstName: "Marcus", lastName: "Greene", address: gastoniaAddress),
                            employer: piedmontFreight, hireDate: day("2026-03-30"), receivedOn: day("2026-04-06")))))
        #expect(event.type.topic == .employerReports && !event.type.requiresCaseId)
    }

    @Test func terminations() throws {
        #expect(
            try decodeValid("employer.termination").payload
                == .termination(
                    Termination(employee: Employee(ssn: ssn("912456789")), employer: EmployerRef(fein: fein("561234567")), terminatedOn: day("2026-07-10"))))
        #expect(
            try decodeValid("employer.termination-with-new-employer").payload
                == .termination(
                    Termination(
                        employee: Employee(ssn: ssn("912456789"), firstName: "Marcus", lastName: "Greene"),
                        employer: EmployerRef(fein: fein("561234567"), name: "Piedmont Freight Logistics LLC"),
                        terminatedOn: day("2026-07-10"),
                        newEmployer: EmployerRef(fein: fein("587654321"), name: "Carolina Tire Service Inc"))))
    }

    @Test func quarterlyWageIgnoresAStrayCaseId() throws {
        let expected = QuarterlyWage(
            employee: Employee(ssn: ssn("923456781")), employer: EmployerRef(fein: fein("587654321"), name: "Carolina Tire Service Inc"),
            quarter: Quarter(year: 2026, quarter: 3)!, wagesCents: 1_184_275)
        #expect(try decodeValid("employer.quarterly-wage").payload == .quarterlyWage(expected))
        let stray = try decodeValid("employer.quarterly-wage-stray-caseid-ignored")
        #expect(stray.caseId == nil)
        #expect(stray.payload == .quarterlyWage(expected))
    }

    @Test func withholdingRemittance() throws {
        #expect(
            try decodeValid("employer.withholding-remittance-three-cases").payload
                == .withholdingRemittance(
                    WithholdingRemittance(
                        employer: EmployerRef(fein: fein("561234567")), payDate: day("2026-05-01"), receivedOn: day("2026-05-08"),
                        payments: [
                            RemittancePayment(caseId: "NC-MECK-2026-004512", amountCents: 26885),
                            RemittancePayment(caseId: "NC-DURH-2026-000877", amountCents: 14000),
                            RemittancePayment(caseId: "NC-WAKE-2025-009911", amountCents: 5000),
                        ])))
    }

    @Test func iwoResponses() throws {
        #expect(
            try decodeValid("employer.iwo-response-accepted").payload
                == .iwoResponse(
                    IWOResponse(caseId: "NC-MECK-2026-004512", employer: EmployerRef(fein: fein("561234567")), status: .accepted, medicalCoverage: .enrolled)))
        #expect(
            try decodeValid("employer.iwo-response-not-employed").payload
                == .iwoResponse(IWOResponse(caseId: "NC-DURH-2026-000877", employer: EmployerRef(fein: fein("587654321")), status: .notEmployed)))
    }

    @Test func orders() throws {
        let established = try decodeValid("court.order-established")
        #expect(established.caseId == "NC-MECK-2026-004512")
        #expect(established.occurredAt == instant("2026-06-02T15:10:00-04:00"))
        #expect(
            established.payload
                == .orderEstablished(
                    OrderTerms(
                        orderId: "ORD-26-CVD-0412", docketNumber: "26-CVD-0412", monthlySupportCents: 52500, monthlyArrearsPaymentCents: 7500,
                        medicalSupportOrdered: true, effectiveOn: day("2026-07-01"), judgmentArrearsCents: 315000)))
        // 40000.0 is the integer 40000, as JSON Schema's `integer` has it.
        #expect(
            try decodeValid("court.order-established-cents-written-as-whole-float").payload
                == .orderEstablished(
                    OrderTerms(orderId: "ORD-26-CVD-0413", docketNumber: "26-CVD-0413", monthlySupportCents: 40000, medicalSupportOrdered: false, effectiveOn: day("2026-07-01"))))
        #expect(
            try decodeValid("court.order-modified").payload
                == .orderModified(OrderModification(orderId: "ORD-26-CVD-0412", monthlySupportCents: 61000, effectiveOn: day("2027-02-01"), medicalSupportOrdered: false)))
        #expect(
            try decodeValid("court.order-terminated").payload
                == .orderTerminated(OrderTermination(orderId: "ORD-26-CVD-0412", terminatedOn: day("2034-05-31"), reason: .emancipation)))
    }

    @Test func paternityAndService() throws {
        #expect(try decodeValid("court.paternity-established").payload == .paternityEstablished(PaternityEstablished(childId: "C-55900", method: .acknowledgment)))
        #expect(try decodeValid("court.paternity-excluded").payload == .paternityExcluded(PaternityExcluded(childId: "C-61000")))
        #expect(try decodeValid("court.service-completed").payload == .serviceCompleted(ServiceOfProcess(partyId: "P-100232", attemptedOn: day("2026-08-05"))))
        #expect(try decodeValid("court.service-failed").payload == .serviceFailed(ServiceOfProcess(partyId: "P-100232", attemptedOn: day("2026-08-04"))))
    }

    @Test func hearingAndContempt() throws {
        #expect(
            try decodeValid("court.hearing-scheduled").payload
                == .hearingScheduled(
                    HearingScheduled(
                        hearingId: "H-2026-77821", hearingType: .contempt, scheduledFor: instant("2026-09-15T09:30:00-04:00"),
                        courtName: "Mecklenburg County District Court, Courtroom 8130")))
        #expect(
            try decodeValid("court.contempt-finding").payload
                == .contemptFinding(ContemptFinding(purgeAmountCents: 250000, complianceDueOn: day("2026-10-15"))))
    }

    @Test func everyTypeHasItsTopic() {
        #expect(EventTopic.intake.eventTypes.map(\.rawValue) == [
            "intake.application", "intake.party-update", "intake.closure-request", "intake.review-requested", "intake.closure-response",
            "intake.remedy-contested", "intake.contest-decided", "intake.payment-agreement",
        ])
        #expect(EventTopic.employerReports.eventTypes.count == 5)
        #expect(EventTopic.courtOutcomes.eventTypes.count == 9)
        #expect(EventTopic.collections.eventTypes.map(\.rawValue) == [
            "collection.received", "collection.reversed", "account.adjusted", "disbursement.returned",
        ])
        #expect(EventTopic.dataMatches.eventTypes.map(\.rawValue) == ["match.unemployment-claim", "match.financial-account"])
        #expect(EventType.allCases.count == 28)
        let prefixes: [EventTopic: [String]] = [
            .intake: ["intake."], .employerReports: ["employer."], .courtOutcomes: ["court."],
            .collections: ["collection.", "account.", "disbursement."], .dataMatches: ["match."],
        ]
        #expect(EventType.allCases.allSatisfy { type in prefixes[type.topic]!.contains { type.rawValue.hasPrefix($0) } })
        // Data matches, like employer reports, name a person: no caseId in the envelope.
        #expect(EventType.allCases.filter { !$0.requiresCaseId }.map(\.topic).allSatisfy { $0 == .employerReports || $0 == .dataMatches })
    }
}

/// Errors: kinds, field paths, and what the reasons may not say.
@Suite struct EventsDecodingErrorTests {
    static let remittance: JSONValue = [
        "id": "55555555-6666-4777-8888-999999999999", "type": "employer.withholding-remittance",
        "occurredAt": "2026-05-08T14:20:00Z", "source": "sdu-lockbox",
        "data": [
            "employer": ["fein": "56-1234567"], "payDate": "2026-05-01", "receivedOn": "2026-05-08",
            "payments": [
                ["caseId": "A", "amountCents": 100], ["caseId": "B", "amountCents": 200], ["caseId": "C", "amountCents": 300],
            ],
        ],
    ]

    func decode(_ value: JSONValue) -> Result<Event, EventDecodingError> { EventDecoder.decode(value.serialized()) }

    func replacing(_ value: JSONValue, at path: [String], with replacement: JSONValue?) -> JSONValue {
        guard let head = path.first else { return replacement ?? .null }
        switch value {
        case .object(var fields):
            if path.count == 1, replacement == nil {
                fields[head] = nil
            } else {
                fields[head] = replacing(fields[head] ?? .null, at: Array(path.dropFirst()), with: replacement)
            }
            return .object(fields)
        case .array(var elements):
            let n = Int(head)!
            elements[n] = replacing(elements[n], at: Array(path.dropFirst()), with: replacement)
            return .array(elements)
        default:
            return value
        }
    }

    @Test func centsErrorNamesTheArrayElement() {
        for bad: JSONValue in [12.5, "100", -1, 0, .int(.max), .null, true] {
            let error = decode(replacing(Self.remittance, at: ["data", "payments", "2", "amountCents"], with: bad)).error
            #expect(error?.kind == .schemaViolation)
            #expect(error?.field == "data.payments[2].amountCents")
            #expect(error?.reason.hasPrefix("data.payments[2].amountCents: must be an integer number of cents") == true, "\(error?.reason ?? "-")")
        }
    }

    @Test func typeMismatchSaysWhatWasFoundNotTheValue() {
        let error = decode(replacing(Self.remittance, at: ["data", "payDate"], with: 20_260_501)).error
        #expect(error?.reason == "data.payDate: must be a string, not a number")
        let missing = decode(replacing(Self.remittance, at: ["data", "employer", "fein"], with: nil)).error
        #expect(missing?.reason == "data.employer.fein: is required")
    }

    @Test func unknownTypeWinsOverOtherDefects() {
        var bad = replacing(Self.remittance, at: ["type"], with: "employer.bonus-report")
        bad = replacing(bad, at: ["id"], with: nil)
        let error = decode(bad).error
        #expect(error == EventDecodingError(kind: .unknownType, field: "type", reason: "type: unknown event type \"employer.bonus-report\""))
        // A type that does not look like a type name is not echoed.
        let odd = decode(replacing(Self.remittance, at: ["type"], with: "DROP TABLE cases; --")).error
        #expect(odd?.kind == .unknownType)
        #expect(odd?.reason == "type: unknown event type")
    }

    @Test func malformedInputs() {
        let cases: [[UInt8]] = [[], Array("{".utf8), Array("[]".utf8), Array("42".utf8), [0xFF, 0xFE], Array("{\"a\":1}{}".utf8)]
        for bytes in cases {
            let error = EventDecoder.decode(bytes).error
            #expect(error?.kind == .malformedJSON)
            #expect(error?.field == nil)
        }
        #expect(DecodingFailureKind.allCases.map(\.rawValue) == ["malformed-json", "schema-violation", "unknown-type"])
    }

    @Test func caseIdIsRequiredOnIntakeAndCourtEvents() throws {
        for type in EventType.allCases where type.requiresCaseId {
            let fixture = try #require(EventFixtures.names(in: "valid").first { $0.hasPrefix(type.rawValue) })
            let document = try JSONValue.parse(EventFixtures.bytes("valid", fixture))
            let error = decode(replacing(document, at: ["caseId"], with: nil)).error
            #expect(error?.field == "caseId", "\(type)")
        }
    }

    /// Every identifier-bearing field, given a wrong value, must be rejected without echoing it.
    @Test func identifierValuesNeverAppearInReasons() throws {
        let application = try JSONValue.parse(EventFixtures.bytes("valid", "intake.application-tanf-existing-order.json"))
        let badSSNs = ["91245678", "9124567890", "912-45-6789", "912 45 6789", "91245678X", "９１２４５６７８９", "912456789\n"]
        let targets: [[String]] = [
            ["data", "noncustodialParty", "ssn"], ["data", "custodialParty", "ssn"],
            ["data", "noncustodialParty", "employer", "fein"], ["data", "custodialParty", "dateOfBirth"],
            ["data", "children", "0", "dateOfBirth"],
        ]
        for target in targets {
            for bad in badSSNs {
                let error = try #require(decode(replacing(application, at: target, with: .string(bad))).error)
                #expect(error.kind == .schemaViolation)
                #expect(error.field == target.joined(separator: ".").replacingOccurrences(of: ".0.", with: "[0]."))
                #expect(!error.reason.contains(bad) && !error.description.contains(bad), "\(error.reason) leaks the value")
                let digits = bad.filter(\.isASCII).filter(\.isNumber)
                #expect(digits.count < 4 || !error.reason.contains(digits.suffix(4)), "\(error.reason) leaks digits")
            }
        }
        // Names: wrong type or empty; the reason names the rule only.
        let named = decode(replacing(application, at: ["data", "noncustodialParty", "lastName"], with: ["Greene"])).error
        #expect(named?.reason == "data.noncustodialParty.lastName: must be a string, not an array")
    }

    /// Across the whole corpus: no reason contains an identifier value present in its document.
    @Test func corpusReasonsCarryNoIdentifiers() throws {
        let identifierKeys: Set<String> = ["ssn", "fein", "firstName", "lastName", "dateOfBirth"]
        func identifiers(_ value: JSONValue) -> [String] {
            switch value {
            case .object(let fields):
                return fields.flatMap { key, value in
                    (identifierKeys.contains(key) ? (value.stringValue.map { [$0] } ?? []) : []) + identifiers(value)
                }
            case .array(let elements): return elements.flatMap(identifiers)
            default: return []
            }
        }
        for name in EventFixtures.names(in: "invalid") {
            let bytes = try EventFixtures.bytes("invalid", name)
            let error = try #require(EventDecoder.decode(bytes).error)
            for value in identifiers(try JSONValue.parse(bytes)) where value.count >= 4 {
                #expect(!error.reason.contains(value), "\(name): reason mentions an identifier value")
            }
        }
    }

    @Test func nullIsNotAbsent() {
        let withNullCoverage: JSONValue = [
            "id": "66666666-7777-4888-8999-aaaaaaaaaaaa", "type": "employer.iwo-response", "occurredAt": "2026-04-10T17:30:00Z",
            "source": "employer-portal",
            "data": ["caseId": "NC-1", "employer": ["fein": "561234567"], "status": "ACCEPTED", "medicalCoverage": nil],
        ]
        #expect(decode(withNullCoverage).error?.reason == "data.medicalCoverage: must be a string, not null")
    }
}

@Suite struct EventsPrimitiveTests {
    @Test func fein() {
        #expect(FEIN("56-1234567") == FEIN("561234567"))
        #expect(FEIN("561234567")?.description == "56-1234567")
        for bad in ["56123456", "5612345678", "561-234567", "56-12345a7", "", "56-123456"] { #expect(FEIN(bad) == nil, "\(bad)") }
    }

    @Test func uuidTextMatchesFoundation() {
        for _ in 0..<200 {
            let uuid = UUID()
            #expect(UUID(canonicalText: uuid.uuidString) == uuid)
            #expect(UUID(canonicalText: uuid.uuidString.lowercased()) == uuid)
            #expect(uuid.lowercasedText == uuid.uuidString.lowercased())
        }
        #expect(UUID(uuid: (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255)).lowercasedText
            == "00010203-0405-0607-0809-0a0b0c0d0eff")
        for bad in ["", "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b1", "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b1g", "0b9f2c3e6a41-4b8e-9d0f-2f1e7c5a9b11a",
                    "{0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b1}"] {
            #expect(UUID(canonicalText: bad) == nil, "\(bad)")
        }
    }

    @Test func quarter() {
        #expect(Quarter("2026Q3") == Quarter(year: 2026, quarter: 3))
        #expect(Quarter("2026Q3")?.firstDay == LocalDate(year: 2026, month: 7, day: 1))
        #expect(Quarter("2026Q3")?.lastDay == LocalDate(year: 2026, month: 9, day: 30))
        #expect(Quarter("2024Q1")?.lastDay == LocalDate(year: 2024, month: 3, day: 31))
        #expect(Quarter("2026Q4")?.description == "2026Q4")
        for bad in ["2026Q0", "2026Q5", "2026q3", "26Q3", "2026-Q3", "2026Q34"] { #expect(Quarter(bad) == nil, "\(bad)") }
        #expect(Quarter("2025Q4")! < Quarter("2026Q1")!)
    }

    @Test func usState() {
        #expect(USState("NC")?.code == "NC")
        #expect(USState("nc") == nil && USState("XX") == nil && USState("N") == nil)
        #expect(Set(USState.allCodes).count == USState.allCodes.count)
    }

    @Test(arguments: [
        "2026-03-02T14:05:11Z", "2026-03-02T14:05:11+00:00", "2026-03-02T09:05:11-05:00", "2026-03-10T08:30:00.5+09:30",
        "2024-02-29T23:59:59.999Z", "1970-01-01T00:00:00Z", "2026-03-05T09:12:47.318-05:00",
    ])
    func timestampsMatchFoundation(text: String) throws {
        let parsed = try #require(Timestamp.parse(text))
        #expect(abs(parsed.timeIntervalSince(instant(text))) < 0.000_001)
    }

    @Test(arguments: [
        "2026-03-02T14:05:11", "2026-03-02 14:05:11Z", "2026-02-30T00:00:00Z", "2026-03-02T24:00:00Z", "2026-03-02T14:60:00Z",
        "2026-12-31T23:59:60Z", "2026-03-02T14:05:11.Z", "2026-03-02T14:05:11+0500", "2026-03-02T14:05:11+24:00", "2026-03-02t14:05:11z",
        "2026-03-02T14:05Z", "0000-01-01T00:00:00Z", "2026-03-02T14:05:11Z ",
    ])
    func timestampsRejected(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
