import CaseContract
import JSON
import Foundation
import Testing

@testable import CaseDomain

/// The task types and case-review reasons of the v1.1 processes (notices to
/// parents, intergovernmental referrals, review and adjustment, answers to a
/// notice of intent to close) as `TaskWire` writes them, built by hand so the
/// schemas are checked against the wire form of every letter and reason
/// whatever scenarios the rules happen to reach; and damaged copies, which the
/// schemas must refuse.
@Suite("Process task schemas")
struct ProcessTaskWireTests {
    static func day(_ text: String) -> LocalDate { LocalDate(iso8601: text)! }
    static let causation = UUID(uuidString: "9d3c1f0e-2b4a-4c6d-8e0f-1a2b3c4d5e6f")!
    static let createdAt = Date(timeIntervalSince1970: 1_788_000_000)
    static let address = Address(line1: "88 Hollis St Apt 3", city: "Gastonia", state: USState("NC")!, postalCode: "28052-4419")
    static let elsewhere = Address(line1: "400 Peachtree St", city: "Atlanta", state: USState("GA")!, postalCode: "30308")
    static let bank = EmployerRef(
        fein: FEIN("581234567")!, name: "Carolina Federal Savings",
        address: Address(line1: "1 Bank Plaza", city: "Charlotte", state: USState("NC")!, postalCode: "28202"))
    static let obligor = Obligor(partyId: "P-NCP", firstName: "Dale", lastName: "Ncp")

    static func task(_ type: TaskType, _ action: TaskAction = .issue, target: String, _ data: TaskData,
                     basis: TaskBasis = TaskBasis("45 CFR 303.8", [("countedFrom", .date(day("2026-09-11"))), ("days", .count(180))]),
                     correction: Bool = false) -> CaseTask {
        CaseTask(type: type, action: action, caseId: "NC-MECK-2026-004512", target: target, causationId: causation,
                 createdAt: createdAt, dueBy: day("2026-09-15"), data: data, basis: basis, withdrawnAsCorrection: correction)
    }

    static func notice(_ letter: PartyNotice.Letter, role: PartyRole = .noncustodialParent, address: Address? = address) -> TaskData {
        .partyNotice(PartyNotice(letter, partyId: role == .noncustodialParent ? "P-NCP" : "P-CP", role: role,
                                 firstName: "Dale", lastName: "Ncp", address: address))
    }

    static let letters: [PartyNotice.Letter] = [
        .enforcementIntent(remedy: .creditBureauReport, pastDueCents: 150_000, thresholdCents: 100_000, contestBy: day("2026-10-11"),
                           institution: nil),
        .enforcementIntent(remedy: .financialLevy, pastDueCents: 150_000, thresholdCents: 100_000, contestBy: day("2026-10-11"),
                           institution: bank),
        .reviewRights(orderId: "ORD-22-CVD-1187", docketNumber: "22-CVD-1187", termsEffectiveOn: day("2023-04-01"), incarceratedUntil: nil),
        .reviewRights(orderId: "ORD-22-CVD-1187", docketNumber: "22-CVD-1187", termsEffectiveOn: day("2023-04-01"),
                      incarceratedUntil: day("2028-01-31")),
        .closureIntent(criterion: .noCurrentOrderLowArrears, closeOn: day("2026-11-10")),
        .reviewStarted(requestedBy: .custodialParty, requestedOn: day("2026-09-11"), reviewDueBy: day("2027-03-10")),
    ]

    static func referral(reason: String? = nil, locatedAt: Address? = elsewhere) -> TaskData {
        .intergovernmentalReferral(IntergovernmentalReferral(
            toState: USState("GA")!, needs: [.establishment], pastDueCents: 0, obligor: obligor, locatedAt: locatedAt,
            locatedOn: day("2026-09-11"), reason: reason))
    }

    /// Every letter, with and without an address, to either parent; a
    /// notice withdrawn as a correction; referrals issued and withdrawn for
    /// each reason the rules give; the two new case-review reasons.
    static func wellFormed() -> [CaseTask] {
        var tasks: [CaseTask] = []
        for (n, letter) in letters.enumerated() {
            tasks.append(task(.partyNotice, target: "notice-\(n)", notice(letter)))
            tasks.append(task(.partyNotice, target: "notice-\(n)-cp", notice(letter, role: .custodialParty, address: nil)))
        }
        tasks.append(task(.partyNotice, .withdraw, target: "notice-0", notice(letters[0]), correction: true))
        tasks.append(task(.intergovernmentalReferral, target: "state:GA", referral()))
        tasks.append(task(.intergovernmentalReferral, target: "state:GA", referral(locatedAt: nil)))
        for reason in ["LOCATED_IN_HOME_STATE", "NO_LONGER_NEEDED", "CASE_CLOSED"] {
            tasks.append(task(.intergovernmentalReferral, .withdraw, target: "state:GA", referral(reason: reason, locatedAt: nil)))
        }
        tasks.append(task(.intergovernmentalReferral, .withdraw, target: "state:GA", referral(), correction: true))
        tasks.append(task(.caseReview, target: "review-and-adjustment", .caseReview(CaseReview(.reviewAndAdjustment(
            requestedBy: .noncustodialParty, requestedOn: day("2026-09-11"), countedFrom: day("2026-09-14"), reviewDays: 180)))))
        tasks.append(task(.caseReview, target: "closure-response", .caseReview(CaseReview(.closureResponse(
            .orderTerminatedNoArrears, respondedOn: day("2026-10-01"), closeOn: day("2026-11-10")), arrearsCents: 0))))
        tasks.append(task(.caseReview, .withdraw, target: "review-and-adjustment", .caseReview(CaseReview(.reviewAndAdjustment(
            requestedBy: .agency, requestedOn: day("2026-09-11"), countedFrom: day("2026-09-11"), reviewDays: 180))), correction: true))
        return tasks
    }

    @Test func everyLetterAndReason_validatesAgainstItsSchema() throws {
        let tasks = Self.wellFormed()
        let verdict = try TaskSchemaTests.validate(tasks.map { ($0.type.rawValue, $0.wireJSON()) })
        #expect(verdict.invalid.isEmpty, "\(verdict.report)")
        #expect(verdict.checked == tasks.count)
    }

    @Test func theWireNamesWhatEachLetterMustSay() throws {
        let levy = Self.task(.partyNotice, target: "n", Self.notice(Self.letters[1])).wireData
        #expect(levy["notice"] == "ENFORCEMENT_INTENT" && levy["remedy"] == "financial-levy" && levy["contestBy"] == "2026-10-11")
        #expect(levy["institution"]?["fein"] == "58-1234567")
        let rights = Self.task(.partyNotice, target: "n", Self.notice(Self.letters[3])).wireData
        #expect(rights["rightToRequestReview"] == true && rights["incarceratedUntil"] == "2028-01-31")
        let referral = Self.task(.intergovernmentalReferral, target: "state:GA", Self.referral()).wireData
        #expect(referral["toState"] == "GA" && referral["needs"] == ["ESTABLISHMENT"])
    }

    /// Each damaged copy breaks one rule of its schema.
    @Test func damagedTasks_failValidation() throws {
        func damaged(_ task: CaseTask, _ edit: (inout [String: JSONValue]) -> Void) -> (type: String, bytes: [UInt8]) {
            guard case .object(var envelope) = task.wireValue, case .object(var data)? = envelope["data"] else {
                Issue.record("task is not an object")
                return (task.type.rawValue, [])
            }
            edit(&data)
            envelope["data"] = .object(data)
            return (task.type.rawValue, JSONValue.object(envelope).serialized())
        }
        let intent = Self.task(.partyNotice, target: "n", Self.notice(Self.letters[0]))
        let rights = Self.task(.partyNotice, target: "n", Self.notice(Self.letters[2]))
        let closing = Self.task(.partyNotice, target: "n", Self.notice(Self.letters[4]))
        let started = Self.task(.partyNotice, target: "n", Self.notice(Self.letters[5]))
        let referral = Self.task(.intergovernmentalReferral, target: "state:GA", Self.referral())
        let withdrawn = Self.task(.intergovernmentalReferral, .withdraw, target: "state:GA", Self.referral(reason: "CASE_CLOSED"))
        let review = Self.wellFormed().first { $0.target == "review-and-adjustment" && $0.action == .issue }!
        let answered = Self.wellFormed().first { $0.target == "closure-response" }!
        let cases: [(type: String, bytes: [UInt8])] = [
            damaged(intent) { $0["contestBy"] = nil },
            damaged(intent) { $0["remedy"] = "locate" },
            damaged(intent) { $0["basis"] = nil },
            damaged(intent) { $0["notice"] = "PAY_UP" },
            damaged(intent) { $0["surprise"] = true },
            damaged(rights) { $0["rightToRequestReview"] = false },
            damaged(rights) { $0["docketNumber"] = nil },
            damaged(closing) { $0["criterion"] = "BORED" },
            damaged(closing) { $0["closeOn"] = nil },
            damaged(started) { $0["requestedBy"] = "COURT" },
            damaged(started) { $0["reviewDueBy"] = nil },
            damaged(Self.task(.partyNotice, .withdraw, target: "n", Self.notice(Self.letters[0]))) { _ in },
            damaged(referral) { $0["needs"] = [] },
            damaged(referral) { $0["needs"] = ["PAYMENT"] },
            damaged(referral) { $0["toState"] = "Georgia" },
            damaged(referral) { $0["locatedOn"] = nil },
            damaged(withdrawn) { $0["reason"] = "BECAUSE" },
            damaged(withdrawn) { $0["reason"] = nil },
            damaged(review) { $0["reviewDays"] = nil },
            damaged(review) { $0["requestedBy"] = "NEIGHBOR" },
            damaged(answered) { $0["respondedOn"] = nil },
        ]
        let verdict = try TaskSchemaTests.validate(cases)
        #expect(verdict.checked == cases.count)
        #expect(verdict.invalid.count == cases.count, "\(verdict.report)")
    }

    /// The enums the schemas list are the domain's.
    @Test func theSchemasEnumsAreTheDomains() throws {
        func load(_ name: String) throws -> JSONValue {
            try JSONValue.parse([UInt8](Data(contentsOf: TaskSchemaTests.repositoryRoot.appendingPathComponent("schemas/tasks/\(name).json"))))
        }
        func strings(_ value: JSONValue?) -> [String] { value?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let notice = try load("party-notice")["properties"]?["data"]?["properties"]
        #expect(strings(notice?["notice"]?["enum"]) == PartyNotice.Kind.allCases.map(\.rawValue))
        #expect(strings(notice?["remedy"]?["enum"]) == TaskType.remedies.map(\.rawValue))
        #expect(strings(notice?["criterion"]?["enum"]) == ClosureReason.allCases.map(\.rawValue))
        #expect(strings(notice?["requestedBy"]?["enum"]) == Requester.allCases.map(\.rawValue))
        let referral = try load("intergovernmental-referral")["properties"]?["data"]?["properties"]
        #expect(strings(referral?["needs"]?["items"]?["enum"]) == IntergovernmentalNeed.allCases.map(\.rawValue))
        let review = try load("case-review")["properties"]?["data"]?["properties"]
        #expect(strings(review?["criterion"]?["enum"]) == ClosureReason.allCases.map(\.rawValue))
        #expect(strings(review?["requestedBy"]?["enum"]) == Requester.allCases.map(\.rawValue))
    }
}
