/// The people of one case: names, dates of birth, SSNs and addresses. Derived
/// from (seed, case number) alone, so the generator keeps only a case's plan
/// in memory and re-derives the people when it renders an event naming them.
struct CaseIdentity {
    struct Person {
        var firstName: String
        var lastName: String
        var dateOfBirth: ScenarioDate
        var ssn: String
    }

    struct Kid {
        var firstName: String
        var lastName: String
        var dateOfBirth: ScenarioDate
    }

    var custodial: Person
    var noncustodial: Person
    var children: [Kid]
    /// The noncustodial parent's address when first known, and after a move.
    var noncustodialAddress: ScenarioAddress
    var noncustodialNewAddress: ScenarioAddress
    var custodialAddress: ScenarioAddress
    var custodialNewAddress: ScenarioAddress

    /// `asOf` is the application date: children are 0-17 then (a few close to 18,
    /// so some orders end by emancipation within the period).
    init(seed: UInt64, caseIndex: Int, asOf: ScenarioDate, noncustodialOutOfState: Bool) {
        var rng = SplitMix64(seed, 0x1D, UInt64(caseIndex))
        // Most custodial parents are mothers; one in eight is the father or a relative.
        let custodialIsMother = rng.chance(0.88)
        let cpFirst = custodialIsMother ? rng.pick(FakePeople.femaleFirstNames) : rng.pick(FakePeople.maleFirstNames)
        let ncpFirst = custodialIsMother ? rng.pick(FakePeople.maleFirstNames) : rng.pick(FakePeople.femaleFirstNames)
        let cpLast = rng.pick(FakePeople.lastNames)
        let ncpLast = rng.chance(0.3) ? cpLast : rng.pick(FakePeople.lastNames)
        let childrenCount = [1, 2, 3, 4][rng.weighted([58, 28, 10, 4])]
        let nearEmancipation = rng.chance(0.07)
        var kids: [Kid] = []
        for i in 0..<childrenCount {
            let ageDays = i == 0 && nearEmancipation ? 17 * 365 + rng.int(60...330) : rng.int(90...(16 * 365))
            kids.append(Kid(firstName: rng.pick(FakePeople.childFirstNames), lastName: rng.chance(0.6) ? ncpLast : cpLast,
                            dateOfBirth: asOf.adding(days: -ageDays)))
        }
        let oldestAge = kids.map { asOf.daysSinceEpoch - $0.dateOfBirth.daysSinceEpoch }.max()!
        let cpAge = oldestAge + rng.int(17 * 365...(22 * 365))
        let ncpAge = cpAge + rng.int(-3 * 365...(8 * 365))
        custodial = Person(firstName: cpFirst, lastName: cpLast, dateOfBirth: asOf.adding(days: -cpAge),
                           ssn: FakePeople.ssn(person: 2 * caseIndex + 1, seed: seed))
        noncustodial = Person(firstName: ncpFirst, lastName: ncpLast, dateOfBirth: asOf.adding(days: -max(ncpAge, 18 * 365 + 200)),
                              ssn: FakePeople.ssn(person: 2 * caseIndex, seed: seed))
        // The youngest child sets when the order ends; keep the oldest first as families list them.
        children = kids.sorted { $0.dateOfBirth < $1.dateOfBirth }
        custodialAddress = FakePeople.address(&rng, outOfState: false)
        custodialNewAddress = FakePeople.address(&rng, outOfState: false)
        noncustodialAddress = FakePeople.address(&rng, outOfState: noncustodialOutOfState)
        noncustodialNewAddress = FakePeople.address(&rng, outOfState: noncustodialOutOfState && rng.chance(0.7))
    }

    /// A person with no case: new hires are reported for everyone.
    static func stranger(seed: UInt64, person: Int) -> (first: String, last: String, ssn: String, address: ScenarioAddress) {
        var rng = SplitMix64(seed, 0x5742, UInt64(person))
        let first = rng.chance(0.5) ? rng.pick(FakePeople.maleFirstNames) : rng.pick(FakePeople.femaleFirstNames)
        return (first, rng.pick(FakePeople.lastNames), FakePeople.ssn(person: person, seed: seed), FakePeople.address(&rng, outOfState: rng.chance(0.1)))
    }
}
