/// One case's whole life over the simulated period, decided up front from
/// (seed, case number): which one-off events happen when (`steps`), where the
/// noncustodial parent works (`jobs`) and what is owed (`obligations`). The
/// recurring employer reports (withholding on each payday, quarterly wages)
/// are derived from jobs and obligations week by week, so a plan stays small.
struct CasePlan {
    enum StepKind {
        case application
        case noncustodialAddress(moved: Bool)
        case custodialMoved
        case noncustodialSSN
        case noncustodialEmployer(job: Int)
        case noncustodialDeceased(day: Int)
        case newHire(job: Int)
        case termination(job: Int, newEmployerJob: Int?)
        case iwoResponse(job: Int, accepted: Bool, coverage: ScenarioEvents.MedicalCoverage?)
        /// `method` nil: the alleged father was excluded.
        case paternity(child: Int, method: ScenarioEvents.PaternityMethod?)
        case hearing(number: Int, type: ScenarioEvents.HearingType, scheduledFor: Int64)
        case service(completed: Bool, attemptedOn: Int)
        case orderEstablished
        case orderModified(monthlySupportCents: Int64, effectiveOn: Int, medical: Bool)
        case orderTerminated(day: Int, reason: ScenarioEvents.OrderTerminationReason)
        case contempt(purgeCents: Int64, dueOn: Int)
        case closure(reason: String)
        /// Money from other sources than an employer's withholding (contract v1.1).
        case collection(number: Int, source: ScenarioEvents.CollectionSource, cents: Int64, receivedOn: Int, jointReturn: Bool)
        case reversal(collection: Int, reason: ScenarioEvents.ReversalReason, cents: Int64?, reversedOn: Int)
        case adjustment(number: Int, cents: Int64, reason: ScenarioEvents.AdjustmentReason)
        case disbursementReturned(collection: Int, reason: ScenarioEvents.DisbursementReturnReason)
        case unemploymentClaim(filedOn: Int, weeklyCents: Int64)
        case financialMatch(bank: Int, kind: ScenarioEvents.AccountKind, balanceCents: Int64)
        /// The processes around the rules (contract v1.1).
        case reviewRequested(by: ScenarioEvents.Requester)
        case closureResponse(informationProvided: Bool)
        case remedyContested(ScenarioEvents.Remedy)
        case contestDecided(ScenarioEvents.Remedy, ScenarioEvents.ContestOutcome)
        case paymentAgreement(monthlyCents: Int64)
        case incarcerated(until: Int)
    }

    struct Step {
        var at: Int64
        var kind: StepKind
    }

    struct Job {
        var employer: Int
        var hireDay: Int
        /// Exclusive; `Int.max` while still employed.
        var endDay: Int = .max
        /// The employer listed on the application had already let the parent go.
        var stale = false
        /// When the agency can tie this job to the case (`Int.max`: never).
        var knownDay: Int = .max
        /// First payday withholding may happen on, once the employer accepted the IWO.
        var withholdFrom: Int?
        var annualPayCents: Int64
    }

    enum Compliance {
        /// Withholds what is due.
        case exact
        /// Withholds more, per mille of what is due (pays arrears down).
        case over(Int64)
        /// Withholds less, per mille (arrears grow).
        case short(Int64)
        /// Skips some paydays and doubles up on others.
        case erratic
    }

    let index: Int
    let caseId: String
    let program: ScenarioEvents.Program
    let receivedOn: Int
    let ssnKnownAtIntake: Bool
    let addressKnownAtIntake: Bool
    /// The application names the noncustodial parent's employer (job 0).
    let employerListed: Bool
    /// The custodial parent's county (out-of-state parents: Mecklenburg), whose clerk sends the court events.
    let county: String
    /// Kept because every employer report about the parent is keyed by it (re-deriving the people costs more).
    let noncustodialSSN: String
    /// Bit i set: child i's paternity established at intake.
    let paternityMask: UInt8
    var steps: [Step] = []
    var jobs: [Job] = []
    var order: ScenarioOrderTerms?
    var orderIsExisting = false
    /// (day the amount applies from, monthly current support + arrears payment).
    var obligations: [(day: Int, monthlyCents: Int64)] = []
    var compliance: Compliance = .exact
    /// Withholding stops here (death).
    var lastDay: Int = .max

    func obligation(on day: Int) -> Int64 {
        var amount: Int64 = 0
        for o in obligations where o.day <= day { amount = o.monthlyCents }
        return amount
    }

    func identity(seed: UInt64) -> CaseIdentity {
        CaseIdentity(seed: seed, caseIndex: index, asOf: ScenarioDate(daysSinceEpoch: receivedOn),
                     noncustodialOutOfState: program == .interstate || ncpOutOfState)
    }

    private var ncpOutOfState = false

    init(index: Int, configuration c: ScenarioConfiguration, employerCount: Int) {
        self.index = index
        caseId = c.caseId(index)
        var rng = SplitMix64(c.seed, 0xCA5E, UInt64(index))
        let start = c.startDate.daysSinceEpoch
        let horizon = c.endDate.daysSinceEpoch

        program = [.tanf, .nonTANF, .medicaid, .fosterCare, .interstate][rng.weighted(c.programMix.weights)]
        ncpOutOfState = rng.chance(0.1)
        receivedOn = ScenarioDate(daysSinceEpoch: start + rng.int(0...(c.intakeDays - 1))).nextWeekday.daysSinceEpoch
        ssnKnownAtIntake = !rng.chance(c.unknownSSNShare)
        addressKnownAtIntake = !rng.chance(c.unknownAddressShare)
        employerListed = !rng.chance(c.unknownEmployerShare)
        let hireBeforeIntake = rng.chance(c.newHireBeforeIntakeShare)
        let existingOrder = rng.chance(c.existingOrderShare)

        let people = CaseIdentity(seed: c.seed, caseIndex: index, asOf: ScenarioDate(daysSinceEpoch: receivedOn),
                                  noncustodialOutOfState: program == .interstate || ncpOutOfState)
        noncustodialSSN = people.noncustodial.ssn
        county = FakePeople.homePlaces.first { $0.city == people.custodialAddress.city }?.county ?? "mecklenburg"
        var mask: UInt8 = 0
        for i in people.children.indices where !rng.chance(c.childWithoutPaternityShare) { mask |= 1 << UInt8(i) }
        paternityMask = mask

        // Intake: the application is keyed in a few business days after it arrives.
        let opened = ScenarioDate(daysSinceEpoch: receivedOn).addingWeekdays(rng.int(0...3)).daysSinceEpoch
        func businessSecond(_ r: inout SplitMix64) -> Int64 { Int64(r.int((14 * 3600)...(22 * 3600))) }
        func at(_ day: Int) -> Int64 { Int64(day) * 86_400 + businessSecond(&rng) }
        func weekday(_ day: Int) -> Int { ScenarioDate(daysSinceEpoch: day).nextWeekday.daysSinceEpoch }
        /// A local court time (e.g. 9:00 or 13:30 America/Chicago) as UTC seconds.
        func courtTime(_ day: Int, localSeconds: Int) -> Int64 {
            let noon = Int64(day) * 86_400 + 18 * 3600
            return Int64(day) * 86_400 + Int64(localSeconds - WireTime.centralOffsetSeconds(atUTC: noon))
        }
        var newSteps: [Step] = [Step(at: at(opened), kind: .application)]
        func add(_ day: Int, _ kind: StepKind) {
            let day = max(weekday(day), opened + 1)
            newSteps.append(Step(at: at(day), kind: kind))
        }

        // Identity facts the agency learns after intake.
        let ssnDay = ssnKnownAtIntake ? opened : (rng.chance(0.85) ? opened + rng.int(5...45) : Int.max)
        if !ssnKnownAtIntake && ssnDay != .max { add(ssnDay, .noncustodialSSN) }
        let addressDay = addressKnownAtIntake ? opened : (rng.chance(0.8) ? opened + rng.int(7...75) : Int.max)
        if !addressKnownAtIntake && addressDay != .max { add(addressDay, .noncustodialAddress(moved: false)) }
        if addressDay != .max && rng.chance(0.1) { add(addressDay + rng.int(60...300), .noncustodialAddress(moved: true)) }
        if rng.chance(0.05) { add(opened + rng.int(30...300), .custodialMoved) }

        // Employment. Employers are drawn with a skew so a few big ones employ many parents.
        func pickEmployer() -> Int { Int(Double(employerCount) * pow2(rng.unit())) }
        func pay() -> Int64 { Int64(rng.int(1_800_000...7_000_000) / 100 * 100) }
        var jobs: [Job] = []
        if employerListed {
            let stale = rng.chance(0.12)
            var job = Job(employer: pickEmployer(), hireDay: receivedOn - rng.int(120...1500), stale: stale, knownDay: opened, annualPayCents: pay())
            if stale { job.endDay = receivedOn - rng.int(10...90) }
            jobs.append(job)
        } else if hireBeforeIntake && opened - start >= 3 {
            // Reported to the directory before the case exists; matched once the case and SSN are known.
            let reported = max(start, opened - rng.int(2...30))
            if reported < opened {
                var job = Job(employer: pickEmployer(), hireDay: reported - rng.int(3...20), annualPayCents: pay())
                job.knownDay = max(opened, ssnDay)
                jobs.append(job)
                newSteps.append(Step(at: Int64(reported) * 86_400 + businessSecond(&rng), kind: .newHire(job: 0)))
            }
        } else if rng.chance(0.5) {
            // Working, but nobody told the agency: a caseworker may learn it, or only wage records show it.
            var job = Job(employer: pickEmployer(), hireDay: receivedOn - rng.int(60...900), annualPayCents: pay())
            if rng.chance(0.4) {
                job.knownDay = weekday(opened + rng.int(10...90))
                add(job.knownDay, .noncustodialEmployer(job: 0))
            }
            jobs.append(job)
        } else if rng.chance(0.65) {
            let hire = opened + rng.int(15...200)
            var job = Job(employer: pickEmployer(), hireDay: hire, annualPayCents: pay())
            let reported = weekday(hire + rng.int(3...20))
            job.knownDay = max(reported, ssnDay)
            jobs.append(job)
            add(reported, .newHire(job: 0))
        }
        // Job changes: some parents leave, some go straight to a new employer, who reports the hire.
        while let last = jobs.last, jobs.count < 4 {
            let current = jobs.count - 1
            var nextHire: Int?
            var namedInTermination = false
            if last.stale {
                if rng.chance(0.5) { nextHire = opened + rng.int(20...150) }
            } else if rng.chance(0.3) {
                let end = max(last.hireDay, opened) + rng.int(45...300)
                guard end < horizon else { break }
                jobs[current].endDay = end
                namedInTermination = rng.chance(0.5)
                if namedInTermination { nextHire = end + rng.int(1...14) } else if rng.chance(0.45) { nextHire = end + rng.int(20...150) }
                // Employers tell the agency about leavers they were withholding from or that it had asked about.
                if last.knownDay < end {
                    add(end + rng.int(3...20), .termination(job: current, newEmployerJob: namedInTermination ? current + 1 : nil))
                }
            }
            guard let hire = nextHire, hire < horizon else { break }
            var job = Job(employer: pickEmployer(), hireDay: hire, annualPayCents: pay())
            let reported = weekday(hire + rng.int(3...20))
            job.knownDay = max(reported, ssnDay, opened)
            if namedInTermination, last.knownDay < jobs[current].endDay { job.knownDay = min(job.knownDay, jobs[current].endDay + 3) }
            jobs.append(job)
            add(reported, .newHire(job: jobs.count - 1))
        }

        let located = min(addressDay, jobs.map(\.knownDay).min() ?? .max)

        // Paternity for children without a legal father.
        var paternityDone = opened
        var excludedCount = 0
        var lastExclusion = opened
        let unestablished = people.children.indices.filter { mask & (1 << UInt8($0)) == 0 }
        for child in unestablished {
            guard located != .max || rng.chance(0.5) else {
                paternityDone = .max
                continue
            }
            let day = weekday(max(opened, located == .max ? opened : located) + rng.int(30...150))
            if rng.chance(0.1) {
                excludedCount += 1
                lastExclusion = max(lastExclusion, day)
                add(day, .paternity(child: child, method: nil))
            } else {
                let method: ScenarioEvents.PaternityMethod = [.acknowledgment, .geneticTest, .adjudication][rng.weighted([30, 50, 20])]
                add(day, .paternity(child: child, method: method))
            }
            if paternityDone != .max { paternityDone = max(paternityDone, day) }
        }
        let allExcluded = !people.children.isEmpty && excludedCount == people.children.count

        // The support order: already entered, or established at a hearing once located and paternity is settled.
        func supportAmount() -> Int64 { Int64(15_000 + Int(105_000.0 * pow2(rng.unit())) / 500 * 500) }
        let docket = "\(ScenarioDate(daysSinceEpoch: receivedOn).year % 100)CVD\(String(format6(index % 1_000_000)))"
        var hearings = 0
        var orderDay = Int.max
        var support: Int64 = 0
        var arrearsPayment: Int64?
        var medical = false
        if existingOrder {
            support = supportAmount()
            let judgment: Int64? = rng.chance(0.4) ? support * Int64(rng.int(2...12)) : nil
            arrearsPayment = judgment != nil && rng.chance(0.8) ? max(2_500, support * Int64(rng.int(10...25)) / 100 / 500 * 500) : nil
            medical = rng.chance(0.5)
            let entered = receivedOn - (rng.chance(0.6) ? rng.int(30...180) : rng.int(181...1000))
            order = ScenarioOrderTerms(
                orderId: ScenarioEvents.defaultOrderId(caseId: caseId), docketNumber: docket, monthlySupportCents: support,
                monthlyArrearsPaymentCents: arrearsPayment, medicalSupportOrdered: medical,
                effectiveOn: ScenarioDate(daysSinceEpoch: entered).firstOfNextMonth, judgmentArrearsCents: judgment)
            orderIsExisting = true
            orderDay = opened
        } else if !allExcluded && located != .max && paternityDone != .max {
            let filed = weekday(max(opened + 1, located, paternityDone) + rng.int(10...40))
            var hearingDay = weekday(filed + rng.int(28...56))
            hearings += 1
            add(filed, .hearing(number: hearings, type: .establishment, scheduledFor: courtTime(hearingDay, localSeconds: rng.chance(0.5) ? 9 * 3600 : 13 * 3600 + 1800)))
            // Service of process; failed attempts push the hearing back.
            var attempt = weekday(filed + rng.int(4...12))
            var failures = 0
            while failures < 2 && rng.chance(0.25) {
                add(attempt, .service(completed: false, attemptedOn: attempt))
                failures += 1
                attempt = weekday(attempt + rng.int(5...12))
            }
            add(attempt, .service(completed: true, attemptedOn: attempt))
            if attempt >= hearingDay - 2 {
                hearingDay = weekday(attempt + rng.int(21...35))
                hearings += 1
                add(attempt + 1, .hearing(number: hearings, type: .establishment, scheduledFor: courtTime(hearingDay, localSeconds: 9 * 3600)))
            }
            support = supportAmount()
            let judgment: Int64? = rng.chance(0.35) ? support * Int64(rng.int(1...6)) : nil
            arrearsPayment = (judgment != nil && rng.chance(0.8)) || rng.chance(0.05)
                ? max(2_500, support * Int64(rng.int(10...25)) / 100 / 500 * 500) : nil
            medical = rng.chance(0.55)
            order = ScenarioOrderTerms(
                orderId: ScenarioEvents.defaultOrderId(caseId: caseId), docketNumber: docket, monthlySupportCents: support,
                monthlyArrearsPaymentCents: arrearsPayment, medicalSupportOrdered: medical,
                effectiveOn: ScenarioDate(daysSinceEpoch: hearingDay).firstOfNextMonth, judgmentArrearsCents: judgment)
            orderDay = hearingDay
            newSteps.append(Step(at: courtTime(hearingDay, localSeconds: rng.int(14 * 3600...(16 * 3600 + 1800))), kind: .orderEstablished))
        }

        var deathDay = Int.max
        if rng.chance(0.006) {
            deathDay = opened + rng.int(30...300)
            add(deathDay + rng.int(5...30), .noncustodialDeceased(day: deathDay))
            add(deathDay + rng.int(40...90), .closure(reason: "Noncustodial parent deceased"))
            for j in jobs.indices where jobs[j].endDay > deathDay { jobs[j].endDay = deathDay }
        }
        lastDay = deathDay

        var compliance: Compliance = .exact
        if orderDay != .max {
            obligations.append((orderDay, support + (arrearsPayment ?? 0)))
            switch rng.weighted([50, 15, 22, 13]) {
            case 0: compliance = .exact
            case 1: compliance = .over(Int64(rng.int(1080...1400)))
            case 2: compliance = .short(Int64(rng.int(300...900)))
            default: compliance = .erratic
            }

            if rng.chance(0.12) {
                let asked = weekday(orderDay + rng.int(90...240))
                let day = weekday(asked + rng.int(28...56))
                hearings += 1
                add(asked, .hearing(number: hearings, type: .modification, scheduledFor: courtTime(day, localSeconds: 10 * 3600)))
                let newSupport = max(5_000, support * Int64(rng.int(60...140)) / 100 / 500 * 500)
                let newMedical = rng.chance(0.2) ? !medical : medical
                let effective = ScenarioDate(daysSinceEpoch: day).firstOfNextMonth.daysSinceEpoch
                newSteps.append(Step(at: courtTime(day, localSeconds: 15 * 3600 + rng.int(0...3600)),
                                     kind: .orderModified(monthlySupportCents: newSupport, effectiveOn: effective, medical: newMedical)))
                obligations.append((day, newSupport + (arrearsPayment ?? 0)))
                medical = newMedical
            }

            // Income withholding: the agency sends the order to each employer it knows of.
            for j in jobs.indices where jobs[j].knownDay != .max {
                let sent = ScenarioDate(daysSinceEpoch: max(orderDay, jobs[j].knownDay)).addingWeekdays(2).daysSinceEpoch
                guard jobs[j].endDay == .max || sent < jobs[j].endDay + 30 else { continue }
                let answered = ScenarioDate(daysSinceEpoch: sent).addingWeekdays(rng.int(5...15)).daysSinceEpoch
                let accepted = !jobs[j].stale && answered < jobs[j].endDay
                let coverage: ScenarioEvents.MedicalCoverage? = accepted && medical ? (rng.chance(0.6) ? .enrolled : .notAvailable) : nil
                add(answered, .iwoResponse(job: j, accepted: accepted, coverage: coverage))
                if accepted { jobs[j].withholdFrom = answered + rng.int(0...10) }
            }

            // Parents who do not pay end up before the judge.
            let paying = jobs.contains { $0.withholdFrom != nil }
            let poorPayer: Bool
            switch compliance {
            case .short, .erratic: poorPayer = true
            default: poorPayer = !paying
            }
            if poorPayer && rng.chance(0.4) {
                let filed = weekday(orderDay + rng.int(120...260))
                let day = weekday(filed + rng.int(21...45))
                let contempt = rng.chance(0.5)
                hearings += 1
                add(filed, .hearing(number: hearings, type: contempt ? .contempt : .enforcement, scheduledFor: courtTime(day, localSeconds: 9 * 3600)))
                let served = weekday(filed + rng.int(3...12))
                add(served, .service(completed: true, attemptedOn: served))
                if contempt {
                    newSteps.append(Step(at: courtTime(day, localSeconds: 11 * 3600 + rng.int(0...7200)),
                                         kind: .contempt(purgeCents: support * Int64(rng.int(1...3)), dueOn: weekday(day + rng.int(30...60)))))
                }
            }

            // The order ends when the youngest child turns 18, or by the court for other reasons.
            let youngest = people.children.last!.dateOfBirth
            let eighteen = youngest.adding(months: 18 * 12).daysSinceEpoch
            var ended: (Int, ScenarioEvents.OrderTerminationReason)?
            if eighteen > orderDay && eighteen < horizon {
                ended = (eighteen, .emancipation)
            } else if rng.chance(0.03) {
                ended = (orderDay + rng.int(30...200), .vacated)
            } else if rng.chance(0.02) {
                ended = (orderDay + rng.int(30...200), .other)
            }
            if let (day, reason) = ended {
                add(day + rng.int(0...20), .orderTerminated(day: day, reason: reason))
                obligations.append((day, arrearsPayment ?? 0))
                if reason == .emancipation, case .exact = compliance, rng.chance(0.3) {
                    add(day + rng.int(30...60), .closure(reason: "Child emancipated; no arrears owed"))
                }
            }
        }

        if orderDay != .max {
            // Its own stream: `add` draws the time of day from `rng`.
            var money = SplitMix64(c.seed, 0x30E7, UInt64(index))
            planMoney(orderDay: orderDay, support: support, judgment: order?.judgmentArrearsCents != nil, compliance: compliance,
                      jobs: jobs, horizon: horizon, rng: &money, add: add)
        }

        if allExcluded {
            add(lastExclusion + rng.int(10...30), .closure(reason: "Paternity excluded for all children"))
        } else if deathDay == .max && rng.chance(0.02) {
            add(opened + rng.int(30...250), .closure(reason: "Custodial party requested closure"))
        }

        // Its own stream, drawn last, so the rest of a plan is as before.
        var processes = SplitMix64(c.seed, 0x9E0C, UInt64(index))
        planProcesses(opened: opened, orderDay: orderDay, support: support, compliance: compliance, closedAfterExclusion: allExcluded ? lastExclusion : nil,
                      horizon: horizon, rng: &processes, add: add)

        self.jobs = jobs
        self.compliance = compliance
        // Stable order for equal times keeps each case's causal order.
        steps = newSteps.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}

extension CasePlan {
    /// Money besides employer withholding, in shares that keep employers the
    /// main source: a parent paying the disbursement unit directly now and
    /// then, tax refund offsets in tax season for parents behind, benefits
    /// withheld after a job ends, a levy after a bank match; and what goes
    /// wrong with money (a check returned unpaid, an injured-spouse claim, an
    /// audit's correction, a payment to the family that comes back).
    /// Drawn after everything else, so the rest of a plan is as before.
    fileprivate func planMoney(
        orderDay: Int, support: Int64, judgment: Bool, compliance: Compliance, jobs: [Job], horizon: Int,
        rng: inout SplitMix64, add: (Int, StepKind) -> Void
    ) {
        var number = 0
        func collect(_ day: Int, _ source: ScenarioEvents.CollectionSource, _ cents: Int64, joint: Bool = false) -> Int? {
            guard day < horizon - 3, cents > 0 else { return nil }
            number += 1
            add(day, .collection(number: number, source: source, cents: cents / 100 * 100, receivedOn: day, jointReturn: joint))
            return number
        }
        let behind: Bool
        switch compliance {
        case .short, .erratic: behind = true
        default: behind = judgment || !jobs.contains { $0.withholdFrom != nil }
        }
        // Direct payments to the State Disbursement Unit.
        if rng.chance(behind ? 0.35 : 0.15) {
            for _ in 0..<rng.int(1...4) {
                let day = orderDay + rng.int(5...330)
                guard let paid = collect(day, .directPayment, support * Int64(rng.int(40...120)) / 100) else { continue }
                if rng.chance(0.05) {
                    add(day + rng.int(3...10), .reversal(collection: paid, reason: .nsf, cents: nil, reversedOn: day + rng.int(2...3)))
                } else if rng.chance(0.08) {
                    // The family's check comes back; a new address a few weeks later sends it again.
                    let back = day + rng.int(10...25)
                    add(back, .disbursementReturned(collection: paid, reason: [.undeliverable, .uncashed, .accountClosed][rng.weighted([70, 20, 10])]))
                    add(back + rng.int(20...60), .custodialMoved)
                }
            }
        }
        // Tax refund offsets arrive in tax season (February to April) for parents behind.
        if behind && rng.chance(0.4) {
            var day = ScenarioDate(daysSinceEpoch: orderDay + 30)
            while day.month < 2 || day.month > 4 { day = day.adding(days: 20) }
            let received = day.daysSinceEpoch + rng.int(0...20)
            let federal = rng.chance(0.75)
            let joint = federal && rng.chance(0.25)
            if let offset = collect(received, federal ? .federalTaxOffset : .stateTaxOffset, Int64(rng.int(30_000...250_000)), joint: joint),
                joint, rng.chance(0.3)
            {
                let claimed = received + rng.int(30...120)
                add(claimed, .reversal(collection: offset, reason: .injuredSpouse, cents: Int64(rng.int(10_000...30_000)), reversedOn: claimed))
            }
        }
        // A job that ends with no next job soon: an unemployment claim, then benefits withheld.
        for (j, job) in jobs.enumerated() where job.endDay < horizon - 30 && job.endDay > orderDay {
            let nextHire = j + 1 < jobs.count ? jobs[j + 1].hireDay : Int.max
            guard nextHire > job.endDay + 30, rng.chance(0.45) else { continue }
            let filed = job.endDay + rng.int(3...14)
            let weekly = Int64(rng.int(150...600)) * 100
            add(filed + rng.int(5...12), .unemploymentClaim(filedOn: filed, weeklyCents: weekly))
            for month in 1...rng.int(1...3) where filed + 30 * month < nextHire {
                _ = collect(filed + 30 * month + rng.int(0...5), .unemploymentBenefits, min(weekly * 2, support))
            }
        }
        // The quarterly bank match; a levy brings money a month or so later.
        if rng.chance(0.08) {
            let day = orderDay + rng.int(60...300)
            let balance = Int64(rng.int(0...8_000)) * 100
            add(day, .financialMatch(bank: rng.int(0...(ScenarioEmployer.banks.count - 1)),
                                     kind: [.checking, .savings, .moneyMarket, .other][rng.weighted([60, 30, 7, 3])], balanceCents: balance))
            if behind && balance > 0 && rng.chance(0.5) { _ = collect(day + rng.int(30...45), .financialInstitutionLevy, min(balance, 100_000)) }
        }
        if rng.chance(0.02) { _ = collect(orderDay + rng.int(30...300), .interstate, support) }
        // An accounts audit corrects the balance either way.
        if rng.chance(0.03) {
            let cents = Int64(rng.int(50...600)) * 100 * (rng.chance(0.6) ? -1 : 1)
            add(orderDay + rng.int(60...300), .adjustment(number: 1, cents: cents,
                                                         reason: cents < 0 ? [.audit, .writeOff, .courtOrdered][rng.weighted([60, 25, 15])] : .audit))
        }
    }
}

extension CasePlan {
    /// What caseworkers record around the rules, in small shares: a parent
    /// (or the agency) asking for a review of the order, a parent behind
    /// contesting a remedy and the decision weeks later, a payment agreement,
    /// an incarceration, the recipient answering a notice of intent to close.
    fileprivate func planProcesses(
        opened: Int, orderDay: Int, support: Int64, compliance: Compliance, closedAfterExclusion: Int?, horizon: Int,
        rng: inout SplitMix64, add: (Int, StepKind) -> Void
    ) {
        func at(_ day: Int, _ kind: StepKind) { if day < horizon - 3 { add(day, kind) } }
        let behind: Bool
        switch compliance {
        case .short, .erratic: behind = true
        default: behind = false
        }
        if orderDay != .max {
            if rng.chance(0.06) {
                at(orderDay + rng.int(90...600), .reviewRequested(by: [.noncustodialParty, .custodialParty, .agency][rng.weighted([50, 35, 15])]))
            }
            if behind && rng.chance(0.12) {
                let remedy: ScenarioEvents.Remedy = [.creditBureauReport, .licenseSuspension, .financialLevy][rng.weighted([45, 45, 10])]
                let contested = orderDay + rng.int(20...200)
                at(contested, .remedyContested(remedy))
                at(contested + rng.int(20...75), .contestDecided(remedy, rng.chance(0.7) ? .upheld : .overturned))
            }
            if rng.chance(behind ? 0.15 : 0.03) {
                at(orderDay + rng.int(100...400), .paymentAgreement(monthlyCents: max(support, 5_000) * Int64(rng.int(100...140)) / 100 / 100 * 100))
            }
        }
        if rng.chance(0.015) {
            let day = opened + rng.int(30...400)
            at(day, .incarcerated(until: day + rng.int(90...900)))
        }
        // The recipient answers a notice of intent to close (now and then one that was never sent).
        if let excluded = closedAfterExclusion, rng.chance(0.5) {
            at(excluded + rng.int(20...50), .closureResponse(informationProvided: rng.chance(0.5)))
        } else if rng.chance(0.01) {
            at(opened + rng.int(60...400), .closureResponse(informationProvided: rng.chance(0.5)))
        }
    }
}

/// Skews a uniform draw toward 0: a few big employers, mostly modest support amounts.
@inline(__always) private func pow2(_ x: Double) -> Double { x * x }
private func format6(_ n: Int) -> String {
    var out = [UInt8]()
    appendDigits(n, width: 6, to: &out)
    return String(decoding: out, as: UTF8.self)
}
