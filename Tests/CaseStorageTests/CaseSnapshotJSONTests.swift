import CaseContract
import JSON
import CaseDomain
import CaseScenarios
import CaseStorage
import Foundation
import Testing

/// The hand-written snapshot codec against itself and against the Codable
/// path it replaced (rows written by JSONEncoder are in databases already).
/// Pure: no database.
@Suite("Case snapshot JSON")
struct CaseSnapshotJSONTests {
    @Test("generated cases: the corpus reaches every part of the state")
    func corpusCoversTheState() {
        let states = SnapshotCorpus.generated
        #expect(states.count > 1_000)
        #expect(states.contains { !$0.hearings.isEmpty })
        #expect(states.contains { !$0.referrals.isEmpty })
        #expect(states.contains { !$0.endedEmployments.isEmpty })
        #expect(states.contains { !$0.serviceOfProcess.isEmpty })
        #expect(states.contains { !$0.ledger.payments.isEmpty })
        #expect(states.contains { $0.ledger.obligations.contains { $0.terms.count > 1 } })
        #expect(states.contains { $0.orders.contains { $0.terminatedOn != nil } })
        #expect(states.contains { $0.employments.contains { $0.lastReportedQuarter != nil } })
        #expect(states.contains { $0.children.contains { $0.paternity.isEstablished } })
        #expect(states.contains { $0.contempt != nil })
        #expect(states.contains { $0.pendingClosure != nil })
        #expect(states.contains { !$0.collections.isEmpty })
        #expect(states.contains { $0.ledger.payments.contains { $0.source != nil } })
        #expect(states.contains { !$0.ledger.accountCharges.isEmpty })
        // Closing takes a second request after the notice period, which the
        // generator does not send: the hand-made states carry `closedOn`.
    }

    @Test("new writer -> new reader gives the same state")
    func roundTrip() throws {
        for state in SnapshotCorpus.all {
            let decoded = try CaseSnapshotReader.decode(try CaseSnapshotWriter.encode(state))
            #expect(decoded == withoutSSNs(state), "\(state.caseId)")
        }
    }

    @Test("new writer -> JSONDecoder gives the same state")
    func writerAgreesWithCodable() throws {
        let decoder = JSONDecoder()
        for state in SnapshotCorpus.all {
            let decoded = try decoder.decode(CaseState.self, from: Data(try CaseSnapshotWriter.encode(state)))
            #expect(decoded == withoutSSNs(state), "\(state.caseId)")
        }
    }

    @Test("JSONEncoder (rows already stored) -> new reader gives the same state")
    func readerReadsCodableOutput() throws {
        let encoder = JSONEncoder()
        for state in SnapshotCorpus.all {
            let stored = withoutSSNs(state)
            #expect(try CaseSnapshotReader.decode(Array(try encoder.encode(stored))) == stored, "\(state.caseId)")
        }
    }

    @Test("the same keys as the Codable path, so SQL over cases.state reads the same")
    func sameKeys() throws {
        let encoder = JSONEncoder()
        for state in SnapshotCorpus.handMade + SnapshotCorpus.generated.suffix(200) {
            let ours = try JSONValue.parse(try CaseSnapshotWriter.encode(state))
            let theirs = try JSONValue.parse(Array(try encoder.encode(withoutSSNs(state))))
            #expect(keyPaths(ours) == keyPaths(theirs), "\(state.caseId)")
        }
    }

    @Test("no SSN in the snapshot, whatever the state holds")
    func noSSNs() throws {
        let state = SnapshotCorpus.everythingPresent
        #expect(state.custodialParty.ssn != nil && state.noncustodialParty.ssn != nil)
        let bytes = try CaseSnapshotWriter.encode(state)
        let text = String(decoding: bytes, as: UTF8.self)
        for ssn in [state.custodialParty.ssn!, state.noncustodialParty.ssn!] {
            #expect(!text.contains(ssn.digits))
        }
        #expect(!text.contains("\"ssn\""))
        for generated in SnapshotCorpus.generated.suffix(300) {
            let text = String(decoding: try CaseSnapshotWriter.encode(generated), as: UTF8.self)
            for ssn in [generated.custodialParty.ssn, generated.noncustodialParty.ssn].compactMap({ $0 }) {
                #expect(!text.contains(ssn.digits))
            }
        }
        let decoded = try CaseSnapshotReader.decode(bytes)
        #expect(decoded.custodialParty.ssn == nil && decoded.noncustodialParty.ssn == nil)
    }

    @Test("appends to a buffer already in use and leaves what it held")
    func appends() throws {
        let state = SnapshotCorpus.everythingPresent
        var buffer = Array("[prefix]".utf8)
        try CaseSnapshotWriter.encode(state, appendingTo: &buffer)
        #expect(Array(buffer.prefix(8)) == Array("[prefix]".utf8))
        #expect(Array(buffer.dropFirst(8)) == (try CaseSnapshotWriter.encode(state)))
    }

    @Test("strings: quotes, backslashes, every control character and non-ASCII survive both readers")
    func strings() throws {
        var state = SnapshotCorpus.everythingPresent
        let controls = String(decoding: (0x00..<0x20).map { UInt8($0) } + [0x7F], as: UTF8.self)
        state.custodialParty.firstName = "quote \" backslash \\ slash / \(controls) end"
        state.custodialParty.lastName = "Ñúñez 👩🏽‍⚖️ \u{2028}\u{2029} 中文 e\u{301}"
        state.children[0].firstName = "\\\"\\u0000 not an escape"
        state.children[0].lastName = ""
        let bytes = try CaseSnapshotWriter.encode(state)
        // Control characters are escaped, never raw.
        #expect(!bytes.contains { $0 < 0x20 })
        #expect(try CaseSnapshotReader.decode(bytes) == withoutSSNs(state))
        #expect(try JSONDecoder().decode(CaseState.self, from: Data(bytes)) == withoutSSNs(state))
    }

    @Test("explicit nulls read as absent optionals; unknown keys are ignored, as JSONDecoder does")
    func nullsAndUnknownKeys() throws {
        let state = SnapshotCorpus.nothingOptional
        var document = try JSONValue.parse(try CaseSnapshotWriter.encode(state))
        for key in ["locateRequestedOn", "establishmentPreparationRequestedOn", "contempt", "pendingClosure", "closedOn",
                    "referralsEvaluatedThrough", "addedInSomeLaterVersion"] {
            document = document.setting([.key(key)], to: .null)
        }
        document = document.setting([.key("custodialParty"), .key("address")], to: .null)
        document = document.setting([.key("custodialParty"), .key("ssn")], to: .null)
        #expect(try CaseSnapshotReader.decode(document.serialized()) == state)
    }

    // MARK: Corrupt input

    struct Corruption: CustomTestStringConvertible, Sendable {
        let path: [JSONValue.Step]
        let value: JSONValue?
        let expectedPath: String
        let problem: String
        var testDescription: String { expectedPath }
    }

    static let corruptions: [Corruption] = [
        Corruption(path: [.key("caseId")], value: nil, expectedPath: "caseId", problem: "missing"),
        Corruption(path: [.key("noncustodialParty")], value: .null, expectedPath: "noncustodialParty",
                   problem: "expected an object, found null"),
        Corruption(path: [.key("program")], value: "WELFARE-SECRET-4417", expectedPath: "program", problem: "not a known"),
        Corruption(path: [.key("openedOn")], value: "2026-02-30", expectedPath: "openedOn", problem: "YYYY-MM-DD"),
        Corruption(path: [.key("children"), .index(0), .key("paternity"), .key("status")], value: "MAYBE",
                   expectedPath: "children[0].paternity.status", problem: "paternity status"),
        Corruption(path: [.key("ledger"), .key("payments"), .index(0), .key("amountCents")], value: .double(12.5),
                   expectedPath: "ledger.payments[0].amountCents", problem: "expected integer cents, found number"),
        Corruption(path: [.key("ledger"), .key("payments"), .index(0), .key("amountCents")], value: .double(1e19),
                   expectedPath: "ledger.payments[0].amountCents", problem: "integer cents"),
        Corruption(path: [.key("ledger"), .key("obligations"), .index(0), .key("terms")], value: [],
                   expectedPath: "ledger.obligations[0].terms", problem: "empty"),
        Corruption(path: [.key("ledger"), .key("obligations"), .index(0), .key("terms"), .index(1), .key("effectiveOn")],
                   value: "2020-01-01", expectedPath: "ledger.obligations[0].terms", problem: "strictly increasing"),
        Corruption(path: [.key("employments"), .index(0), .key("fein")], value: "12-34", expectedPath: "employments[0].fein",
                   problem: "FEIN"),
        Corruption(path: [.key("employments"), .index(0), .key("lastReportedQuarter")], value: "2026Q5",
                   expectedPath: "employments[0].lastReportedQuarter", problem: "quarter"),
        Corruption(path: [.key("employments"), .index(0), .key("address"), .key("state")], value: "XX",
                   expectedPath: "employments[0].address.state", problem: "state code"),
        Corruption(path: [.key("appliedEventIds"), .index(1)], value: "not-a-uuid", expectedPath: "appliedEventIds[1]",
                   problem: "UUID"),
        Corruption(path: [.key("hearings"), .index(0), .key("scheduledFor")], value: "tomorrow",
                   expectedPath: "hearings[0].scheduledFor", problem: "expected a number, found string"),
        Corruption(path: [.key("custodialParty"), .key("addressUsable")], value: "yes",
                   expectedPath: "custodialParty.addressUsable", problem: "expected a boolean"),
        Corruption(path: [.key("referrals")], value: [:], expectedPath: "referrals", problem: "expected an array, found object"),
        Corruption(path: [.key("ledger")], value: [], expectedPath: "ledger", problem: "expected an object, found array"),
    ]

    @Test("corrupt fields fail with the field's path and without its value", arguments: corruptions)
    func corruptField(_ corruption: Corruption) throws {
        let document = try JSONValue.parse(try CaseSnapshotWriter.encode(SnapshotCorpus.everythingPresent))
        let corrupt = document.setting(corruption.path, to: corruption.value)
        #expect(corrupt != document)
        let error = try #require(throws: CaseSnapshotFormatError.self) {
            try CaseSnapshotReader.decode(corrupt.serialized())
        }
        #expect(error.pathText == corruption.expectedPath)
        #expect(error.problem.contains(corruption.problem), "\(error)")
        if case .string(let text) = corruption.value {
            #expect(!error.description.contains(text))
        }
    }

    @Test("bytes that are not one JSON document fail as such")
    func notJSON() throws {
        let bytes = try CaseSnapshotWriter.encode(SnapshotCorpus.everythingPresent)
        for broken in [Array(bytes.dropLast()), [], Array("null".utf8), bytes + Array("{}".utf8)] {
            #expect(throws: CaseSnapshotFormatError.self) { try CaseSnapshotReader.decode(broken) }
        }
        let error = try #require(throws: CaseSnapshotFormatError.self) { try CaseSnapshotReader.decode(Array(bytes.prefix(40))) }
        #expect(error.description.contains("invalid JSON"))
        // The syntax error is placed too: the cut falls inside the custodial party.
        let cut = try #require(throws: CaseSnapshotFormatError.self) { try CaseSnapshotReader.decode(Array(bytes.prefix(160))) }
        #expect(cut.pathText.hasPrefix("custodialParty"), "\(cut)")
        #expect(cut.problem.contains("invalid JSON at byte"))
    }

    @Test("a key given twice is corrupt, as the strict parser has it")
    func duplicateKey() throws {
        let text = String(decoding: try CaseSnapshotWriter.encode(SnapshotCorpus.everythingPresent), as: UTF8.self)
        let doubled = text.replacingOccurrences(of: #""addressUsable":true"#, with: #""addressUsable":true,"addressUsable":false"#)
        #expect(doubled != text)
        let error = try #require(throws: CaseSnapshotFormatError.self) { try CaseSnapshotReader.decode(Array(doubled.utf8)) }
        #expect(error.pathText == "custodialParty")
        #expect(error.problem.contains("duplicate object key"))
    }
}

private func withoutSSNs(_ state: CaseState) -> CaseState {
    var state = state
    state.custodialParty.ssn = nil
    state.noncustodialParty.ssn = nil
    return state
}

/// Every object key path in a document, array positions folded together.
private func keyPaths(_ value: JSONValue, prefix: String = "") -> Set<String> {
    switch value {
    case .object(let fields):
        var paths: Set<String> = []
        for (key, field) in fields {
            paths.insert(prefix + key)
            paths.formUnion(keyPaths(field, prefix: prefix + key + "."))
        }
        return paths
    case .array(let elements):
        return elements.reduce(into: []) { $0.formUnion(keyPaths($1, prefix: prefix + "[].")) }
    default:
        return []
    }
}

extension JSONValue {
    enum Step: Sendable {
        case key(String)
        case index(Int)
    }

    /// This document with the value at `path` replaced (nil: the key removed).
    func setting(_ path: [Step], to newValue: JSONValue?) -> JSONValue {
        guard let step = path.first else { return newValue ?? .null }
        let rest = Array(path.dropFirst())
        switch (self, step) {
        case (.object(var fields), .key(let key)):
            if rest.isEmpty, newValue == nil {
                fields[key] = nil
            } else {
                fields[key] = (fields[key] ?? .null).setting(rest, to: newValue)
            }
            return .object(fields)
        case (.array(var elements), .index(let index)):
            elements[index] = elements[index].setting(rest, to: newValue)
            return .array(elements)
        default:
            preconditionFailure("no \(step) in a \(typeName)")
        }
    }
}

/// States to encode: every state a generated year of cases passes through,
/// plus hand-made edge cases.
enum SnapshotCorpus {
    static let all: [CaseState] = handMade + generated

    /// Each case's state after every event applied to it: 80 generated cases
    /// over a year, routed as the pipeline routes them (employer reports by the
    /// noncustodial parent's SSN, remittances by their payments' cases).
    static let generated: [CaseState] = {
        let policy = Policy()
        var cases: [String: CaseState] = [:]
        var captured: [CaseState] = []
        for scenarioEvent in ScenarioGenerator(.demo(cases: 80, seed: 23)) where scenarioEvent.poison == nil {
            guard case .success(let event) = EventDecoder.decode(scenarioEvent.value) else { continue }
            for caseId in targets(of: event, cases: cases) {
                guard case .success(let outcome) = CaseRules.apply(event, to: cases[caseId], policy: policy) else { continue }
                cases[caseId] = outcome.state
                captured.append(outcome.state)
            }
        }
        return captured
    }()

    private static func targets(of event: Event, cases: [String: CaseState]) -> [String] {
        func employing(_ ssn: SSN) -> [String] {
            cases.values.filter { $0.noncustodialParty.ssn == ssn }.map(\.caseId).sorted()
        }
        switch event.payload {
        case .newHire(let hire): return employing(hire.employee.ssn)
        case .termination(let termination): return employing(termination.employee.ssn)
        case .quarterlyWage(let wage): return employing(wage.employee.ssn)
        case .unemploymentClaim(let claim): return employing(claim.claimant.ssn)
        case .financialAccountMatch(let match): return employing(match.accountHolder.ssn)
        case .withholdingRemittance(let remittance): return Array(Set(remittance.payments.map(\.caseId))).sorted()
        case .iwoResponse(let response): return [response.caseId]
        default: return event.caseId.map { [$0] } ?? []
        }
    }

    static let handMade: [CaseState] = [nothingOptional, everythingPresent, extremes]

    static func date(_ text: String) -> LocalDate { LocalDate(text)! }

    /// Every optional nil, every array empty.
    static let nothingOptional = CaseState(
        caseId: "CS-MIN", program: .nonTANF, applicationReceivedOn: date("2026-01-02"), openedOn: date("2026-01-05"),
        custodialParty: PartyRecord(partyId: "P-1", firstName: "A", lastName: "B"),
        noncustodialParty: PartyRecord(partyId: "P-2", firstName: "C", lastName: "D", addressUsable: false),
        children: [], ledger: Ledger())

    /// Every optional present, leap days, a ledger built through its own API.
    static let everythingPresent: CaseState = {
        let address = Address(line1: "12 \"Oak\" St\\Apt 4", city: "Saint Louis", state: USState("MO")!, postalCode: "63101-1234")
        var state = CaseState(
            caseId: "CS-MAX", program: .tanf, applicationReceivedOn: date("2024-02-29"), openedOn: date("2024-03-01"),
            custodialParty: PartyRecord(
                partyId: "P-10", firstName: "Maria", lastName: "O'Brien", dateOfBirth: date("1990-02-28"),
                ssn: SSN("987654321"), address: address, addressUsable: true, deceasedOn: date("2030-12-31")),
            noncustodialParty: PartyRecord(
                partyId: "P-11", firstName: "John", lastName: "Doe", dateOfBirth: date("2000-02-29"),
                ssn: SSN("923450987"), address: address, addressUsable: false, deceasedOn: nil),
            children: [
                ChildRecord(childId: "K-1", firstName: "Ann", lastName: "Doe", dateOfBirth: date("2016-02-29"),
                            paternity: .established(.geneticTest), geneticTestingRequestedOn: date("2024-04-01")),
                ChildRecord(childId: "K-2", firstName: "Bo", lastName: "Doe", dateOfBirth: date("2018-07-04"),
                            paternity: .established(nil)),
                ChildRecord(childId: "K-3", firstName: "Cy", lastName: "Doe", dateOfBirth: date("2019-01-01"), paternity: .excluded),
                ChildRecord(childId: "K-4", firstName: "Di", lastName: "Doe", dateOfBirth: date("2020-12-31"), paternity: .open),
            ],
            ledger: Ledger(assignedToState: true))
        var first = SupportOrder(terms: OrderTerms(
            orderId: "O-1", docketNumber: "24-CVD-001", monthlySupportCents: 45_000, monthlyArrearsPaymentCents: 5_000,
            medicalSupportOrdered: true, effectiveOn: date("2024-03-10"), judgmentArrearsCents: 120_000))
        first.status = .terminated
        first.terminatedOn = date("2024-06-20")
        first.terminationReason = .vacated
        let second = SupportOrder(terms: OrderTerms(
            orderId: "O-2", docketNumber: "24-CVD-002", monthlySupportCents: 30_000, medicalSupportOrdered: false,
            effectiveOn: date("2024-07-01")))
        state.orders = [first, second]
        var employment = Employment(fein: FEIN("12-3456789")!, name: "Acme \u{1F3ED} Works", address: address, since: date("2024-02-29"))
        employment.withholding = .accepted
        employment.withholdingOrderId = "O-2"
        employment.medicalSupportNoticeIssued = true
        employment.medicalCoverage = .notAvailable
        employment.lastReportedQuarter = Quarter("2024Q1")
        employment.lastReportedWagesCents = 1_234_567
        employment.incomeSource = .unemploymentBenefits
        employment.weeklyBenefitCents = 41_000
        employment.acceptedOn = date("2024-03-20")
        employment.lastRemittedOn = date("2024-04-02")
        employment.notRemittingReviewOn = date("2024-05-05")
        state.employments = [employment, Employment(fein: FEIN("987650000")!, name: nil, address: nil, since: date("2024-05-05"))]
        state.endedEmployments = [EndedEmployment(fein: FEIN("111111111")!, endedOn: date("2024-02-29"), reason: "TERMINATED")]
        try! state.ledger.establishOrder(
            orderId: "O-1", monthlySupportCents: 45_000, monthlyArrearsPaymentCents: 5_000, effectiveOn: date("2024-03-10"),
            judgmentArrearsCents: 120_000)
        try! state.ledger.modifyOrder(orderId: "O-1", monthlySupportCents: 62_000, effectiveOn: date("2024-05-16"))
        try! state.ledger.terminateOrder(orderId: "O-1", terminatedOn: date("2024-06-20"))
        try! state.ledger.establishOrder(orderId: "O-2", monthlySupportCents: 30_000, effectiveOn: date("2024-07-01"))
        try! state.ledger.applyPayment(id: "PAY-1", amountCents: 20_000, receivedOn: date("2024-04-15"))
        state.ledger.assignedToState = false
        try! state.ledger.applyPayment(id: "PAY-2 \"x\"", amountCents: Ledger.maximumAmountCents, receivedOn: date("2024-07-02"))
        try! state.ledger.applyPayment(id: "collection:COL-1", amountCents: 30_000, receivedOn: date("2024-04-20"), source: .federalTaxOffset)
        try! state.ledger.addCharge(AccountCharge(
            id: "reversal:COL-1:e1", kind: .reversal, referenceId: "collection:COL-1", dueOn: date("2024-05-01"), amountCents: 10_000,
            reason: "INJURED_SPOUSE"))
        try! state.ledger.addCharge(AccountCharge(
            id: "adjustment:ADJ-1", kind: .adjustment, referenceId: "ADJ-1", dueOn: date("2024-05-02"), amountCents: 2_500, reason: "AUDIT"))
        state.collections = [CollectionRecord(
            collectionId: "COL-1", eventId: UUID(uuidString: "0a1b2c3d-4e5f-4a6b-8c7d-9e0fa1b2c3d5")!, taxYear: 2023, heldUntil: date("2024-10-17"), disbursementDueOn: date("2024-10-17"))]
        state.returnedDisbursements = [ReturnedDisbursement(
            taskId: UUID(uuidString: "0a1b2c3d-4e5f-4a6b-8c7d-9e0fa1b2c3d6")!, paymentId: "PAY-1", familyCents: 20_000,
            returnedOn: date("2024-05-03"), reason: .accountClosed, reissuedOn: date("2024-06-01"))]
        state.referrals = [ActiveReferral(
            type: .passportDenial, issuedOn: date("2024-05-01"), arrearsCents: 260_000,
            taskId: UUID(uuidString: "0a1b2c3d-4e5f-4a6b-8c7d-9e0fa1b2c3d4")!)]
        state.hearings = [
            Hearing(hearingId: "H-1", type: .contempt, scheduledFor: Date(timeIntervalSince1970: 1_717_000_000.123_456),
                    courtName: "Mecklenburg \"District\" Court", preparationDueBy: date("2024-05-20")),
            Hearing(hearingId: "H-2", type: .modification, scheduledFor: Date(timeIntervalSinceReferenceDate: 800_000_000),
                    courtName: "Wake", preparationDueBy: date("2025-05-20")),
            Hearing(hearingId: "H-3", type: .establishment, scheduledFor: Date(timeIntervalSinceReferenceDate: -86_400.5),
                    courtName: "Durham", preparationDueBy: date("2000-12-29")),
        ]
        state.serviceOfProcess = [
            ServiceAttempt(partyId: "P-10", outcome: .completed, attemptedOn: date("2024-04-02")),
            ServiceAttempt(partyId: "P-11", outcome: .failed, attemptedOn: date("2024-04-03")),
        ]
        state.locateRequestedOn = date("2024-03-02")
        state.establishmentPreparationRequestedOn = date("2024-03-03")
        state.contempt = ContemptRecord(purgeAmountCents: 99_999, complianceDueOn: date("2028-02-29"), foundOn: date("2024-06-01"))
        state.pendingClosure = ClosureReview(
            reason: .noCurrentOrderLowArrears, detail: "arrears\nunder \"threshold\"", requestedOn: date("2024-08-01"),
            earliestClosureOn: date("2024-09-30"))
        state.closedOn = date("2024-10-01")
        state.referralsEvaluatedThrough = date("2024-09-30")
        state.appliedEventIds = (0..<40).map { UUID(uuidString: "00000000-ABCD-4EF0-8000-" + String(format: "%012X", $0 * 7919))! }
        return state
    }()

    /// Int64 extremes where cents are stored outside the ledger (the ledger caps
    /// amounts itself), the first and last four-digit years.
    static let extremes: CaseState = {
        var state = everythingPresent
        state.caseId = "CS-EXT"
        state.applicationReceivedOn = date("0001-01-01")
        state.openedOn = date("9999-12-31")
        state.orders[0].monthlySupportCents = .max
        state.orders[0].monthlyArrearsPaymentCents = .min
        state.orders[1].monthlySupportCents = 0
        state.employments[0].lastReportedWagesCents = .min
        state.employments[1].lastReportedWagesCents = .max
        state.employments[1].lastReportedQuarter = Quarter("0000Q4")
        state.referrals[0].arrearsCents = .max
        state.contempt?.purgeAmountCents = -1
        state.pendingClosure?.detail = ""
        state.appliedEventIds = []
        return state
    }()
}
