import CaseContract
import Foundation
import JSON
import Testing

@testable import CaseDomain

/// Validation at the door (issue 20): every string, amount, list and date an
/// event carries lies within documented bounds, and each refusal is a
/// `schema-violation` naming the field, never the value.
@Suite("Contract: input bounds at the door")
struct InputLimitsTests {
    /// A valid intake application with `edit` applied to its JSON.
    static func application(_ edit: (inout [String: JSONValue]) -> Void) -> [UInt8] {
        var data: [String: JSONValue] = [
            "program": "NON_TANF", "receivedOn": "2026-03-02",
            "custodialParty": ["partyId": "P-CP", "firstName": "Casey", "lastName": "Cp"],
            "noncustodialParty": ["partyId": "P-NCP", "firstName": "Noel", "lastName": "Ncp", "ssn": "934123456"],
            "children": [["childId": "K-1", "firstName": "Kim", "lastName": "Cp", "dateOfBirth": "2019-05-01", "paternityEstablished": true]],
        ]
        edit(&data)
        let event: JSONValue = [
            "id": "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b11", "type": "intake.application", "occurredAt": "2026-03-02T15:00:00Z",
            "source": "ncfast", "caseId": "C-1", "data": .object(data),
        ]
        return event.serialized()
    }

    static func remittance(_ payments: [JSONValue], quarter: String? = nil) -> [UInt8] {
        let event: JSONValue = [
            "id": "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b12", "type": "employer.withholding-remittance",
            "occurredAt": "2026-03-16T15:00:00Z", "source": "sdu",
            "data": ["employer": ["fein": "561234567"], "payDate": "2026-03-13", "receivedOn": "2026-03-16", "payments": .array(payments)],
        ]
        return event.serialized()
    }

    static func refusal(_ bytes: [UInt8]) -> EventDecodingError? {
        if case .failure(let error) = EventDecoder.decode(bytes) { return error }
        return nil
    }

    @Test func aNULInAName_isRefused_namingTheFieldNotTheValue() throws {
        let error = try #require(Self.refusal(Self.application { $0["noncustodialParty"]![field: "firstName"] = "Ro\u{0}bert" }))
        #expect(error.kind == .schemaViolation && error.field == "data.noncustodialParty.firstName")
        #expect(!error.reason.contains("Ro"))
    }

    @Test(arguments: ["\u{1B}[31mRed", "Line\nBreak", "Tab\there", "C1\u{9B}", "Del\u{7F}"])
    func controlCharactersInNames_areRefused(name: String) throws {
        let error = try #require(Self.refusal(Self.application { $0["custodialParty"]![field: "lastName"] = .string(name) }))
        #expect(error.field == "data.custodialParty.lastName")
    }

    @Test func lengths_areBoundedByKind() throws {
        #expect(Self.refusal(Self.application { $0["custodialParty"]![field: "firstName"] = .string(String(repeating: "é", count: 200)) }) == nil)
        #expect(Self.refusal(Self.application { $0["custodialParty"]![field: "firstName"] = .string(String(repeating: "a", count: 201)) })?.field
            == "data.custodialParty.firstName")
        #expect(Self.refusal(Self.application { $0["custodialParty"]![field: "partyId"] = .string(String(repeating: "p", count: 100)) }) == nil)
        #expect(Self.refusal(Self.application { $0["custodialParty"]![field: "partyId"] = .string(String(repeating: "p", count: 101)) })?.field
            == "data.custodialParty.partyId")
    }

    @Test func aCaseIdOf4KB_isRefused() throws {
        var event = try JSONValue.parse(Self.application { _ in })
        event[field: "caseId"] = .string(String(repeating: "C", count: 4_096))
        #expect(Self.refusal(event.serialized())?.field == "caseId")
    }

    @Test func freeText_mayBreakLines_butHoldsNoOtherControlCharacters() throws {
        func closure(_ reason: String) -> [UInt8] {
            let event: JSONValue = [
                "id": "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b13", "type": "intake.closure-request", "occurredAt": "2026-03-02T15:00:00Z",
                "source": "ncfast", "caseId": "C-1", "data": ["reason": .string(reason)],
            ]
            return event.serialized()
        }
        #expect(Self.refusal(closure("Asked in writing.\r\nSee the letter.\tThanks")) == nil)
        #expect(Self.refusal(closure("bell\u{7}"))?.field == "data.reason")
        #expect(Self.refusal(closure(String(repeating: "r", count: 2_001)))?.field == "data.reason")
    }

    @Test func amounts_lieFromOneCentToTheContractsBound() throws {
        func payment(_ cents: JSONValue) -> JSONValue { ["caseId": "C-1", "amountCents": cents] }
        #expect(Self.refusal(Self.remittance([payment(1)])) == nil)
        #expect(Self.refusal(Self.remittance([payment(.int(InputLimits.maximumCents))])) == nil)
        #expect(Self.refusal(Self.remittance([payment(0)]))?.field == "data.payments[0].amountCents")
        #expect(Self.refusal(Self.remittance([payment(1), payment(.int(.max))]))?.field == "data.payments[1].amountCents")
        #expect(Self.refusal(Self.remittance([payment(.int(InputLimits.maximumCents + 1))]))?.field == "data.payments[0].amountCents")
        #expect(Self.refusal(Self.remittance([payment(-5)]))?.field == "data.payments[0].amountCents")
        #expect(Self.refusal(Self.remittance([payment(.double(1e19))]))?.field == "data.payments[0].amountCents")
    }

    @Test func aRemittance_namesAtMost1000Payments() throws {
        let payment: JSONValue = ["caseId": "C-1", "amountCents": 100]
        #expect(Self.refusal(Self.remittance(Array(repeating: payment, count: 1_000))) == nil)
        let error = try #require(Self.refusal(Self.remittance(Array(repeating: payment, count: 50_000))))
        #expect(error.field == "data.payments" && error.reason.contains("at most 1000"))
    }

    @Test(arguments: [("1899-12-31", false), ("1900-01-01", true), ("2199-12-31", true), ("2200-01-01", false), ("0001-01-01", false)])
    func dates_lieIn1900Through2199(date: String, accepted: Bool) throws {
        let error = Self.refusal(Self.application { $0["receivedOn"] = .string(date) })
        #expect((error == nil) == accepted)
        if !accepted { #expect(error?.field == "data.receivedOn") }
    }

    @Test(arguments: [("0000Q1", false), ("1899Q4", false), ("1900Q1", true), ("2199Q4", true), ("2200Q1", false)])
    func quarters_lieIn1900Through2199(quarter: String, accepted: Bool) throws {
        let event: JSONValue = [
            "id": "0b9f2c3e-6a41-4b8e-9d0f-2f1e7c5a9b14", "type": "employer.quarterly-wage", "occurredAt": "2026-03-02T15:00:00Z",
            "source": "esc", "data": ["employee": ["ssn": "934123456"], "employer": ["fein": "561234567", "name": "Acme"],
                                      "quarter": .string(quarter), "wagesCents": 100],
        ]
        #expect((Self.refusal(event.serialized()) == nil) == accepted)
    }

    @Test func timestamps_lieIn1900Through2199_inUTC() throws {
        for (occurredAt, accepted) in [("0001-01-01T00:00:00Z", false), ("1900-01-01T00:00:00Z", true), ("1900-01-01T00:30:00+01:00", false),
                                       ("2199-12-31T23:59:59Z", true), ("2199-12-31T20:00:00-05:00", false)] {
            var event = try JSONValue.parse(Self.application { _ in })
            event[field: "occurredAt"] = .string(occurredAt)
            #expect((Self.refusal(event.serialized()) == nil) == accepted, "\(occurredAt)")
        }
    }

    @Test func anEventDatedPastTheToleranceAfterItWasReported_isRefused() throws {
        let event = try EventDecoder.decode(Self.application { _ in }).get()
        let reported = event.occurredAt
        #expect(InputLimits.violation(in: event, policy: Policy(), reportedAt: reported.addingTimeInterval(-23 * 3600)) == nil)
        let late = try #require(InputLimits.violation(in: event, policy: Policy(), reportedAt: reported.addingTimeInterval(-25 * 3600)))
        #expect(late.kind == .schemaViolation && late.field == "occurredAt")
        var strict = Policy()
        strict.futureToleranceHours = 1
        #expect(InputLimits.violation(in: event, policy: strict, reportedAt: reported.addingTimeInterval(-2 * 3600))?.field == "occurredAt")
    }

    @Test func amountsOverThePolicysCaps_areRefusedNamingTheField() throws {
        let event = try EventDecoder.decode(Self.remittance([["caseId": "C-1", "amountCents": 100], ["caseId": "C-2", "amountCents": 200_000_000]])).get()
        let now = event.occurredAt
        let error = try #require(InputLimits.violation(in: event, policy: Policy(), reportedAt: now))
        #expect(error.field == "data.payments[1].amountCents")
        var generous = Policy()
        generous.amountCaps.paymentCents = 500_000_000
        #expect(InputLimits.violation(in: event, policy: generous, reportedAt: now) == nil)
    }

    @Test func thePolicyFile_setsTheCaps_withinTheContractsBound() throws {
        let policy = try PolicyFile.decode(Array(#"{"inputBounds": {"paymentCents": 5000, "futureToleranceHours": 2}}"#.utf8))
        #expect(policy.amountCaps.paymentCents == 5_000 && policy.futureToleranceHours == 2)
        #expect(throws: PolicyFileError.self) { try PolicyFile.decode(Array(#"{"inputBounds": {"wagesCents": 100000000001}}"#.utf8)) }
        #expect(try PolicyFile.decode(PolicyFile.encode(policy).serialized()) == policy)
    }
}

extension JSONValue {
    /// A member to set in a test's document.
    fileprivate subscript(field key: String) -> JSONValue? {
        get { self[key] }
        set {
            guard case .object(var fields) = self else { return }
            fields[key] = newValue
            self = .object(fields)
        }
    }
}
