import Crypto
import CaseContract
import CaseDomain
import CaseScenarios
@testable import CaseStorage
import Foundation
import Postgres
import Testing

@Suite("Read model and SSN privacy")
struct ReadModelAndPrivacyTests {
    let builder = CaseBuilder()

    func saveLife(_ store: CaseStore, caseId: String, ncpSSN: String = "934127765") throws -> CaseState {
        let (state, history) = try builder.apply(lifeOfCase(caseId, ncpSSN: ncpSSN))
        try store.withBatch { batch in
            _ = try batch.recordEvents(processed(history.map(\.eventId)))
            _ = try batch.lockAndLoad(caseIds: [caseId])
            try batch.save(
                cases: [CaseChange(state: state, history: history)],
                outbox: history.flatMap(\.tasks).map(OutboxMessage.init(task:)))
        }
        return state
    }

    @Test("case show: arrears as of the given date, masked SSNs, employer, history with tasks")
    func show() throws {
        try withMigratedStore("show") { scratch, store, _ in
            let state = try saveLife(store, caseId: "CS-800")
            let model = CaseReadModel(connection: scratch.connection)
            #expect(try model.show(caseId: "CS-404", asOf: LocalDate("2026-05-01")!) == nil)

            let view = try #require(try model.show(caseId: "CS-800", asOf: LocalDate("2026-05-15")!))
            #expect(view.caseId == "CS-800")
            #expect(view.program == "NON_TANF")
            #expect(view.stage == state.stage.rawValue)
            #expect(view.monthlySupportCents == 45_000)
            // Order of $450/month from 2026-02-01: Feb, Mar, Apr, May due = $1,800; $200 paid.
            #expect(view.arrearsCents == 4 * 45_000 - 20_000)
            let earlier = try #require(try model.show(caseId: "CS-800", asOf: LocalDate("2026-02-15")!))
            #expect(earlier.arrearsCents == 45_000)
            #expect(view.employer?.fein == state.employments.first?.fein.digits)
            #expect(view.parties.map(\.ssn) == ["***-**-0318", "***-**-7765"])
            #expect(view.history.map(\.eventType) == [
                "intake.application", "court.order-established", "employer.new-hire", "employer.withholding-remittance",
            ])
            #expect(view.history.map(\.seq) == [1, 2, 3, 4])
            let newHireTasks = view.history[2].tasks
            #expect(newHireTasks.contains { $0.type == "income-withholding" && $0.action == "ISSUE" })

            let json = try view.json()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            for field in ["caseId", "program", "stage", "arrearsCents", "monthlySupportCents", "employer", "referrals", "history"] {
                #expect(object[field] != nil, "missing \(field)")
            }
            #expect(!json.contains("934127765") && !json.contains("912450318"))
            let text = view.text
            #expect(text.contains("***-**-7765"))
            #expect(text.contains("$1600.00"))
            #expect(!text.contains("934127765"))
        }
    }

    @Test("case show's text drops terminal control sequences carried by names and other event text")
    func showStripsControlSequences() throws {
        try withMigratedStore("show_escapes") { scratch, store, _ in
            _ = try saveLife(store, caseId: "CS-801")
            var view = try #require(try CaseReadModel(connection: scratch.connection).show(caseId: "CS-801", asOf: LocalDate("2026-05-15")!))
            // A window retitle (OSC), a screen clear and recolour (CSI), a C1 CSI, a newline faking a line, a bidi override.
            view.parties[0].name = "Ann\u{1B}]0;owned\u{07}e \u{1B}[2J\u{1B}[31mDoe\u{9B}1A\nfake line\u{202E}x"
            view.employer?.name = "Acme\u{1B}P+q\u{1B}\\ Corp\u{7F}"
            view.history[0].changes.append("moved\u{1B}7\r to \u{1B}[1;1Hnowhere")
            let text = view.text
            #expect(text.contains("Anne Doefake linex"), "\(text.debugDescription)")
            #expect(text.contains("Employer: Acme Corp (FEIN"))
            #expect(text.contains("- moved to nowhere"))
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) || $0 == "\u{202E}" })
            #expect(TerminalText.printable("plain Ünïcode name") == "plain Ünïcode name")
        }
    }

    @Test("employer is an explicit null when none is known")
    func nullEmployer() throws {
        try withMigratedStore("nullemployer") { scratch, store, _ in
            let (state, history) = try builder.apply(Array(lifeOfCase("CS-801").prefix(1)))
            try store.withBatch { batch in
                _ = try batch.lockAndLoad(caseIds: ["CS-801"])
                try batch.save(cases: [CaseChange(state: state, history: history)])
            }
            let view = try #require(try CaseReadModel(connection: scratch.connection).show(caseId: "CS-801", asOf: LocalDate("2026-01-06")!))
            #expect(view.employer == nil)
            #expect(try view.json().contains("\"employer\" : null"))
        }
    }

    @Test("no SSN appears in clear in any column of any table after saving cases, history, outbox and parked events")
    func noSSNDigitsAnywhere() throws {
        try withMigratedStore("nossn") { scratch, store, protector in
            let ssns = ["934127765", "923456781", "912450318"]
            _ = try saveLife(store, caseId: "CS-900", ncpSSN: ssns[0])
            _ = try saveLife(store, caseId: "CS-901", ncpSSN: ssns[1])
            // An employer report for an unknown person, parked and also dead-lettered.
            let report = ScenarioEvents.newHire(ssn: "945678123")
            let reportId = UUID(uuidString: report.eventId)!
            try store.withBatch { batch in
                _ = try batch.recordEvents([ProcessedEvent(eventId: reportId, topic: report.topic, partition: 0, offset: 9)])
                try batch.save(
                    cases: [],
                    outbox: [
                        OutboxMessage(
                            messageId: UUID(), topic: "cse.deadletter.v1", key: report.key, value: report.value,
                            headers: [OutboxHeader(name: "error-class", value: "processing-failed")],
                            containsPersonalData: true)
                    ],
                    parked: [
                        ParkedEvent(
                            eventId: reportId, match: .ssn(protector.hash(SSN("945678123")!)), topic: report.topic,
                            partition: 0, offset: 9, key: report.key, value: report.value)
                    ],
                    outcomes: [reportId: .parked])
            }
            let dumps = try everyStoredValue(scratch.connection, schema: scratch.name)
            #expect(dumps.keys.count >= 11)
            #expect(dumps["cases"]?.isEmpty == false)
            #expect(dumps["parked_events"]?.isEmpty == false)
            // The scan sees what it should: case ids and last fours are there in clear.
            #expect(dumps["cases"]?.contains("CS-900") == true)
            #expect(dumps["parties"]?.contains("7765") == true)
            for (table, blob) in dumps {
                for ssn in ssns + ["945678123"] {
                    #expect(!blob.contains(ssn), "\(table) holds an SSN in clear")
                    // A plain SHA-256 of an SSN is reversible by trying all 10^9: never stored either.
                    let keyHex = SHA256.hash(data: Array(ssn.utf8)).map { String(format: "%02x", $0) }.joined()
                    #expect(!blob.contains(keyHex), "\(table) holds an SSN's plain SHA-256")
                }
            }
        }
    }

    @Test("the scan would catch an SSN if one were stored")
    func scanDetectsPlantedSSN() throws {
        try withMigratedStore("planted") { scratch, store, _ in
            _ = try saveLife(store, caseId: "CS-950")
            try scratch.connection.execute(
                "UPDATE case_history SET changes = jsonb_build_array('planted 934127765') WHERE seq = 1")
            try scratch.connection.execute("UPDATE outbox SET value = convert_to('x934127765x', 'UTF8')")
            let dumps = try everyStoredValue(scratch.connection, schema: scratch.name)
            #expect(dumps["case_history"]?.contains("934127765") == true)
            #expect(dumps["outbox"]?.contains("934127765") == true)
        }
    }
}

@Suite("SSN keys")
struct SSNKeyTests {
    @Test("keys read from hex or base64; short, empty or unreadable keys are refused without echoing them")
    func parsing() throws {
        let hex = String(repeating: "ab", count: 32)
        _ = try SSNKey(encoded: hex)
        _ = try SSNKey(encoded: Data(repeating: 7, count: 48).base64EncodedString())
        #expect(throws: SSNKeyError.tooShort(variable: "CSE_SSN_KEY", bytes: 16)) {
            try SSNKey(encoded: String(repeating: "ab", count: 16))
        }
        #expect(throws: SSNKeyError.missing(variable: "CSE_SSN_KEY")) { try SSNKey.fromEnvironment([:]) }
        #expect(throws: SSNKeyError.missing(variable: "CSE_SSN_KEY")) { try SSNKey.fromEnvironment(["CSE_SSN_KEY": " "]) }
        #expect(throws: SSNKeyError.unreadable(variable: "CSE_SSN_KEY")) { try SSNKey(encoded: "not a key!") }
        #expect(!"\(try SSNKey(encoded: hex))".contains("abab"))
    }

    /// Stored hashes are matched against new reports for years: the derivation
    /// (HKDF-SHA256, then HMAC-SHA256 of the digits) must never drift.
    /// Expected value computed independently with Python's hmac/hashlib.
    @Test("the SSN hash is HMAC-SHA256 under the HKDF-derived key, and repeated hashing does not carry state")
    func knownAnswer() throws {
        let protector = SSNProtector(key: try SSNKey(encoded: String(repeating: "ab", count: 32)))
        let expected = "742cbcad2506638c70299847806280f0687bb64a11cf473f6df9de3fe9b13011"
        #expect(protector.hash(SSN("934127765")!).hex == expected)
        _ = protector.hash(SSN("923456781")!)
        #expect(protector.hash(SSN("934127765")!).hex == expected)
    }

    @Test("hashes are keyed: same SSN and key agree, another key differs; sealing is bound to its context")
    func hashingAndSealing() throws {
        let key = try SSNKey(encoded: String(repeating: "01", count: 32))
        let protector = SSNProtector(key: key)
        let again = SSNProtector(key: try SSNKey(encoded: String(repeating: "01", count: 32)))
        let other = SSNProtector(key: .random())
        let ssn = try #require(SSN("934127765"))
        #expect(protector.hash(ssn) == again.hash(ssn))
        #expect(protector.hash(ssn) != other.hash(ssn))
        #expect(protector.hash(ssn) != protector.hash(try #require(SSN("934127766"))))
        #expect(protector.hash(ssn).bytes.count == 32)

        let sealed = try protector.seal(Array("934127765".utf8), context: "case-ssns:CS-1")
        #expect(try again.open(sealed, context: "case-ssns:CS-1") == Array("934127765".utf8))
        #expect(throws: SealError.self) { try protector.open(sealed, context: "case-ssns:CS-2") }
        #expect(throws: SealError.self) { try other.open(sealed, context: "case-ssns:CS-1") }
        // Fresh nonce every time.
        #expect(try protector.seal(Array("934127765".utf8), context: "c") != protector.seal(Array("934127765".utf8), context: "c"))
    }
}
