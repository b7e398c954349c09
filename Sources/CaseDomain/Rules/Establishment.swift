/// Locating the noncustodial parent and the steps toward an order: genetic
/// testing while paternity is open, then court preparation.
extension RuleRun {
    /// A locate task when the noncustodial parent has neither a usable address
    /// nor an employer, once per loss: it is asked again only after the parent
    /// was found and then lost again.
    mutating func requestLocateIfLost() {
        if state.isNoncustodialParentLocated {
            state.locateRequestedOn = nil
            return
        }
        guard state.locateRequestedOn == nil, state.noncustodialParty.deceasedOn == nil else { return }
        requestLocate(partyId: state.noncustodialParty.partyId, reason: .noAddressOrEmployer)
    }

    /// Locate is due `locateDays` (75) calendar days after the need arose (45 CFR 303.3(b)(3)).
    mutating func requestLocate(partyId: String, reason: LocateRequest.Reason) {
        let isNoncustodial = partyId == state.noncustodialParty.partyId
        let party = isNoncustodial ? state.noncustodialParty : state.custodialParty
        emit(.locate, .issue, target: "party:\(party.partyId)", dueBy: businessDate.adding(days: policy.locateDays), data: .locate(LocateRequest(
            partyId: party.partyId, role: isNoncustodial ? .noncustodialParent : .custodialParty, firstName: party.firstName,
            lastName: party.lastName, dateOfBirth: party.dateOfBirth, reason: reason, ssnKnown: party.ssn != nil,
            lastKnownAddress: party.address)),
             basis: .timeframe("45 CFR 303.3(b)(3)", from: businessDate, days: policy.locateDays, [("need", .text(reason.rawValue))]))
        if isNoncustodial { state.locateRequestedOn = businessDate }
    }

    /// Once the parent is located and no order exists: genetic testing for every
    /// child whose paternity is open, else (paternity settled for at least one
    /// child) court preparation to establish the order. Each is asked once; both
    /// are due `establishmentDays` (90) after locating (45 CFR 303.4(d)).
    mutating func takeNextEstablishmentStep() {
        guard state.isNoncustodialParentLocated, !state.hasEnforceableOrder,
            state.noncustodialParty.deceasedOn == nil
        else { return }
        let dueBy = businessDate.adding(days: policy.establishmentDays)
        if state.children.contains(where: { $0.paternity.isOpen }) {
            for index in state.children.indices
            where state.children[index].paternity.isOpen && state.children[index].geneticTestingRequestedOn == nil {
                let child = state.children[index]
                emit(.geneticTesting, .issue, target: "child:\(child.childId)", dueBy: dueBy, data: .geneticTesting(GeneticTestingRequest(
                    childId: child.childId, childFirstName: child.firstName, childLastName: child.lastName,
                    childDateOfBirth: child.dateOfBirth, allegedFatherPartyId: state.noncustodialParty.partyId,
                    custodialPartyId: state.custodialParty.partyId)),
                     basis: .timeframe("45 CFR 303.5; 45 CFR 303.4(d)", from: businessDate, days: policy.establishmentDays,
                                       [("paternity", .text("OPEN"))]))
                state.children[index].geneticTestingRequestedOn = businessDate
            }
        } else if state.children.contains(where: { $0.paternity.isEstablished }),
            state.establishmentPreparationRequestedOn == nil
        {
            emit(.courtPreparation, .issue, target: "establishment", dueBy: dueBy, data: .courtPreparation(CourtPreparation(
                noncustodialPartyId: state.noncustodialParty.partyId,
                establishingFor: state.children.filter { $0.paternity.isEstablished }.map(\.childId))),
                 basis: .timeframe("45 CFR 303.4(d)", from: businessDate, days: policy.establishmentDays,
                                   [("order", .text("NONE_ENFORCEABLE"))]))
            state.establishmentPreparationRequestedOn = businessDate
        }
    }
}
