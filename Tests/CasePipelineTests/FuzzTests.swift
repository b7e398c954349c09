import CaseContract
import CaseDomain
import CasePipeline
import CaseScenarios
import CaseStorage
import Foundation
import JSON
import Kafka
import Testing

/// Issue 20's fuzz test: a valid generated feed mixed with thousands of
/// mutated records (every `Mutations.Kind`), through the real broker and
/// PostgreSQL and two workers. Afterwards no worker has exited, every record
/// was applied (its id recorded) or dead-lettered with a class and reason, the
/// outbox is drained, and the valid cases decided exactly what a run without
/// the mutants decided. Its figures are printed for the closing note.
@Suite("Pipeline: fuzzed with hostile records, nothing stops", .timeLimit(.minutes(12)))
struct FuzzTests {
    static let configuration = ScenarioConfiguration.benchmark(cases: 60, seed: 20_261_207, months: 12)
    /// Mutants make 73% of the records: about 2,100 beside the feed's ~800 events.
    static let share = 0.73
    /// 900 KB records are the heaviest kind for the broker and the dead-letter
    /// topic; a handful shows they pass.
    static let hugeRecords = 6

    @Test func aFeedMixedWithThousandsOfMutants_stopsNoWorker_andDecidesTheValidCasesAsWithout() async throws {
        let valid = Array(ScenarioGenerator(Self.configuration))
        let caseIds = (0..<Self.configuration.cases).map(Self.configuration.caseId)
        var hugeKept = 0
        let (all, kindOf) = Mutations.mixed(into: valid, share: Self.share, seed: 7)
        let mixed = all.filter { event in
            guard event.value.count > 800_000 else { return true }
            hugeKept += 1
            return hugeKept <= Self.hugeRecords
        }
        let mutants = Set(mixed.map(\.eventId)).subtracting(valid.map(\.eventId))
        #expect(mutants.count >= 1_500, "thousands of mutants: \(mutants.count)")

        // A run of the valid feed alone: what the valid cases must end as.
        let baseline = try await BusinessOrderTests.run(valid, caseIds: caseIds)

        let h = try await PipelineHarness.make(partitions: 3)
        do {
            let workers = [try h.startWorker(waitingHorizon: .seconds(3600)), try h.startWorker(waitingHorizon: .seconds(3600))]
            // Produced in chunks, keeping where each record landed.
            var landed: [(event: ScenarioEvent, at: KafkaDeliveryReport)] = []
            for start in stride(from: 0, to: mixed.count, by: 200) {
                let chunk = Array(mixed[start..<min(start + 200, mixed.count)])
                let reports = try await h.producer.sendAll(chunk.map {
                    KafkaOutgoingMessage(topic: h.topics.prefix + $0.topic, key: $0.key, value: $0.value)
                })
                for (event, report) in zip(chunk, reports) { landed.append((event, try report.get())) }
            }

            // Every record accounted for: its id recorded (applied, parked, refused
            // by the rules), or a dead letter naming where it came from.
            func unaccounted() throws -> [(event: ScenarioEvent, at: KafkaDeliveryReport)] {
                let recorded = Set(try h.connection.query("SELECT event_id::text FROM processed_events").map { try $0.decode(String.self, column: 0) })
                var lettered = Set<String>()
                for letter in h.collector.deadLetters {
                    let header = { (name: String) in letter.headers.first { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) } ?? "" }
                    lettered.insert("\(header("source-topic"))|\(header("source-partition"))|\(header("source-offset"))")
                }
                return landed.filter { record in
                    !recorded.contains(record.event.eventId)
                        && !lettered.contains("\(record.at.topic)|\(record.at.partition)|\(record.at.offset)")
                }
            }
            try await eventually(timeout: .seconds(360), "every record is applied or dead-lettered and the outbox is drained") {
                try unaccounted().isEmpty && h.unpublished == 0
            }
            // Everything the relay published has reached the collector (as `BusinessOrderTests.run` waits).
            let published = try h.count("SELECT count(*) FROM outbox WHERE NOT sealed")
            try await eventually(timeout: .seconds(60), "the collector has every task") { h.collector.tasks.count >= published }

            // No worker exited.
            for running in workers {
                #expect(running.worker.phase != .stopped, "a worker stopped")
                #expect(running.worker.health.groupJoined)
            }
            // Every dead letter has a class and a reason, and none echoes a value.
            var byClass: [String: Int] = [:]
            for letter in h.collector.deadLetters {
                let header = { (name: String) in letter.headers.first { $0.name == name }.map { String(decoding: $0.value, as: UTF8.self) } }
                let errorClass = try #require(header("error-class"), "a dead letter without a class")
                #expect(["malformed-json", "schema-violation", "unknown-type", "unknown-case", "processing-failed"].contains(errorClass))
                let reason = try #require(header("error-reason"), "a dead letter without a reason")
                #expect(!reason.isEmpty && !reason.contains("\u{0}") && reason.utf8.count < 1_000)
                byClass[errorClass, default: 0] += 1
            }
            // Nothing in the valid part was dead-lettered.
            let validIds = Set(valid.map(\.eventId))
            #expect(!h.collector.deadLetters.contains { letter in
                letter.headers.first { $0.name == "event-id" }.map { validIds.contains(String(decoding: $0.value, as: UTF8.self)) } ?? false
            })

            // The valid cases decided as without the mutants.
            let asOf = LocalDate(iso8601: Self.configuration.endDate.description)!
            let tasksByCase = Dictionary(grouping: h.collector.tasks, by: \.caseId)
            for caseId in caseIds {
                guard let expected = baseline.decisions[caseId] else {
                    #expect(try h.show(caseId, asOf: asOf) == nil, "\(caseId) exists only with mutants")
                    continue
                }
                let view = try #require(try h.show(caseId, asOf: asOf), "\(caseId) is missing")
                let state = try h.connection.query("SELECT state::text FROM cases WHERE case_id = $1", parameters: [caseId])
                let decided = BusinessOrderTests.Decisions(
                    stage: view.stage, arrearsCents: view.arrearsCents, monthlySupportCents: view.monthlySupportCents,
                    employer: view.employer, referrals: view.referrals.map { "\($0.type) on \($0.issuedOn) at \($0.arrearsCents)" },
                    state: try JSONValue.parse(Array(try state[0].decode(String.self, column: 0).utf8)),
                    tasksInForce: BusinessOrderTests.inForce(tasksByCase[caseId] ?? []))
                #expect(decided == expected, "\(caseId): with mutants \(decided), without \(expected)")
            }

            var kinds: [String: Int] = [:]
            for (event, _) in landed { if let kind = kindOf[event.eventId] { kinds[kind.rawValue, default: 0] += 1 } }
            #expect(Set(kinds.keys) == Set(Mutations.Kind.allCases.map(\.rawValue)), "every kind of mutant was sent")
            print("fuzz: records \(landed.count) (valid \(valid.count), mutants \(mutants.count)); worker exits: 0")
            print("fuzz: mutants by kind: \(kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
            print("fuzz: dead letters by class: \(byClass.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
            await h.shutDown()
        } catch {
            await h.shutDown()
            throw error
        }
    }
}
