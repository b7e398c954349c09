import CaseContract
import Foundation
import PropertyBased
import Testing

@testable import CaseDomain

/// Random event streams against one case, checked for what must hold whatever
/// the agencies send: redelivery changes nothing, replay reproduces every task
/// byte for byte, task ids never collide, and each referral or withholding is
/// withdrawn only while it is in force.
@Suite("Rules: properties over random event streams")
struct RulesPropertyTests {
    static let employers = [Fx.acme, Fx.bolt, EmployerRef(fein: FEIN("55-0000001")!, name: "Cedar Grocers", address: Fx.cpAddress)]
    static let programs: [Program] = [.tanf, .nonTANF, .fosterCare, .medicaid]

    /// One step per random integer: the low digits pick the event, the rest its details.
    static func event(_ n: Int, step: Int, day: LocalDate, state: CaseState?) -> Event {
        let kind = step % 14, detail = step / 14
        let dayText = day.description
        let employer = employers[detail % employers.count]
        let orderCount = state?.orders.count ?? 0
        let payload: EventPayload
        switch kind {
        case 0:
            return Fx.newHire(n, on: dayText, employer: employer, receivedOn: day.adding(days: -(detail % 3)).description)
        case 1:
            return Fx.employerReport(n, on: dayText, .termination(Termination(
                employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: employer.fein), terminatedOn: day,
                newEmployer: detail % 4 == 0 ? employers[(detail + 1) % employers.count] : nil)))
        case 2:
            return Fx.employerReport(n, on: dayText, .quarterlyWage(QuarterlyWage(
                employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: employer.fein, name: employer.name),
                quarter: Quarter(year: day.year, quarter: 1)!, wagesCents: Cents(detail * 100))))
        case 3:
            return Fx.remittance(n, on: dayText, payDate: day.adding(days: -(detail % 12)).description,
                                 payments: [(Fx.caseId, Cents(1 + detail % 3_000) * 100)], employer: employer)
        case 4:
            // Answers come from employers the case knows (an answer from an unknown
            // employer is an employment this service never sent anything to).
            let known = state?.employments.map(\.fein) ?? []
            let fein = known.isEmpty ? employer.fein : known[detail % known.count]
            return Fx.employerReport(n, on: dayText, .iwoResponse(IWOResponse(
                caseId: Fx.caseId, employer: EmployerRef(fein: fein), status: !known.isEmpty && detail % 2 == 0 ? .accepted : .notEmployed,
                medicalCoverage: detail % 3 == 0 ? .enrolled : nil)))
        case 5:
            payload = .orderEstablished(Fx.order("O-\(orderCount + 1)", monthly: Cents(detail % 900) * 100,
                                                 effectiveOn: day.adding(days: -(detail % 90)).description,
                                                 arrearsPayment: detail % 2 == 0 ? 2_500 : nil, medical: detail % 3 == 0,
                                                 judgment: detail % 5 == 0 ? Cents(detail % 400) * 1_000 : nil))
        case 6:
            payload = .orderModified(OrderModification(
                orderId: "O-\(max(orderCount, 1))", monthlySupportCents: Cents(detail % 700) * 100, effectiveOn: day,
                monthlyArrearsPaymentCents: detail % 2 == 0 ? 1_000 : nil, medicalSupportOrdered: detail % 2 == 1))
        case 7:
            payload = .orderTerminated(OrderTermination(orderId: "O-\(max(orderCount, 1))", terminatedOn: day.adding(days: detail % 40),
                                                        reason: detail % 3 == 0 ? .vacated : .emancipation))
        case 8:
            payload = .paternityEstablished(PaternityEstablished(childId: "K-\(1 + detail % 2)", method: .geneticTest))
        case 9:
            payload = .paternityExcluded(PaternityExcluded(childId: "K-\(1 + detail % 2)"))
        case 10:
            payload = .hearingScheduled(HearingScheduled(hearingId: "H-\(detail % 3)", hearingType: .enforcement,
                                                         scheduledFor: Fx.instant(day.adding(days: detail % 60).description), courtName: "Pulaski"))
        case 11:
            let partyId = detail % 3 == 0 ? "P-CP" : "P-NCP"
            let service = ServiceOfProcess(partyId: partyId, attemptedOn: day)
            payload = detail % 2 == 0 ? .serviceFailed(service) : .serviceCompleted(service)
        case 12:
            payload = .partyUpdate(PartyUpdate(partyId: "P-NCP", address: detail % 2 == 0 ? Fx.ncpAddress : nil,
                                               employer: detail % 2 == 1 ? employer : nil))
        default:
            payload = detail % 4 == 0
                ? .closureRequest(ClosureRequest(reason: "requested"))
                : .contemptFinding(ContemptFinding(purgeAmountCents: Cents(detail % 100) * 1_000, complianceDueOn: day.adding(days: 30)))
        }
        return Fx.event(n, on: dayText, payload)
    }

    struct Run {
        var state: CaseState?
        var tasks: [CaseTask] = []
        var refusals = 0
    }

    static func run(program: Int, address: Bool, steps: [Int], sweep: Bool) -> Run {
        var run = Run()
        let intake = Fx.application(program: programs[program % programs.count], ncp: Fx.ncp(address: address ? Fx.ncpAddress : nil),
                                    children: [Fx.child("K-1", paternity: program % 2 == 0), Fx.child("K-2", paternity: true)])
        guard case .success(let opened) = CaseRules.apply(intake, to: nil, policy: Policy()) else { return run }
        run.state = opened.state
        run.tasks = opened.tasks
        var day = Fx.date("2026-03-02")
        for (i, step) in steps.enumerated() {
            day = day.adding(days: step % 23)
            if sweep, i % 5 == 4, let state = run.state {
                let outcome = CaseRules.reevaluate(state, asOf: day.firstOfMonth, causationId: Fx.eventId(10_000 + i), policy: Policy())
                run.state = outcome.state
                run.tasks += outcome.tasks
            }
            switch CaseRules.apply(event(i + 2, step: step, day: day, state: run.state), to: run.state, policy: Policy()) {
            case .success(let outcome):
                run.state = outcome.state
                run.tasks += outcome.tasks
            case .failure:
                run.refusals += 1
            }
        }
        return run
    }

    static let streams = zip(Gen.int(in: 0...7), Gen.bool(0.5), Gen.int(in: 0...50_000).array(of: 1...40))

    @Test func replay_reproducesEveryTaskByteForByte_andIdsNeverCollide() async {
        await propertyCheck(count: 120, input: Self.streams) { program, address, steps in
            let first = Self.run(program: program, address: address, steps: steps, sweep: true)
            let second = Self.run(program: program, address: address, steps: steps, sweep: true)
            #expect(first.tasks.map { $0.wireJSON() } == second.tasks.map { $0.wireJSON() })
            #expect(first.state == second.state)
            #expect(Set(first.tasks.map(\.id)).count == first.tasks.count)
            #expect(first.state?.stage != .intake)
        }
    }

    @Test func redelivery_hasNoSecondEffect() async throws {
        await propertyCheck(count: 80, input: Self.streams) { program, address, steps in
            var state = Self.run(program: program, address: address, steps: [], sweep: false).state
            var day = Fx.date("2026-03-02")
            for (i, step) in steps.enumerated() {
                day = day.adding(days: step % 23)
                let event = Self.event(i + 2, step: step, day: day, state: state)
                guard case .success(let outcome) = CaseRules.apply(event, to: state, policy: Policy()) else { continue }
                let again = try CaseRules.apply(event, to: outcome.state, policy: Policy()).get()
                #expect(again.wasDuplicate && again.tasks.isEmpty && again.state == outcome.state)
                state = outcome.state
            }
        }
    }

    @Test func withdrawals_onlyForWhatIsInForce_andStateAgreesWithTheTasks() async throws {
        await propertyCheck(count: 150, input: Self.streams) { program, address, steps in
            let run = Self.run(program: program, address: address, steps: steps, sweep: true)
            guard let state = run.state else { return }
            var inForce: [String: Bool] = [:]
            for task in run.tasks where task.type != .locate {
                let key = "\(task.type.rawValue)|\(task.target)"
                switch task.action {
                case .withdraw:
                    #expect(inForce[key] == true, "WITHDRAW of \(key) that was not in force")
                    inForce[key] = false
                case .issue:
                    if TaskType.arrearsReferrals.contains(task.type) {
                        #expect(inForce[key] != true, "second ISSUE of \(key) while in force")
                    }
                    inForce[key] = true
                }
            }
            for type in TaskType.arrearsReferrals {
                let key = "\(type.rawValue)|obligor:P-NCP"
                #expect((inForce[key] ?? false) == (state.referral(type) != nil), "\(type.rawValue) state disagrees with tasks")
            }
            for (key, active) in inForce where active && key.hasPrefix("income-withholding|") {
                let fein = key.split(separator: ":").last.map(String.init) ?? ""
                #expect(state.employments.contains { $0.fein.digits == fein && $0.withholding != .none },
                        "withholding \(key) in force without a current employment under withholding")
            }
            let bytes = try JSONEncoder().encode(state)
            #expect(try JSONDecoder().decode(CaseState.self, from: bytes) == state)
        }
    }
}
