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

    /// One step per random integer: the business-order property tests' generator.
    static func event(_ n: Int, step: Int, day: LocalDate, state: CaseState?) -> Event? {
        guard let state else { return nil }
        return BusinessOrderPropertyTests.event(n, step: step, at: Fx.instant(day.description), state: state)
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
            guard let event = event(i + 2, step: step, day: day, state: run.state) else { continue }
            switch CaseRules.apply(event, to: run.state, policy: Policy()) {
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
                guard let event = Self.event(i + 2, step: step, day: day, state: state) else { continue }
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
