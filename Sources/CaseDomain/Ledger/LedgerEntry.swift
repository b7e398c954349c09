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
    }

    public let kind: Kind
    public let date: LocalDate
    /// Charges and adjustments are signed (a credit is negative); payments are the amount received.
    public let amountCents: Cents
    /// The order id for charges and adjustments, the payment id for payments.
    public let referenceId: String

    public init(kind: Kind, date: LocalDate, amountCents: Cents, referenceId: String) {
        self.kind = kind
        self.date = date
        self.amountCents = amountCents
        self.referenceId = referenceId
    }
}
