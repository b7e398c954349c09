import Foundation

/// `bench --profile DIR`: every worker runs under `perf record` (Debian's
/// `linux-perf`; software cpu-clock sampling, call graphs), and when the run
/// ends each worker's samples are reported by symbol next to the data, the
/// top of each on stderr. Workers are started under perf rather than attached
/// to: attaching (`-p`) records no samples on these virtual machines. Sampling
/// costs the workers a few percent: a profiled run's figures are for finding
/// where the time goes, not for quoting.
struct BenchProfiler: Sendable {
    let perf: String
    let directory: URL

    /// nil (said on stderr) when perf is missing.
    static func make(directory: URL) -> BenchProfiler? {
        guard let perf = which("perf") else {
            printError("bench: --profile needs perf (apt-get install linux-perf); not profiling")
            return nil
        }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return BenchProfiler(perf: perf, directory: directory)
    }

    /// The command that runs `executable arguments` under perf, recording into `label`.perf.data.
    func wrap(_ executable: URL, _ arguments: [String], label: String) -> (executable: URL, arguments: [String]) {
        let data = directory.appendingPathComponent("\(label).perf.data")
        return (
            URL(fileURLWithPath: perf),
            ["record", "-e", "cpu-clock", "-F", "499", "-g", "--quiet", "-o", data.path, "--", executable.path] + arguments
        )
    }

    /// Writes `label`.txt (perf report by symbol, self time) for each recording and prints the top of each.
    func report(labels: [String], top: Int = 15) {
        for label in labels {
            let data = directory.appendingPathComponent("\(label).perf.data")
            let report = directory.appendingPathComponent("\(label).txt")
            guard FileManager.default.createFile(atPath: report.path, contents: nil),
                let output = try? FileHandle(forWritingTo: report)
            else { continue }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: perf)
            process.arguments = [
                "report", "--stdio", "--no-children", "--sort", "dso,symbol", "--percent-limit", "0.5", "-g", "none", "-i", data.path,
            ]
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
            // "  7.11%  libswiftCore.so  [.] swift_retain  - -": share, library, symbol.
            let rows = ((try? String(contentsOf: report, encoding: .utf8)) ?? "").split(separator: "\n")
                .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                .prefix(top)
                .map { line -> String in
                    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                    guard fields.count >= 4 else { return String(line) }
                    return "\(fields[0])  \(fields[1])  \(fields[3...].prefix { $0 != "-" }.joined(separator: " "))"
                }
            printError("bench: profile \(report.path) (top \(top) symbols by self time)")
            for row in demangled(rows) { printError("  " + row) }
        }
    }

    /// Swift symbols made readable with `swift demangle --simplified` when it is there.
    func demangled(_ lines: [String]) -> [String] {
        guard let swift = Self.which("swift-demangle") else { return lines }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: swift)
        process.arguments = ["--simplified"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
            input.fileHandleForWriting.write(Data(lines.joined(separator: "\n").utf8))
            try input.fileHandleForWriting.close()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let result = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            return result.count == lines.count ? result : lines
        } catch {
            return lines
        }
    }

    static func which(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
