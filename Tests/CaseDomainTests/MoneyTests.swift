import CaseDomain
import Testing

@Suite struct MoneyTests {
    @Test(arguments: [
        (Cents(0), "$0.00"), (5, "$0.05"), (50, "$0.50"), (15_000, "$150.00"), (250_001, "$2500.01"),
        (-50, "-$0.50"), (Cents.min, "-$92233720368547758.08"),
    ])
    func dollarsForPeople(cents: Cents, text: String) {
        #expect(Money.dollars(cents) == text)
    }
}
