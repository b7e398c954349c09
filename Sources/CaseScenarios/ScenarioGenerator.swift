import CaseDomain
import Foundation

/// A reproducible stream of input events for a population of cases, in
/// business-time order (`occurredAt` never decreases), the way a day-by-day
/// load from intake, the new-hire directory, employers and court clerks looks.
///
/// Memory: each case's plan (its one-off events, jobs and obligations: well
/// under a kilobyte) is built up front; events are produced one week at a time
/// (plans' events falling in the week, paydays' remittances grouped by
/// employer, wage reports, unrelated new hires), sorted, and rendered to bytes
/// only as they are taken. So memory grows with the number of cases and one
/// week's events, never with the length of the period or the total count.
/// The same configuration always yields the same bytes; no clock, no system randomness.
public struct ScenarioGenerator: Sequence, Sendable {
    public let configuration: ScenarioConfiguration

    public init(_ configuration: ScenarioConfiguration) {
        precondition(configuration.cases >= 0 && configuration.months >= 1, "need cases >= 0 and months >= 1")
        self.configuration = configuration
    }

    public func makeIterator() -> Iterator { Iterator(configuration) }

    /// Employers in the pool: roughly one per 20 cases, so big employers remit for many cases at once.
    static func employerCount(cases: Int) -> Int { Swift.max(12, cases / 20) }

    public struct Iterator: IteratorProtocol {
        private let config: ScenarioConfiguration
        private let employers: [EmployerProfile]
        private let plans: [CasePlan]
        /// Per plan: index of its next step not yet scheduled.
        private var stepCursor: [Int]
        private let windowDays = 7
        private let firstDay: Int
        private let endDay: Int
        private var windowStart: Int
        private var window: [Pending] = []
        private var windowPosition = 0
        private var poisonRNG = SplitMix64(seed: 0)
        private var strangersIssued = 0
        private var queuedPoison: ScenarioEvent?

        private enum Item {
            case step(plan: Int, step: Int)
            case remittance(employer: Int, payday: Int, chunk: Int, payments: [(plan: Int, cents: Int64)])
            case wage(plan: Int, job: Int, quarterEnd: Int)
            case strangerHire(person: Int, employer: Int, hireDay: Int)
        }

        private struct Pending {
            var at: Int64
            var sequence: Int
            var item: Item
        }

        init(_ config: ScenarioConfiguration) {
            self.config = config
            let employerCount = ScenarioGenerator.employerCount(cases: config.cases)
            employers = (0..<employerCount).map { EmployerProfile(index: $0, seed: config.seed) }
            plans = (0..<config.cases).map { CasePlan(index: $0, configuration: config, employerCount: employerCount) }
            stepCursor = Array(repeating: 0, count: config.cases)
            firstDay = config.startDate.daysSinceEpoch
            endDay = config.endDate.daysSinceEpoch
            windowStart = firstDay
        }

        public mutating func next() -> ScenarioEvent? {
            if let poison = queuedPoison {
                queuedPoison = nil
                return poison
            }
            while windowPosition == window.count {
                guard windowStart < endDay else { return nil }
                fillWindow()
            }
            let pending = window[windowPosition]
            windowPosition += 1
            let event = render(pending)
            // Poison rides next to real traffic; p/(1-p) per real event makes it a share p of all messages.
            let share = Swift.min(config.poisonShare, 0.5)
            if share > 0 && poisonRNG.chance(share / (1 - share)) {
                queuedPoison = Poison.make(
                    classIndex: poisonRNG.weighted(config.poisonMix.weights), after: event, rng: &poisonRNG, config: config)
            }
            return event
        }

        // MARK: one week

        private mutating func fillWindow() {
            let w0 = windowStart
            let w1 = Swift.min(windowStart + windowDays, endDay)
            let lowSecond = Int64(w0) * 86_400
            let highSecond = Int64(w1) * 86_400
            windowStart = w1
            window.removeAll(keepingCapacity: true)
            windowPosition = 0
            poisonRNG = SplitMix64(config.seed, 0x9015, UInt64(w0))
            var sequence = 0
            func append(_ at: Int64, _ item: Item) {
                window.append(Pending(at: at, sequence: sequence, item: item))
                sequence += 1
            }

            // Per employer, once a week: the paydays whose remittance is received this week and the
            // quarter (if any) whose wage report arrives this week. Plans then only filter by their jobs.
            var remittedPaydays = [[Int]](repeating: [], count: employers.count)
            var reportedQuarter = [Int](repeating: -1, count: employers.count)
            for (e, employer) in employers.enumerated() {
                remittedPaydays[e] = employer.paydays(from: w0 - 21, to: w1).filter {
                    let received = employer.remittanceReceived(payday: $0)
                    return received >= w0 && received < w1
                }
                reportedQuarter[e] = quarterEnd(from: w0 - employer.wageReportLag, to: w1 - employer.wageReportLag) ?? -1
            }

            var payments: [Int64: [(plan: Int, cents: Int64)]] = [:]
            for p in plans.indices {
                var cursor = stepCursor[p]
                let stepCount = plans[p].steps.count
                if cursor < stepCount {
                    while cursor < stepCount {
                        let at = plans[p].steps[cursor].at
                        guard at < highSecond else { break }
                        if at >= lowSecond { append(at, .step(plan: p, step: cursor)) }
                        cursor += 1
                    }
                    stepCursor[p] = cursor
                }

                if plans[p].jobs.isEmpty { continue }
                // Index the plan in place: copying it out would retain each of its arrays and strings.
                let lastDay = plans[p].lastDay
                for j in plans[p].jobs.indices {
                    let job = plans[p].jobs[j]
                    let e = job.employer
                    if let from = job.withholdFrom {
                        let until = Swift.min(job.endDay, lastDay)
                        for payday in remittedPaydays[e] where payday >= from && payday < until {
                            let cents = withheld(plan: p, periodsPerYear: employers[e].frequency.periodsPerYear, payday: payday)
                            if cents > 0 { payments[Int64(e) << 32 | Int64(payday), default: []].append((p, cents)) }
                        }
                    }
                    let quarterEnd = reportedQuarter[e]
                    if quarterEnd >= 0 {
                        let quarterStart = ScenarioDate(daysSinceEpoch: quarterEnd).adding(months: -3).adding(days: 1).daysSinceEpoch
                        // Only quarters with days worked: the same span the wage is computed over.
                        let workedUntil = Swift.min(job.endDay, lastDay, quarterEnd + 1)
                        if workedUntil > Swift.max(job.hireDay, quarterStart) {
                            append(Int64(quarterEnd + employers[e].wageReportLag) * 86_400 + secondOfDay(UInt64(p), UInt64(quarterEnd), UInt64(j)),
                                   .wage(plan: p, job: j, quarterEnd: quarterEnd))
                        }
                    }
                }
            }

            for key in payments.keys.sorted() {
                let employer = Int(key >> 32)
                let payday = Int(key & 0xFFFF_FFFF)
                let received = employers[employer].remittanceReceived(payday: payday)
                let at = Int64(received) * 86_400 + secondOfDay(UInt64(employer), UInt64(payday), 0x7E)
                // Large employers split a payday across files of at most 100 cases.
                let all = payments[key]!
                for (chunk, start) in stride(from: 0, to: all.count, by: 100).enumerated() {
                    append(at + Int64(chunk), .remittance(employer: employer, payday: payday, chunk: chunk,
                                                          payments: Array(all[start..<Swift.min(start + 100, all.count)])))
                }
            }

            // The directory reports everyone's hires, most of them people with no case.
            var rng = SplitMix64(config.seed, 0x57A, UInt64(w0))
            let expected = config.unrelatedNewHiresPerCase * Double(config.cases) * Double(w1 - w0)
                / Double(Swift.max(1, endDay - firstDay))
            let count = Int(expected) + (rng.chance(expected - Double(Int(expected))) ? 1 : 0)
            for _ in 0..<count {
                let day = ScenarioDate(daysSinceEpoch: w0 + rng.int(0...(w1 - w0 - 1))).nextWeekday.daysSinceEpoch
                guard day < w1 else { continue }
                let person = 2 * config.cases + strangersIssued
                strangersIssued += 1
                let employer = Int(Double(employers.count) * rng.unit())
                append(Int64(day) * 86_400 + Int64(rng.int((14 * 3600)...(22 * 3600))),
                       .strangerHire(person: person, employer: employer, hireDay: day - rng.int(3...20)))
            }

            window.sort { ($0.at, $0.sequence) < ($1.at, $1.sequence) }
        }

        private func withheld(plan p: Int, periodsPerYear: Int64, payday: Int) -> Int64 {
            let perPayday = plans[p].obligation(on: payday) * 12 / periodsPerYear
            switch plans[p].compliance {
            case .exact: return perPayday
            case .over(let permille), .short(let permille): return perPayday * permille / 1000
            case .erratic:
                let draw = SplitMix64.hash(config.seed, UInt64(p), UInt64(payday)) % 100
                return draw < 35 ? 0 : draw < 50 ? 2 * perPayday : perPayday
            }
        }

        private func secondOfDay(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> Int64 {
            Int64(14 * 3600) + Int64(SplitMix64.hash(config.seed ^ a, b, c) % UInt64(8 * 3600))
        }

        /// The last day of a calendar quarter in `[from, to)`, if one is (ranges here are a week long).
        private func quarterEnd(from: Int, to: Int) -> Int? {
            let (y, m, _) = ScenarioDate(daysSinceEpoch: from).civil
            let endMonth = (m - 1) / 3 * 3 + 3
            let end = ScenarioDate(daysSinceEpoch: ScenarioDate.days(year: y, month: endMonth, day: ScenarioDate.daysIn(month: endMonth, year: y)))
            return end.daysSinceEpoch < to ? end.daysSinceEpoch : nil
        }

        // MARK: rendering

        private func render(_ pending: Pending) -> ScenarioEvent {
            let occurredAt = Date(timeIntervalSince1970: TimeInterval(pending.at))
            switch pending.item {
            case .step(let p, let s):
                return EventRenderer(config: config, plan: plans[p], employers: employers)
                    .render(step: plans[p].steps[s], stepIndex: s, occurredAt: occurredAt)
            case .remittance(let e, let payday, let chunk, let payments):
                let employer = employers[e]
                var rng = SplitMix64(config.seed, 0x2E517, UInt64(e) << 32 | UInt64(payday) << 8 | UInt64(chunk))
                return ScenarioEvents.remittance(
                    fein: employer.employer.fein,
                    payments: payments.map { ScenarioPayment(caseId: plans[$0.plan].caseId, amountCents: $0.cents) },
                    payDate: ScenarioDate(daysSinceEpoch: payday),
                    receivedOn: ScenarioDate(daysSinceEpoch: employer.remittanceReceived(payday: payday)),
                    occurredAt: occurredAt, id: rng.uuid())
            case .wage(let p, let j, let quarterEnd):
                let plan = plans[p]
                let job = plan.jobs[j]
                let employer = employers[job.employer]
                var rng = SplitMix64(config.seed, 0x3A6E, UInt64(p) << 20 | UInt64(quarterEnd) << 3 | UInt64(j))
                let quarterStart = ScenarioDate(daysSinceEpoch: quarterEnd).adding(months: -3).adding(days: 1).daysSinceEpoch
                let worked = Swift.min(job.endDay, plan.lastDay, quarterEnd + 1) - Swift.max(job.hireDay, quarterStart)
                let days = quarterEnd + 1 - quarterStart
                let wages = job.annualPayCents / 4 * Int64(worked) / Int64(days) * Int64(rng.int(90...110)) / 100
                let q = ScenarioDate(daysSinceEpoch: quarterEnd)
                return ScenarioEvents.quarterlyWage(
                    ssn: plan.noncustodialSSN, fein: employer.employer.fein,
                    employerName: employer.employer.name, quarter: "\(q.year)Q\(q.month / 3)", wagesCents: wages,
                    occurredAt: occurredAt, id: rng.uuid())
            case .strangerHire(let person, let e, let hireDay):
                let stranger = CaseIdentity.stranger(seed: config.seed, person: person)
                let employer = employers[e].employer
                var rng = SplitMix64(config.seed, 0x57A2, UInt64(person))
                return ScenarioEvents.newHire(
                    ssn: stranger.ssn, fein: employer.fein, employerName: employer.name, employerAddress: employer.address,
                    firstName: stranger.first, lastName: stranger.last, employeeAddress: stranger.address,
                    hireDate: ScenarioDate(daysSinceEpoch: hireDay), receivedOn: ScenarioDate(occurredAt),
                    occurredAt: occurredAt, id: rng.uuid())
            }
        }
    }
}

/// Renders one planned step of a case through the public builders, so the
/// generator and the tests' single events share one writer.
struct EventRenderer {
    let config: ScenarioConfiguration
    let plan: CasePlan
    let employers: [EmployerProfile]

    func render(step: CasePlan.Step, stepIndex: Int, occurredAt: Date) -> ScenarioEvent {
        var rng = SplitMix64(config.seed, UInt64(plan.index), UInt64(stepIndex) | 0xE7 << 32)
        let id = rng.uuid()
        let caseId = plan.caseId
        let day = ScenarioDate(occurredAt)
        let ncp = ScenarioParty.noncustodialPartyId(caseId: caseId)
        let court = courtSource()
        switch step.kind {
        case .application:
            let people = plan.identity(seed: config.seed)
            let listed = plan.employerListed ? plan.jobs.first : nil
            let custodial = ScenarioParty(
                partyId: ScenarioParty.custodialPartyId(caseId: caseId), firstName: people.custodial.firstName,
                lastName: people.custodial.lastName, dateOfBirth: people.custodial.dateOfBirth, ssn: people.custodial.ssn,
                address: people.custodialAddress)
            let noncustodial = ScenarioParty(
                partyId: ncp, firstName: people.noncustodial.firstName, lastName: people.noncustodial.lastName,
                dateOfBirth: rng.chance(0.9) ? people.noncustodial.dateOfBirth : nil,
                ssn: plan.ssnKnownAtIntake ? people.noncustodial.ssn : nil,
                address: plan.addressKnownAtIntake ? people.noncustodialAddress : nil,
                employer: listed.map { employers[$0.employer].employer })
            let children = people.children.enumerated().map { i, kid in
                ScenarioChild(childId: ScenarioChild.childId(caseId: caseId, number: i + 1), firstName: kid.firstName,
                              lastName: kid.lastName, dateOfBirth: kid.dateOfBirth,
                              paternityEstablished: plan.paternityMask & (1 << UInt8(i)) != 0)
            }
            return ScenarioEvents.intakeApplication(
                caseId: caseId, program: plan.program, receivedOn: ScenarioDate(daysSinceEpoch: plan.receivedOn),
                custodialParty: custodial, noncustodialParty: noncustodial, children: children,
                existingOrder: plan.orderIsExisting ? plan.order : nil, occurredAt: occurredAt, id: id)
        case .noncustodialAddress(let moved):
            let people = plan.identity(seed: config.seed)
            return ScenarioEvents.partyUpdate(
                caseId: caseId, partyId: ncp, address: moved ? people.noncustodialNewAddress : people.noncustodialAddress,
                occurredAt: occurredAt, id: id)
        case .custodialMoved:
            return ScenarioEvents.partyUpdate(
                caseId: caseId, partyId: ScenarioParty.custodialPartyId(caseId: caseId),
                address: plan.identity(seed: config.seed).custodialNewAddress, occurredAt: occurredAt, id: id)
        case .noncustodialSSN:
            return ScenarioEvents.partyUpdate(caseId: caseId, partyId: ncp, ssn: plan.noncustodialSSN,
                                              occurredAt: occurredAt, id: id)
        case .noncustodialEmployer(let job):
            return ScenarioEvents.partyUpdate(caseId: caseId, partyId: ncp, employer: employers[plan.jobs[job].employer].employer,
                                              occurredAt: occurredAt, id: id)
        case .noncustodialDeceased(let deathDay):
            return ScenarioEvents.partyUpdate(caseId: caseId, partyId: ncp, deceasedOn: ScenarioDate(daysSinceEpoch: deathDay),
                                              occurredAt: occurredAt, id: id)
        case .newHire(let job):
            let people = plan.identity(seed: config.seed)
            let employer = employers[plan.jobs[job].employer].employer
            return ScenarioEvents.newHire(
                ssn: people.noncustodial.ssn, fein: employer.fein, employerName: employer.name, employerAddress: employer.address,
                firstName: people.noncustodial.firstName, lastName: people.noncustodial.lastName,
                employeeAddress: rng.chance(0.7) ? people.noncustodialAddress : nil,
                hireDate: ScenarioDate(daysSinceEpoch: plan.jobs[job].hireDay), receivedOn: day, occurredAt: occurredAt, id: id)
        case .termination(let job, let next):
            let newEmployer = next.flatMap { $0 < plan.jobs.count ? employers[plan.jobs[$0].employer].employer : nil }
            return ScenarioEvents.termination(
                ssn: plan.noncustodialSSN, fein: employers[plan.jobs[job].employer].employer.fein,
                terminatedOn: ScenarioDate(daysSinceEpoch: plan.jobs[job].endDay), newEmployer: newEmployer,
                occurredAt: occurredAt, id: id)
        case .iwoResponse(let job, let accepted, let coverage):
            return ScenarioEvents.iwoResponse(
                caseId: caseId, fein: employers[plan.jobs[job].employer].employer.fein, status: accepted ? .accepted : .notEmployed,
                medicalCoverage: coverage,
                occurredAt: occurredAt, id: id)
        case .paternity(let child, let method):
            let childId = ScenarioChild.childId(caseId: caseId, number: child + 1)
            if let method {
                return ScenarioEvents.paternityEstablished(caseId: caseId, childId: childId, method: method,
                                                           occurredAt: occurredAt, source: court, id: id)
            }
            return ScenarioEvents.paternityExcluded(caseId: caseId, childId: childId, occurredAt: occurredAt, source: court, id: id)
        case .hearing(let number, let type, let scheduledFor):
            return ScenarioEvents.hearingScheduled(
                caseId: caseId, hearingId: "\(caseId)-H\(number)", hearingType: type,
                scheduledFor: Date(timeIntervalSince1970: TimeInterval(scheduledFor)), courtName: courtName(),
                occurredAt: occurredAt, source: court, id: id)
        case .service(let completed, let attemptedOn):
            let attempted = ScenarioDate(daysSinceEpoch: attemptedOn)
            return completed
                ? ScenarioEvents.serviceCompleted(caseId: caseId, partyId: ncp, attemptedOn: attempted, occurredAt: occurredAt, source: court, id: id)
                : ScenarioEvents.serviceFailed(caseId: caseId, partyId: ncp, attemptedOn: attempted, occurredAt: occurredAt, source: court, id: id)
        case .orderEstablished:
            return ScenarioEvents.orderEstablished(caseId: caseId, terms: plan.order!, occurredAt: occurredAt, source: court, id: id)
        case .orderModified(let support, let effectiveOn, let medical):
            return ScenarioEvents.orderModified(
                caseId: caseId, orderId: plan.order!.orderId, monthlySupportCents: support,
                effectiveOn: ScenarioDate(daysSinceEpoch: effectiveOn), monthlyArrearsPaymentCents: plan.order!.monthlyArrearsPaymentCents,
                medicalSupportOrdered: medical, occurredAt: occurredAt, source: court, id: id)
        case .orderTerminated(let terminatedOn, let reason):
            return ScenarioEvents.orderTerminated(
                caseId: caseId, orderId: plan.order!.orderId, terminatedOn: ScenarioDate(daysSinceEpoch: terminatedOn), reason: reason,
                occurredAt: occurredAt, source: court, id: id)
        case .contempt(let purge, let dueOn):
            return ScenarioEvents.contemptFinding(caseId: caseId, purgeAmountCents: purge, complianceDueOn: ScenarioDate(daysSinceEpoch: dueOn),
                                                  occurredAt: occurredAt, source: court, id: id)
        case .closure(let reason):
            return ScenarioEvents.closureRequest(caseId: caseId, reason: reason, occurredAt: occurredAt, id: id)
        case let .collection(number, source, cents, receivedOn, joint):
            let received = ScenarioDate(daysSinceEpoch: receivedOn)
            let offset = source == .federalTaxOffset || source == .stateTaxOffset
            return ScenarioEvents.collectionReceived(
                caseId: caseId, collectionId: collectionId(number), source: source, amountCents: cents, receivedOn: received,
                jointReturn: offset ? joint : nil, taxYear: offset ? Int64(received.year - 1) : nil, occurredAt: occurredAt, id: id)
        case let .reversal(collection, reason, cents, reversedOn):
            return ScenarioEvents.collectionReversed(
                caseId: caseId, collectionId: collectionId(collection), reason: reason, amountCents: cents,
                reversedOn: ScenarioDate(daysSinceEpoch: reversedOn), occurredAt: occurredAt, id: id)
        case let .adjustment(number, cents, reason):
            return ScenarioEvents.accountAdjusted(
                caseId: caseId, adjustmentId: "\(caseId)-ADJ\(number)", amountCents: cents, reason: reason, occurredAt: occurredAt, id: id)
        case let .disbursementReturned(collection, reason):
            return ScenarioEvents.disbursementReturned(
                caseId: caseId, disbursementTaskId: disbursementTaskId(collection: collection), reason: reason, occurredAt: occurredAt, id: id)
        case let .unemploymentClaim(filedOn, weekly):
            let people = plan.identity(seed: config.seed)
            return ScenarioEvents.unemploymentClaim(
                ssn: plan.noncustodialSSN, firstName: people.noncustodial.firstName, lastName: people.noncustodial.lastName,
                address: rng.chance(0.6) ? people.noncustodialAddress : nil, claimFiledOn: ScenarioDate(daysSinceEpoch: filedOn),
                weeklyBenefitCents: weekly, receivedOn: day.adding(days: -rng.int(0...2)), occurredAt: occurredAt, id: id)
        case let .reviewRequested(by):
            return ScenarioEvents.reviewRequested(caseId: caseId, requestedBy: by, requestedOn: day, occurredAt: occurredAt, id: id)
        case let .closureResponse(informationProvided):
            return ScenarioEvents.closureResponse(caseId: caseId, informationProvided: informationProvided, respondedOn: day,
                                                  occurredAt: occurredAt, id: id)
        case let .remedyContested(remedy):
            return ScenarioEvents.remedyContested(caseId: caseId, remedy: remedy, contestedOn: day, occurredAt: occurredAt, id: id)
        case let .contestDecided(remedy, outcome):
            return ScenarioEvents.contestDecided(caseId: caseId, remedy: remedy, outcome: outcome, decidedOn: day, occurredAt: occurredAt, id: id)
        case let .paymentAgreement(monthly):
            return ScenarioEvents.paymentAgreement(caseId: caseId, agreementId: "\(caseId)-AGR", monthlyCents: monthly, signedOn: day,
                                                   occurredAt: occurredAt, id: id)
        case let .incarcerated(until):
            return ScenarioEvents.partyUpdate(caseId: caseId, partyId: ncp, incarceratedUntil: ScenarioDate(daysSinceEpoch: until),
                                              occurredAt: occurredAt, id: id)
        case let .financialMatch(bank, kind, balance):
            let people = plan.identity(seed: config.seed)
            return ScenarioEvents.financialAccountMatch(
                ssn: plan.noncustodialSSN, firstName: people.noncustodial.firstName, lastName: people.noncustodial.lastName,
                institution: ScenarioEmployer.banks[bank], accountKind: kind, balanceCents: balance,
                matchedOn: day.adding(days: -rng.int(1...5)), occurredAt: occurredAt, id: id)
        }
    }

    private func collectionId(_ number: Int) -> String { "\(plan.caseId)-COL\(number)" }

    /// The disbursement task csworker published for a collection, as the
    /// disbursement unit knows it: the contract's id rule over the
    /// `collection.received` event's id (the event of this plan's step).
    private func disbursementTaskId(collection number: Int) -> String {
        for (index, step) in plan.steps.enumerated() {
            guard case .collection(number, _, _, _, _) = step.kind else { continue }
            var rng = SplitMix64(config.seed, UInt64(plan.index), UInt64(index) | 0xE7 << 32)
            let eventId = UUID(uuidString: rng.uuid())!
            return TaskIdentity.id(causationId: eventId, caseId: plan.caseId, type: .disbursement,
                                   target: "collection:\(collectionId(number))", action: .issue).lowercasedText
        }
        return UUIDText.format(0, UInt64(number))
    }

    /// Cases are heard in the county the custodial parent lives in.
    private func courtSource() -> String { "court-clerk-" + plan.county }

    private func courtName() -> String {
        let words = plan.county.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }
        return words.joined(separator: " ") + " County District Court"
    }
}
