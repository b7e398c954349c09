/// One line of a case's account, for case history and audits.
public struct LedgerEntry: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Current support falling due (a full month on the 1st, or a prorated first month).
        case accrual
        /// Arrears found by the court when it set the order.
        case judgment
        /// A collection received.
        case payment
        /// A proration for a mid-month modification or termination; negative when it is a credit.
        case adjustment
        /// A collection taken back (a check returned unpaid, an injured-spouse refund): owed again.
        case reversal
        /// An amount the agency added to what is owed (`account.adjusted`, positive).
        case accountAdjustment
        /// An amount the agency credited (`account.adjusted`, negative): applied like a payment, not money.
        case accountCredit
    }

    public let kind: Kind
    public let date: LocalDate
    /// Charges and adjustments are signed (a credit is negative); payments are the amount received.
    public let amountCents: Cents
    /// The order id for charges and adjustments, the payment id for payments,
    /// the collection or adjustment id for the account's own lines.
    public let referenceId: String

    public init(kind: Kind, date: LocalDate, amountCents: Cents, referenceId: String) {
        self.kind = kind
        self.date = date
        self.amountCents = amountCents
        self.referenceId = referenceId
    }
}

/// A line the account itself adds to what is owed, outside any order's
/// schedule: a collection taken back, or an amount the agency added. Past
/// due from its date, like a judgment.
public struct AccountCharge: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// `collection.reversed`: the money it took out of the account is owed again.
        case reversal
        /// `account.adjusted` with a positive amount.
        case adjustment
        /// `account.adjusted` with a negative amount: kept for the account's
        /// history (who credited what and why); the credit itself is applied
        /// as a payment of source `ACCOUNT_CREDIT`.
        case credit
    }

    /// `reversal:<collectionId>:<eventId>`, `adjustment:<adjustmentId>` or `credit:<adjustmentId>`: unique per line.
    public let id: String
    public let kind: Kind
    /// The collection reversed, or the adjustment's id.
    public let referenceId: String
    public let dueOn: LocalDate
    public let amountCents: Cents
    /// The contract's reason code (NSF, AUDIT...).
    public let reason: String

    public init(id: String, kind: Kind, referenceId: String, dueOn: LocalDate, amountCents: Cents, reason: String) {
        self.id = id
        self.kind = kind
        self.referenceId = referenceId
        self.dueOn = dueOn
        self.amountCents = amountCents
        self.reason = reason
    }
}
