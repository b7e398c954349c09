import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of one test's own, on a free loopback port, that the
/// test may restart or crash without touching the shared local server the
/// other tests use. initdb takes a second or two. As root (CI), the server
/// runs as the `postgres` account, as scripts/services.sh runs the shared one.
public final class PrivatePostgres: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let bin: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `postgresql://postgres@127.0.0.1:<port>/postgres`
    public var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    /// A database of its own on this cluster, for a test world (`CREATE DATABASE`).
    public func url(database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

    public static func start() throws -> PrivatePostgres {
        let bin = try Self.binDirectory()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csworker-private-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cluster = PrivatePostgres(port: try Loopback.freePort(), directory: directory, bin: bin)
        if getuid() == 0 { _ = try cluster.run("/bin/chown", ["postgres:postgres", directory.path], asPostgres: false) }
        _ = try cluster.run("\(bin)/initdb", [
            "-D", cluster.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale",
        ])
        let settings = """
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(directory.path)'
            port = \(cluster.port)
            max_connections = 60
            shared_buffers = 32MB
            fsync = on
            """
        let conf = URL(fileURLWithPath: cluster.data).appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + settings + "\n").utf8))
        try handle.close()
        try cluster.pgctl(["start", "-w", "-t", "30"])
        return cluster
    }

    private init(port: Int, directory: URL, bin: String) {
        self.port = port
        self.directory = directory
        self.bin = bin
    }

    private var data: String { directory.appendingPathComponent("data").path }
    private var log: String { directory.appendingPathComponent("postgres.log").path }

    /// `pg_ctl restart -m immediate`: a crash restart, as an operator or a
    /// failover would do it; sessions are cut, the server replays its WAL.
    public func crashRestart() throws {
        try pgctl(["restart", "-m", "immediate", "-w", "-t", "60"])
    }

    /// Stops the server (`-m immediate`) and leaves it down.
    public func crash() throws {
        try pgctl(["stop", "-m", "immediate", "-w", "-t", "30"])
    }

    public func startAgain() throws {
        try pgctl(["start", "-w", "-t", "60"])
    }

    /// Stops the server and removes its files.
    public func destroy() {
        _ = try? pgctl(["stop", "-m", "immediate", "-w", "-t", "30"])
        try? FileManager.default.removeItem(at: directory)
    }

    private func pgctl(_ arguments: [String]) throws {
        _ = try run("\(bin)/pg_ctl", ["-D", data, "-l", log] + arguments)
    }

    /// Runs a command to completion with posix_spawn and waitpid (Foundation's
    /// `Process.waitUntilExit` can hang on a Swift concurrency thread), its
    /// output in a file: the server pg_ctl starts would hold a pipe open.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool = true) throws -> String {
        let argv = asPostgres && getuid() == 0 ? ["/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let outputPath = directory.appendingPathComponent("command-\(UUID().uuidString.prefix(8)).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outputPath)
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let serverLog = (try? String(contentsOfFile: log, encoding: .utf8)).map { String($0.suffix(2_000)) } ?? ""
            throw Failure(description: "\(argv.joined(separator: " ")) failed (status \(status)): \(text)\n\(serverLog)")
        }
        return text
    }

    private static func binDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw Failure(description: "no PostgreSQL server binaries under \(root); run scripts/setup.sh")
        }
        return "\(root)/\(newest)/bin"
    }
}
