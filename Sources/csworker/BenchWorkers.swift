import Foundation

/// `csworker run` child processes of this same binary, with their memory
/// sampled while they work.
final class BenchWorkerGroup: @unchecked Sendable {
    private let processes: [Process]
    let logFiles: [URL]
    /// Largest VmRSS seen per worker, in KiB.
    private let peaks: PeakReadings
    private var sampler: Task<Void, Never>?

    /// Starts `count` workers; their output goes to files under `logDirectory`.
    init(count: Int, arguments: [String], environment: [String: String], logDirectory: URL) throws {
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
            process.executableURL = executable
            process.arguments = ["run"] + arguments
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
    }

    var pids: [Int32] { processes.map(\.processIdentifier) }

    /// Samples VmRSS every 200 ms until `stop`.
    func startSampling() {
        let pids = processes.map(\.processIdentifier)
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
            let hwm = Self.statusField("VmHWM", pid: process.processIdentifier) ?? 0
            return Double(max(sampled[index], hwm)) / 1024
        }
    }

    /// RSS per worker in MiB now (caught up, before stopping): the steady state
    /// after the backlog, as against its peak.
    func currentRSSMiB() -> [Double] {
        processes.map { Double(Self.statusField("VmRSS", pid: $0.processIdentifier) ?? 0) / 1024 }
    }

    /// SIGTERM one worker at a time, each waited for: Tansu 0.6 can wedge a
    /// group when two members leave at the same instant. Kills a worker that
    /// has not stopped after `timeout`.
    func stop(timeout: Duration = .seconds(30)) async {
        sampler?.cancel()
        for process in processes where process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
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
