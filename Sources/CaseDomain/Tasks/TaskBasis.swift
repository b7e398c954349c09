/// Why a task was decided (contract v1.1, `data.basis`): the rule, and the
/// facts it was decided on as of the task's business date, so a caseworker
/// can answer a contest from the task alone. Facts keep their order; the
/// wire writes them beside `rule`.
public struct TaskBasis: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case cents(Cents)
        case date(LocalDate)
        case count(Int)
        case text(String)
    }

    public struct Fact: Sendable, Hashable {
        public let name: String
        public let value: Value
    }

    /// The statute, regulation or policy setting, e.g. `45 CFR 303.72`.
    public let rule: String
    public private(set) var facts: [Fact]

    public init(_ rule: String, _ facts: [(String, Value)] = []) {
        self.rule = rule
        self.facts = facts.map { Fact(name: $0.0, value: $0.1) }
    }

    /// A timeframe counted from a date: `countedFrom` and the days counted.
    public static func timeframe(_ rule: String, from start: LocalDate, days: Int, businessDays: Bool = false,
                                 _ facts: [(String, Value)] = []) -> TaskBasis {
        TaskBasis(rule, [("countedFrom", .date(start)), (businessDays ? "businessDays" : "days", .count(days))] + facts)
    }
}
