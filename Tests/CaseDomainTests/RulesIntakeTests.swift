import Foundation
import Testing

@testable import CaseDomain

@Suite("Rules: intake events")
struct RulesIntakeTests {
    @Test func application_opensTheCase() throws {
        let outcome = try CaseRules.apply(Fx.application(program: .tanf), to: nil, policy: Policy()).get()
        let state = outcome.state
        #expect(state.caseId == Fx.caseId)
        #expect(state.program == .tanf)
        #expect(state.ledger.assignedToState)
        #expect(state.noncustodialParty.ssn == Fx.ncpSSN)
        #expect(state.children.map(\.childId) == ["K-1"])
        #expect(state.appliedEventIds == [Fx.eventId(1)])
        #expect(outcome.changes.first?.hasPrefix("case opened") == true)
    }

    @Test func application_unlocatedParent_getsLocateOnly() throws {
        let outcome = try CaseRules.apply(Fx.application(ncp: Fx.ncp(address: nil), children: [Fx.child("K-1", paternity: false)]),
                                          to: nil, policy: Policy()).get()
        #expect(outcome.tasks.map(\.type).sorted() == [.caseReview, .locate])
        #expect(outcome.state.locateRequestedOn == Fx.date("2026-03-02"))
    }

    @Test func application_locatedParent_geneticTestingForEachOpenChild() throws {
        let outcome = try CaseRules.apply(Fx.application(children: [
            Fx.child("K-1", paternity: false), Fx.child("K-2", paternity: true), Fx.child("K-3", paternity: false),
        ]), to: nil, policy: Policy()).get()
        let tests = outcome.tasks(.geneticTesting)
        #expect(tests.map { $0["childId"] } == ["K-1", "K-3"])
        #expect(tests.allSatisfy { $0["allegedFatherPartyId"] == "P-NCP" })
        #expect(outcome.tasks(.courtPreparation).isEmpty)  // paternity first
        #expect(outcome.tasks(.locate).isEmpty)
    }

    @Test func application_noOrder_paternitySettled_courtPreparation() throws {
        let outcome = try CaseRules.apply(Fx.application(), to: nil, policy: Policy()).get()
        let preparation = try outcome.only(.courtPreparation)
        #expect(preparation["reason"] == "ESTABLISHMENT")
        #expect(preparation["childIds"] == ["K-1"])
        #expect(outcome.tasks.count == 1)  // complete application: no review, no locate
    }

    @Test func application_existingOrderAndEmployer_withholdingAtOnce() throws {
        let outcome = try CaseRules.apply(
            Fx.application(on: "2026-03-02", ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(arrearsPayment: 5_000, medical: true)),
            to: nil, policy: Policy()).get()
        let withholding = try outcome.only(.incomeWithholding)
        #expect(withholding.dueBy == Fx.date("2026-03-04"))
        #expect(withholding["totalPerMonthCents"] == 45_000)
        #expect(try outcome.only(.medicalSupportNotice).dueBy == Fx.date("2026-03-04"))
        #expect(outcome.tasks(.courtPreparation).isEmpty)
        #expect(outcome.state.stage == .enforcement)
        #expect(outcome.state.employments.first?.withholding == .issued)
    }

    @Test func application_missingInformation_listed() throws {
        let outcome = try CaseRules.apply(Fx.application(ncp: Fx.ncp(address: nil, ssn: nil, dateOfBirth: nil)), to: nil, policy: Policy()).get()
        #expect(try outcome.only(.caseReview)["missing"] == ["noncustodialParty.ssn", "noncustodialParty.dateOfBirth", "noncustodialParty.address"])
    }

    @Test func application_forAnOpenCase_isRejected() throws {
        let opened = try CaseRules.apply(Fx.application(), to: nil, policy: Policy()).get().state
        #expect(CaseRules.apply(Fx.application(2), to: opened, policy: Policy()) == .failure(.caseAlreadyOpen(caseId: Fx.caseId)))
    }

    @Test func eventsForAnUnknownCase_areRejected() {
        let court = Fx.event(2, on: "2026-03-02", .paternityExcluded(PaternityExcluded(childId: "K-1")))
        #expect(CaseRules.apply(court, to: nil, policy: Policy()) == .failure(.unknownCase(caseId: Fx.caseId)))
        #expect(CaseRules.apply(court, to: nil, policy: Policy()).error?.deadLetterClass == "unknown-case")
        let noCaseId = Fx.event(3, on: "2026-03-02", caseId: nil, .closureRequest(ClosureRequest(reason: "x")))
        #expect(CaseRules.apply(noCaseId, to: nil, policy: Policy()) == .failure(.missingCaseId(eventType: "intake.closure-request")))
    }

    @Test func eventForAnotherCase_isRejected() throws {
        let opened = try CaseRules.apply(Fx.application(), to: nil, policy: Policy()).get().state
        let other = Fx.event(2, on: "2026-03-03", caseId: "C-2", .closureRequest(ClosureRequest(reason: "x")))
        #expect(CaseRules.apply(other, to: opened, policy: Policy()) == .failure(.wrongCase(eventCaseId: "C-2", stateCaseId: Fx.caseId)))
    }

    @Test func sameEventTwice_hasNoSecondEffect() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme), existingOrder: Fx.order(judgment: 60_000)))
        let hire = Fx.newHire(2, on: "2026-03-05", employer: Fx.bolt)
        let first = try driver.apply(hire)
        #expect(!first.tasks.isEmpty)
        let before = driver.current
        let second = try driver.apply(hire)
        #expect(second.wasDuplicate)
        #expect(second.tasks.isEmpty)
        #expect(second.changes.isEmpty)
        #expect(second.state == before)
        // The application itself redelivered after other events: also nothing.
        #expect(try driver.apply(Fx.application(ncp: Fx.ncp(employer: Fx.acme))).wasDuplicate)
    }

    @Test func partyUpdate_addressLocatesTheParent() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(address: nil)))
        #expect(driver.current.stage == .locate)
        let outcome = try driver.apply(Fx.event(2, on: "2026-03-20", .partyUpdate(PartyUpdate(partyId: "P-NCP", address: Fx.ncpAddress))))
        #expect(driver.current.stage == .establishment)
        #expect(driver.current.locateRequestedOn == nil)
        #expect(try outcome.only(.courtPreparation).dueBy == Fx.date("2026-06-18"))
    }

    @Test func partyUpdate_ssnAndEmployer() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(ssn: nil), existingOrder: Fx.order()))
        let outcome = try driver.apply(Fx.event(2, on: "2026-03-04", .partyUpdate(PartyUpdate(partyId: "P-NCP", ssn: Fx.ncpSSN, employer: Fx.acme))))
        #expect(driver.current.noncustodialParty.ssn == Fx.ncpSSN)
        #expect(try outcome.only(.incomeWithholding).dueBy == Fx.date("2026-03-06"))
        #expect(!outcome.changes.joined().contains(Fx.ncpSSN.digits))
    }

    @Test func partyUpdate_custodialPartyDeceased_caseReview() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application())
        let outcome = try driver.apply(Fx.event(2, on: "2026-03-04", .partyUpdate(PartyUpdate(partyId: "P-CP", deceasedOn: Fx.date("2026-03-01")))))
        #expect(try outcome.only(.caseReview)["reason"] == "CUSTODIAL_PARTY_DECEASED")
    }

    @Test func partyUpdate_unknownParty_isRejected() throws {
        let opened = try CaseRules.apply(Fx.application(), to: nil, policy: Policy()).get().state
        let update = Fx.event(2, on: "2026-03-04", .partyUpdate(PartyUpdate(partyId: "P-X", address: Fx.ncpAddress)))
        #expect(CaseRules.apply(update, to: opened, policy: Policy()) == .failure(.unknownParty(caseId: Fx.caseId, partyId: "P-X")))
    }

    @Test func deceasedParent_noLocateNoEstablishment() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(address: nil), children: [Fx.child("K-1", paternity: false)]))
        let outcome = try driver.apply(Fx.event(2, on: "2026-03-04", .partyUpdate(PartyUpdate(
            partyId: "P-NCP", address: Fx.ncpAddress, deceasedOn: Fx.date("2026-03-01")))))
        // The closure criterion: the office's review and the recipient's notice of intent to close.
        #expect(outcome.tasks.map(\.type) == [.caseReview, .partyNotice])
        #expect(outcome.tasks[1]["notice"] == "CLOSURE_INTENT")
    }

    @Test func closureRequest_caseReviewWithNoticeDate() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application())
        let outcome = try driver.apply(Fx.event(2, on: "2026-03-04", .closureRequest(ClosureRequest(reason: "custodial party asked"))))
        let review = try outcome.only(.caseReview)
        #expect(review["reason"] == "CLOSURE_REQUESTED")
        #expect(review["detail"] == "custodial party asked")
        #expect(review["earliestClosureOn"] == "2026-05-03")
        #expect(driver.current.pendingClosure?.reason == .requested)
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
