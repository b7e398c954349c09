/// Why the ledger refused a change; the event that asked for it is a dead letter or a review.
public enum LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    case negativeAmount(field: String, cents: Cents)
    /// Beyond `Ledger.maximumAmountCents`: a data error, and prorating it could overflow.
    case amountTooLarge(field: String, cents: Cents)
    case nonPositivePayment(paymentId: String, cents: Cents)
    case orderAlreadyEstablished(orderId: String)
    case unknownOrder(orderId: String)
    case modificationBeforeOrderStart(orderId: String, effectiveOn: LocalDate)
    /// The same payment id arrived again with a different amount or date.
    case conflictingPayment(paymentId: String)
    /// The same reversal or adjustment id arrived again with other terms.
    case conflictingCharge(chargeId: String)

    public var description: String {
        switch self {
        case let .negativeAmount(field, cents): "\(field) is negative (\(cents) cents)"
        case let .amountTooLarge(field, cents): "\(field) is implausibly large (\(cents) cents)"
        case let .nonPositivePayment(id, cents): "payment \(id) is not positive (\(cents) cents)"
        case let .orderAlreadyEstablished(id): "order \(id) is already established with other terms"
        case let .unknownOrder(id): "no order \(id) on this case"
        case let .modificationBeforeOrderStart(id, date): "modification of order \(id) effective \(date) precedes the order"
        case let .conflictingPayment(id): "payment \(id) was already applied with a different amount, date or source"
        case let .conflictingCharge(id): "\(id) was already recorded with different terms"
        }
    }
}
