import JSON
import Foundation
import Testing

@testable import CaseDomain

/// Builders for rule tests: events at fixed instants, a standard case, and a
/// driver that threads state through a sequence of events.
enum Fx {
    static let caseId = "C-1"
    static let ncpSSN = SSN("901223333")!
    static let otherSSN = SSN("987654321")!
    static let acme = EmployerRef(fein: FEIN("12-3456789")!, name: "Acme Tools", address: address("1 Industrial Way", "Raleigh", "NC", "27601"))
    static let bolt = EmployerRef(fein: FEIN("98-7654321")!, name: "Bolt Freight", address: address("9 Depot Rd", "Durham", "NC", "27701"))

    static func date(_ text: String) -> LocalDate { LocalDate(iso8601: text)! }

    /// `hourUTC` 15 is mid-morning in Chicago, so the business date is the UTC date.
    static func instant(_ text: String, hourUTC: Int = 15, minute: Int = 0) -> Date {
        let day = date(text)
        return Date(timeIntervalSince1970: TimeInterval(day.daysSinceEpoch * 86_400 + hourUTC * 3600 + minute * 60))
    }

    static func eventId(_ n: Int) -> UUID {
        let digits = String(n)
        return UUID(uuidString: "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
    }

    static func address(_ line1: String, _ city: String, _ state: String, _ zip: String) -> Address {
        Address(line1: line1, city: city, state: USState(state)!, postalCode: zip)
    }

    static let ncpAddress = address("12 Elm St", "Raleigh", "NC", "27603")
    static let cpAddress = address("400 Oak Ave", "Raleigh", "NC", "27604")

    static func event(_ n: Int, on day: String, hourUTC: Int = 15, caseId: String? = Fx.caseId, _ payload: EventPayload) -> Event {
        Event(id: eventId(n), occurredAt: instant(day, hourUTC: hourUTC), source: "test", caseId: caseId, payload: payload)
    }

    static func employerReport(_ n: Int, on day: String, _ payload: EventPayload) -> Event {
        event(n, on: day, caseId: nil, payload)
    }

    static func ncp(address: Address? = Fx.ncpAddress, employer: EmployerRef? = nil, ssn: SSN? = Fx.ncpSSN,
                    dateOfBirth: LocalDate? = Fx.date("1990-04-12")) -> Party {
        Party(partyId: "P-NCP", firstName: "Dale", lastName: "Ncp", dateOfBirth: dateOfBirth, ssn: ssn, address: address, employer: employer)
    }

    static let cp = Party(partyId: "P-CP", firstName: "Casey", lastName: "Cp", dateOfBirth: Fx.date("1992-01-03"), ssn: SSN("911223333")!, address: Fx.cpAddress)

    static func child(_ id: String, paternity: Bool) -> Child {
        Child(childId: id, firstName: "Kid", lastName: id, dateOfBirth: date("2019-06-01"), paternityEstablished: paternity)
    }

    static func order(_ id: String = "O-1", monthly: Cents = 40_000, effectiveOn: String = "2026-03-01",
                      arrearsPayment: Cents? = nil, medical: Bool = false, judgment: Cents? = nil) -> OrderTerms {
        OrderTerms(orderId: id, docketNumber: "D-\(id)", monthlySupportCents: monthly, monthlyArrearsPaymentCents: arrearsPayment,
                   medicalSupportOrdered: medical, effectiveOn: date(effectiveOn), judgmentArrearsCents: judgment)
    }

    static func application(
        _ n: Int = 1, on day: String = "2026-03-02", hourUTC: Int = 15, program: Program = .nonTANF, receivedOn: String? = nil,
        ncp: Party = Fx.ncp(), children: [Child] = [Fx.child("K-1", paternity: true)], existingOrder: OrderTerms? = nil
    ) -> Event {
        event(n, on: day, hourUTC: hourUTC, .intakeApplication(IntakeApplication(
            program: program, receivedOn: date(receivedOn ?? day), custodialParty: cp, noncustodialParty: ncp,
            children: children, existingOrder: existingOrder)))
    }

    static func newHire(_ n: Int, on day: String, employer: EmployerRef = Fx.acme, ssn: SSN = Fx.ncpSSN,
                        hireDate: String? = nil, receivedOn: String? = nil, address: Address? = nil) -> Event {
        employerReport(n, on: day, .newHire(NewHire(
            employee: Employee(ssn: ssn, firstName: "Dale", lastName: "Ncp", address: address), employer: employer,
            hireDate: date(hireDate ?? day), receivedOn: date(receivedOn ?? day))))
    }

    static func remittance(_ n: Int, on day: String, payDate: String, receivedOn: String? = nil,
                           payments: [(String, Cents)], employer: EmployerRef = Fx.acme) -> Event {
        employerReport(n, on: day, .withholdingRemittance(WithholdingRemittance(
            employer: EmployerRef(fein: employer.fein), payDate: date(payDate), receivedOn: date(receivedOn ?? day),
            payments: payments.map { RemittancePayment(caseId: $0.0, amountCents: $0.1) })))
    }
}

/// Threads state through events in business order (`CaseTimeline`, as the
/// pipeline does), failing the test on a rule error.
struct CaseDriver {
    var state: CaseState?
    var policy: Policy
    private(set) var published: [CaseTask] = []
    /// Every event applied so far: what storage keeps for re-deriving a case.
    private(set) var applied: [Event] = []
    /// Part-way derivations kept between late events (none unless asked for).
    var checkpoints: CaseTimeline.Checkpoints
    /// Every history line, in the order written.
    private(set) var changes: [String] = []

    init(policy: Policy = Policy(), checkpointedCases: Int = 0) {
        self.policy = policy
        checkpoints = CaseTimeline.Checkpoints(capacity: checkpointedCases)
    }

    @discardableResult
    mutating func apply(_ event: Event, sourceLocation: SourceLocation = #_sourceLocation) throws -> RuleOutcome {
        let outcome = try CaseTimeline.apply(event, to: state, earlierEvents: applied, policy: policy, checkpoints: &checkpoints).get()
        state = outcome.state
        changes += outcome.changes
        published += outcome.tasks
        if !outcome.wasDuplicate { applied.append(event) }
        return outcome
    }

    /// A time-driven sweep as of `date`.
    @discardableResult
    mutating func sweep(asOf date: LocalDate, id: Int) -> RuleOutcome {
        let outcome = CaseRules.reevaluate(current, asOf: date, causationId: Fx.eventId(id), policy: policy)
        state = outcome.state
        published += outcome.tasks
        return outcome
    }

    var current: CaseState { state! }
}

extension RuleOutcome {
    func tasks(_ type: TaskType) -> [CaseTask] { tasks.filter { $0.type == type } }
    func only(_ type: TaskType, sourceLocation: SourceLocation = #_sourceLocation) throws -> CaseTask {
        let matching = tasks(type)
        try #require(matching.count == 1, "expected one \(type.rawValue) task, got \(matching.count)", sourceLocation: sourceLocation)
        return matching[0]
    }
}

/// Tests read tasks as subscribers do: through the wire contract's `data`.
extension CaseTask {
    subscript(key: String) -> JSONValue? { wireData[key] }
    var actionValue: String? { wireData["action"]?.stringValue }
}
