/// Realistic but fictitious people, places and employers. SSNs use areas
/// 900-999, which the Social Security Administration never issues, so a
/// generated SSN can never be a real person's.
enum FakePeople {
    static let maleFirstNames = [
        "James", "Michael", "Robert", "David", "William", "Marcus", "Anthony", "Christopher", "Joshua", "Brandon",
        "Tyrone", "DeShawn", "Jamal", "Kevin", "Jason", "Justin", "Carlos", "José", "Luis", "Miguel",
        "Juan", "Andre", "Terrence", "Derrick", "Cody", "Dustin", "Travis", "Kyle", "Ryan", "Eric",
        "Dmitri", "Hung", "Minh", "Darnell", "Reginald", "Cedric", "Malik", "Tremaine", "Jerome", "Bobby",
    ]
    static let femaleFirstNames = [
        "Jennifer", "Jessica", "Ashley", "Amanda", "Brittany", "Tiffany", "Latoya", "Keisha", "Shanice", "Maria",
        "Guadalupe", "Rosa", "Ana", "Yesenia", "Crystal", "Heather", "Amber", "Stephanie", "Nicole", "Kayla",
        "Destiny", "Imani", "Aaliyah", "Tamika", "Monique", "Renée", "Chloé", "Sofía", "Lan", "Thu",
        "Megan", "Samantha", "Danielle", "Courtney", "Whitney", "Jasmine", "Ebony", "Krystal", "Brandi", "Misty",
    ]
    static let childFirstNames = [
        "Jaylen", "Elijah", "Liam", "Noah", "Mateo", "Josiah", "Jayden", "Aiden", "Kingston", "Zion",
        "Amara", "Ava", "Mia", "Harper", "Zoey", "Nevaeh", "Aaliyah", "Camila", "Isabella", "Kennedy",
        "Riley", "Jordan", "Skylar", "Taylor", "Ximena", "Ethan", "Carter", "Brooklyn", "Madison", "Paisley",
    ]
    static let lastNames = [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernández", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
        "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Nguyễn", "Hill",
        "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
        "O'Brien", "McNeil", "Whitfield", "Simmons", "Pettiford", "Oxendine", "Locklear", "Faison", "Bunch", "Mebane",
        "St. Clair", "Barnes-Wiley", "Dupree", "Hargrove", "Tran", "Pham", "Okafor", "Abdullah", "Kowalski", "Fitzgerald",
    ]
    static let streetNames = [
        "Tuckaseegee Rd", "Beatties Ford Rd", "Freedom Dr", "Central Ave", "Albemarle Rd", "Wilkinson Blvd", "Sugar Creek Rd",
        "N Tryon St", "Capital Blvd", "New Bern Ave", "Poole Rd", "Fayetteville St", "Holloway St", "Gorman St",
        "Summit Ave", "Gate City Blvd", "Patterson Ave", "Peters Creek Pkwy", "Murchison Rd", "Bragg Blvd",
        "Haywood Rd", "Patton Ave", "Market St", "Oleander Dr", "Main St", "Church St", "Oak St", "Pine St", "Maple Ave",
        "Elm St", "Cedar Ln", "Dogwood Dr", "Magnolia Ct", "Pinehurst Dr", "Old Hickory Rd",
    ]

    struct Place {
        let city: String
        let state: String
        /// First three ZIP digits of the city.
        let zip3: Int
        let county: String?
    }

    /// North Carolina first (the agency's state), then the states its
    /// interstate cases most often involve.
    static let homePlaces: [Place] = [
        Place(city: "Charlotte", state: "NC", zip3: 282, county: "mecklenburg"),
        Place(city: "Raleigh", state: "NC", zip3: 276, county: "wake"),
        Place(city: "Durham", state: "NC", zip3: 277, county: "durham"),
        Place(city: "Greensboro", state: "NC", zip3: 274, county: "guilford"),
        Place(city: "Winston-Salem", state: "NC", zip3: 271, county: "forsyth"),
        Place(city: "Fayetteville", state: "NC", zip3: 283, county: "cumberland"),
        Place(city: "Asheville", state: "NC", zip3: 288, county: "buncombe"),
        Place(city: "Wilmington", state: "NC", zip3: 284, county: "new-hanover"),
        Place(city: "Gastonia", state: "NC", zip3: 280, county: "gaston"),
        Place(city: "Rocky Mount", state: "NC", zip3: 278, county: "nash"),
        Place(city: "Lumberton", state: "NC", zip3: 283, county: "robeson"),
        Place(city: "Hickory", state: "NC", zip3: 286, county: "catawba"),
    ]
    static let otherPlaces: [Place] = [
        Place(city: "Columbia", state: "SC", zip3: 292, county: nil),
        Place(city: "Rock Hill", state: "SC", zip3: 297, county: nil),
        Place(city: "Atlanta", state: "GA", zip3: 303, county: nil),
        Place(city: "Richmond", state: "VA", zip3: 232, county: nil),
        Place(city: "Norfolk", state: "VA", zip3: 235, county: nil),
        Place(city: "Knoxville", state: "TN", zip3: 379, county: nil),
        Place(city: "Houston", state: "TX", zip3: 770, county: nil),
        Place(city: "Jacksonville", state: "FL", zip3: 322, county: nil),
        Place(city: "Baltimore", state: "MD", zip3: 212, county: nil),
        Place(city: "Philadelphia", state: "PA", zip3: 191, county: nil),
        Place(city: "Brooklyn", state: "NY", zip3: 112, county: nil),
        Place(city: "Columbus", state: "OH", zip3: 432, county: nil),
        Place(city: "Detroit", state: "MI", zip3: 482, county: nil),
        Place(city: "Chicago", state: "IL", zip3: 606, county: nil),
        Place(city: "Phoenix", state: "AZ", zip3: 850, county: nil),
        Place(city: "Washington", state: "DC", zip3: 200, county: nil),
        Place(city: "San Juan", state: "PR", zip3: 9, county: nil),
    ]

    static func address(_ rng: inout SplitMix64, outOfState: Bool) -> ScenarioAddress {
        let place = outOfState ? rng.pick(otherPlaces) : rng.pick(homePlaces)
        var line1 = "\(rng.int(100...9899)) \(rng.pick(streetNames))"
        if rng.chance(0.25) { line1 += ", Apt \(rng.int(1...40))\(rng.pick(["", "A", "B", "C"]))" }
        let zip = place.zip3 * 100 + rng.int(1...99)
        var zipText = String(zip)
        while zipText.utf8.count < 5 { zipText = "0" + zipText }
        return ScenarioAddress(line1: line1, city: place.city, state: place.state, postalCode: zipText)
    }

    // MARK: SSNs

    /// 100 areas x 99 groups x 9,999 serials.
    static let ssnSpace = 100 * 99 * 9_999

    /// A distinct SSN for each person number (a bijection on the space, so no
    /// two people of one seed share one), shuffled so neighbours do not look sequential.
    static func ssn(person: Int, seed: UInt64) -> String {
        let offset = Int(seed % UInt64(ssnSpace))
        let n = (person % ssnSpace * 48_271 + offset) % ssnSpace  // 48,271 is prime and does not divide the space
        let area = 900 + n / (99 * 9_999)
        let group = 1 + n / 9_999 % 99
        let serial = 1 + n % 9_999
        var out = [UInt8]()
        out.reserveCapacity(9)
        appendDigits(area, width: 3, to: &out)
        appendDigits(group, width: 2, to: &out)
        appendDigits(serial, width: 4, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// The employers NCPs work for. A pool shared by all cases: big employers get
/// many of the NCPs, so one payday's remittance carries several cases.
struct EmployerProfile {
    enum PayFrequency: CaseIterable {
        case weekly, biweekly, semimonthly, monthly

        var periodsPerYear: Int64 {
            switch self {
            case .weekly: 52
            case .biweekly: 26
            case .semimonthly: 24
            case .monthly: 12
            }
        }
    }

    let employer: ScenarioEmployer
    let frequency: PayFrequency
    /// Weekly and biweekly paydays fall on this Friday's cycle.
    let anchorFriday: Int
    /// Weekdays between a payday and the day the remittance is received; a
    /// few employers are late beyond the 7 business days federal law allows.
    let remittanceLag: Int
    /// Days after a quarter's end its wage report arrives.
    let wageReportLag: Int
    /// Typical annual pay of its workers, cents.
    let annualPayCents: Int64

    static let prefixes = ["56", "58", "20", "26", "27", "30", "46", "45", "47", "61", "62", "81", "82", "83", "84", "86", "87", "88", "92", "93"]
    static let nameHeads = [
        "Piedmont", "Carolina", "Tar Heel", "Blue Ridge", "Catawba", "Cape Fear", "Triad", "Triangle", "Queen City",
        "Sandhills", "Coastal", "Yadkin", "Pamlico", "Old North State", "Southern", "Allied", "Summit", "Crescent",
    ]
    static let nameTrades = [
        "Poultry Processing", "Freight Services", "Home Health", "Staffing Solutions", "Distribution Center",
        "Auto Parts", "Textile Mills", "Construction", "Landscaping", "Restaurant Group", "Furniture Manufacturing",
        "Hospitality", "Security Services", "Plumbing & Heating", "Logistics", "Building Supply", "Medical Center",
        "Janitorial Services", "Trucking", "Call Center",
    ]
    static let nameSuffixes = ["LLC", "Inc.", "Co.", "Corp.", "LLC", "Inc."]

    init(index: Int, seed: UInt64) {
        var rng = SplitMix64(seed, 0xE3B1, UInt64(index))
        var fein = rng.pick(Self.prefixes)
        // The index makes the FEIN unique within the pool.
        var serial = [UInt8]()
        // 7,919 is prime to 10^7, so distinct indexes give distinct serials.
        appendDigits((index * 7_919 + Int(seed % 10_000_000)) % 10_000_000, width: 7, to: &serial)
        fein += String(decoding: serial, as: UTF8.self)
        let name = "\(rng.pick(Self.nameHeads)) \(rng.pick(Self.nameTrades)) \(rng.pick(Self.nameSuffixes))"
        let address = FakePeople.address(&rng, outOfState: rng.chance(0.12))
        employer = ScenarioEmployer(fein: fein, name: name, address: address)
        frequency = [PayFrequency.weekly, .biweekly, .semimonthly, .monthly][rng.weighted([25, 40, 25, 10])]
        // 2026-01-02 is a Friday; every other cycle is one week later.
        anchorFriday = ScenarioDate(year: 2026, month: 1, day: 2)!.daysSinceEpoch + 7 * rng.int(0...1)
        remittanceLag = rng.chance(0.12) ? rng.int(8...10) : rng.int(1...5)
        wageReportLag = rng.int(25...50)
        annualPayCents = Int64(rng.int(2_200_000...6_500_000) / 100 * 100)
    }

    /// Paydays in `[from, to)` (days since epoch). Semimonthly: the 15th and the
    /// last day; monthly: the last day; weekend paydays move to the Friday before.
    func paydays(from: Int, to: Int) -> [Int] {
        guard from < to else { return [] }
        var days: [Int] = []
        switch frequency {
        case .weekly, .biweekly:
            let step = frequency == .weekly ? 7 : 14
            var d = from + ((anchorFriday - from) % step + step) % step
            while d < to {
                days.append(d)
                d += step
            }
        case .semimonthly, .monthly:
            var month = ScenarioDate(daysSinceEpoch: from).adding(days: -31)
            while month.daysSinceEpoch < to + 31 {
                let (y, m, _) = month.civil
                var candidates = [ScenarioDate(year: y, month: m, day: ScenarioDate.daysIn(month: m, year: y))!]
                if frequency == .semimonthly { candidates.insert(ScenarioDate(year: y, month: m, day: 15)!, at: 0) }
                for c in candidates {
                    let payday = c.weekday == 5 ? c.adding(days: -1) : c.weekday == 6 ? c.adding(days: -2) : c
                    if payday.daysSinceEpoch >= from && payday.daysSinceEpoch < to { days.append(payday.daysSinceEpoch) }
                }
                month = month.firstOfNextMonth
            }
        }
        return days
    }

    func remittanceReceived(payday: Int) -> Int { ScenarioDate(daysSinceEpoch: payday).addingWeekdays(remittanceLag).daysSinceEpoch }
}
