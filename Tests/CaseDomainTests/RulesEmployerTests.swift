import Foundation
import Testing

@testable import CaseDomain

@Suite("Rules: employer reports")
struct RulesEmployerTests {
    private func withOrder(_ order: OrderTerms = Fx.order(arrearsPayment: 5_000), ncp: Party = Fx.ncp(), program: Program = .nonTANF) throws -> CaseDriver {
        var driver = CaseDriver()
        try driver.apply(Fx.application(program: program, ncp: ncp, existingOrder: order))
        return driver
    }

    @Test func newHire_withOrder_withholdingCarriesEmployerAndAmounts() throws {
        var driver = try withOrder()
        let outcome = try driver.apply(Fx.newHire(2, on: "2026-03-04"))
        let task = try outcome.only(.incomeWithholding)
        #expect(task.actionValue == "ISSUE")
        #expect(task.caseId == Fx.caseId)
        #expect(task.causationId == Fx.eventId(2))
        #expect(task.createdAt == Fx.instant("2026-03-04"))
        #expect(task["employer"] == [
            "fein": "12-3456789", "name": "Acme Tools",
            "address": ["line1": "1 Industrial Way", "city": "Raleigh", "state": "NC", "postalCode": "27601"],
        ])
        #expect(task["currentSupportCents"] == 40_000)
        #expect(task["arrearsPaymentCents"] == 5_000)
        #expect(task["totalPerMonthCents"] == 45_000)
        #expect(task["ccpaLimitPercent"] == 60)
        #expect(task["orderId"] == "O-1")
        #expect(task["obligor"]?["partyId"] == "P-NCP")
        #expect(outcome.tasks(.medicalSupportNotice).isEmpty)  // not ordered
        #expect(driver.current.employments.map(\.fein) == [Fx.acme.fein])
        #expect(driver.current.employments[0].since == Fx.date("2026-03-04"))
    }

    @Test func newHire_sameEmployerTwice_noSecondWithholding() throws {
        var driver = try withOrder()
        try driver.apply(Fx.newHire(2, on: "2026-03-04"))
        let again = try driver.apply(Fx.newHire(3, on: "2026-03-11"))
        #expect(again.tasks.isEmpty)
        #expect(driver.current.employments.count == 1)
    }

    @Test func newHire_withoutOrder_leavesLocateAndAsksForTheNextEstablishmentStep() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(address: nil), children: [Fx.child("K-1", paternity: false)]))
        #expect(driver.current.stage == .locate)
        let paternityOpen = try driver.apply(Fx.newHire(2, on: "2026-03-04"))
        #expect(paternityOpen.tasks.map(\.type) == [.geneticTesting])
        #expect(driver.current.stage == .paternity)

        var settled = CaseDriver()
        try settled.apply(Fx.application(ncp: Fx.ncp(address: nil)))
        let outcome = try settled.apply(Fx.newHire(2, on: "2026-03-04"))
        #expect(outcome.tasks.map(\.type) == [.courtPreparation])
        #expect(settled.current.stage == .establishment)
    }

    @Test func newHire_addressFillsAnUnknownAddress() throws {
        var driver = CaseDriver()
        try driver.apply(Fx.application(ncp: Fx.ncp(address: nil)))
        try driver.apply(Fx.newHire(2, on: "2026-03-04", address: Fx.ncpAddress))
        #expect(driver.current.noncustodialParty.address == Fx.ncpAddress)
    }

    @Test func newHire_forSomeoneElse_isRejectedWithoutTheSSN() throws {
        let driver = try withOrder()
        let result = CaseRules.apply(Fx.newHire(2, on: "2026-03-04", ssn: Fx.otherSSN), to: driver.state, policy: Policy())
        #expect(result == .failure(.personNotOnCase(caseId: Fx.caseId)))
        #expect(!String(describing: result).contains(Fx.otherSSN.digits))
    }

    @Test func termination_withdrawsWithholdingAndMedicalNotice_thenLocate() throws {
        var driver = try withOrder(Fx.order(medical: true), ncp: Fx.ncp(address: nil, employer: Fx.acme))
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-04-06", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein), terminatedOn: Fx.date("2026-04-03")))))
        #expect(try outcome.only(.incomeWithholding).actionValue == "WITHDRAW")
        #expect(try outcome.only(.incomeWithholding)["reason"] == "TERMINATED")
        #expect(try outcome.only(.medicalSupportNotice).actionValue == "WITHDRAW")
        let locate = try outcome.only(.locate)
        #expect(locate.dueBy == Fx.date("2026-06-20"))
        #expect(driver.current.employments.isEmpty)
        // Withdrawals come before new work in the published order.
        #expect(outcome.tasks.map(\.type) == [.incomeWithholding, .locate, .medicalSupportNotice])
    }

    @Test func termination_withNewEmployer_isANewHireThere() throws {
        var driver = try withOrder(ncp: Fx.ncp(employer: Fx.acme))
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-04-06", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein), terminatedOn: Fx.date("2026-04-03"),
            newEmployer: Fx.bolt))))
        let withholding = outcome.tasks(.incomeWithholding)
        #expect(withholding.map { $0.actionValue } == ["WITHDRAW", "ISSUE"])  // sorted by target: Acme's FEIN first
        #expect(withholding.first { $0.actionValue == "ISSUE" }?["employer"]?["fein"] == "98-7654321")
        #expect(outcome.tasks(.locate).isEmpty)
        #expect(driver.current.employments.map(\.fein) == [Fx.bolt.fein])
    }

    @Test func termination_ofAnUnknownEmployer_changesNothing() throws {
        var driver = try withOrder(ncp: Fx.ncp(employer: Fx.acme))
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-04-06", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.bolt.fein), terminatedOn: Fx.date("2026-04-03")))))
        #expect(outcome.tasks.isEmpty)
        #expect(driver.current.employments.map(\.fein) == [Fx.acme.fein])
    }

    @Test func quarterlyWage_fromANewEmployer_isEmploymentInformation() throws {
        var driver = try withOrder()
        let wage = QuarterlyWage(employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.bolt.fein, name: "Bolt Freight"),
                                 quarter: Quarter("2026Q1")!, wagesCents: 1_200_000)
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-04-10", .quarterlyWage(wage)))
        let task = try outcome.only(.incomeWithholding)
        #expect(task["employer"] == ["fein": "98-7654321", "name": "Bolt Freight"])
        #expect(task.dueBy == Fx.date("2026-04-14"))
        #expect(driver.current.employments[0].lastReportedWagesCents == 1_200_000)
        // The next quarter from the same employer: wages recorded, no second notice.
        let next = QuarterlyWage(employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.bolt.fein, name: "Bolt Freight"),
                                 quarter: Quarter("2026Q2")!, wagesCents: 1_300_000)
        #expect(try driver.apply(Fx.employerReport(3, on: "2026-07-10", .quarterlyWage(next))).tasks(.incomeWithholding).isEmpty)
        #expect(driver.current.employments[0].lastReportedQuarter == Quarter("2026Q2"))
    }

    @Test func quarterlyWage_laggingBehindATermination_isNotNewEmployment() throws {
        var driver = try withOrder(ncp: Fx.ncp(employer: Fx.acme))
        try driver.apply(Fx.employerReport(2, on: "2026-02-16", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein), terminatedOn: Fx.date("2026-02-13")))))
        func wage(_ quarter: String) -> EventPayload {
            .quarterlyWage(QuarterlyWage(employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein, name: "Acme Tools"),
                                         quarter: Quarter(quarter)!, wagesCents: 500_000))
        }
        // Q1 wages (January to the February termination) arrive in April: history.
        let lagging = try driver.apply(Fx.employerReport(3, on: "2026-04-20", wage("2026Q1")))
        #expect(lagging.tasks.isEmpty)
        #expect(driver.current.employments.isEmpty)
        // Q2 wages from the same employer: the parent went back to work there.
        let rehired = try driver.apply(Fx.employerReport(4, on: "2026-07-20", wage("2026Q2")))
        #expect(try rehired.only(.incomeWithholding).actionValue == "ISSUE")
    }

    @Test func iwoResponse_acceptedRecordsAcceptanceAndCoverage() throws {
        var driver = try withOrder(Fx.order(medical: true), ncp: Fx.ncp(employer: Fx.acme))
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-03-09", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: Fx.acme.fein), status: .accepted, medicalCoverage: .enrolled))))
        #expect(outcome.tasks.isEmpty)
        #expect(driver.current.employments[0].withholding == .accepted)
        #expect(driver.current.employments[0].medicalCoverage == .enrolled)
    }

    /// Found by the rules' property test: an acceptance that crosses the
    /// notice's withdrawal must not put withholding back in force, or the
    /// employer's later termination withdraws it a second time.
    @Test func iwoResponse_acceptingAWithdrawnNotice_putsNothingInForce() throws {
        var driver = try withOrder(Fx.order(), ncp: Fx.ncp(employer: Fx.acme))
        #expect(driver.current.employments[0].withholding == .issued)
        // Support modified to nothing: the notice is withdrawn.
        let modified = try driver.apply(Fx.event(2, on: "2026-03-26", .orderModified(OrderModification(
            orderId: "O-1", monthlySupportCents: 0, effectiveOn: Fx.date("2026-04-01"), medicalSupportOrdered: false))))
        #expect(try modified.only(.incomeWithholding).actionValue == "WITHDRAW")
        let accepted = try driver.apply(Fx.employerReport(3, on: "2026-04-14", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: Fx.acme.fein), status: .accepted))))
        #expect(accepted.tasks.isEmpty)
        #expect(driver.current.employments[0].withholding == .none)
        #expect(accepted.changes.contains { $0.contains("no longer in force") })
        let terminated = try driver.apply(Fx.employerReport(4, on: "2026-04-15", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein), terminatedOn: Fx.date("2026-04-15")))))
        #expect(terminated.tasks(.incomeWithholding).isEmpty, "withdrawn once already")
    }

    @Test func iwoResponse_acceptedByAnUnknownEmployer_recordsTheEmployment() throws {
        var driver = try withOrder()
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-03-09", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: Fx.bolt.fein), status: .accepted))))
        #expect(outcome.tasks.isEmpty)  // the employer already withholds
        #expect(driver.current.employments.map(\.withholding) == [.accepted])
        // Without an order there is nothing being withheld: employment information only.
        var noOrder = CaseDriver()
        try noOrder.apply(Fx.application(ncp: Fx.ncp(address: nil)))
        try noOrder.apply(Fx.employerReport(2, on: "2026-03-09", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: Fx.bolt.fein), status: .accepted))))
        #expect(noOrder.current.employments.map(\.withholding) == [WithholdingStatus.none])
        #expect(noOrder.current.stage == .establishment)
    }

    @Test func iwoResponse_notEmployed_endsTheEmployment() throws {
        var driver = try withOrder(ncp: Fx.ncp(employer: Fx.acme))
        let outcome = try driver.apply(Fx.employerReport(2, on: "2026-03-09", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: Fx.acme.fein), status: .notEmployed))))
        #expect(try outcome.only(.incomeWithholding)["reason"] == "NOT_EMPLOYED")
        #expect(driver.current.employments.isEmpty)
        #expect(outcome.tasks(.locate).isEmpty)  // the address still locates the parent
    }

    @Test func iwoResponse_forAnotherCase_isRejected() throws {
        let driver = try withOrder(ncp: Fx.ncp(employer: Fx.acme))
        let response = Fx.employerReport(2, on: "2026-03-09", .iwoResponse(IWOResponse(
            caseId: "C-2", employer: EmployerRef(fein: Fx.acme.fein), status: .accepted)))
        #expect(CaseRules.apply(response, to: driver.state, policy: Policy()) == .failure(.wrongCase(eventCaseId: "C-2", stateCaseId: Fx.caseId)))
    }

    @Test func remittance_appliesOnlyThisCasesPayments_andDisburses() throws {
        var driver = try withOrder(Fx.order(judgment: 10_000))
        let outcome = try driver.apply(Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13",
                                                     payments: [("C-OTHER", 99_900), (Fx.caseId, 30_000), (Fx.caseId, 15_000)]))
        let task = try outcome.only(.disbursement)
        #expect(task["amountCents"] == 45_000)
        #expect(task["toCurrentSupportCents"] == 40_000)
        #expect(task["toArrearsCents"] == 5_000)
        #expect(task["disbursedToFamilyCents"] == 45_000)
        #expect(task["retainedByStateCents"] == 0)
        #expect(task.dueBy == Fx.date("2026-03-24"))
        #expect(driver.current.ledger.paid(through: Fx.date("2026-03-20")) == 45_000)
    }

    @Test func remittance_tanf_retainsTheArrearsShare() throws {
        var driver = try withOrder(Fx.order(judgment: 60_000), program: .tanf)
        let outcome = try driver.apply(Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13", payments: [(Fx.caseId, 70_000)]))
        let task = try outcome.only(.disbursement)
        #expect(task["disbursedToFamilyCents"] == 40_000)
        #expect(task["retainedByStateCents"] == 30_000)
    }

    @Test func remittance_largerThanAllThatIsDue_holdsTheRest() throws {
        var driver = try withOrder(Fx.order(judgment: 10_000))
        let outcome = try driver.apply(Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13", payments: [(Fx.caseId, 100_000)]))
        let task = try outcome.only(.disbursement)
        #expect(task["toCurrentSupportCents"] == 40_000)
        #expect(task["toArrearsCents"] == 10_000)
        #expect(task["unappliedCents"] == 50_000)
        #expect(task["disbursedToFamilyCents"] == 50_000)
        #expect(driver.current.ledger.arrears(asOf: Fx.date("2026-03-31")) == 0)
    }

    @Test func remittance_withoutAPaymentForThisCase_isRejected() throws {
        let driver = try withOrder()
        let remittance = Fx.remittance(2, on: "2026-03-20", payDate: "2026-03-13", payments: [("C-OTHER", 10_000)])
        #expect(CaseRules.apply(remittance, to: driver.state, policy: Policy()) == .failure(.noPaymentForCase(caseId: Fx.caseId)))
    }
}
