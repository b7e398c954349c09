import CaseContract
import CasePipeline
import CaseScenarios
import Foundation
import Testing
import TestSupport

/// `csworker run`'s operator endpoints, through the real binary against the
/// real services: /metrics, /health/live, /health/ready.
@Suite("Operations endpoints", .serialized, .timeLimit(.minutes(4)))
struct OperationsEndpointTests {
    @Test func metricsArePrometheusTextAndMoveWithTheEvents() async throws {
        let h = try await PipelineHarness.make(partitions: 2)
        try await withWorker(h, name: "metrics") { port in
            #expect(try await get(port, "/health/live").status == 200)

            // The consumed counters appear per topic once the worker has subscribed.
            try await eventuallyAsync(timeout: .seconds(30), "the subscribed topics are on /metrics") {
                PrometheusText(try await get(port, "/metrics").body).samples.filter { $0.name == "csworker_events_consumed_total" }.count == EventTopic.allCases.count
            }
            let before = try await get(port, "/metrics")
            #expect(before.status == 200)
            for name in [
                "csworker_events_consumed_total", "csworker_retries_total", "csworker_dead_letters_published_total",
                "csworker_group_joined", "csworker_database_reachable", "csworker_tasks_published_late_total",
                "csworker_operations_collector",
            ] {
                #expect(before.body.contains("# TYPE \(name) "), "\(name) missing from /metrics")
            }
            #expect(PrometheusText(before.body).sum("csworker_events_consumed_total") == 0)

            let scenario = ScenarioConfiguration.benchmark(cases: 12, seed: 5, months: 4)
            let events = Array(ScenarioGenerator(scenario)) + [ScenarioEvents.malformedJSON(), ScenarioEvents.unknownType()]
            try await h.produce(events)
            // The two undecodable records are dead-lettered by position, without an event id.
            try await h.waitUntilProcessed(events.count - 2, timeout: .seconds(90))

            // Counters are updated right after each batch commits; the database view every second here.
            try await eventuallyAsync(timeout: .seconds(20), "the metrics show every event and every case") {
                let metrics = PrometheusText(try await get(port, "/metrics").body)
                return metrics.sum("csworker_events_consumed_total") == Double(events.count)
                    && metrics.sum("csworker_cases") == Double(scenario.cases)
            }
            let after = PrometheusText(try await get(port, "/metrics").body)
            let applied = try h.count("SELECT count(*) FROM processed_events WHERE outcome = 'applied'")
            #expect(after.sum("csworker_events_applied_total") == Double(applied))
            #expect(after.sum("csworker_events_applied_total", ["type": "intake.application"]) == Double(scenario.cases))
            #expect(after.sum("csworker_events_dead_lettered_total", ["reason": "malformed-json", "type": "none"]) == 1)
            #expect(after.sum("csworker_events_dead_lettered_total", ["reason": "unknown-type"]) == 1)
            let tasks = try h.count("SELECT count(*) FROM outbox WHERE topic LIKE '%cse.tasks.%'")
            #expect(tasks > 0)
            try await eventuallyAsync(timeout: .seconds(20), "every task and dead letter is counted as published") {
                let metrics = PrometheusText(try await get(port, "/metrics").body)
                return metrics.sum("csworker_tasks_published_total") == Double(tasks)
                    && metrics.sum("csworker_dead_letters_published_total") == 2
            }
            #expect(after.sum("csworker_batch_records_count") >= 1)
            #expect(after.sum("csworker_batch_records_sum") == Double(events.count))
            #expect(after.sum("csworker_batch_apply_seconds_count") >= 1)
            #expect(after.sum("csworker_rebalances_total", ["kind": "assigned"]) >= 1)
            #expect(after.sum("csworker_group_joined") == 1)
            #expect(after.sum("csworker_database_reachable") == 1)
            // The only worker reads the supervisors' view for the group.
            #expect(after.sum("csworker_operations_collector") == 1)
            for name in ["csworker_referrals_open", "csworker_tasks_past_due", "csworker_outbox_backlog", "csworker_outbox_oldest_unpublished_seconds"] {
                #expect(after.has(name), "\(name) missing from /metrics")
            }
            // The scenario's business dates lie in the past: every ISSUE task reaches its office after its dueBy.
            let late = try h.count(
                "SELECT count(*) FROM outbox WHERE due_by < (now() AT TIME ZONE 'America/Chicago')::date")
            #expect(late > 0)
            try await eventuallyAsync(timeout: .seconds(20), "late publications counted, none left waiting past due") {
                let metrics = PrometheusText(try await get(port, "/metrics").body)
                return metrics.sum("csworker_tasks_published_late_total") == Double(late)
                    && metrics.sum("csworker_tasks_past_due") == 0 && metrics.sum("csworker_outbox_backlog") == 0
            }
            try await eventuallyAsync(timeout: .seconds(20), "lag is sampled for the owned partitions") {
                PrometheusText(try await get(port, "/metrics").body).has("csworker_consumer_lag")
            }
            // Event to task: one observation per task published, from its batch to the broker's acknowledgement.
            let final = PrometheusText(try await get(port, "/metrics").body)
            #expect(final.sum("csworker_event_to_task_seconds_count") == Double(tasks))
            #expect(final.sum("csworker_event_to_task_seconds_sum") > 0)
            #expect(final.has("csworker_event_to_task_seconds_bucket"))
            // No sweep has run in this schema: 0, so an alert on its age fires.
            #expect(final.has("csworker_sweep_last_success_timestamp_seconds"))
            #expect(final.sum("csworker_sweep_last_success_timestamp_seconds") == 0)
            #expect(final.sum("csworker_build_info") == 1)
            #expect(final.sum("process_resident_memory_bytes") > 10_000_000)
            #expect(final.sum("process_cpu_seconds_total") > 0)
            #expect(final.sum("process_open_fds") > 3)
            #expect(final.sum("process_max_fds") >= final.sum("process_open_fds"))
            let started = final.sum("process_start_time_seconds")
            #expect(abs(started - Date().timeIntervalSince1970) < 600, "process_start_time_seconds \(started)")
        }
    }

    @Test func readinessFollowsTheDatabase() async throws {
        let h = try await PipelineHarness.make(partitions: 1)
        let upstream = try #require(DatabaseAddress(h.databaseURL), "CSE_DATABASE_URL must be a URI with host:port")
        let proxy = TCPProxy(upstreamHost: upstream.host, upstreamPort: upstream.port)
        try proxy.start()
        defer { proxy.stop() }
        try await withWorker(h, name: "ready", databaseURL: upstream.url(throughPort: proxy.port)) { port in
            try await eventuallyAsync(timeout: .seconds(60), "ready once the group is joined") {
                try await get(port, "/health/ready").status == 200
            }
            #expect(try await get(port, "/health/ready").body == #"{"ready":true}"#)

            proxy.stop()
            try await eventuallyAsync(timeout: .seconds(10), "not ready, naming the database, once it is gone") {
                let answer = try await get(port, "/health/ready")
                return answer.status == 503 && answer.body.contains(#""database""#)
            }
            #expect(try await get(port, "/health/live").status == 200, "a lost database is not a reason to restart")
            #expect(PrometheusText(try await get(port, "/metrics").body).sum("csworker_database_reachable") == 0)

            try proxy.restart()
            try await eventuallyAsync(timeout: .seconds(20), "ready again once the database is back") {
                try await get(port, "/health/ready").status == 200
            }
        }
    }

    /// Explicit requirement: every endpoint answers within a second while the
    /// worker works through a backlog.
    @Test func endpointsAnswerWithinASecondWhileTheWorkerIsBusy() async throws {
        let h = try await PipelineHarness.make(partitions: 3)
        let events = Array(ScenarioGenerator(ScenarioConfiguration.benchmark(cases: 200, seed: 7, months: 12)))
        #expect(events.count >= 2_000, "a backlog of a few thousand events")
        try await h.produce(events)
        // Batches of 100 keep it busy for many transactions: with the default
        // 2,000 the backlog went in one or two, before the requests could land.
        try await withWorker(h, name: "busy", arguments: ["--max-batch", "100"]) { port in
            try await eventuallyAsync(timeout: .seconds(60), "the worker starts on the backlog") { try h.processedEvents > 0 }
            var busyRounds = 0
            var slowest = Duration.zero
            while try h.processedEvents < events.count, busyRounds < 200 {
                for path in ["/metrics", "/health/live", "/health/ready"] {
                    let started = ContinuousClock.now
                    let answer = try await get(port, path, timeout: .seconds(2))
                    let took = ContinuousClock.now - started
                    slowest = max(slowest, took)
                    #expect(took < .seconds(1), "\(path) took \(took) while the worker was busy")
                    #expect(path != "/health/ready" || [200, 503].contains(answer.status))
                    #expect(path == "/health/ready" || answer.status == 200)
                }
                busyRounds += 1
            }
            #expect(busyRounds >= 3, "too few requests landed while the backlog was being worked off")
            print("operations endpoints: \(busyRounds) rounds during a backlog of \(events.count) events, slowest answer \(slowest)")
            try await h.waitUntilProcessed(events.count, timeout: .seconds(150))
        }
    }

    /// The supervisors' view scans cases and referrals: one process of the
    /// group reads it, and another takes over when that one stops.
    @Test func oneProcessReadsTheSupervisorsViewForTheGroup() async throws {
        let h = try await PipelineHarness.make(partitions: 2)
        var workers: [OperatedWorker] = []
        do {
            workers.append(try OperatedWorker(h, name: "collector-a"))
            workers.append(try OperatedWorker(h, name: "collector-b"))
            var ports: [Int] = []
            for worker in workers { ports.append(try await worker.port()) }
            func views() async throws -> [PrometheusText] {
                var texts: [PrometheusText] = []
                for port in ports { texts.append(PrometheusText(try await get(port, "/metrics").body)) }
                return texts
            }
            try await eventuallyAsync(timeout: .seconds(30), "exactly one process exports the view") {
                let texts = try await views()
                return texts.map { $0.sum("csworker_operations_collector") }.sorted() == [0, 1]
                    && texts.filter { $0.has("csworker_cases") && $0.has("csworker_outbox_backlog") }.count == 1
            }
            let collector = try await views().firstIndex { $0.sum("csworker_operations_collector") == 1 }!
            #expect(workers[collector].process.terminate() == 0)
            let other = 1 - collector
            try await eventuallyAsync(timeout: .seconds(30), "the other process takes over") {
                let text = PrometheusText(try await get(ports[other], "/metrics").body)
                return text.sum("csworker_operations_collector") == 1 && text.has("csworker_cases")
            }
            #expect(workers[other].process.terminate() == 0)
        } catch {
            workers.forEach { $0.process.kill() }
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }

    @Test func aPortInUseExits69() async throws {
        let h = try await PipelineHarness.make(partitions: 1)
        // Something else listens on the port already.
        let occupant = TCPProxy(upstreamHost: "127.0.0.1", upstreamPort: 1)
        try occupant.start()
        var environment = h.processEnvironment(logLevel: "info")
        environment["CSE_HTTP_HOST"] = "127.0.0.1"
        environment["CSE_HTTP_PORT"] = String(occupant.port)
        let exit: ChildProcess.Outcome
        do {
            exit = try await ChildProcess.run(WorkerProcess.binary, ["run"], environment: environment)
        } catch {
            occupant.stop()
            await h.shutDown()
            throw error
        }
        occupant.stop()
        await h.shutDown()
        #expect(exit.status == 69)
        #expect(exit.stderr.contains("cannot listen for HTTP on 127.0.0.1:\(occupant.port)"))
    }

    @Test(arguments: ["8o80", "-1", "65536"])
    func anInvalidPortIsAUsageError(port: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_SSN_KEY"] = String(repeating: "ab", count: 32)
        environment["CSE_HTTP_PORT"] = port
        let outcome = try await ChildProcess.run(WorkerProcess.binary, ["run"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("CSE_HTTP_PORT"))
    }

    /// Runs `body` with a worker of `h` and its HTTP port; a clean run ends
    /// with SIGTERM and exit 0. The worker and the harness are stopped either way.
    private func withWorker(
        _ h: PipelineHarness, name: String, databaseURL: String? = nil, arguments: [String] = [],
        _ body: (Int) async throws -> Void
    ) async throws {
        do {
            let worker = try OperatedWorker(h, name: name, databaseURL: databaseURL, arguments: arguments)
            do {
                try await body(try await worker.port())
                #expect(worker.process.terminate() == 0)
            } catch {
                worker.process.kill()
                throw error
            }
        } catch {
            await h.shutDown()
            throw error
        }
        await h.shutDown()
    }

    private func get(_ port: Int, _ path: String, timeout: Duration = .seconds(5)) async throws -> HTTPGet.Response {
        try await onThread { try HTTPGet.get(port: port, path: path, timeout: timeout) }
    }
}

/// A `csworker run` child on an HTTP port of its choosing (CSE_HTTP_PORT=0),
/// read back from its log line.
struct OperatedWorker {
    let process: WorkerProcess
    let log: URL

    init(_ h: PipelineHarness, name: String, databaseURL: String? = nil, arguments: [String] = []) throws {
        let logs = try WorkerProcess.logsDirectory("operations")
        var environment = h.processEnvironment(logLevel: "info", logFormat: "json")
        environment["CSE_DATABASE_URL"] = databaseURL ?? h.databaseURL
        environment["CSE_HTTP_HOST"] = "127.0.0.1"
        environment["CSE_METRICS_DB_INTERVAL_SECONDS"] = "1"
        process = try WorkerProcess(name: name, environment: environment, logs: logs, arguments: ["run"] + arguments)
        log = logs.appendingPathComponent("\(name).log")
    }

    /// The bound port from the "operations endpoints listening" log line.
    func port() async throws -> Int {
        var found: Int?
        try await eventuallyAsync(timeout: .seconds(30), "the worker logs its HTTP port (log \(log.path))") {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where line.contains("operations endpoints listening") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let metadata = object["metadata"] as? [String: String], let port = metadata["port"].flatMap(Int.init)
                else { continue }
                found = port
            }
            return found != nil
        }
        return try #require(found)
    }
}

/// host:port of a `postgresql://` URI, to put a proxy in between.
struct DatabaseAddress {
    let host: String
    let port: UInt16
    private let before: String
    private let after: String

    init?(_ url: String) {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let hostStart = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
        let hostPort = authority[hostStart...]
        guard let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...]) else { return nil }
        host = String(hostPort[..<colon])
        self.port = port
        before = String(url[..<hostStart])
        after = String(url[authorityEnd...])
    }

    func url(throughPort port: UInt16) -> String { "\(before)127.0.0.1:\(port)\(after)" }
}

/// Samples of the Prometheus text format, enough to add up a family.
struct PrometheusText {
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    let samples: [Sample]

    init(_ text: String) {
        samples = text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { return nil }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The sum over the series of `name` whose labels include `matching`.
    func sum(_ name: String, _ matching: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value } }.map(\.value).reduce(0, +)
    }

    func has(_ name: String) -> Bool { samples.contains { $0.name == name } }
}

/// `eventually` for conditions that await (HTTP requests on their own threads).
func eventuallyAsync(
    timeout: Duration, _ what: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !((try? await condition()) ?? false) {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out after \(timeout) waiting until \(what())", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(200))
    }
}

/// Readiness and liveness decided from in-memory state.
@Suite struct HealthConditionsTests {
    @Test func readinessNamesEachFailingCondition() {
        var conditions = HealthConditions()
        conditions.retryLimit = .seconds(30)
        let healthy = Worker.Health(groupJoined: true, retryingFor: nil, lastLoopAt: .now)
        #expect(conditions.failing(worker: healthy, databaseReachable: true).isEmpty)
        #expect(conditions.failing(worker: healthy, databaseReachable: false) == ["database"])
        let outside = Worker.Health(groupJoined: false, retryingFor: .seconds(5), lastLoopAt: .now)
        #expect(conditions.failing(worker: outside, databaseReachable: true) == ["group"], "a short retry is not yet a failure")
        let stuck = Worker.Health(groupJoined: true, retryingFor: .seconds(31), lastLoopAt: .now)
        #expect(conditions.failing(worker: stuck, databaseReachable: false) == ["database", "retrying"])
    }

    @Test func liveUnlessTheLoopStalls() {
        let conditions = HealthConditions()
        let now = ContinuousClock.now
        #expect(conditions.isLive(worker: Worker.Health(groupJoined: false, retryingFor: nil, lastLoopAt: nil), now: now))
        #expect(conditions.isLive(worker: Worker.Health(groupJoined: true, retryingFor: nil, lastLoopAt: now - .seconds(10)), now: now))
        #expect(!conditions.isLive(
            worker: Worker.Health(groupJoined: true, retryingFor: nil, lastLoopAt: now - conditions.stallLimit - .seconds(1)), now: now))
    }
}
