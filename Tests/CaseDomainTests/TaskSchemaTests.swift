import CaseContract
import JSON
import Foundation
import Testing

@testable import CaseDomain

/// Every task the rules generate validates against its published schema
/// (schemas/tasks/<type>.json, draft 2020-12), checked by Python's
/// `jsonschema` in one subprocess over a directory of task files.
@Suite("Task JSON Schemas")
struct TaskSchemaTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Tasks of every type, ISSUE and WITHDRAW, from scenarios that reach each rule.
    static func generatedTasks() throws -> [CaseTask] {
        var tasks: [CaseTask] = []
        var full = CaseDriver()
        try full.apply(Fx.application(program: .tanf, ncp: Fx.ncp(employer: Fx.acme),
                                      existingOrder: Fx.order(arrearsPayment: 5_000, medical: true, judgment: 300_000)))
        try full.apply(Fx.event(2, on: "2026-03-05", .hearingScheduled(HearingScheduled(
            hearingId: "H-1", hearingType: .enforcement, scheduledFor: Fx.instant("2026-04-20"), courtName: "Pulaski Circuit"))))
        try full.apply(Fx.event(3, on: "2026-03-06", .contemptFinding(ContemptFinding(purgeAmountCents: 50_000, complianceDueOn: Fx.date("2026-04-30")))))
        try full.apply(Fx.remittance(4, on: "2026-03-20", payDate: "2026-03-13", payments: [(Fx.caseId, 400_000)]))
        try full.apply(Fx.event(5, on: "2026-03-23", .serviceFailed(ServiceOfProcess(partyId: "P-CP", attemptedOn: Fx.date("2026-03-20")))))
        try full.apply(Fx.employerReport(6, on: "2026-04-06", .termination(Termination(
            employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: Fx.acme.fein), terminatedOn: Fx.date("2026-04-03")))))
        try full.apply(Fx.event(7, on: "2026-04-07", .closureRequest(ClosureRequest(reason: "custodial party asked"))))
        tasks += full.published

        var closing = CaseDriver()
        try closing.apply(Fx.application(existingOrder: Fx.order(judgment: 60_000)))
        try closing.apply(Fx.event(2, on: "2026-03-03", .paternityExcluded(PaternityExcluded(childId: "K-1"))))
        try closing.apply(Fx.event(3, on: "2026-05-02", .closureRequest(ClosureRequest(reason: "notice period over"))))
        tasks += closing.published

        var locating = CaseDriver()
        try locating.apply(Fx.application(ncp: Fx.ncp(address: nil, ssn: nil), children: [Fx.child("K-1", paternity: false)]))
        try locating.apply(Fx.event(2, on: "2026-03-10", .partyUpdate(PartyUpdate(partyId: "P-NCP", address: Fx.ncpAddress))))
        try locating.apply(Fx.event(3, on: "2026-04-10", .paternityEstablished(PaternityEstablished(childId: "K-1", method: .geneticTest))))
        tasks += locating.published

        // Money from every source: collections, a reversal before and after the money
        // went out, a returned disbursement sent again, benefit withholding, a levy,
        // and a payer that never remits.
        var money = CaseDriver()
        try money.apply(Fx.application(program: .tanf, existingOrder: Fx.order(judgment: 200_000)))
        try money.apply(RulesCollectionTests.collection(2, on: "2026-03-05", id: "COL-1", source: .directPayment, cents: 60_000))
        try money.apply(RulesCollectionTests.collection(3, on: "2026-03-06", id: "COL-2", source: .federalTaxOffset, cents: 30_000, jointReturn: true))
        try money.apply(RulesCollectionTests.reversal(4, on: "2026-03-07", id: "COL-2", reason: .injuredSpouse))
        try money.apply(RulesCollectionTests.reversal(5, on: "2026-03-20", id: "COL-1", cents: 10_000))
        let direct = money.published.first { $0.target == "collection:COL-1" }!
        try money.apply(Fx.event(6, on: "2026-03-21", .disbursementReturned(DisbursementReturned(
            disbursementTaskId: direct.id, returnedOn: Fx.date("2026-03-21"), reason: .undeliverable))))
        try money.apply(Fx.event(7, on: "2026-03-25", .partyUpdate(PartyUpdate(partyId: "P-CP", address: Fx.cpAddress))))
        try money.apply(RulesCollectionTests.adjustment(8, on: "2026-03-26", id: "ADJ-1", cents: -5_000))
        try money.apply(Fx.employerReport(9, on: "2026-03-27", .unemploymentClaim(UnemploymentClaim(
            claimant: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp"), agency: RulesCollectionTests.agency,
            claimFiledOn: Fx.date("2026-03-20"), weeklyBenefitCents: 40_000, receivedOn: Fx.date("2026-03-26")))))
        try money.apply(Fx.employerReport(10, on: "2026-03-28", .iwoResponse(IWOResponse(
            caseId: Fx.caseId, employer: EmployerRef(fein: RulesCollectionTests.agency.fein), status: .accepted))))
        try money.apply(Fx.employerReport(11, on: "2026-04-01", .financialAccountMatch(FinancialAccountMatch(
            accountHolder: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp"), institution: RulesCollectionTests.bank,
            accountKind: .checking, balanceCents: 70_000, matchedOn: Fx.date("2026-03-31")))))
        money.sweep(asOf: Fx.date("2026-05-20"), id: 12)
        tasks += money.published

        // The processes: another state's referral issued and withdrawn, a contest upheld,
        // a review, the remedies after their notice, an agreement withdrawing the
        // license, a payment withdrawing the rest, review rights on incarceration.
        var processes = CaseDriver()
        try processes.apply(Fx.application(ncp: Fx.ncp(address: nil), existingOrder: Fx.order(judgment: 300_000)))
        try processes.apply(RulesProcessTests.partyUpdate(2, on: "2026-03-04", PartyUpdate(
            partyId: "P-NCP", address: Fx.address("5 Gervais St", "Columbia", "SC", "29201"))))
        try processes.apply(RulesProcessTests.partyUpdate(3, on: "2026-03-09", PartyUpdate(partyId: "P-NCP", address: Fx.ncpAddress)))
        try processes.apply(Fx.event(4, on: "2026-03-10", .reviewRequested(ReviewRequested(requestedBy: .noncustodialParty, requestedOn: Fx.date("2026-03-10")))))
        try processes.apply(RulesProcessTests.contest(5, on: "2026-03-11", .creditBureauReport))
        try processes.apply(RulesProcessTests.decision(6, on: "2026-03-20", .creditBureauReport, .upheld))
        processes.sweep(asOf: Fx.date("2026-04-02"), id: 7)
        try processes.apply(RulesProcessTests.agreement(8, on: "2026-04-10", monthly: 50_000, firstDueOn: "2026-05-01"))
        try processes.apply(RulesProcessTests.payment(9, on: "2026-04-15", cents: 400_000))
        try processes.apply(RulesProcessTests.partyUpdate(10, on: "2026-04-20", PartyUpdate(partyId: "P-NCP", incarceratedUntil: Fx.date("2027-06-01"))))
        tasks += processes.published

        // A closure noticed, answered with information.
        var answered = CaseDriver()
        try answered.apply(Fx.application(children: [Fx.child("K-1", paternity: false)]))
        try answered.apply(Fx.event(2, on: "2026-03-16", .paternityExcluded(PaternityExcluded(childId: "K-1"))))
        try answered.apply(Fx.event(3, on: "2026-04-20", .closureResponse(ClosureResponse(respondedOn: Fx.date("2026-04-20"), informationProvided: true))))
        tasks += answered.published
        return tasks
    }

    @Test func generatedTasks_coverEveryTypeAndAction() throws {
        let tasks = try Self.generatedTasks()
        #expect(Set(tasks.map(\.type)) == Set(TaskType.allCases))
        let withdrawn = Set(tasks.filter { $0.action == .withdraw }.map(\.type))
        #expect(withdrawn.isSuperset(of: [.incomeWithholding, .medicalSupportNotice, .taxOffsetReferral, .passportDenial,
                                           .creditBureauReport, .licenseSuspension]))
    }

    /// Contract v1.1: every task says on what basis, with its rule and the facts as of its date.
    @Test func everyTaskCarriesItsBasis() throws {
        for task in try Self.generatedTasks() {
            guard case .object(let basis)? = task["basis"], case .string(let rule)? = basis["rule"] else {
                Issue.record("\(task.type.rawValue) \(task.action.rawValue) for \(task.target) has no basis")
                continue
            }
            #expect(!rule.isEmpty)
            #expect(basis.count > 1 || task.withdrawnAsCorrection, "\(task.type.rawValue) for \(task.target): a rule and no facts")
        }
    }

    @Test func generatedTasks_validateAgainstTheirSchemas() throws {
        let tasks = try Self.generatedTasks()
        let verdict = try Self.validate(tasks.map { ($0.type.rawValue, $0.wireJSON()) })
        #expect(verdict.invalid.isEmpty, "\(verdict.report)")
        #expect(verdict.checked == tasks.count)
    }

    /// Tasks from many pseudo-random event streams (the property tests' generator
    /// with fixed seeds) validate too: every path that emits a task is covered,
    /// not only the hand-written scenarios.
    @Test func tasksFromRandomStreams_validateAgainstTheirSchemas() throws {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % 50_001
        }
        var tasks: [CaseTask] = []
        for stream in 0..<20 {
            let steps = (0..<(5 + stream % 30)).map { _ in next() }
            tasks += RulesPropertyTests.run(program: stream, address: stream % 3 != 0, steps: steps, sweep: true).tasks
        }
        #expect(Set(tasks.map(\.type)) == Set(TaskType.allCases))
        let verdict = try Self.validate(tasks.map { ($0.type.rawValue, $0.wireJSON()) })
        #expect(verdict.invalid.isEmpty, "\(verdict.invalid.prefix(5))")
        #expect(verdict.checked == tasks.count)
    }

    /// Corrections -- tasks restated or withdrawn when a late event is merged in
    /// business order, of every type -- validate too.
    @Test func correctionsFromLateEvents_validateAgainstTheirSchemas() throws {
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % 50_001
        }
        var corrections: [CaseTask] = []
        for stream in 0..<40 {
            let steps = (0..<(8 + stream % 20)).map { _ in next() }
            let (events, _) = BusinessOrderPropertyTests.stream(program: stream, address: stream % 3 != 0, steps: steps)
            for order in BusinessOrderPropertyTests.arrivalOrders(events, seeds: [UInt64(stream)]) {
                var arrival = BusinessOrderPropertyTests.Arrival()
                for event in order { arrival.receive(event) }
                corrections += arrival.driver.published
            }
        }
        let withdrawn = Set(corrections.filter { $0.withdrawnAsCorrection }.map(\.type))
        #expect(withdrawn.count >= 4, "corrections withdrew only \(withdrawn.map(\.rawValue).sorted())")
        let verdict = try Self.validate(corrections.map { ($0.type.rawValue, $0.wireJSON()) })
        #expect(verdict.invalid.isEmpty, "\(verdict.invalid.prefix(5))")
    }

    /// The harness can fail: tasks with a field missing, a wrong type or an unknown field are caught.
    @Test func tamperedTasks_failValidation() throws {
        let task = try #require(Self.generatedTasks().first { $0.type == .incomeWithholding && $0.action == .issue })
        guard case .object(var envelope) = task.wireValue, case .object(var data) = envelope["data"] else {
            Issue.record("task is not an object")
            return
        }
        var missingDue = envelope
        missingDue["dueBy"] = nil
        data["ccpaLimitPercent"] = "sixty"
        var wrongType = envelope
        wrongType["data"] = .object(data)
        envelope["surprise"] = true
        let verdict = try Self.validate([
            ("income-withholding", JSONValue.object(missingDue).serialized()),
            ("income-withholding", JSONValue.object(wrongType).serialized()),
            ("income-withholding", JSONValue.object(envelope).serialized()),
        ])
        #expect(verdict.invalid.count == 3, "\(verdict.report)")
    }

    struct Verdict {
        var checked: Int
        var invalid: [String]
        var report: String
    }

    private static let validatorScript = #"""
import json, pathlib, sys
try:
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
except ImportError:
    print("MISSING jsonschema"); sys.exit(3)
schemas = pathlib.Path(sys.argv[1])
resources = []
for path in sorted(schemas.glob("*.json")):
    schema = json.loads(path.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    resources.append((schema["$id"], Resource.from_contents(schema)))
registry = Registry().with_resources(resources)
validators = {}
for name in sys.argv[2:]:
    task = json.loads(pathlib.Path(name).read_text("utf-8"))
    kind = pathlib.Path(name).name.split("--")[0]
    if kind not in validators:
        schema = json.loads((schemas / (kind + ".json")).read_text("utf-8"))
        validators[kind] = Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())
    errors = list(validators[kind].iter_errors(task))
    if errors:
        where = "; ".join(".".join(str(p) for p in e.absolute_path) + ": fails " + str(e.validator) for e in errors[:3])
        print(f"INVALID {name} {where}")
    else:
        print(f"VALID {name}")
"""#

    /// Writes each (type, bytes) to a temporary file named `<type>--<n>.json` and runs the validator once.
    static func validate(_ documents: [(type: String, bytes: [UInt8])]) throws -> Verdict {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("task-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for (n, document) in documents.enumerated() {
            let file = directory.appendingPathComponent("\(document.type)--\(n).json")
            try Data(document.bytes).write(to: file)
            files.append(file.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", validatorScript, repositoryRoot.appendingPathComponent("schemas/tasks").path] + files
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(!out.contains("MISSING jsonschema"), "the Python package jsonschema is missing; run `pip install jsonschema`")
        try #require(process.terminationStatus == 0, "validator failed (is python3 installed?): \(err)")
        let lines = out.split(separator: "\n").map(String.init)
        return Verdict(checked: lines.count, invalid: lines.filter { $0.hasPrefix("INVALID") }, report: out + err)
    }
}
