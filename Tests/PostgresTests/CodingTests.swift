import Foundation
import Postgres
import Testing
import TestSupport

/// Values go to the server as parameters, are cast there, and come back; the
/// server's own reading of each value is checked too (through unnest, length
/// functions, comparisons), so symmetric encode/decode bugs cannot hide.
@Suite("Postgres: type round trips")
struct CodingTests {
    let connection: PostgresConnection

    init() throws {
        connection = try TestDatabase.connect()
    }

    func roundTrip<T: PostgresCodable>(_ value: T, as cast: String) throws -> T {
        let row = try #require(try connection.query("SELECT $1::\(cast)", value).first)
        return try row.decode(T.self, column: 0)
    }

    static let awkwardStrings = [
        "", "plain", "NULL", "null", "a,b", "{braces}", "\"quoted\"", "back\\slash", "\\\"", " padded ",
        "tab\there", "line\nbreak", "ünïcødé ✓ 🎉", "'single'", "semi;colon", "trailing\\",
    ]

    @Test func strings() throws {
        for text in Self.awkwardStrings {
            #expect(try roundTrip(text, as: "text") == text)
        }
        // The server sees the same characters, not an escaped form.
        let length = try connection.query("SELECT char_length($1::text)", "ünïcødé ✓ 🎉")[0].decode(Int.self, column: 0)
        #expect(length == 11)
    }

    @Test func integers() throws {
        for value in [Int64.min, -1, 0, 1, Int64.max] {
            #expect(try roundTrip(value, as: "int8") == value)
        }
        for value in [Int32.min, 0, Int32.max] {
            #expect(try roundTrip(value, as: "int4") == value)
        }
        #expect(try roundTrip(Int(-42), as: "int8") == -42)
        #expect(try connection.query("SELECT $1::int8 + 1", Int64(41))[0].decode(Int64.self, column: 0) == 42)
        // Reading an int8 that does not fit an Int32 is an error, not truncation.
        let error = postgresError {
            _ = try connection.query("SELECT $1::int8", Int64.max)[0].decode(Int32.self, column: 0)
        }
        #expect(error?.kind == .decodingFailure)
    }

    @Test func booleansAndDoubles() throws {
        #expect(try roundTrip(true, as: "bool") == true)
        #expect(try roundTrip(false, as: "bool") == false)
        for value in [0.0, -0.5, 0.1, 1e-300, 1.7976931348623157e308, 123456.789, .infinity, -.infinity] {
            #expect(try roundTrip(value, as: "float8") == value)
        }
        #expect(try roundTrip(Double.nan, as: "float8").isNaN)
        #expect(try connection.query("SELECT $1::float8 = 0.1::float8", 0.1)[0].decode(Bool.self, column: 0))
    }

    @Test func dates() throws {
        let samples: [Date] = [
            Date(timeIntervalSince1970: 0),
            Date(timeIntervalSince1970: 1_795_000_000.123456),
            Date(timeIntervalSince1970: -1_000_000_000.5),  // 1938
            Date(timeIntervalSince1970: 32_503_680_000),  // 3000-01-01
        ]
        for date in samples {
            let back = try roundTrip(date, as: "timestamptz")
            #expect(abs(back.timeIntervalSince(date)) < 0.000_001, "\(date) came back as \(back)")
        }
        // The server reads the instant we meant, in UTC.
        let epoch = try connection.query("SELECT extract(epoch FROM $1::timestamptz)::float8", samples[1])
        #expect(abs(try epoch[0].decode(Double.self, column: 0) - 1_795_000_000.123456) < 0.000_001)
    }

    @Test("dates read back right whatever the session time zone", arguments: ["UTC", "Asia/Kolkata", "America/St_Johns"])
    func datesInOtherTimeZones(zone: String) throws {
        try connection.execute("SELECT set_config('TimeZone', $1, false)", zone)
        let date = Date(timeIntervalSince1970: 1_763_900_000.25)
        #expect(try roundTrip(date, as: "timestamptz") == date)
        // Historical local-mean-time offsets carry seconds (+05:53:28 in Kolkata before 1900).
        let old = Date(timeIntervalSince1970: -2_500_000_000)
        #expect(try roundTrip(old, as: "timestamptz") == old)
    }

    @Test func uuidsBytesAndJSON() throws {
        let id = UUID()
        #expect(try roundTrip(id, as: "uuid") == id)
        let bytes: [UInt8] = Array(0...255) + [0, 0, 92, 120]
        #expect(try roundTrip(bytes, as: "bytea") == bytes)
        #expect(try roundTrip([UInt8](), as: "bytea") == [])
        #expect(try connection.query("SELECT octet_length($1::bytea)", bytes)[0].decode(Int.self, column: 0) == 260)
        #expect(try roundTrip(Data([1, 2, 3]), as: "bytea") == Data([1, 2, 3]))

        let json = PostgresJSON(#"{"obligation": "O-1", "cents": 12345, "note": "quote \" and ü"}"#)
        let field = try connection.query("SELECT ($1::jsonb)->>'note', ($1::jsonb)->'cents'", json)[0]
        #expect(try field.decode(String.self, column: 0) == "quote \" and ü")
        #expect(try field.decode(Int64.self, column: 1) == 12345)
        let back = try roundTrip(json, as: "jsonb")
        #expect(back.text.contains(#""cents": 12345"#))
        let plain = PostgresJSON(#"{"b":1,  "a":2}"#, type: .json)
        #expect(try roundTrip(plain, as: "json").text == #"{"b":1,  "a":2}"#)
    }

    @Test func nulls() throws {
        let row = try connection.query("SELECT NULL::int8, NULL::text, 5::int8")[0]
        #expect(try row.decode(Int64?.self, column: 0) == nil)
        #expect(try row.decode(String?.self, column: 1) == nil)
        #expect(try row.decode(Int64?.self, column: 2) == 5)
        #expect(row.isNull(column: 0))
        let error = postgresError { _ = try row.decode(Int64.self, column: 0) }
        #expect(error?.kind == .decodingFailure)

        let none: String? = nil
        #expect(try connection.query("SELECT $1::text IS NULL", none)[0].decode(Bool.self, column: 0))
        let noNumber: Int64? = nil
        #expect(try connection.query("SELECT coalesce($1::int8, -1)", noNumber)[0].decode(Int64.self, column: 0) == -1)
    }

    @Test func columnsByName() throws {
        let row = try connection.query("SELECT 7::int4 AS arrears_months, 'Ohio' AS \"State\"")[0]
        #expect(try row.decode(Int32.self, column: "arrears_months") == 7)
        #expect(try row.decode(String.self, column: "State") == "Ohio")
        let error = postgresError { _ = try row.decode(Int.self, column: "missing") }
        #expect(error?.kind == .misuse)
    }

    // MARK: arrays

    /// Elements as the server sees them, in order, via unnest.
    func serverElements(_ parameter: some PostgresEncodable, as cast: String) throws -> [String?] {
        try connection.query("SELECT x::text FROM unnest($1::\(cast)) WITH ORDINALITY AS t(x, n) ORDER BY n", parameter)
            .map { try $0.decode(String?.self, column: 0) }
    }

    @Test func stringArrays() throws {
        let values = Self.awkwardStrings
        #expect(try roundTrip(values, as: "text[]") == values)
        #expect(try serverElements(values, as: "text[]") == values)

        let withNulls: [String?] = ["a", nil, "NULL", nil, "", "x,y"]
        #expect(try roundTrip(withNulls, as: "text[]") == withNulls)
        #expect(try serverElements(withNulls, as: "text[]") == withNulls)
        #expect(try connection.query("SELECT array_length($1::text[], 1)", withNulls)[0].decode(Int.self, column: 0) == 6)

        #expect(try roundTrip([String](), as: "text[]") == [])
        // A literal the server wrote itself, with unquoted elements and a non-1 lower bound.
        let shifted = try connection.query("SELECT '[0:2]={a,NULL,\"b c\"}'::text[]")[0].decode([String?].self, column: 0)
        #expect(shifted == ["a", nil, "b c"])
    }

    @Test func scalarArrays() throws {
        let numbers: [Int64] = [Int64.min, -1, 0, 42, Int64.max]
        #expect(try roundTrip(numbers, as: "int8[]") == numbers)
        let sparse: [Int64?] = [1, nil, 3]
        #expect(try roundTrip(sparse, as: "int8[]") == sparse)
        #expect(try connection.query("SELECT sum(x) FROM unnest($1::int8[]) x", sparse)[0].decode(Int64.self, column: 0) == 4)
        #expect(try roundTrip([Int32(7), -7], as: "int4[]") == [7, -7])
        #expect(try roundTrip([1, 2, 3], as: "int8[]") == [1, 2, 3])

        let ids = [UUID(), UUID(), UUID()]
        #expect(try roundTrip(ids, as: "uuid[]") == ids)
        let someIDs: [UUID?] = [nil, ids[0]]
        #expect(try roundTrip(someIDs, as: "uuid[]") == someIDs)

        let flags: [Bool?] = [true, false, nil]
        #expect(try roundTrip(flags, as: "bool[]") == flags)
        #expect(try roundTrip([true, false], as: "bool[]") == [true, false])

        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_795_000_000.5)]
        #expect(try roundTrip(dates, as: "timestamptz[]") == dates)
        let someDates: [Date?] = [nil, dates[1]]
        #expect(try roundTrip(someDates, as: "timestamptz[]") == someDates)

        #expect(try roundTrip([0.5, -2.25, Double.infinity], as: "float8[]") == [0.5, -2.25, .infinity])
        let documents = [PostgresJSON(#"{"a": "x,\"y\"}"}"#), PostgresJSON("[1, 2]")]
        #expect(try roundTrip(documents, as: "jsonb[]").map(\.text) == [#"{"a": "x,\"y\"}"}"#, "[1, 2]"])
    }

    /// Arrays of these element types go in binary format; what the server
    /// reads must be what a literal would have said, casts included.
    @Test func binaryArraysMeanWhatLiteralsMeant() throws {
        #expect([String]().postgresParameter.binary && [Int64]().postgresParameter.binary)
        #expect([UUID?]().postgresParameter.binary && [Date]().postgresParameter.binary && [Bool]().postgresParameter.binary)
        #expect([PostgresJSON]().postgresParameter.binary && [Int16]().postgresParameter.binary)
        #expect(![Double]().postgresParameter.binary, "float8 arrays stay literals")

        #expect(try roundTrip([Int16.min, -1, 0, Int16.max], as: "int2[]") == [Int16.min, -1, 0, Int16.max])
        #expect(try roundTrip([Int32.min, Int32.max], as: "int4[]") == [Int32.min, Int32.max])
        // Before and after the server's epoch (2000-01-01), to the microsecond.
        let instants = [
            Date(timeIntervalSince1970: -86_400.000_001), Date(timeIntervalSince1970: 946_684_799.999_999),
            Date(timeIntervalSince1970: 946_684_800), Date(timeIntervalSince1970: 1_795_000_000.123_456),
        ]
        // (A Date is a Double: it comes back within a microsecond, as through text.)
        for (back, sent) in zip(try roundTrip(instants, as: "timestamptz[]"), instants) {
            #expect(abs(back.timeIntervalSince(sent)) < 0.000_001)
        }
        #expect(try serverElements(instants, as: "timestamptz[]")
            == instants.map { try! connection.query("SELECT $1::timestamptz::text", $0)[0].decode(String.self, column: 0) })
        // Text elements cast by the statement, element by element.
        let days: [String?] = ["2026-03-01", nil, "1999-12-31"]
        #expect(try serverElements(days, as: "date[]") == days)
        #expect(try connection.query("SELECT ($1::text[])::date[] = '{2026-03-01,NULL,1999-12-31}'::date[]", days)[0]
            .decode(Bool.self, column: 0))
        let bigText = String(repeating: "ü", count: 40_000)
        #expect(try roundTrip([bigText, ""], as: "text[]") == [bigText, ""])
        let nested: [PostgresJSON?] = [PostgresJSON(#"{"k": [1, {"z": null}]}"#), nil]
        #expect(try roundTrip(nested, as: "jsonb[]").map { $0?.text } == [#"{"k": [1, {"z": null}]}"#, nil])
        // A NUL byte cannot be text: the server refuses the element rather than cutting it short.
        let error = postgresError { try connection.execute("SELECT $1::text[]", ["a\u{0}b"]) }
        #expect(error != nil)
    }

    @Test func setBasedInsertThroughUnnest() throws {
        try withScratchSchema("unnest") { scratch in
            let db = scratch.connection
            try db.execute("CREATE TABLE remittance (id uuid PRIMARY KEY, payer text, cents int8, received timestamptz)")
            let ids = (0..<500).map { _ in UUID() }
            let payers: [String?] = (0..<500).map { $0 % 50 == 0 ? nil : "payer \"\($0)\", {x}" }
            let cents = (0..<500).map { Int64($0) * 100 }
            let received = (0..<500).map { Date(timeIntervalSince1970: 1_790_000_000 + Double($0)) }
            let inserted = try db.execute(
                """
                INSERT INTO remittance (id, payer, cents, received)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::int8[], $4::timestamptz[])
                """, ids, payers, cents, received)
            #expect(inserted.affectedRows == 500)
            let row = try db.query("SELECT payer, cents, received FROM remittance WHERE id = $1", ids[7])[0]
            #expect(try row.decode(String?.self, column: 0) == "payer \"7\", {x}")
            #expect(try row.decode(Int64.self, column: 1) == 700)
            #expect(try row.decode(Date.self, column: 2) == received[7])
            #expect(try db.query("SELECT count(*) FROM remittance WHERE payer IS NULL")[0].decode(Int.self, column: 0) == 10)
        }
    }

    @Test func textParameterWithNULByteIsRefused() throws {
        let error = postgresError { try connection.execute("SELECT $1::text", "a\u{0}b") }
        #expect(error?.kind == .misuse)
    }
}
