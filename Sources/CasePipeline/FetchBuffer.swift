import CaseContract
import CaseDomain
import Foundation
import Kafka

/// Fetched messages waiting to be processed, per partition, in offset order;
/// batches are drawn from them in business-time order.
///
/// Kafka orders messages only within a partition, and a broker hands over
/// large runs of one partition at a time, so after a backlog one input topic
/// can run months ahead of another: court orders applied before the
/// applications that open their cases, remittances before the orders they
/// pay. Drawing each batch as a merge of the partitions by the events'
/// `occurredAt` keeps every partition's own order (a partition is only ever
/// read from its head) while keeping the topics side by side in business time.
struct FetchBuffer {
    private struct Entry {
        /// Decoded once here (`InboundRecord.decoded`): the batch order needs
        /// the business time, and a record left by a batch comes round again.
        var record: InboundRecord
        /// Undecodable messages sort first: nothing to wait for, they are dead letters.
        var occurredAt: Date

        init(_ record: InboundRecord) {
            self.record = record
            occurredAt = (try? record.decoded?.get().occurredAt) ?? .distantPast
        }
    }

    private var queues: [TopicPartition: [Entry]] = [:]
    private var heads: [TopicPartition: Int] = [:]
    /// Per partition, the highest offset a batch processed.
    private var processedThrough: [TopicPartition: Int64] = [:]
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ messages: [KafkaMessage]) {
        for message in messages {
            var record = InboundRecord(message)
            record.decoded = EventDecoder.decode(record.value)
            queues[message.topicPartition, default: []].append(Entry(record))
            count += 1
        }
    }

    /// Returns records taken in a batch but not processed to the head of their
    /// partitions, in their order (they were taken from the heads, so they
    /// precede whatever is still buffered).
    mutating func putBack(_ records: [InboundRecord]) {
        var byPartition: [TopicPartition: [Entry]] = [:]
        for record in records {
            byPartition[record.topicPartition, default: []].append(Entry(record))
        }
        for (partition, entries) in byPartition {
            let rest = queues[partition].map { Array($0[heads[partition, default: 0]...]) } ?? []
            queues[partition] = entries + rest
            heads[partition] = nil
            count += entries.count
        }
    }

    /// Forgets what is buffered for `partitions` (revoked: their new owner reads
    /// them again from the committed offset).
    mutating func drop(_ partitions: some Sequence<TopicPartition>) {
        for partition in partitions {
            count -= (queues[partition]?.count ?? 0) - (heads[partition] ?? 0)
            queues[partition] = nil
            heads[partition] = nil
            processedThrough[partition] = nil
        }
    }

    /// Keeps only `partitions`.
    mutating func keep(only partitions: Set<TopicPartition>) {
        drop(Set(queues.keys).union(processedThrough.keys).filter { !partitions.contains($0) })
    }

    /// Notes that a batch processed `messages` (the ones it did not put back)
    /// and returns the next offsets to commit for their partitions. A batch
    /// may leave a message and process later ones of its partition, so the
    /// next offset is the first message still here when there is one: every
    /// offset below it is processed, and a redelivery of the ones above is
    /// recognised by event id.
    mutating func commitOffsets(afterProcessing records: [InboundRecord]) -> [TopicPartitionOffset] {
        for record in records {
            processedThrough[record.topicPartition] = max(processedThrough[record.topicPartition] ?? -1, record.offset)
        }
        return Set(records.map(\.topicPartition)).map { partition in
            var next = processedThrough[partition]! + 1
            if let queue = queues[partition], heads[partition, default: 0] < queue.count {
                next = min(next, queue[heads[partition, default: 0]].record.offset)
            }
            return TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: next)
        }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Up to `limit` records: repeatedly the earliest head among the partitions
    /// (same time: the lower topic and partition).
    mutating func takeBatch(limit: Int) -> [InboundRecord] {
        var batch: [InboundRecord] = []
        batch.reserveCapacity(min(limit, count))
        // The partitions with something buffered and their read positions, in
        // (topic, partition) order so the first of equal times wins the tie.
        var cursors: [(partition: TopicPartition, queue: [Entry], head: Int)] = queues.compactMap { partition, queue in
            let head = heads[partition, default: 0]
            return head < queue.count ? (partition, queue, head) : nil
        }
        cursors.sort { ($0.partition.topic, $0.partition.partition) < ($1.partition.topic, $1.partition.partition) }
        var exhausted: [TopicPartition] = []
        while batch.count < limit, !cursors.isEmpty {
            var best = 0
            var bestAt = cursors[0].queue[cursors[0].head].occurredAt
            for i in cursors.indices.dropFirst() {
                let at = cursors[i].queue[cursors[i].head].occurredAt
                if at < bestAt {
                    best = i
                    bestAt = at
                }
            }
            batch.append(cursors[best].queue[cursors[best].head].record)
            cursors[best].head += 1
            count -= 1
            if cursors[best].head == cursors[best].queue.count { exhausted.append(cursors.remove(at: best).partition) }
        }
        for cursor in cursors { heads[cursor.partition] = cursor.head }
        for partition in exhausted {
            queues[partition] = nil
            heads[partition] = nil
        }
        return batch
    }
}
