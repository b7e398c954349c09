import CasePipeline
import CaseStorage
import Foundation
import Testing

/// What the console's Group page reads: each worker records in
/// `group_members` the partitions it holds and its last commits, and that it
/// left; against the real broker and database.
@Suite("Pipeline: the group's membership, recorded", .timeLimit(.minutes(2)))
struct GroupMembershipTests {
    @Test func workersRecordTheirPartitionsAndCommits_andLeaving() async throws {
        let h = try await PipelineHarness.make()
        let first = try h.startWorker()
        try h.startWorker()
        do {
            let partitions = h.topics.input.count * 3
            func members() throws -> [GroupMember] { try GroupMembers.read(group: h.group, on: h.connection) }
            try await eventually(timeout: .seconds(60), "both workers record their share of the partitions") {
                let members = try members()
                return members.count == 2 && members.allSatisfy { $0.leftAt == nil && !$0.assigned.isEmpty }
                    && Set(members.flatMap(\.assigned)).count == partitions
                    && members.reduce(0) { $0 + $1.assigned.count } == partitions
            }
            let member = try #require(try members().first)
            #expect(member.host == ProcessInfo.processInfo.hostName && member.pid == ProcessInfo.processInfo.processIdentifier)

            try await h.produce(DeliveryTests.caseEvents("GROUP-1", ssn: "934200071"))
            try await h.waitUntilProcessed(3)
            // Commits are kept in memory and written at the next refresh (every few seconds).
            try await eventually(timeout: .seconds(30), "the commits are recorded with the partitions") {
                try members().flatMap(\.commits).reduce(0) { $0 + $1.offset } >= 3
            }
            let inputs = Set(h.topics.input)
            #expect(try members().flatMap(\.commits).allSatisfy { inputs.contains($0.topic) && (0..<3).contains($0.partition) })

            // Leaving cleanly is recorded at once; the other takes over every partition.
            first.worker.stop()
            _ = await first.task.result
            try await eventually(timeout: .seconds(60), "one left, the other holds everything") {
                let members = try members()
                let left = members.filter { $0.leftAt != nil }
                let running = members.filter { $0.leftAt == nil }
                return left.count == 1 && left[0].assigned.isEmpty && running.count == 1 && running[0].assigned.count == partitions
            }
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }
}
