import Foundation

/// `csworker run` child processes of this same binary, with their memory
/// sampled while they work.
final class BenchWorkerGroup: @unchecked Sendable {
    private let processes: [Process]
    let logFiles: [URL]
    /// Largest VmRSS seen per worker, in KiB.
    private let peaks: PeakReadings
    private var sampler: Task<Void, Never>?

    /// The workers themselves: the launched processes, or with a profiler
    /// the children of the perf processes that run them.
    private let workerPids: [Int32]
    /// Labels of the perf recordings, one per worker (empty without a profiler).
    let profileLabels: [String]

    /// Starts `count` workers; their output goes to files under `logDirectory`.
    init(
        count: Int, arguments: [String], environment: [String: String], logDirectory: URL, profiler: BenchProfiler? = nil,
        label: String = "worker"
    ) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var processes: [Process] = []
        var logFiles: [URL] = []
        for index in 0..<count {
            let log = logDirectory.appendingPathComponent("worker-\(index + 1).log")
            guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
                throw BenchFailure("cannot create \(log.path)")
            }
            let handle = try FileHandle(forWritingTo: log)
            let process = Process()
            if let profiler {
                let wrapped = profiler.wrap(executable, ["run"] + arguments, label: "\(label)-worker\(index + 1)")
                process.executableURL = wrapped.executable
                process.arguments = wrapped.arguments
            } else {
                process.executableURL = executable
                process.arguments = ["run"] + arguments
            }
            process.environment = environment
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            processes.append(process)
            logFiles.append(log)
        }
        self.processes = processes
        self.logFiles = logFiles
        peaks = PeakReadings(count: count)
        profileLabels = profiler == nil ? [] : (0..<count).map { "\(label)-worker\($0 + 1)" }
        workerPids = try profiler == nil ? processes.map(\.processIdentifier) : processes.map { try Self.child(of: $0.processIdentifier) }
    }

    var pids: [Int32] { workerPids }

    /// The one child of `pid` (perf's workload), waited for up to 5 s.
    static func child(of pid: Int32) throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
                let child = text.split(separator: " ").first.flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            {
                return child
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw BenchFailure("perf did not start the worker within 5 s")
    }

    /// Samples VmRSS every 200 ms until `stop`.
    func startSampling() {
        let pids = workerPids
        sampler = Task { [peaks] in
            while !Task.isCancelled {
                let readings = pids.map { Self.statusField("VmRSS", pid: $0) ?? 0 }
                peaks.record(readings)
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The first worker that exited, with its status, if any has.
    func exited() -> (index: Int, status: Int32)? {
        for (index, process) in processes.enumerated() where !process.isRunning {
            return (index, process.terminationStatus)
        }
        return nil
    }

    /// Peak RSS per worker in MiB: the larger of the sampled VmRSS and the
    /// kernel's high-water mark VmHWM. Read before the workers are stopped.
    func peakRSSMiB() -> [Double] {
        let sampled = peaks.values
        return processes.enumerated().map { index, process in
            let hwm = Self.statusField("VmHWM", pid: workerPids[processes.firstIndex { $0 === process } ?? 0]) ?? 0
            return Double(max(sampled[index], hwm)) / 1024
        }
    }

    /// RSS per worker in MiB now (caught up, before stopping): the steady state
    /// after the backlog, as against its peak.
    func currentRSSMiB() -> [Double] {
        workerPids.map { Double(Self.statusField("VmRSS", pid: $0) ?? 0) / 1024 }
    }

    /// SIGTERM one worker at a time, each waited for: Tansu 0.6 can wedge a
    /// group when two members leave at the same instant. Kills a worker that
    /// has not stopped after `timeout`.
    func stop(timeout: Duration = .seconds(30)) async {
        sampler?.cancel()
        for (process, pid) in zip(processes, workerPids) where process.isRunning {
            // The worker itself (under a profiler, perf then writes its data and exits).
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
                kill(pid, SIGKILL)
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    /// A `/proc/<pid>/status` field in KiB ("VmRSS:   123456 kB").
    static func statusField(_ name: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parseStatusField(name, in: text)
    }

    static func parseStatusField(_ name: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let number = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }
        }
        return nil
    }
}

/// Largest readings so far, shared between the sampling task and the bench.
private final class PeakReadings: @unchecked Sendable {
    private let lock = NSLock()
    private var peaks: [Int]

    init(count: Int) { peaks = Array(repeating: 0, count: count) }

    func record(_ readings: [Int]) {
        lock.withLock {
            for (index, reading) in readings.enumerated() { peaks[index] = max(peaks[index], reading) }
        }
    }

    var values: [Int] { lock.withLock { peaks } }
}
