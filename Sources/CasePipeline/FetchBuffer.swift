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
        var message: KafkaMessage
        /// Undecodable messages sort first: nothing to wait for, they are dead letters.
        var occurredAt: Date
    }

    private var queues: [TopicPartition: [Entry]] = [:]
    /// Business times of the last batch's messages, so those put back are not decoded again.
    private var lastTaken: [TopicPartitionOffset: Date] = [:]
    private var heads: [TopicPartition: Int] = [:]
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ messages: [KafkaMessage]) {
        for message in messages {
            queues[message.topicPartition, default: []].append(Entry(message: message, occurredAt: Self.occurredAt(message)))
            count += 1
        }
    }

    /// Returns messages taken in a batch but not processed to the head of their
    /// partitions, in their order (per partition they are the batch's last ones).
    mutating func putBack(_ messages: [KafkaMessage]) {
        var byPartition: [TopicPartition: [Entry]] = [:]
        for message in messages {
            let occurredAt = lastTaken[message.position] ?? Self.occurredAt(message)
            byPartition[message.topicPartition, default: []].append(Entry(message: message, occurredAt: occurredAt))
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
        }
    }

    /// Keeps only `partitions`.
    mutating func keep(only partitions: Set<TopicPartition>) {
        drop(queues.keys.filter { !partitions.contains($0) })
    }

    /// Up to `limit` messages: repeatedly the earliest head among the partitions.
    mutating func takeBatch(limit: Int) -> [KafkaMessage] {
        var batch: [KafkaMessage] = []
        batch.reserveCapacity(min(limit, count))
        lastTaken.removeAll(keepingCapacity: true)
        while batch.count < limit, count > 0 {
            var best: (partition: TopicPartition, entry: Entry)?
            for (partition, queue) in queues {
                let head = heads[partition, default: 0]
                guard head < queue.count else { continue }
                let entry = queue[head]
                if let current = best, !Self.precedes(entry, partition, current.entry, current.partition) { continue }
                best = (partition, entry)
            }
            guard let (partition, entry) = best else { break }
            batch.append(entry.message)
            lastTaken[entry.message.position] = entry.occurredAt
            let next = heads[partition, default: 0] + 1
            if next == queues[partition]!.count {
                queues[partition] = nil
                heads[partition] = nil
            } else {
                heads[partition] = next
            }
            count -= 1
        }
        return batch
    }

    private static func occurredAt(_ message: KafkaMessage) -> Date {
        message.value.flatMap { try? EventDecoder.decode($0).get().occurredAt } ?? .distantPast
    }

    private static func precedes(_ a: Entry, _ pa: TopicPartition, _ b: Entry, _ pb: TopicPartition) -> Bool {
        if a.occurredAt != b.occurredAt { return a.occurredAt < b.occurredAt }
        return (pa.topic, pa.partition) < (pb.topic, pb.partition)
    }
}
