import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import Foundation
import Testing

/// Contract v1.1 end to end: `cse.collections.v1` and `cse.data-matches.v1`
/// produced all at once with intake and court events, read by two workers of
/// one group in whatever order the partitions deliver them, the tasks read
/// back from the task topics and the account through the read model.
@Suite("Pipeline: collections and data matches through two workers", .timeLimit(.minutes(3)))
struct CollectionsEndToEndTests {
    static func at(_ day: String, hour: Int = 15) -> Date { ScenarioDate(stringLiteral: day).at(hour: hour) }

    @Test func everyNewEventType_throughTwoWorkers() async throws {
        try await withHarness(workers: 2) { h in
            let caseId = "MONEY-1", ssn = "934100050"
            let laterCaseId = "MONEY-2", laterSSN = "934100051"
            let order = ScenarioOrderTerms(orderId: "MONEY-1-O1", monthlySupportCents: 40_000, effectiveOn: "2026-03-01",
                                           judgmentArrearsCents: 150_000)
            let direct = ScenarioEvents.collectionReceived(
                caseId: caseId, collectionId: "SDU-1", source: .directPayment, amountCents: 60_000, occurredAt: Self.at("2026-03-05"))
            var events = [
                ScenarioEvents.intakeApplication(
                    caseId: caseId, noncustodialParty: .sampleNoncustodial(caseId: caseId, ssn: ssn), existingOrder: order,
                    occurredAt: Self.at("2026-03-02")),
                direct,
                ScenarioEvents.collectionReceived(
                    caseId: caseId, collectionId: "IRS-2025", source: .federalTaxOffset, amountCents: 30_000, jointReturn: false,
                    taxYear: 2025, occurredAt: Self.at("2026-03-10")),
                ScenarioEvents.collectionReversed(caseId: caseId, collectionId: "SDU-1", reason: .nsf, occurredAt: Self.at("2026-03-20")),
                ScenarioEvents.accountAdjusted(
                    caseId: caseId, adjustmentId: "AUD-7", amountCents: -5_000, reason: .audit, occurredAt: Self.at("2026-03-23")),
                ScenarioEvents.unemploymentClaim(
                    ssn: ssn, claimFiledOn: "2026-03-16", weeklyBenefitCents: 41_000, receivedOn: "2026-03-24", occurredAt: Self.at("2026-03-24")),
                ScenarioEvents.financialAccountMatch(
                    ssn: ssn, accountKind: .savings, balanceCents: 90_000, matchedOn: "2026-03-25", occurredAt: Self.at("2026-03-25")),
                // A match about a person on no case yet waits for the case that names him.
                ScenarioEvents.unemploymentClaim(ssn: laterSSN, weeklyBenefitCents: 30_000, occurredAt: Self.at("2026-03-26")),
            ]
            try await h.produce(events)
            try await h.waitUntilProcessed(events.count)
            let opening = ScenarioEvents.intakeApplication(
                caseId: laterCaseId, noncustodialParty: .sampleNoncustodial(caseId: laterCaseId, ssn: laterSSN),
                existingOrder: ScenarioOrderTerms(orderId: "MONEY-2-O1", monthlySupportCents: 30_000, effectiveOn: "2026-03-01"),
                occurredAt: Self.at("2026-03-27"))
            events.append(opening)
            try await h.produce([opening])

            // Two disbursements, the reversal's recovery, withholding from benefits, the levy.
            let disbursements = try await h.waitForTasks(2) { $0.caseId == caseId && $0.type == "disbursement" && $0.action == "ISSUE" }
            #expect(Set(disbursements.compactMap { $0.data["collectionId"]?.stringValue }) == ["SDU-1", "IRS-2025"])
            let offset = try #require(disbursements.last { $0.data["collectionId"] == "IRS-2025" })
            #expect(offset.data["source"] == "FEDERAL_TAX_OFFSET")
            #expect(offset.data["toCurrentSupportCents"] == 0)
            #expect(offset.data["toArrearsCents"] == 30_000)
            let recovery = try await h.waitForTasks { $0.caseId == caseId && $0.type == "case-review" && $0.data["reason"] == "OVERPAID_DISBURSEMENT" }
            #expect(recovery.last?.data["overpaidCents"] == 60_000)
            let benefits = try await h.waitForTasks { $0.caseId == caseId && $0.type == "income-withholding" && $0.action == "ISSUE" }
            #expect(benefits.last?.data["incomeSource"] == "UNEMPLOYMENT_BENEFITS")
            #expect(benefits.last?.data["weeklyLimitCents"] == 20_500)
            #expect(benefits.last?.data["employer"]?["fein"]?.stringValue?.filter(\.isNumber) == ScenarioEmployer.workforceAgency.fein)
            // The levy waits out its notice of intent (30 days to contest; RulesProcessTests).
            let levyNotice = try await h.waitForTasks { $0.caseId == caseId && $0.type == "party-notice" && $0.data["remedy"] == "financial-levy" }
            #expect(levyNotice.last?.data["notice"] == "ENFORCEMENT_INTENT")
            #expect(levyNotice.last?.data["institution"]?["fein"] != nil)
            let waited = try await h.waitForTasks { $0.caseId == laterCaseId && $0.type == "income-withholding" }
            #expect(waited.last?.data["weeklyLimitCents"] == 15_000)
            try await h.waitUntilProcessed(events.count)

            let view = try #require(try h.show(caseId, asOf: "2026-03-31"))
            #expect(view.collections.map(\.collectionId) == ["SDU-1", "IRS-2025"])
            let bounced = try #require(view.collections.first)
            #expect(bounced.source == "DIRECT_PAYMENT")
            #expect(bounced.reversedCents == 60_000)
            #expect(bounced.reversals.map(\.reason) == ["NSF"])
            #expect(bounced.disbursedToFamilyCents == 0)
            #expect(view.adjustments.map(\.amountCents) == [-5_000])
            // $1,500 judgment + March's $400, less the offset's $300 and the audit's $50 credit.
            #expect(view.arrearsCents == 150_000 + 40_000 - 30_000 - 5_000)
            #expect(view.history.map(\.eventType).contains("match.financial-account"))
            #expect(h.collector.tasks.allSatisfy { $0.caseId == caseId || $0.caseId == laterCaseId })
            // Every event applied: none dead-lettered.
            #expect(h.collector.all.filter { $0.topic == h.topics.deadLetter }.isEmpty)
        }
    }
}
