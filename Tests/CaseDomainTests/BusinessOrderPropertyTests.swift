import CaseContract
import JSON
import Foundation
import PropertyBased
import Testing

@testable import CaseDomain

/// A case's decisions are those of its events in business order, whatever
/// order they arrive in: random streams for one case (intake, orders with
/// judgments, modifications, terminations, payments early and late, employer
/// reports, paternity, service, party updates, closure), each applied in many
/// arrival orders the way the pipeline applies them (an event whose case,
/// order or person is not known yet waits and is retried), must end in the
/// business-order run's state with the same tasks in force.
@Suite("Business order: arrival order never changes a case's decisions")
struct BusinessOrderPropertyTests {
    static let employers = [Fx.acme, Fx.bolt, EmployerRef(fein: FEIN("55-0000001")!, name: "Cedar Grocers", address: Fx.cpAddress)]
    static let programs: [Program] = [.tanf, .nonTANF, .fosterCare, .medicaid]

    /// One event per random integer, built against the case as business order
    /// has it so far (ids of orders and employers that exist).
    static func event(_ n: Int, step: Int, at instant: Date, state: CaseState) -> Event {
        let kind = step % 26, detail = step / 26
        let day = Policy().calendar.businessDate(of: instant)
        let employer = employers[detail % employers.count]
        let orderCount = state.orders.count
        let payload: EventPayload
        switch kind {
        case 0:
            return report(n, at: instant, .newHire(NewHire(
                employee: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp", address: detail % 5 == 0 ? Fx.ncpAddress : nil),
                employer: employer, hireDate: day.adding(days: -(detail % 20)), receivedOn: day.adding(days: -(detail % 3)))))
        case 1:
            return report(n, at: instant, .termination(Termination(
                employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: employer.fein), terminatedOn: day.adding(days: -(detail % 10)),
                newEmployer: detail % 4 == 0 ? employers[(detail + 1) % employers.count] : nil)))
        case 2:
            return report(n, at: instant, .quarterlyWage(QuarterlyWage(
                employee: Employee(ssn: Fx.ncpSSN), employer: EmployerRef(fein: employer.fein, name: employer.name),
                quarter: Quarter(year: day.year, quarter: 1 + (day.month - 1) / 3)!, wagesCents: Cents(detail % 90 + 1) * 10_000)))
        case 3:
            // Received up to 12 days before it is reported, paid days before that;
            // now and then far more than is due (paid ahead).
            let received = day.adding(days: -(detail % 13))
            let amount = detail % 7 == 0 ? Cents(detail % 5 + 2) * 45_000 : Cents(1 + detail % 60) * 1_000
            return report(n, at: instant, .withholdingRemittance(WithholdingRemittance(
                employer: EmployerRef(fein: employer.fein), payDate: received.adding(days: -(detail % 6)), receivedOn: received,
                payments: [RemittancePayment(caseId: Fx.caseId, amountCents: amount)])))
        case 4:
            let known = state.employments.map(\.fein)
            let fein = known.isEmpty ? employer.fein : known[detail % known.count]
            return report(n, at: instant, .iwoResponse(IWOResponse(
                caseId: Fx.caseId, employer: EmployerRef(fein: fein), status: !known.isEmpty && detail % 2 == 0 ? .accepted : .notEmployed,
                medicalCoverage: detail % 3 == 0 ? .enrolled : nil)))
        case 5:
            // Effective up to 60 days back or 45 ahead (payments before it are held).
            payload = .orderEstablished(Fx.order(
                "O-\(orderCount + 1)", monthly: Cents(detail % 9) * 10_000 + 15_000,
                effectiveOn: day.adding(days: detail % 106 - 60).description, arrearsPayment: detail % 2 == 0 ? 2_500 : nil,
                medical: detail % 3 == 0, judgment: detail % 4 == 0 ? Cents(detail % 40 + 1) * 10_000 : nil))
        case 6:
            let effective = max(day.adding(days: detail % 31), state.orders.last?.effectiveOn ?? day)
            payload = .orderModified(OrderModification(
                orderId: "O-\(max(orderCount, 1))", monthlySupportCents: Cents(detail % 7) * 10_000, effectiveOn: effective,
                monthlyArrearsPaymentCents: detail % 2 == 0 ? 1_000 : nil, medicalSupportOrdered: detail % 2 == 1))
        case 7:
            payload = .orderTerminated(OrderTermination(
                orderId: "O-\(max(orderCount, 1))", terminatedOn: day.adding(days: detail % 40),
                reason: detail % 3 == 0 ? .vacated : .emancipation))
        case 8:
            payload = .paternityEstablished(PaternityEstablished(childId: "K-\(1 + detail % 2)", method: .geneticTest))
        case 9:
            payload = .paternityExcluded(PaternityExcluded(childId: "K-\(1 + detail % 2)"))
        case 10:
            payload = .hearingScheduled(HearingScheduled(
                hearingId: "H-\(detail % 3)", hearingType: .enforcement,
                scheduledFor: Fx.instant(day.adding(days: detail % 60).description), courtName: "Pulaski"))
        case 11:
            let service = ServiceOfProcess(partyId: detail % 3 == 0 ? "P-CP" : "P-NCP", attemptedOn: day.adding(days: -(detail % 5)))
            payload = detail % 2 == 0 ? .serviceFailed(service) : .serviceCompleted(service)
        case 12:
            // Now and then the custodial party moves (a returned disbursement goes out again).
            payload = detail % 3 == 2
                ? .partyUpdate(PartyUpdate(partyId: "P-CP", address: Fx.cpAddress))
                : .partyUpdate(PartyUpdate(
                    partyId: "P-NCP", address: detail % 2 == 0 ? Fx.ncpAddress : nil, employer: detail % 2 == 1 ? employer : nil))
        case 14, 15:
            // Received up to 10 days before it is reported; sources in turn; a collection id seen before now and then.
            let sources = CollectionSource.received
            let source = sources[detail % sources.count]
            let id = detail % 9 == 0 && !state.collections.isEmpty ? state.collections[0].collectionId : "COL-\(n)"
            let repeated = state.collection(id).flatMap { state.ledger.payment(id: $0.paymentId) }
            payload = .collectionReceived(CollectionReceived(
                collectionId: id, source: repeated?.collectionSource ?? source,
                amountCents: repeated?.amountCents ?? Cents(1 + detail % 80) * 1_500,
                receivedOn: repeated?.receivedOn ?? day.adding(days: -(detail % 11)), jointReturn: source == .federalTaxOffset && detail % 2 == 0))
        case 16:
            // A reversal of a collection received before it (all of it, or part), else an adjustment either way.
            if let record = state.collections.last, let payment = state.ledger.payment(id: record.paymentId),
                payment.amountCents > state.ledger.reversedCents(ofPayment: payment.id), payment.receivedOn <= day
            {
                let left = payment.amountCents - state.ledger.reversedCents(ofPayment: payment.id)
                payload = .collectionReversed(CollectionReversed(
                    collectionId: record.collectionId, reversedOn: max(payment.receivedOn, day.adding(days: -(detail % 4))),
                    reason: ReversalReason.allCases[detail % ReversalReason.allCases.count], amountCents: detail % 2 == 0 ? nil : max(1, left / 2)))
            } else {
                payload = .accountAdjusted(AccountAdjusted(
                    adjustmentId: "ADJ-\(n)", amountCents: (detail % 2 == 0 ? 1 : -1) * Cents(1 + detail % 30) * 1_000,
                    effectiveOn: day.adding(days: -(detail % 20)), reason: AdjustmentReason.allCases[detail % AdjustmentReason.allCases.count]))
            }
        case 17:
            // A disbursement of a collection comes back (a direct payment when there is none yet).
            if let record = state.collections.last {
                payload = .disbursementReturned(DisbursementReturned(
                    disbursementTaskId: TaskIdentity.id(causationId: record.eventId, caseId: Fx.caseId, type: .disbursement,
                                                        target: record.disbursementTarget, action: .issue),
                    returnedOn: day, reason: DisbursementReturnReason.allCases[detail % DisbursementReturnReason.allCases.count]))
            } else {
                payload = .collectionReceived(CollectionReceived(
                    collectionId: "COL-\(n)", source: .directPayment, amountCents: Cents(1 + detail % 50) * 1_000, receivedOn: day))
            }
        case 18:
            return report(n, at: instant, .unemploymentClaim(UnemploymentClaim(
                claimant: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp", address: detail % 3 == 0 ? Fx.ncpAddress : nil),
                agency: employers[2], claimFiledOn: day.adding(days: -(detail % 15)), weeklyBenefitCents: Cents(detail % 50 + 10) * 1_000,
                receivedOn: day.adding(days: -(detail % 3)))))
        case 19:
            return report(n, at: instant, .financialAccountMatch(FinancialAccountMatch(
                accountHolder: Employee(ssn: Fx.ncpSSN, firstName: "Dale", lastName: "Ncp"),
                institution: EmployerRef(fein: FEIN("66-0000002")!, name: "First Bank", address: Fx.ncpAddress),
                accountKind: AccountKind.allCases[detail % AccountKind.allCases.count], balanceCents: Cents(detail % 40) * 5_000,
                matchedOn: day.adding(days: -(detail % 7)))))
        case 20:
            payload = .reviewRequested(ReviewRequested(
                requestedBy: Requester.allCases[detail % 3], requestedOn: day.adding(days: -(detail % 5)), reason: detail % 2 == 0 ? "income changed" : nil))
        case 21:
            payload = .closureResponse(ClosureResponse(respondedOn: day, informationProvided: detail % 2 == 0))
        case 22:
            payload = .remedyContested(RemedyContested(remedy: TaskType.remedies[detail % TaskType.remedies.count], contestedOn: day))
        case 23:
            payload = .contestDecided(ContestDecided(
                remedy: TaskType.remedies[detail % TaskType.remedies.count], decidedOn: day, outcome: detail % 3 == 0 ? .overturned : .upheld))
        case 24:
            let next = day.adding(months: 1)
            payload = .paymentAgreement(PaymentAgreementSigned(
                agreementId: "AG-\(n)", monthlyCents: Cents(detail % 40 + 5) * 1_000, firstDueOn: LocalDate(year: next.year, month: next.month, day: 1)!,
                signedOn: day))
        case 25:
            // Incarcerated (now and then long enough for review rights), or found in another state.
            payload = detail % 2 == 0
                ? .partyUpdate(PartyUpdate(partyId: "P-NCP", address: Self.otherState))
                : .partyUpdate(PartyUpdate(partyId: "P-NCP", incarceratedUntil: day.adding(days: detail % 400 + 60)))
        default:
            payload = detail % 4 == 0
                ? .closureRequest(ClosureRequest(reason: "requested"))
                : .contemptFinding(ContemptFinding(purgeAmountCents: Cents(detail % 100 + 1) * 1_000, complianceDueOn: day.adding(days: 30)))
        }
        return Event(id: Fx.eventId(n), occurredAt: instant, source: "test", caseId: Fx.caseId, payload: payload)
    }

    static let otherState = Fx.address("5 Gervais St", "Columbia", "SC", "29201")

    static func report(_ n: Int, at instant: Date, _ payload: EventPayload) -> Event {
        Event(id: Fx.eventId(n), occurredAt: instant, source: "test", caseId: nil, payload: payload)
    }

    /// A stream valid in business order: each candidate is kept when the rules
    /// accept it after everything before it. Some events share an instant (the
    /// id decides), and ids are not in time order.
    static func stream(program: Int, address: Bool, steps: [Int]) -> (events: [Event], run: CaseDriver) {
        let intake = Fx.application(
            1, on: "2026-03-02", program: programs[program % programs.count], ncp: Fx.ncp(address: address ? Fx.ncpAddress : nil),
            children: [Fx.child("K-1", paternity: program % 2 == 0), Fx.child("K-2", paternity: true)])
        var driver = CaseDriver()
        _ = try? driver.apply(intake)
        var events = [intake]
        var instant = intake.occurredAt
        for (i, step) in steps.enumerated() {
            if step % 5 != 0 { instant += TimeInterval((step % 9) * 86_400 + (step % 7) * 3_600) }
            // Ids run against time every third event, so ties and id order are exercised.
            let n = i % 3 == 0 ? 500 - i : i + 2
            let event = Self.event(n, step: step, at: instant, state: driver.current)
            if (try? driver.apply(event)) != nil { events.append(event) }
        }
        return (events, driver)
    }

    /// The events in one arrival order, applied as the pipeline applies them:
    /// what cannot apply yet (no case, no such order, no such person) waits
    /// and is retried after every event that applies.
    struct Arrival {
        var driver: CaseDriver
        var waiting: [Event] = []
        var refusals: [String] = []

        init(checkpointedCases: Int = 0) { driver = CaseDriver(checkpointedCases: checkpointedCases) }

        mutating func receive(_ event: Event) {
            guard attempt(event) else {
                waiting.append(event)
                return
            }
            var progressed = true
            while progressed {
                progressed = false
                for (index, parked) in waiting.enumerated() where attempt(parked) {
                    waiting.remove(at: index)
                    progressed = true
                    break
                }
            }
        }

        private mutating func attempt(_ event: Event) -> Bool {
            do {
                try driver.apply(event)
                return true
            } catch let error as RuleError {
                switch error {
                case .unknownCase, .unknownOrder, .personNotOnCase: return false
                default:
                    refusals.append("\(event.type.rawValue): \(error)")
                    return true
                }
            } catch {
                refusals.append("\(error)")
                return true
            }
        }
    }

    /// Per task type and target, the last task published when it is an ISSUE.
    static func inForce(_ tasks: [CaseTask]) -> [String: TaskData] {
        var last: [String: CaseTask] = [:]
        for task in tasks { last["\(task.type.rawValue)|\(task.target)"] = task }
        return last.filter { $0.value.action == .issue }.mapValues { $0.data.terms }
    }

    /// Arrival orders: shuffles keyed by `seeds`, the reverse, and the intake
    /// last. Topics are read independently, but one case's collections share a
    /// partition (key `caseId`) and keep the order they were produced in, as
    /// Kafka keeps it: a reversal never overtakes the collection it reverses.
    static func arrivalOrders(_ events: [Event], seeds: [UInt64]) -> [[Event]] {
        var orders = seeds.map { seed in
            events.sorted { mix($0.id, seed) < mix($1.id, seed) }
        }
        orders.append(events.reversed())
        orders.append(Array(events.dropFirst()) + [events[0]])
        let produced = events.filter { $0.type.topic == .collections }
        return orders.map { order in
            var next = produced.makeIterator()
            return order.map { $0.type.topic == .collections ? next.next()! : $0 }
        }
    }

    static func mix(_ id: UUID, _ seed: UInt64) -> UInt64 {
        var z = UInt64(id.uuid.15) &+ UInt64(id.uuid.14) << 8 &+ UInt64(id.uuid.13) << 16 &+ seed &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static let streams = zip(
        Gen.int(in: 0...7), Gen.bool(0.5), Gen.int(in: 0...50_000).array(of: 1...28),
        Gen.uint64().array(of: 4))

    @Test func everyArrivalOrder_endsInTheBusinessOrderState_withTheSameTasksInForce() async {
        await propertyCheck(count: 60, input: Self.streams) { program, address, steps, seeds in
            let (events, business) = Self.stream(program: program, address: address, steps: steps)
            let expectedTasks = Self.inForce(business.published)
            for (index, order) in Self.arrivalOrders(events, seeds: seeds).enumerated() {
                var arrival = Arrival()
                for event in order { arrival.receive(event) }
                #expect(arrival.refusals.isEmpty, "arrival order \(index): \(arrival.refusals)")
                #expect(arrival.waiting.isEmpty, "arrival order \(index): \(arrival.waiting.count) never applied")
                #expect(arrival.driver.state == business.state, "arrival order \(index): state differs")
                let tasks = Self.inForce(arrival.driver.published)
                #expect(Set(tasks.keys) == Set(expectedTasks.keys), "arrival order \(index): tasks in force differ")
                #expect(tasks == expectedTasks, "arrival order \(index): terms of tasks in force differ")
                // No task id is ever published with two contents.
                var contents: [UUID: [UInt8]] = [:]
                for task in arrival.driver.published {
                    let bytes = task.wireJSON()
                    // The members writer and the JSON tree's serializer write the same canonical bytes.
                    #expect(bytes == task.wireValue.serialized())
                    #expect(contents.updateValue(bytes, forKey: task.id).map { $0 == bytes } ?? true, "task \(task.id) published twice, differently")
                }
            }
        }
    }

    /// The same, with a sweep moving business time on at the end of each run.
    @Test func aFinalSweepJudgesTheSameDaysWhateverTheArrivalOrder() async {
        await propertyCheck(count: 25, input: Self.streams) { program, address, steps, seeds in
            let (events, business) = Self.stream(program: program, address: address, steps: steps)
            var reference = business
            let asOf = (reference.current.referralsEvaluatedThrough ?? Fx.date("2026-03-02")).adding(days: 75)
            reference.sweep(asOf: asOf, id: 9_000)
            for order in Self.arrivalOrders(events, seeds: Array(seeds.prefix(2))) {
                var arrival = Arrival()
                for event in order { arrival.receive(event) }
                arrival.driver.sweep(asOf: asOf, id: 9_000)
                #expect(arrival.driver.state == reference.state)
                #expect(Self.inForce(arrival.driver.published) == Self.inForce(reference.published))
            }
        }
    }
    /// Sweeps at random dates between arrivals (the daily sweep runs whenever
    /// it runs): the case ends where business order with the last sweep puts
    /// it, whatever was swept while events were still missing.
    @Test func sweepsAtRandomDates_betweenArrivals_endWhereBusinessOrderEnds() async {
        await propertyCheck(count: 12, input: zip(Self.streams, Gen.int(in: 0...1_000).array(of: 3))) { stream, sweepDays in
            let (program, address, steps, seeds) = stream
            let (events, business) = Self.stream(program: program, address: address, steps: steps)
            var reference = business
            let last = events.map { Policy().calendar.businessDate(of: $0.occurredAt) }.max()!
            let asOf = max(last, reference.current.referralsEvaluatedThrough ?? last).adding(days: 45)
            reference.sweep(asOf: asOf, id: 9_000)
            for order in Self.arrivalOrders(events, seeds: Array(seeds.prefix(1))).prefix(2) {
                var arrival = Arrival()
                for (index, event) in order.enumerated() {
                    arrival.receive(event)
                    // Now and then a sweep as of a day up to the last, among those already received.
                    for (k, pick) in sweepDays.enumerated() where pick % order.count == index && arrival.driver.state != nil {
                        let day = min(asOf, Policy().calendar.businessDate(of: event.occurredAt).adding(days: pick % 60))
                        arrival.driver.sweep(asOf: day, id: 9_100 + k)
                    }
                }
                arrival.driver.sweep(asOf: asOf, id: 9_000)
                #expect(arrival.refusals.isEmpty, "\(arrival.refusals)")
                // Which sweep or event took a referral (its task id) may differ; what and when may not.
                func taken(_ state: CaseState?) -> [String] {
                    (state?.referrals ?? []).map { "\($0.type.rawValue) \($0.issuedOn) \($0.arrearsCents) \(String(describing: $0.noticedOn))" }
                }
                #expect(taken(arrival.driver.state) == taken(reference.state))
                #expect(arrival.driver.state?.processes == reference.state?.processes)
                #expect(arrival.driver.state?.closedOn == reference.state?.closedOn)
                #expect(Self.inForce(arrival.driver.published) == Self.inForce(reference.published))
            }
        }
    }

    /// A late event re-derived from a checkpoint kept by an earlier late event
    /// decides exactly what a re-derivation from the application decides: the
    /// same tasks (ids and bytes), history lines and states, event by event.
    @Test func reDerivingFromACheckpoint_decidesWhatReDerivingFromTheStartDecides() async {
        let resumed = Counter()
        await propertyCheck(count: 60, input: Self.streams) { program, address, steps, seeds in
            let (events, _) = Self.stream(program: program, address: address, steps: steps)
            for (index, order) in Self.arrivalOrders(events, seeds: seeds).enumerated() {
                var fromStart = Arrival(), fromCheckpoint = Arrival(checkpointedCases: 4)
                for event in order {
                    fromStart.receive(event)
                    fromCheckpoint.receive(event)
                    #expect(fromCheckpoint.driver.state == fromStart.driver.state, "arrival order \(index): state differs")
                }
                #expect(fromCheckpoint.driver.published.map { $0.wireJSON() } == fromStart.driver.published.map { $0.wireJSON() },
                        "arrival order \(index): published tasks differ")
                #expect(fromCheckpoint.driver.changes == fromStart.driver.changes, "arrival order \(index): history differs")
                #expect(fromCheckpoint.refusals == fromStart.refusals)
                for _ in 0..<fromCheckpoint.driver.checkpoints.resumed { resumed.add() }
            }
        }
        // The comparison means something only if checkpoints were used.
        #expect(resumed.value > 200, "re-derivations from a checkpoint: \(resumed.value)")
    }

    /// The streams above mean something for an event type only if they carry
    /// it: every type, and the collections' consequences, appear in 200 streams.
    @Test func theStreamsReachEveryEventType() {
        var types = Set<EventType>(), tasks = Set<String>()
        var random = SplitMix(seed: 7)
        for _ in 0..<200 {
            let steps = (0..<28).map { _ in Int(random.next() % 50_001) }
            let (events, run) = Self.stream(program: Int(random.next() % 8), address: random.next() % 2 == 0, steps: steps)
            types.formUnion(events.map(\.type))
            for task in run.published {
                if case .caseReview(let review) = task.data, case .overpaidDisbursement = review.reason { tasks.insert("overpaid") }
                if task.target.hasPrefix("redisbursement:") { tasks.insert("redisbursement") }
                if task.type == .financialLevy { tasks.insert("levy") }
                if case .incomeWithholding(let notice) = task.data, notice.incomeSource == .unemploymentBenefits { tasks.insert("benefits") }
                if case .partyNotice(let notice) = task.data { tasks.insert(notice.letter.kind.rawValue) }
                if task.type == .intergovernmentalReferral { tasks.insert("intergovernmental") }
            }
        }
        #expect(Set(EventType.allCases).subtracting(types).isEmpty, "never generated: \(Set(EventType.allCases).subtracting(types))")
        #expect(tasks == Set(["overpaid", "redisbursement", "levy", "benefits", "intergovernmental"]).union(PartyNotice.Kind.allCases.map(\.rawValue)))
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            return BusinessOrderPropertyTests.mix(Fx.eventId(Int(state % 1_000_000)), state)
        }
    }
}
