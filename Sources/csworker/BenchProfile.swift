import Foundation

/// `bench --profile DIR`: `perf record` (from Debian's `linux-perf`) attached
/// to every worker over the throughput phase, then `perf report` of each
/// worker's samples by symbol, written next to the data and summarised on
/// stderr. Sampling costs the workers a few percent: a profiled run's figures
/// are for finding where the time goes, not for quoting.
struct BenchProfiler {
    let directory: URL
    private var recorders: [(pid: Int32, process: Process, data: URL)] = []

    /// Starts one recorder per worker; none when perf is missing (said on stderr).
    static func start(directory: URL, label: String, pids: [Int32]) -> BenchProfiler {
        var profiler = BenchProfiler(directory: directory)
        guard let perf = which("perf") else {
            printError("bench: --profile needs perf (apt-get install linux-perf); not profiling")
            return profiler
        }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (index, pid) in pids.enumerated() {
            let data = directory.appendingPathComponent("\(label)-worker\(index + 1).perf.data")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: perf)
            process.arguments = ["record", "-F", "499", "-g", "--quiet", "-o", data.path, "-p", String(pid)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
                profiler.recorders.append((pid, process, data))
            } catch {
                printError("bench: could not start perf for worker \(index + 1): \(error)")
            }
        }
        return profiler
    }

    /// Stops the recorders and writes each worker's report by symbol; prints the top of each.
    func finish(top: Int = 15) {
        guard let perf = Self.which("perf") else { return }
        for recorder in recorders where recorder.process.isRunning { kill(recorder.process.processIdentifier, SIGINT) }
        for recorder in recorders {
            recorder.process.waitUntilExit()
            let report = recorder.data.deletingPathExtension().appendingPathExtension("txt")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: perf)
            process.arguments = [
                "report", "--stdio", "--no-children", "--sort", "dso,symbol", "--percent-limit", "0.5", "-g", "none", "-i",
                recorder.data.path,
            ]
            FileManager.default.createFile(atPath: report.path, contents: nil)
            guard let output = try? FileHandle(forWritingTo: report) else { continue }
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
                process.waitUntilExit()
                try output.close()
            } catch {
                printError("bench: perf report failed: \(error)")
                continue
            }
            let lines = (try? String(contentsOf: report, encoding: .utf8))?.split(separator: "\n")
                .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? []
            printError("bench: profile of worker pid \(recorder.pid): \(report.path) (top \(top) symbols by self time)")
            for line in lines.prefix(top) { printError("  " + line.trimmingCharacters(in: .whitespaces)) }
        }
    }

    static func which(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
