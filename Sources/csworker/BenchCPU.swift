import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time (user + system) of the processes a benchmark run involves, read
/// from /proc: the worker processes, the PostgreSQL server (the postmaster,
/// its live backends, and what exited backends left in its children's
/// counters), the broker (a process named `tansu`) and this bench process.
/// Two readings around the throughput phase give CPU per event by process.
struct BenchCPU: Sendable, Hashable {
    var workers: Double = 0
    var postgres: Double = 0
    var broker: Double = 0
    var bench: Double = 0

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// One process's /proc/<pid>/stat: parent, own CPU and waited-for children's CPU, in seconds.
    struct Stat {
        var command: String
        var parent: Int32
        var own: Double
        var children: Double
    }

    static func stat(_ pid: Int32) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        // After ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let parent = Int32(fields[1]), let utime = Double(fields[11]), let stime = Double(fields[12]),
            let cutime = Double(fields[13]), let cstime = Double(fields[14])
        else { return nil }
        return Stat(
            command: String(text[text.index(after: open)..<close]), parent: parent, own: (utime + stime) / ticksPerSecond,
            children: (cutime + cstime) / ticksPerSecond)
    }

    /// A reading now; `workers` are the worker processes' pids.
    static func now(workers pids: [Int32]) -> BenchCPU {
        var reading = BenchCPU()
        var all: [Int32: Stat] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = stat(pid) else { continue }
            all[pid] = stat
        }
        reading.workers = pids.compactMap { all[$0]?.own }.reduce(0, +)
        reading.bench = all[getpid()]?.own ?? 0
        reading.broker = all.values.filter { $0.command == "tansu" }.map(\.own).reduce(0, +)
        // Postmasters: postgres processes whose parent is not one.
        let postmasters = all.filter { $0.value.command == "postgres" && all[$0.value.parent]?.command != "postgres" }
        for (pid, postmaster) in postmasters {
            reading.postgres += postmaster.own + postmaster.children
            reading.postgres += all.values.filter { $0.parent == pid }.map(\.own).reduce(0, +)
        }
        return reading
    }

    static func - (a: BenchCPU, b: BenchCPU) -> BenchCPU {
        BenchCPU(workers: a.workers - b.workers, postgres: a.postgres - b.postgres, broker: a.broker - b.broker, bench: a.bench - b.bench)
    }

    /// Microseconds of CPU per event.
    func perEvent(_ events: Int) -> BenchCPU {
        let scale = 1e6 / Double(max(events, 1))
        return BenchCPU(workers: workers * scale, postgres: postgres * scale, broker: broker * scale, bench: bench * scale)
    }

    var total: Double { workers + postgres + broker + bench }
}
