import CaseContract
import Foundation
import Testing

@testable import CaseDomain

@Suite("Task ids and wire form")
struct TaskIdentityTests {
    @Test func nameBasedUUID_matchesRFC9562TestVector() {
        // RFC 9562 appendix A.4: DNS namespace, "www.example.com".
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        #expect(TaskIdentity.nameBasedUUID(namespace: dns, name: "www.example.com")
            == UUID(uuidString: "2ed6657d-e927-568b-95e1-2665a8aea6a2")!)
    }

    @Test func sameInputs_sameId_differentCausation_differentId() {
        let a = TaskIdentity.id(causationId: Fx.eventId(1), caseId: "C-1", type: .incomeWithholding, target: "employer:123456789", action: .issue)
        let again = TaskIdentity.id(causationId: Fx.eventId(1), caseId: "C-1", type: .incomeWithholding, target: "employer:123456789", action: .issue)
        #expect(a == again)
        #expect(a != TaskIdentity.id(causationId: Fx.eventId(2), caseId: "C-1", type: .incomeWithholding, target: "employer:123456789", action: .issue))
        #expect(a != TaskIdentity.id(causationId: Fx.eventId(1), caseId: "C-1", type: .incomeWithholding, target: "employer:987654321", action: .issue))
        #expect(a != TaskIdentity.id(causationId: Fx.eventId(1), caseId: "C-1", type: .incomeWithholding, target: "employer:123456789", action: .withdraw))
        #expect(a != TaskIdentity.id(causationId: Fx.eventId(1), caseId: "C-1", type: .medicalSupportNotice, target: "employer:123456789", action: .issue))
        #expect(a != TaskIdentity.id(causationId: Fx.eventId(1), caseId: "C-2", type: .incomeWithholding, target: "employer:123456789", action: .issue))
        // Version 5, RFC variant.
        let text = a.uuidString.lowercased()
        #expect(Array(text)[14] == "5")
        #expect("89ab".contains(Array(text)[19]))
    }

    @Test func replayingAnEvent_reproducesTaskIdsAndBytes() throws {
        let event = Fx.application(ncp: Fx.ncp(address: nil, employer: Fx.acme, ssn: nil), existingOrder: Fx.order(medical: true))
        let first = try CaseRules.apply(event, to: nil, policy: Policy()).get()
        let second = try CaseRules.apply(event, to: nil, policy: Policy()).get()
        #expect(!first.tasks.isEmpty)
        #expect(first.tasks.map(\.id) == second.tasks.map(\.id))
        #expect(first.tasks.map { $0.wireJSON() } == second.tasks.map { $0.wireJSON() })
        #expect(Set(first.tasks.map(\.id)).count == first.tasks.count)
    }

    @Test func oneEmployerReport_appliedToTwoCases_givesEachItsOwnTaskIds() throws {
        var first = CaseDriver(), second = CaseDriver()
        try first.apply(Fx.application(existingOrder: Fx.order()))
        try second.apply(Fx.event(1, on: "2026-03-02", caseId: "C-2", .intakeApplication(IntakeApplication(
            program: .nonTANF, receivedOn: Fx.date("2026-03-02"), custodialParty: Fx.cp, noncustodialParty: Fx.ncp(),
            children: [Fx.child("K-7", paternity: true)], existingOrder: Fx.order("O-7")))))
        let hire = Fx.newHire(2, on: "2026-03-04")
        let a = try first.apply(hire).only(.incomeWithholding)
        let b = try second.apply(hire).only(.incomeWithholding)
        #expect(a.target == b.target)
        #expect(a.id != b.id)
    }

    @Test func sweepCausationId_isStablePerDate() {
        #expect(TaskIdentity.sweepCausationId(asOf: Fx.date("2026-06-01")) == TaskIdentity.sweepCausationId(asOf: Fx.date("2026-06-01")))
        #expect(TaskIdentity.sweepCausationId(asOf: Fx.date("2026-06-01")) != TaskIdentity.sweepCausationId(asOf: Fx.date("2026-07-01")))
    }

    @Test func wireJSON_isTheContractEnvelope() throws {
        let task = CaseTask(type: .locate, action: .issue, caseId: "C-9", target: "party:P-1", causationId: Fx.eventId(7),
                            createdAt: Fx.instant("2026-03-02", hourUTC: 15, minute: 4), dueBy: Fx.date("2026-05-16"),
                            data: .locate(LocateRequest(
                                partyId: "P-1", role: .custodialParty, firstName: "Ann", lastName: "Lee", dateOfBirth: nil,
                                reason: .serviceFailed, ssnKnown: false, lastKnownAddress: nil)),
                            basis: .timeframe("45 CFR 303.3(b)(3)", from: Fx.date("2026-03-02"), days: 75, [("need", .text("SERVICE_FAILED"))]))
        let text = String(decoding: task.wireJSON(), as: UTF8.self)
        #expect(text == #"{"caseId":"C-9","causationId":"00000000-0000-4000-8000-000000000007","createdAt":"2026-03-02T15:04:00Z","data":{"action":"ISSUE","basis":{"countedFrom":"2026-03-02","days":75,"need":"SERVICE_FAILED","rule":"45 CFR 303.3(b)(3)"},"firstName":"Ann","lastName":"Lee","partyId":"P-1","reason":"SERVICE_FAILED","role":"CUSTODIAL_PARTY","ssnKnown":false},"dueBy":"2026-05-16","id":"\#(task.id.uuidString.lowercased())","type":"locate"}"#)
    }

    @Test func createdAt_keepsMillisecondsAndIsUTC() {
        let instant = Date(timeIntervalSince1970: 1_772_463_845.25)
        #expect(RFC3339.utcString(instant) == "2026-03-02T15:04:05.250Z")
        #expect(RFC3339.utcString(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59Z")
    }

    @Test func topics_followTheContract() {
        #expect(TaskType.allCases.count == 14)
        #expect(TaskType.incomeWithholding.topic == "cse.tasks.income-withholding.v1")
        #expect(TaskType.partyNotice.topic == "cse.tasks.party-notice.v1")
        #expect(TaskType.allCases.map(\.rawValue).sorted() == [
            "case-review", "court-preparation", "credit-bureau-report", "disbursement", "financial-levy", "genetic-testing",
            "income-withholding", "intergovernmental-referral", "license-suspension", "locate", "medical-support-notice",
            "party-notice", "passport-denial", "tax-offset-referral",
        ])
        // The remedies a parent is given notice of and may contest (intake.remedy-contested, policy contestDays).
        #expect(TaskType.remedies.map(\.rawValue) == [
            "tax-offset-referral", "passport-denial", "credit-bureau-report", "license-suspension", "financial-levy",
        ])
    }
}
