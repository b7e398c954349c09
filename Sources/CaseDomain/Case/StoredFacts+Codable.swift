/// Codable conformances for the event vocabulary that case state keeps, so
/// storage can persist `CaseState` as JSON. Wire decoding of events does not
/// go through these (the event decoder validates the contract); they only
/// round-trip what the rules already accepted. Each encodes as its wire form.

extension Program: Codable {}
extension PaternityMethod: Codable {}
extension HearingType: Codable {}
extension OrderTerminationReason: Codable {}
extension MedicalCoverage: Codable {}

/// Stored as the nine digits: case state lives in the database, whose access is
/// controlled; logs and errors still see only `description`, which is masked.
extension SSN: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let ssn = SSN(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a nine-digit SSN")
        }
        self = ssn
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}

extension FEIN: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let fein = FEIN(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a FEIN")
        }
        self = fein
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}

extension USState: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let state = USState(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a USPS state code")
        }
        self = state
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

extension Address: Codable {
    private enum CodingKeys: String, CodingKey { case line1, city, state, postalCode }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            line1: try c.decode(String.self, forKey: .line1), city: try c.decode(String.self, forKey: .city),
            state: try c.decode(USState.self, forKey: .state), postalCode: try c.decode(String.self, forKey: .postalCode))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(line1, forKey: .line1)
        try c.encode(city, forKey: .city)
        try c.encode(state, forKey: .state)
        try c.encode(postalCode, forKey: .postalCode)
    }
}

extension Quarter: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let quarter = Quarter(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a YYYYQn quarter")
        }
        self = quarter
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
