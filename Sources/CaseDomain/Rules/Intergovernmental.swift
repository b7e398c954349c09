/// Other states (45 CFR 303.7): a noncustodial parent located only in
/// another state, on a case that needs what the agency cannot do across the
/// line, means a referral to that state within `intergovernmentalReferralDays`.
extension RuleRun {
    /// Where the parent is known to be: his usable address and his employers'
    /// addresses. Nil when nothing places him only outside `homeState` (an
    /// employer with no address on file could be anywhere).
    var onlyOtherState: (state: USState, at: Address?)? {
        let ncp = state.noncustodialParty
        var places: [Address] = []
        if ncp.hasUsableAddress, let address = ncp.address { places.append(address) }
        for employment in state.employments {
            guard let address = employment.address else { return nil }
            places.append(address)
        }
        guard let first = places.first, places.allSatisfy({ $0.state != policy.homeState }) else { return nil }
        return (first.state, first)
    }

    /// An address or an employer of the parent's is in the home state.
    var locatedInHomeState: Bool {
        let ncp = state.noncustodialParty
        return (ncp.hasUsableAddress && ncp.address?.state == policy.homeState)
            || state.employments.contains { $0.address?.state == policy.homeState }
    }

    /// What the agency needs the other state for. Enforcement only when no
    /// employer can be sent a withholding notice directly (one in any state can).
    var intergovernmentalNeeds: [IntergovernmentalNeed] {
        if state.children.contains(where: { $0.paternity == .open }) { return [.paternity] }
        if !state.hasEnforceableOrder { return [.establishment] }
        if state.employments.isEmpty, state.activeOrder != nil || state.ledger.balance(asOf: arrearsDate) > 0 { return [.enforcement] }
        return []
    }

    /// Issued when the parent is first found only in another state and the
    /// case needs it; withdrawn when, before it was due, he is found in the
    /// home state or the case no longer needs it.
    mutating func evaluateIntergovernmentalReferral() {
        let elsewhere = onlyOtherState
        let needs = elsewhere == nil ? [] : intergovernmentalNeeds
        if let referral = state.processes.intergovernmental {
            guard businessDate <= referral.dueBy, elsewhere?.state != referral.toState || needs.isEmpty else { return }
            withdrawIntergovernmentalReferral(reason: locatedInHomeState ? "LOCATED_IN_HOME_STATE" : "NO_LONGER_NEEDED")
            if needs.isEmpty { return }
        }
        guard let elsewhere, !needs.isEmpty else { return }
        let dueBy = businessDate.adding(days: policy.intergovernmentalReferralDays)
        let pastDue = arrearsAsOfEvent
        emit(.intergovernmentalReferral, .issue, target: "state:\(elsewhere.state.code)", dueBy: dueBy, data: .intergovernmentalReferral(
            IntergovernmentalReferral(toState: elsewhere.state, needs: needs, pastDueCents: pastDue, obligor: obligor,
                                      locatedAt: elsewhere.at, locatedOn: businessDate)),
             basis: .timeframe("45 CFR 303.7(c)(2)", from: businessDate, days: policy.intergovernmentalReferralDays, [
                ("homeState", .text(policy.homeState.code)), ("locatedIn", .text(elsewhere.state.code)),
                ("needs", .text(needs.map(\.rawValue).joined(separator: ","))), ("pastDueCents", .cents(pastDue)),
             ]))
        state.processes.intergovernmental = IntergovernmentalCase(toState: elsewhere.state, needs: needs, locatedOn: businessDate, dueBy: dueBy)
    }

    mutating func withdrawIntergovernmentalReferral(reason: String) {
        guard let referral = state.processes.intergovernmental else { return }
        emit(.intergovernmentalReferral, .withdraw, target: referral.target, dueBy: businessDate, data: .intergovernmentalReferral(
            IntergovernmentalReferral(toState: referral.toState, needs: referral.needs, pastDueCents: arrearsAsOfEvent, obligor: obligor,
                                      locatedAt: nil, locatedOn: referral.locatedOn, reason: reason)),
             basis: TaskBasis("45 CFR 303.7(c)", [
                ("reason", .text(reason)), ("homeState", .text(policy.homeState.code)), ("locatedOn", .date(referral.locatedOn)),
             ]))
        state.processes.intergovernmental = nil
    }
}
