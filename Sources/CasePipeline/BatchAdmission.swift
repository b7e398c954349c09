import CaseContract
import CaseDomain
import CaseStorage
import Foundation

/// The people and cases of a batch's events: what the batch claims (phase
/// 1), which events go now given what another worker holds, and what they
/// load (phase 2). Pure: hashing SSNs is the only work.
struct BatchAdmission {
    /// Each record's identities; nil for a record that did not decode.
    let perRecord: [Identities?]
    /// The same by event id (the router reads them again).
    let byEventId: [UUID: Identities]

    init(_ decoded: [Result<Event, EventDecodingError>], protector: SSNProtector) {
        var byEventId: [UUID: Identities] = [:]
        byEventId.reserveCapacity(decoded.count)
        perRecord = decoded.map { result -> Identities? in
            guard case .success(let event) = result else { return nil }
            if let known = byEventId[event.id] { return known }
            let identity = Identities(event, protector: protector)
            byEventId[event.id] = identity
            return identity
        }
        self.byEventId = byEventId
    }

    /// Every SSN hash and case id the records name, and the reported people to resolve.
    var claim: IdentityClaim {
        var claim = IdentityClaim()
        for identity in perRecord {
            guard let identity else { continue }
            claim.ssnHashes.formUnion(identity.ssnHashes)
            claim.caseIds.formUnion(identity.caseIds)
            if let reported = identity.reported { claim.reported.insert(reported) }
        }
        return claim
    }

    /// Splits the records into those handled now and those left for a later
    /// batch (both as indices, in batch order): a record needing a busy
    /// identity, and after it everything about its people and cases (their
    /// order is the one that matters). The rest of its partition goes ahead:
    /// the worker commits a partition only up to its first record left.
    func admit(
        busySSNHashes: Set<SSNHash>, busyCaseIds: Set<String>, resolved: [SSNHash: [String]]
    ) -> (admitted: [Int], deferred: [Int]) {
        guard !busySSNHashes.isEmpty || !busyCaseIds.isEmpty else { return (Array(perRecord.indices), []) }
        var heldBack: (ssnHashes: Set<SSNHash>, caseIds: Set<String>) = ([], [])
        var admitted: [Int] = [], deferred: [Int] = []
        admitted.reserveCapacity(perRecord.count)
        for (index, identity) in perRecord.enumerated() {
            guard let identity else {
                admitted.append(index)
                continue
            }
            let cases = identity.caseIds + (identity.reported.flatMap { resolved[$0] } ?? [])
            let wait = identity.ssnHashes.contains { busySSNHashes.contains($0) || heldBack.ssnHashes.contains($0) }
                || cases.contains { busyCaseIds.contains($0) || heldBack.caseIds.contains($0) }
            if wait {
                heldBack.ssnHashes.formUnion(identity.ssnHashes)
                heldBack.caseIds.formUnion(cases)
                deferred.append(index)
            } else {
                admitted.append(index)
            }
        }
        return (admitted, deferred)
    }

    /// What the admitted events need read: their ids recorded, the parked
    /// events waiting for the people, cases and orders they bring, and their
    /// cases (named, or the reported people's) locked and loaded.
    func load(_ events: [(Event, DeadLetter.Source)], resolved: [SSNHash: [String]]) -> CaseLoad {
        var load = CaseLoad(caseIds: [])
        load.events.reserveCapacity(events.count)
        for (event, source) in events {
            load.events.append(ProcessedEvent(eventId: event.id, topic: source.topic, partition: source.partition, offset: source.offset))
            guard let identity = byEventId[event.id] else { continue }
            load.caseIds.formUnion(identity.caseIds)
            if let reported = identity.reported { load.caseIds.formUnion(resolved[reported] ?? []) }
            load.parked.ssnHashes.formUnion(identity.arriving)
            guard let caseId = event.caseId else { continue }
            switch event.payload {
            case .intakeApplication(let application):
                load.parked.caseIds.insert(caseId)
                // Modifications and terminations that overtook an order wait for it.
                if let order = application.existingOrder { load.parked.orders.append((caseId, order.orderId)) }
            case .orderEstablished(let terms):
                load.parked.orders.append((caseId, terms.orderId))
            default:
                break
            }
        }
        return load
    }
}

/// The people and cases one event needs locked.
struct Identities {
    /// The employee an employer report names (resolved to cases by SSN).
    var reported: SSNHash?
    /// Every SSN hash in play: the reported employee, or the noncustodial
    /// parent an intake or party update brings.
    var ssnHashes: [SSNHash] = []
    var caseIds: [String] = []

    /// The people the event brings to its case (not the one it reports on):
    /// what waited for them can apply now.
    var arriving: [SSNHash] { ssnHashes.filter { $0 != reported } }

    init(_ event: Event, protector: SSNProtector) {
        if let ssn = BatchRouter.employeeSSN(event) {
            let hash = protector.hash(ssn)
            reported = hash
            ssnHashes.append(hash)
        }
        switch event.payload {
        case .intakeApplication(let application):
            if let ssn = application.noncustodialParty.ssn { ssnHashes.append(protector.hash(ssn)) }
        case .partyUpdate(let update):
            if let ssn = update.ssn { ssnHashes.append(protector.hash(ssn)) }
        case .withholdingRemittance(let remittance):
            caseIds.append(contentsOf: remittance.payments.map(\.caseId))
        case .iwoResponse(let response):
            caseIds.append(response.caseId)
        default:
            break
        }
        if let caseId = event.caseId { caseIds.append(caseId) }
    }
}
