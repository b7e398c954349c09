import CaseContract
import JSON
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import Postgres
import Testing

/// The three input topics are consumed independently, so a case's events reach
/// the workers in an order that depends on which topic was polled first. The
/// same generated scenario fed twice -- once interleaved as it happened, once
/// topic by topic with intake last -- must end with the same decisions on
/// every case, in the database and in what subscribers were told.
@Suite("Pipeline: decisions follow business order, not arrival order", .timeLimit(.minutes(6)))
struct BusinessOrderTests {
    static let configuration = ScenarioConfiguration.benchmark(cases: 120, seed: 20_261_204, months: 12)

    /// What a run decided for one case.
    struct Decisions: Hashable, CustomStringConvertible {
        var stage: String
        var arrearsCents: Int64
        var monthlySupportCents: Int64
        var employer: CaseView.Employer?
        var referrals: [String]
        /// The case state as stored (no SSNs in it): every fact, every date.
        var state: JSONValue?
        /// What subscribers were told is in force: per task type and what it is about, the last action.
        var tasksInForce: [String]

        var description: String {
            "stage \(stage), arrears \(arrearsCents), support \(monthlySupportCents), employer \(employer.map { "\($0.fein) \($0.withholding)" } ?? "none"), referrals \(referrals), in force \(tasksInForce)"
        }
    }

    struct Run {
        var decisions: [String: Decisions]
        var parked: Int
        var deadLetters: Int
        var rederived: Int
    }

    /// Feeds `events` in the given order to two in-process workers of a fresh
    /// world and reads back every case once the outbox is drained.
    static func run(_ events: [ScenarioEvent], caseIds: [String]) async throws -> Run {
        let h = try await PipelineHarness.make(partitions: 3)
        do {
            try h.startWorker(waitingHorizon: .seconds(3600))
            try h.startWorker(waitingHorizon: .seconds(3600))
            try await h.produce(events)
            try await h.waitUntilProcessed(events.count, timeout: .seconds(180))
            // Everything the relay published has reached the collector.
            let published = try h.count("SELECT count(*) FROM outbox WHERE NOT sealed")
            try await eventually(timeout: .seconds(60), "the collector has every task") { h.collector.tasks.count >= published }
            var contents: [String: [UInt8]] = [:]
            for task in h.collector.tasks {
                #expect(contents.updateValue(task.bytes, forKey: task.id).map { $0 == task.bytes } ?? true, "task \(task.id) published with two contents")
            }
            let asOf = LocalDate(iso8601: Self.configuration.endDate.description)!
            var decisions: [String: Decisions] = [:]
            let tasksByCase = Dictionary(grouping: h.collector.tasks, by: \.caseId)
            for caseId in caseIds {
                guard let view = try h.show(caseId, asOf: asOf) else { continue }
                let state = try h.connection.query("SELECT state::text FROM cases WHERE case_id = $1", parameters: [caseId])
                decisions[caseId] = Decisions(
                    stage: view.stage, arrearsCents: view.arrearsCents, monthlySupportCents: view.monthlySupportCents,
                    employer: view.employer, referrals: view.referrals.map { "\($0.type) on \($0.issuedOn) at \($0.arrearsCents)" },
                    state: try JSONValue.parse(Array(try state[0].decode(String.self, column: 0).utf8)),
                    tasksInForce: Self.inForce(tasksByCase[caseId] ?? []))
            }
            let run = Run(
                decisions: decisions, parked: try h.count("SELECT count(*) FROM parked_events"),
                deadLetters: h.collector.deadLetters.count,
                rederived: try h.count("SELECT count(*) FROM case_history WHERE changes::text LIKE '%re-derived%'"))
            await h.shutDown()
            return run
        } catch {
            await h.shutDown()
            throw error
        }
    }

    /// Per task type and what the task is about (employer, child, hearing,
    /// payment, collection...), the last action published, for those whose
    /// last is ISSUE. A case-review is about its ids when it has some: a
    /// WITHDRAW as a correction says CORRECTED_IN_BUSINESS_ORDER where its
    /// ISSUE said why, and keeps the rest of the data.
    static func inForce(_ tasks: [TopicCollector.PublishedTask]) -> [String] {
        var last: [String: String] = [:]
        for task in tasks {
            var about = ["employer", "institution", "childId", "hearingId", "paymentId", "partyId", "orderId", "employerFein", "collectionId",
                         "redisbursementOf", "notice", "remedy", "accountKind", "toState"]
                .compactMap { field -> String? in
                    guard let value = task.data[field] else { return nil }
                    return field == "employer" || field == "institution" ? value["fein"]?.stringValue : value.stringValue
                }
            if task.type == "case-review", task.data["employerFein"] == nil, task.data["collectionId"] == nil,
                let reason = task.data["reason"]?.stringValue
            {
                about.append(reason)
            }
            last["\(task.type) \(about.joined(separator: "/"))"] = task.action
        }
        return last.filter { $0.value == "ISSUE" }.keys.sorted()
    }

    @Test func twoInterleavingsOfTheSameScenario_endWithTheSameDecisions() async throws {
        let events = Array(ScenarioGenerator(Self.configuration))
        let caseIds = Array(Set(events.compactMap(\.caseId))).sorted()
        // As it happened: the three topics interleaved in business time.
        let asItHappened = try await Self.run(events, caseIds: caseIds)
        // Topic by topic, intake last: every court outcome, employer report,
        // collection and data match arrives before the application that opens its case.
        let byTopic = [
            ScenarioTopic.courtOutcomes, ScenarioTopic.employerReports, ScenarioTopic.collections, ScenarioTopic.dataMatches,
            ScenarioTopic.intake,
        ].flatMap { topic in
            events.filter { $0.topic == topic }
        }
        let intakeLast = try await Self.run(byTopic, caseIds: caseIds)

        #expect(asItHappened.decisions.count == caseIds.count)
        #expect(intakeLast.decisions.count == caseIds.count)
        #expect(intakeLast.rederived > 0, "intake last made no case re-derive")
        var differing: [String] = []
        for caseId in caseIds where asItHappened.decisions[caseId] != intakeLast.decisions[caseId] {
            differing.append("\(caseId): \(asItHappened.decisions[caseId].map(String.init(describing:)) ?? "-") vs \(intakeLast.decisions[caseId].map(String.init(describing:)) ?? "-")")
        }
        #expect(differing.isEmpty, "\(differing.count) of \(caseIds.count) cases differ: \(differing.prefix(3))")
        #expect(asItHappened.parked == intakeLast.parked)
        #expect(asItHappened.deadLetters == 0 && intakeLast.deadLetters == 0)
        // Referrals really were decided: the comparison is not of empty cases.
        #expect(asItHappened.decisions.values.filter { !$0.referrals.isEmpty }.count > caseIds.count / 10)
    }
}
