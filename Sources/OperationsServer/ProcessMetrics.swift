import Foundation
import Prometheus

/// The standard Prometheus process series (`process_resident_memory_bytes`,
/// `process_cpu_seconds_total`, `process_open_fds`, `process_max_fds`,
/// `process_start_time_seconds`), read from /proc when /metrics is scraped,
/// so they are never staler than the scrape. Linux only; elsewhere they are absent.
public final class ProcessMetrics: Sendable {
    private let residentMemory: Gauge
    private let cpuSeconds: Gauge
    private let openFiles: Gauge
    private let maxFiles: Gauge
    private let startTime: Gauge
    private let clockTicks = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    public init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ unit: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "process", metricName: name, unitName: unit, helpText: help))
        }
        residentMemory = gauge("resident_memory", "bytes", "Resident memory size in bytes.")
        cpuSeconds = gauge("cpu_seconds", "total", "Total user and system CPU time spent in seconds.")
        openFiles = gauge("open", "fds", "Number of open file descriptors.")
        maxFiles = gauge("max", "fds", "Maximum number of open file descriptors.")
        startTime = gauge("start_time", "seconds", "Start time of the process since unix epoch in seconds.")
        if let started = Self.startSeconds(clockTicks: clockTicks) { startTime.set(started) }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFiles.set(Double(limit.rlim_cur)) }
    }

    /// Reads the current values; called on each scrape.
    public func update() {
        if let fields = Self.statFields() {
            // utime and stime: fields 14 and 15 of /proc/self/stat, in clock ticks.
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpuSeconds.set((user + system) / clockTicks)
            }
        }
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let parts = statm.split(separator: " ")
            if parts.count > 1, let pages = Double(parts[1]) { residentMemory.set(pages * pageSize) }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            openFiles.set(Double(entries.count))
        }
    }

    /// The fields of /proc/self/stat after the command name (which may hold spaces), so index 0 is field 3.
    private static func statFields() -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Boot time plus the process's start (field 22, clock ticks since boot).
    private static func startSeconds(clockTicks: Double) -> Double? {
        guard let fields = statFields(), fields.count > 19, let ticks = Double(fields[19]),
            let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return nil }
        return boot + ticks / clockTicks
    }
}
