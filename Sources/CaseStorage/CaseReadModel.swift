import CaseDomain
import Foundation
import Postgres

/// What `csworker case show` prints. JSON field names are the contract's
/// (`caseId`, `program`, `stage`, `arrearsCents`, `monthlySupportCents`,
/// `employer`, `referrals`, `history`, and from v1.1 `collections`); `asOf`,
/// `parties`, `ledger` and `adjustments` are additions.
/// SSNs appear only masked.
public struct CaseView: Codable, Sendable, Hashable {
    public struct Employer: Codable, Sendable, Hashable {
        public var fein: String
        public var name: String?
        public var since: String
        /// NONE, ISSUED, ACCEPTED.
        public var withholding: String
    }

    public struct Referral: Codable, Sendable, Hashable {
        /// The task type, e.g. `tax-offset-referral`.
        public var type: String
        public var issuedOn: String
        public var arrearsCents: Int64
        public var taskId: String
        /// Why and since when, e.g. "tax offset: past-due $612.40 >= $500.00 on 2026-11-03, 42 USC 664; 45 CFR 303.72".
        public var basis: String
    }

    public struct Party: Codable, Sendable, Hashable {
        public var role: String
        public var partyId: String
        public var name: String
        /// `***-**-1234`, or nil when the SSN is unknown.
        public var ssn: String?
    }

    public struct Task: Codable, Sendable, Hashable {
        public var id: String
        public var type: String
        public var action: String
        public var dueBy: String
    }

    /// One line of the account: a charge (`accrual`, `judgment`, `adjustment`) or a `payment`.
    public struct LedgerLine: Codable, Sendable, Hashable {
        public var kind: String
        public var date: String
        public var amountCents: Int64
        /// The order a charge is for, or the payment's id.
        public var referenceId: String
    }

    /// One collection, from any source, and where it went: what a caseworker
    /// reconciles an account with. Derived from the ledger, like `ledger`.
    public struct Collection: Codable, Sendable, Hashable {
        public struct Reversal: Codable, Sendable, Hashable {
            public var reversedOn: String
            public var amountCents: Int64
            public var reason: String
        }

        public struct Returned: Codable, Sendable, Hashable {
            public var disbursementTaskId: String
            public var returnedOn: String
            public var reason: String
            public var familyCents: Int64
            /// When it went out again; nil while held for a new address.
            public var reissuedOn: String?
        }

        /// The `collectionId` of `cse.collections.v1`; nil for an employer's remittance.
        public var collectionId: String?
        public var paymentId: String
        /// EMPLOYER_WITHHOLDING, DIRECT_PAYMENT, FEDERAL_TAX_OFFSET...
        public var source: String
        public var receivedOn: String
        public var amountCents: Int64
        public var toCurrentSupportCents: Int64
        public var toArrearsCents: Int64
        /// More than was due when received: held as credit.
        public var heldCents: Int64
        /// Of the held credit, applied by `asOf` to charges as they fell due.
        public var heldAppliedCents: Int64
        /// Credit nothing will take (no order in force; a tax offset beyond what was past due): to refund.
        public var refundCents: Int64
        public var retainedByStateCents: Int64
        public var disbursedToFamilyCents: Int64
        /// A joint-return tax offset held for an injured-spouse claim until this date.
        public var heldUntil: String?
        public var reversedCents: Int64
        public var reversals: [Reversal]
        public var returned: Returned?
    }

    /// A process under way that waits for a date or an answer (contract v1.1 `pending`).
    public struct Pending: Codable, Sendable, Hashable {
        /// CLOSURE_REVIEW, DISBURSEMENT_HELD (returned, waiting for an address), JOINT_RETURN_HOLD,
        /// REMITTANCE_EXPECTED (a payer accepted withholding and has not remitted yet).
        public var process: String
        public var since: String
        /// When it comes due (nil: when an answer arrives).
        public var dueOn: String?
        public var detail: String
    }

    /// An amount the agency added to what is owed (positive) or credited (negative).
    public struct Adjustment: Codable, Sendable, Hashable {
        public var adjustmentId: String
        public var amountCents: Int64
        public var effectiveOn: String
        public var reason: String
    }

    public struct HistoryItem: Codable, Sendable, Hashable {
        public var seq: Int64
        public var eventId: String
        public var eventType: String
        public var occurredAt: String
        public var appliedAt: String
        public var changes: [String]
        public var tasks: [Task]
    }

    public var caseId: String
    public var program: String
    public var stage: String
    /// The date arrears are computed as of.
    public var asOf: String
    /// Amounts due through `asOf` minus payments applied through it (domain.md's arrears).
    public var arrearsCents: Int64
    public var monthlySupportCents: Int64
    /// The noncustodial parent's current employer (most recent if several), or null.
    public var employer: Employer?
    /// Active arrears referrals, by task type.
    public var referrals: [Referral]
    public var parties: [Party]
    /// The account through `asOf`, oldest first: derived from the case's ledger
    /// when read (charges fall due with time; no stored row goes stale).
    public var ledger: [LedgerLine]
    /// Collections received by `asOf`, oldest first, every source.
    public var collections: [Collection]
    public var adjustments: [Adjustment]
    public var pending: [Pending]
    /// Events applied, oldest first, with the tasks each caused.
    public var history: [HistoryItem]

    private enum CodingKeys: String, CodingKey {
        case caseId, program, stage, asOf, arrearsCents, monthlySupportCents, employer, referrals, parties, ledger, collections
        case adjustments, pending, history
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(caseId, forKey: .caseId)
        try c.encode(program, forKey: .program)
        try c.encode(stage, forKey: .stage)
        try c.encode(asOf, forKey: .asOf)
        try c.encode(arrearsCents, forKey: .arrearsCents)
        try c.encode(monthlySupportCents, forKey: .monthlySupportCents)
        try c.encode(employer, forKey: .employer)  // explicit null when there is none
        try c.encode(referrals, forKey: .referrals)
        try c.encode(parties, forKey: .parties)
        try c.encode(ledger, forKey: .ledger)
        try c.encode(collections, forKey: .collections)
        try c.encode(adjustments, forKey: .adjustments)
        try c.encode(pending, forKey: .pending)
        try c.encode(history, forKey: .history)
    }

    /// Pretty JSON with sorted keys, for `--json`.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human form, for a terminal: free text from events (names,
    /// employers, change summaries) loses any control sequence it carries.
    public var text: String {
        let dollars = Money.dollars
        var lines = [
            "Case \(caseId)  \(program)  stage \(stage)",
            "Arrears as of \(asOf): \(dollars(arrearsCents))   monthly support: \(dollars(monthlySupportCents))",
        ]
        for party in parties {
            lines.append("\(party.role.lowercased()) party \(party.partyId): \(party.name), SSN \(party.ssn ?? "unknown")")
        }
        if let employer {
            lines.append(
                "Employer: \(employer.name ?? "(name unknown)") (FEIN \(employer.fein)) since \(employer.since), "
                    + "withholding \(employer.withholding)")
        } else {
            lines.append("Employer: none known")
        }
        if referrals.isEmpty {
            lines.append("Referrals: none active")
        } else {
            lines.append("Referrals:")
            for referral in referrals {
                lines.append("  \(referral.type) since \(referral.issuedOn): \(referral.basis)")
            }
        }
        if ledger.isEmpty {
            lines.append("Account through \(asOf): no charges or payments")
        } else {
            lines.append("Account through \(asOf):")
            for line in ledger {
                lines.append("  \(line.date) \(line.kind) \(dollars(line.amountCents)) (\(line.referenceId))")
            }
        }
        if !collections.isEmpty {
            lines.append("Collections through \(asOf):")
            for c in collections {
                var line = "  \(c.receivedOn) \(c.source) \(c.collectionId ?? c.paymentId) \(dollars(c.amountCents)): "
                    + "current \(dollars(c.toCurrentSupportCents)), arrears \(dollars(c.toArrearsCents)), held \(dollars(c.heldCents))"
                if c.heldAppliedCents > 0 { line += " (\(dollars(c.heldAppliedCents)) of it applied since)" }
                if c.refundCents > 0 { line += ", refund \(dollars(c.refundCents))" }
                line += "; family \(dollars(c.disbursedToFamilyCents)), state \(dollars(c.retainedByStateCents))"
                if let heldUntil = c.heldUntil { line += "; held until \(heldUntil) (joint return)" }
                for reversal in c.reversals { line += "; reversed \(dollars(reversal.amountCents)) on \(reversal.reversedOn) (\(reversal.reason))" }
                if let returned = c.returned {
                    line += "; disbursement of \(dollars(returned.familyCents)) returned \(returned.returnedOn) (\(returned.reason)), "
                        + (returned.reissuedOn.map { "sent again \($0)" } ?? "held for a new address")
                }
                lines.append(line)
            }
        }
        for adjustment in adjustments {
            lines.append("Adjustment \(adjustment.adjustmentId) \(adjustment.effectiveOn): \(adjustment.amountCents < 0 ? "credit" : "added") "
                + "\(dollars(abs(adjustment.amountCents))) (\(adjustment.reason))")
        }
        for process in pending {
            lines.append("Pending: \(process.process) since \(process.since)\(process.dueOn.map { ", due \($0)" } ?? ""): \(process.detail)")
        }
        lines.append("History (\(history.count) events):")
        for item in history {
            lines.append("  \(item.seq). \(item.occurredAt) \(item.eventType) (\(item.eventId))")
            for change in item.changes { lines.append("       - \(change)") }
            for task in item.tasks {
                lines.append("       -> task \(task.type) \(task.action) due \(task.dueBy) (\(task.id))")
            }
        }
        return lines.map(TerminalText.printable).joined(separator: "\n")
    }
}

/// Reads cases back for operators. Needs no CSE_SSN_KEY: the stored state
/// carries no SSNs, and parties keep only the last four digits.
public struct CaseReadModel {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// nil when the case does not exist. `asOf` is the business date arrears
    /// are computed for (the CLI passes today in the agency zone or --as-of).
    public func show(caseId: String, asOf: LocalDate) throws -> CaseView? {
        let rows = try connection.query("SELECT state FROM cases WHERE case_id = $1", caseId)
        guard let row = rows.first else { return nil }
        let state = try CaseSnapshotCodec(protector: nil).decode(
            caseId: caseId, json: try row.decode(PostgresJSON.self, column: 0).bytes, sealedSSNs: nil)

        var parties: [CaseView.Party] = []
        for row in try connection.query(
            "SELECT role, party_id, first_name, last_name, ssn_last4 FROM parties WHERE case_id = $1 ORDER BY role",
            caseId)
        {
            parties.append(
                CaseView.Party(
                    role: try row.decode(String.self, column: 0), partyId: try row.decode(String.self, column: 1),
                    name: "\(try row.decode(String.self, column: 2)) \(try row.decode(String.self, column: 3))",
                    ssn: try row.decode(String?.self, column: 4).map { "***-**-\($0)" }))
        }

        let decoder = JSONDecoder()
        var history: [CaseView.HistoryItem] = []
        for row in try connection.query(
            """
            SELECT seq, event_id, event_type, occurred_at, applied_at, changes, tasks
            FROM case_history WHERE case_id = $1 ORDER BY event_type <> 'intake.application', occurred_at, seq
            """, caseId)
        {
            history.append(
                CaseView.HistoryItem(
                    seq: try row.decode(Int64.self, column: 0),
                    eventId: try row.decode(UUID.self, column: 1).lowercasedText,
                    eventType: try row.decode(String.self, column: 2),
                    occurredAt: Self.timestamp(try row.decode(Date.self, column: 3)),
                    appliedAt: Self.timestamp(try row.decode(Date.self, column: 4)),
                    changes: try decoder.decode([String].self, from: Data(try row.decode(PostgresJSON.self, column: 5).bytes)),
                    tasks: try decoder.decode([CaseView.Task].self, from: Data(try row.decode(PostgresJSON.self, column: 6).bytes))))
        }

        let employer = state.employments.max { ($0.since, $0.fein.digits) < ($1.since, $1.fein.digits) }
        return CaseView(
            caseId: state.caseId, program: state.program.rawValue, stage: state.stage.rawValue, asOf: asOf.description,
            arrearsCents: state.ledger.balance(asOf: asOf), monthlySupportCents: state.monthlySupportCents,
            employer: employer.map {
                CaseView.Employer(
                    fein: $0.fein.digits, name: $0.name, since: $0.since.description, withholding: $0.withholding.rawValue)
            },
            referrals: state.referrals.sorted { $0.type < $1.type }.map {
                CaseView.Referral(
                    type: $0.type.rawValue, issuedOn: $0.issuedOn.description, arrearsCents: $0.arrearsCents,
                    taskId: $0.taskId.lowercasedText, basis: Self.basis(of: $0))
            },
            parties: parties,
            ledger: state.ledger.entries(through: asOf).map {
                CaseView.LedgerLine(kind: $0.kind.rawValue, date: $0.date.description, amountCents: $0.amountCents, referenceId: $0.referenceId)
            },
            collections: Self.collections(of: state, asOf: asOf), adjustments: Self.adjustments(of: state, asOf: asOf),
            pending: Self.pending(of: state, asOf: asOf), history: history)
    }

    /// Every collection received by `asOf`, from the one ledger: where it
    /// went, what was held, reversed or returned.
    static func collections(of state: CaseState, asOf: LocalDate) -> [CaseView.Collection] {
        let ledger = state.ledger
        return ledger.allocations.filter { $0.receivedOn <= asOf && $0.source != .accountCredit }.map { allocation in
            let record = state.collections.first { $0.paymentId == allocation.paymentId }
            let reversals = ledger.accountCharges.filter { $0.kind == .reversal && $0.referenceId == allocation.paymentId && $0.dueOn <= asOf }
            let reversed = reversals.reduce(0) { $0 + $1.amountCents }
            let shares = allocation.shares(reversedCents: reversed)
            let returned = state.returnedDisbursements.first { $0.paymentId == allocation.paymentId }
            return CaseView.Collection(
                collectionId: record?.collectionId, paymentId: allocation.paymentId, source: allocation.source.rawValue,
                receivedOn: allocation.receivedOn.description, amountCents: allocation.amountCents,
                toCurrentSupportCents: allocation.toCurrentSupportCents, toArrearsCents: allocation.toArrearsCents,
                heldCents: allocation.unappliedCents,
                heldAppliedCents: allocation.creditApplications.filter { $0.appliedOn <= asOf }.reduce(0) { $0 + $1.charge.amountCents },
                refundCents: allocation.neverAppliedCents, retainedByStateCents: shares.retained, disbursedToFamilyCents: shares.family,
                heldUntil: record?.heldUntil?.description, reversedCents: reversed,
                reversals: reversals.map { .init(reversedOn: $0.dueOn.description, amountCents: $0.amountCents, reason: $0.reason) },
                returned: returned.map {
                    .init(disbursementTaskId: $0.taskId.lowercasedText, returnedOn: $0.returnedOn.description, reason: $0.reason.rawValue,
                          familyCents: $0.familyCents, reissuedOn: $0.reissuedOn?.description)
                })
        }
    }

    /// Why a referral is in force and since when, from what the case kept when it was taken.
    static func basis(of referral: ActiveReferral) -> String {
        var text = crossing(referral.type, pastDue: referral.arrearsCents, threshold: referral.thresholdCents, on: referral.issuedOn)
        if let noticed = referral.noticedOn { text += " (notice of intent \(noticed))" }
        return text + ", \(referral.type.legalBasis)"
    }

    /// "tax offset: past-due $612.40 >= $500.00 on 2026-11-03": a remedy's threshold crossed.
    static func crossing(_ remedy: TaskType, pastDue: Cents, threshold: Cents?, on date: LocalDate) -> String {
        let comparison = remedy == .passportDenial ? ">" : ">="
        return "\(remedy.remedyName): past-due \(Money.dollars(pastDue))"
            + (threshold.map { " \(comparison) \(Money.dollars($0))" } ?? "") + " on \(date)"
    }

    /// What waits for a date or an answer as of `asOf`, by date.
    static func pending(of state: CaseState, asOf: LocalDate) -> [CaseView.Pending] {
        var pending: [CaseView.Pending] = []
        if let closure = state.pendingClosure {
            if closure.noticeSent {
                let answer = closure.answeredOn.map { "; the recipient answered with information on \($0): stays open" } ?? "; closes unless the criterion stops holding or the recipient answers"
                pending.append(.init(process: "CLOSURE_INTENT", since: closure.requestedOn.description,
                                     dueOn: closure.answeredOn == nil ? closure.earliestClosureOn.description : nil,
                                     detail: closure.reason.rawValue + answer + ", 45 CFR 303.11"))
            } else {
                pending.append(.init(process: "CLOSURE_REVIEW", since: closure.requestedOn.description, dueOn: closure.earliestClosureOn.description,
                                     detail: closure.reason.rawValue + (closure.detail.map { ": \($0)" } ?? "")))
            }
        }
        let processes = state.processes
        for notice in processes.remedyNotices {
            let what = crossing(notice.remedy, pastDue: notice.pastDueCents, threshold: notice.thresholdCents, on: notice.noticedOn)
                + (notice.account.map { " (\($0.accountKind.rawValue) account at \($0.institution.fein), balance \(Money.dollars($0.balanceCents)))" } ?? "")
                + ", \(notice.remedy.legalBasis)"
            switch notice.status {
            case .awaiting:
                pending.append(.init(process: "ENFORCEMENT_INTENT", since: notice.noticedOn.description, dueOn: notice.contestBy.description,
                                     detail: what + "; taken after \(notice.contestBy) unless contested"))
            case .contested:
                pending.append(.init(process: "CONTEST", since: (notice.statusOn ?? notice.noticedOn).description, dueOn: nil,
                                     detail: what + "; contested, held until decided"))
            case .overturned:
                pending.append(.init(process: "CONTEST_OVERTURNED", since: (notice.statusOn ?? notice.noticedOn).description, dueOn: nil,
                                     detail: what + "; dropped until arrears fall under the threshold"))
            }
        }
        if let agreement = processes.agreement {
            pending.append(.init(process: "PAYMENT_AGREEMENT", since: agreement.signedOn.description, dueOn: nil,
                                 detail: "\(agreement.agreementId): \(Money.dollars(agreement.monthlyCents)) a month from \(agreement.firstDueOn)"
                                    + (agreement.keptThrough.map { ", kept through \($0)" } ?? "") + "; license and levy actions held while kept"))
        }
        if let review = processes.review {
            pending.append(.init(process: "REVIEW_AND_ADJUSTMENT", since: review.requestedOn.description, dueOn: review.dueOn.description,
                                 detail: "requested by \(review.requestedBy.rawValue)"
                                    + (review.otherParentLocated ? ", counted from \(review.countedFrom)" : "; the other parent is not located: the due date moves when he is")
                                    + ", 45 CFR 303.8"))
        }
        if let referral = processes.intergovernmental {
            pending.append(.init(process: "INTERGOVERNMENTAL_REFERRAL", since: referral.locatedOn.description, dueOn: referral.dueBy.description,
                                 detail: "to \(referral.toState.code) for \(referral.needs.map(\.rawValue).joined(separator: ", ")), 45 CFR 303.7"))
        }
        for held in state.returnedDisbursements where held.reissuedOn == nil && held.returnedOn <= asOf {
            pending.append(.init(process: "DISBURSEMENT_HELD", since: held.returnedOn.description, dueOn: nil,
                                 detail: "\(Money.dollars(held.familyCents)) returned (\(held.reason.rawValue)); sent again when the custodial party has an address"))
        }
        for record in state.collections {
            guard let until = record.heldUntil, until > asOf, let payment = state.ledger.payment(id: record.paymentId), payment.receivedOn <= asOf else { continue }
            pending.append(.init(process: "JOINT_RETURN_HOLD", since: payment.receivedOn.description, dueOn: until.description,
                                 detail: "\(record.collectionId): \(Money.dollars(payment.amountCents)) held for an injured-spouse claim"))
        }
        for employment in state.employments where employment.withholding == .accepted && employment.notRemittingReviewOn == nil {
            guard let acceptedOn = employment.acceptedOn, employment.lastRemittedOn.map({ $0 < acceptedOn }) ?? true else { continue }
            pending.append(.init(process: "REMITTANCE_EXPECTED", since: acceptedOn.description, dueOn: nil,
                                 detail: "\(employment.fein) accepted income withholding and has not remitted yet"))
        }
        return pending.sorted { ($0.dueOn ?? $0.since, $0.process) < ($1.dueOn ?? $1.since, $1.process) }
    }

    static func adjustments(of state: CaseState, asOf: LocalDate) -> [CaseView.Adjustment] {
        state.ledger.accountCharges.filter { ($0.kind == .adjustment || $0.kind == .credit) && $0.dueOn <= asOf }.map {
            CaseView.Adjustment(
                adjustmentId: $0.referenceId, amountCents: $0.kind == .credit ? -$0.amountCents : $0.amountCents,
                effectiveOn: $0.dueOn.description, reason: $0.reason)
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
