import Foundation

/// `cse.intake.v1`: applications, party updates, closure requests.
extension RuleRun {
    /// Opens the case on the application itself, well inside the 20 days 45 CFR
    /// 303.2(b) allows, then: an existing order goes on the
    /// ledger, a known employer gets withholding, anything missing becomes a
    /// case-review due within `openCaseDays` of receipt, and `settle` asks for
    /// locate, genetic testing or court preparation as the facts require.
    static func openCase(
        _ application: IntakeApplication, caseId: String, event: Event, businessDate: LocalDate, policy: Policy
    ) throws(RuleError) -> RuleRun {
        let state = CaseState(
            caseId: caseId, program: application.program, applicationReceivedOn: application.receivedOn,
            openedOn: businessDate, custodialParty: PartyRecord(application.custodialParty),
            noncustodialParty: PartyRecord(application.noncustodialParty),
            children: application.children.map(ChildRecord.init),
            ledger: Ledger(assignedToState: policy.isAssistance(application.program)))
        var run = RuleRun(state: state, policy: policy, causationId: event.id, createdAt: event.occurredAt, businessDate: businessDate)
        run.note("case opened (\(application.program.rawValue)), application received \(application.receivedOn)")
        if let order = application.existingOrder {
            try run.recordOrder(order)
        }
        if let employer = application.noncustodialParty.employer {
            run.recordEmployment(employer, since: businessDate, informationReceivedOn: businessDate)
        }
        run.reviewMissingInformation()
        return run
    }

    /// What a caseworker must still obtain to work the case.
    mutating func reviewMissingInformation() {
        let ncp = state.noncustodialParty, cp = state.custodialParty
        var missing: [String] = []
        if ncp.ssn == nil { missing.append("noncustodialParty.ssn") }
        if ncp.dateOfBirth == nil { missing.append("noncustodialParty.dateOfBirth") }
        if ncp.address == nil { missing.append("noncustodialParty.address") }
        if cp.address == nil { missing.append("custodialParty.address") }
        guard !missing.isEmpty else { return }
        emit(.caseReview, .issue, target: "missing-information",
             dueBy: state.applicationReceivedOn.adding(days: policy.openCaseDays), data: .caseReview(CaseReview(
                .missingInformation(missing: missing, applicationReceivedOn: state.applicationReceivedOn))),
             basis: .timeframe("45 CFR 303.2(b)", from: state.applicationReceivedOn, days: policy.openCaseDays,
                               [("missing", .text(missing.joined(separator: ",")))]))
    }

    mutating func handlePartyUpdate(_ update: PartyUpdate) throws(RuleError) {
        let isNoncustodial: Bool
        switch update.partyId {
        case state.noncustodialParty.partyId: isNoncustodial = true
        case state.custodialParty.partyId: isNoncustodial = false
        default: throw .unknownParty(caseId: state.caseId, partyId: update.partyId)
        }
        func change(_ body: (inout PartyRecord) -> Void) {
            if isNoncustodial { body(&state.noncustodialParty) } else { body(&state.custodialParty) }
        }
        let role = isNoncustodial ? "noncustodial parent" : "custodial party"
        if let address = update.address {
            change { $0.address = address; $0.addressUsable = true }
            note("\(role) address updated")
            if !isNoncustodial { redisburseHeld() }
        }
        if let ssn = update.ssn {
            change { $0.ssn = ssn }
            note("\(role) SSN recorded (\(ssn))")
        }
        if let employer = update.employer {
            if isNoncustodial {
                recordEmployment(employer, since: businessDate, informationReceivedOn: businessDate)
            } else {
                note("custodial party's employer \(employer.fein) reported; not used for enforcement")
            }
        }
        if let release = update.incarceratedUntil {
            if isNoncustodial {
                learnOfIncarceration(until: release)
            } else {
                change { $0.incarceratedUntil = release }
                note("custodial party incarcerated until \(release)")
            }
        }
        if let deceasedOn = update.deceasedOn {
            change { $0.deceasedOn = deceasedOn }
            note("\(role) deceased on \(deceasedOn)")
            requestClosureReview(isNoncustodial ? .noncustodialParentDeceased : .custodialPartyDeceased,
                                 detail: "\(role) deceased on \(deceasedOn)")
        }
    }
}

extension PartyRecord {
    init(_ party: Party) {
        self.init(
            partyId: party.partyId, firstName: party.firstName, lastName: party.lastName,
            dateOfBirth: party.dateOfBirth, ssn: party.ssn, address: party.address)
    }
}

extension ChildRecord {
    init(_ child: Child) {
        self.init(
            childId: child.childId, firstName: child.firstName, lastName: child.lastName,
            dateOfBirth: child.dateOfBirth, paternity: child.paternityEstablished ? .established(nil) : .open)
    }
}
