import Foundation
import Testing

@testable import CaseDomain

@Suite("Case state: derived stage and stored form")
struct CaseStateTests {
    private func opened(_ event: Event) throws -> CaseState {
        try CaseRules.apply(event, to: nil, policy: Policy()).get().state
    }

    @Test func stage_locate_whenNoAddressAndNoEmployer() throws {
        let state = try opened(Fx.application(ncp: Fx.ncp(address: nil)))
        #expect(state.stage == .locate)
    }

    @Test func stage_paternity_whenLocatedAndAChildsPaternityIsOpen() throws {
        let state = try opened(Fx.application(children: [Fx.child("K-1", paternity: true), Fx.child("K-2", paternity: false)]))
        #expect(state.stage == .paternity)
    }

    @Test func stage_establishment_whenNoOrder() throws {
        #expect(try opened(Fx.application()).stage == .establishment)
    }

    @Test func stage_enforcement_withAnOrder() throws {
        #expect(try opened(Fx.application(existingOrder: Fx.order())).stage == .enforcement)
    }

    @Test func stage_locateWinsOverPaternityAndEstablishment() throws {
        let state = try opened(Fx.application(ncp: Fx.ncp(address: nil), children: [Fx.child("K-1", paternity: false)]))
        #expect(state.stage == .locate)
    }

    @Test func stage_employerAloneLocatesTheParent() throws {
        #expect(try opened(Fx.application(ncp: Fx.ncp(address: nil, employer: Fx.acme))).stage == .establishment)
    }

    @Test func stage_movesBackToLocate_whenEmployerAndAddressAreLost() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(address: nil, employer: Fx.acme), existingOrder: Fx.order()))
        #expect(driver.current.stage == .enforcement)
        try driver.apply(Fx.employerReport(2, on: "2026-04-06", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein), terminatedOn: Fx.date("2026-04-03")))))
        #expect(driver.current.stage == .locate)
    }

    @Test func stage_vacatedOrder_isEstablishmentAgain_terminatedOrderStillEnforcement() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(existingOrder: Fx.order()))
        var vacated = driver
        try driver.apply(Fx.event(2, on: "2026-04-06", .orderTerminated(OrderTermination(orderId: "O-1", terminatedOn: Fx.date("2026-04-05"), reason: .emancipation))))
        #expect(driver.current.stage == .enforcement)
        try vacated.apply(Fx.event(2, on: "2026-04-06", .orderTerminated(OrderTermination(orderId: "O-1", terminatedOn: Fx.date("2026-04-05"), reason: .vacated))))
        #expect(vacated.current.stage == .establishment)
    }

    @Test func stage_closed_afterClosureRequestPastTheNoticePeriod() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application())
        try driver.apply(Fx.event(2, on: "2026-03-10", .closureRequest(ClosureRequest(reason: "family moved abroad"))))
        #expect(driver.current.stage != .closed)
        #expect(driver.current.pendingClosure?.earliestClosureOn == Fx.date("2026-05-09"))
        try driver.apply(Fx.event(3, on: "2026-05-08", .closureRequest(ClosureRequest(reason: "again"))))
        #expect(driver.current.stage != .closed)
        try driver.apply(Fx.event(4, on: "2026-05-09", .closureRequest(ClosureRequest(reason: "notice period over"))))
        #expect(driver.current.stage == .closed)
        #expect(driver.current.closedOn == Fx.date("2026-05-09"))
    }

    @Test func stage_neverIntake_onceTheApplicationIsApplied() throws {
        // INTAKE is the stage of a case the service holds no state for; see CaseStage.intake.
        for ncp in [Fx.ncp(), Fx.ncp(address: nil, ssn: nil, dateOfBirth: nil)] {
            #expect(try opened(Fx.application(ncp: ncp)).stage != .intake)
        }
    }

    @Test func codable_roundTripsAFullCase() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(program: .tanf, ncp: Fx.ncp(employer: Fx.acme),
                                        children: [Fx.child("K-1", paternity: true), Fx.child("K-2", paternity: false)],
                                        existingOrder: Fx.order(medical: true, judgment: 300_000)))
        try driver.apply(Fx.event(2, on: "2026-03-05", .hearingScheduled(HearingScheduled(
            hearingId: "H-1", hearingType: .contempt, scheduledFor: Fx.instant("2026-04-20"), courtName: "Pulaski"))))
        try driver.apply(Fx.event(3, on: "2026-03-06", .paternityEstablished(PaternityEstablished(childId: "K-2", method: .geneticTest))))
        try driver.apply(Fx.event(4, on: "2026-03-07", .serviceFailed(ServiceOfProcess(partyId: "P-CP", attemptedOn: Fx.date("2026-03-06")))))
        let state = driver.current
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(state)
        let decoded = try JSONDecoder().decode(CaseState.self, from: bytes)
        #expect(decoded == state)
        #expect(try encoder.encode(decoded) == bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("\"stage\""))  // derived, never stored
        #expect(text.contains(#""status":"ESTABLISHED","method":"GENETIC_TEST""#) || text.contains(#""method":"GENETIC_TEST","status":"ESTABLISHED""#))
    }
}
