/// A collection as received: the input the ledger allocates from.
public struct Payment: Sendable, Hashable, Codable {
    public let id: String
    public let amountCents: Cents
    public let receivedOn: LocalDate
    /// Whether arrears were assigned to the state (TANF) when the payment was
    /// received; decides who keeps the part applied to arrears.
    public let arrearsAssignedToState: Bool
    /// Where the money came from; nil for an employer's remittance (every
    /// payment recorded before collections from other sources).
    public let source: CollectionSource?

    public init(id: String, amountCents: Cents, receivedOn: LocalDate, arrearsAssignedToState: Bool, source: CollectionSource? = nil) {
        self.id = id
        self.amountCents = amountCents
        self.receivedOn = receivedOn
        self.arrearsAssignedToState = arrearsAssignedToState
        self.source = source == .employerWithholding ? nil : source
    }

    public var collectionSource: CollectionSource { source ?? .employerWithholding }

    /// The ledger applies payments by receipt date, then payment id: a function
    /// of the payments themselves, never of the order they arrived in.
    static func allocationOrder(_ a: Payment, _ b: Payment) -> Bool {
        a.receivedOn != b.receivedOn ? a.receivedOn < b.receivedOn : a.id < b.id
    }
}

/// The part of a payment applied to one charge.
public struct ChargeApplication: Sendable, Hashable, Codable {
    public enum ChargeKind: String, Sendable, Hashable, Codable {
        case support
        case judgment
        /// A collection taken back (`AccountCharge.Kind.reversal`).
        case reversal
        /// An amount added to what is owed (`AccountCharge.Kind.adjustment`).
        case adjustment
    }

    public let orderId: String
    public let kind: ChargeKind
    /// When the charge first fell due: the 1st of its month (or the order's first
    /// day for a prorated first month), or the judgment date.
    public let dueOn: LocalDate
    public let amountCents: Cents
}

/// Held credit applied to a charge when it fell due.
public struct CreditApplication: Sendable, Hashable, Codable {
    public let appliedOn: LocalDate
    public let charge: ChargeApplication
}

/// Where a payment went: current support first, then the oldest arrears, the rest held
/// and applied to charges as they fall due.
public struct PaymentAllocation: Sendable, Hashable, Codable {
    public let paymentId: String
    public let receivedOn: LocalDate
    public let amountCents: Cents
    public let arrearsAssignedToState: Bool
    public let source: CollectionSource
    /// Support of the month the payment was received in.
    public internal(set) var toCurrentSupport: [ChargeApplication]
    /// Earlier months and judgments, oldest first.
    public internal(set) var toArrears: [ChargeApplication]
    /// More than was due when received: held as a credit, never negative arrears.
    public internal(set) var unappliedCents: Cents
    /// The held credit applied later, oldest charge first, as charges fell due.
    public internal(set) var creditApplications: [CreditApplication] = []
    /// Held credit that no charge known will ever take (no order left in force to
    /// take it): a caseworker's matter (refund).
    public internal(set) var neverAppliedCents: Cents = 0

    public var toCurrentSupportCents: Cents { toCurrentSupport.reduce(0) { $0 + $1.amountCents } }
    public var toArrearsCents: Cents { toArrears.reduce(0) { $0 + $1.amountCents } }
    public var appliedCents: Cents { toCurrentSupportCents + toArrearsCents }
    /// Collections on assigned arrears reimburse the state's assistance.
    public var retainedByStateCents: Cents { arrearsAssignedToState ? toArrearsCents : 0 }
    /// Everything applied that the state does not retain goes to the family.
    public var disbursedToFamilyCents: Cents { appliedCents - retainedByStateCents }

    /// Who gets the payment once `reversedCents` of it is taken back, in the
    /// order the ledger takes it back: the part not applied first (held,
    /// refunded), then what it paid last -- arrears (the state's share in an
    /// assistance case) before current support.
    public func shares(reversedCents: Cents) -> (family: Cents, retained: Cents) {
        var left = max(0, reversedCents - unappliedCents)
        let retained = retainedByStateCents - min(left, retainedByStateCents)
        left -= retainedByStateCents - retained
        return (disbursedToFamilyCents - min(left, disbursedToFamilyCents), retained)
    }
}
