import ArgumentParser
import Foundation
import Testing
import TestSupport

@testable import csworker

/// No secret reaches the terminal or the logs: not in any command's help, not
/// in a failed start. The secrets are set where an operator sets them (the
/// environment), to values that cannot occur by chance.
@Suite struct SecretsInOutputTests {
    static let databasePassword = "pw-Zq81xDbSecret"
    static let ssnKey = "5eC7e7" + String(repeating: "a1b2c3d4", count: 8)
    static let saslPassword = "sasl-Kp42SecretWord"
    static var secrets: [String] { [databasePassword, ssnKey, saslPassword] }

    static func environment(databaseURL: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_DATABASE_URL"] = databaseURL
        environment["CSE_SSN_KEY"] = ssnKey
        environment["CSE_KAFKA_SASL_USERNAME"] = "csworker"
        environment["CSE_KAFKA_SASL_PASSWORD"] = saslPassword
        environment["CSE_KAFKA_SECURITY_PROTOCOL"] = "SASL_PLAINTEXT"
        environment["CSE_KAFKA_SASL_MECHANISM"] = "SCRAM-SHA-512"
        environment["CSE_LOG_LEVEL"] = "trace"
        environment["CSE_LOG_FORMAT"] = "json"
        return environment
    }

    /// Every command path of the tree, e.g. ["deadletters", "replay"], read
    /// from the commands' configurations so a new command is covered too.
    static func commandPaths(_ command: any ParsableCommand.Type = CSWorker.self, prefix: [String] = []) -> [[String]] {
        var paths = [prefix]
        for sub in command.configuration.subcommands {
            let name = sub.configuration.commandName ?? String(describing: sub).lowercased()
            paths += commandPaths(sub, prefix: prefix + [name])
        }
        return paths
    }

    @Test func theTreeIsReadNotListed() {
        let paths = Self.commandPaths()
        #expect(paths.contains(["deadletters", "replay"]))
        #expect(paths.contains(["run"]))
        #expect(paths.count > 10)
    }

    @Test func noHelpShowsASecret() async throws {
        let environment = Self.environment(databaseURL: "postgresql://csworker_runtime:\(Self.databasePassword)@127.0.0.1:1/csworker")
        for path in Self.commandPaths() {
            let outcome = try await BuiltBinary.run(path + ["--help"], environment: environment)
            #expect(outcome.status == 0, "\(path): \(outcome.stderr)")
            #expect(outcome.stdout.contains("USAGE"), "\(path)")
            for secret in Self.secrets {
                #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret), "\(path) --help shows a secret")
            }
        }
    }

    /// Trace-level logs of starts that fail: the database unreachable (with
    /// the password in the URL), and the broker unreachable with SASL set.
    @Test(arguments: [
        ["run"], ["migrate"], ["status"], ["selfcheck", "--brokers", "127.0.0.1:1"], ["topics", "ensure", "--brokers", "127.0.0.1:1"],
    ])
    func aFailedStartShowsNoSecret(arguments: [String]) async throws {
        var environment = Self.environment(databaseURL: "postgresql://csworker_runtime:\(Self.databasePassword)@127.0.0.1:1/csworker")
        environment["CSE_KAFKA_BROKERS"] = "127.0.0.1:1"
        let outcome = try await BuiltBinary.run(arguments, environment: environment)
        #expect(outcome.status == 69, "\(arguments): \(outcome.stderr)")
        if arguments.first == "topics" {
            // The Kafka client's configuration was logged, and the password in it masked.
            #expect(outcome.stderr.contains("sasl.password=[REDACTED]"), "\(outcome.stderr)")
        }
        for secret in Self.secrets {
            #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret), "\(arguments) printed a secret")
        }
    }

    /// Connected (the local cluster trusts any password), the broker down:
    /// the trace logs of a session with a password in its URL.
    @Test func aConnectedSessionLogsNoPassword() async throws {
        let server = try #require(ProcessInfo.processInfo.environment["CSE_DATABASE_URL"], "CSE_DATABASE_URL is not set")
        let scheme = try #require(server.range(of: "://"), "CSE_DATABASE_URL is not a URI")
        let afterScheme = server[scheme.upperBound...]
        let at = try #require(afterScheme.firstIndex(of: "@"), "CSE_DATABASE_URL names no user")
        let withPassword = String(server[..<at]) + ":" + Self.databasePassword + String(server[at...])
        let outcome = try await BuiltBinary.run(
            ["selfcheck", "--brokers", "127.0.0.1:1"], environment: Self.environment(databaseURL: withPassword))
        #expect(outcome.status == 69, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("connected to PostgreSQL"), "the session's trace logs were written")
        for secret in Self.secrets {
            #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret), "selfcheck printed a secret")
        }
    }

    /// A key that is not valid is refused without being echoed.
    @Test func aBadSSNKeyIsNotEchoed() async throws {
        var environment = Self.environment(databaseURL: "postgresql://csworker_runtime:\(Self.databasePassword)@127.0.0.1:1/csworker")
        environment["CSE_SSN_KEY"] = "tooShort-Secret-Key-Zq81"
        let outcome = try await BuiltBinary.run(["run", "--brokers", "127.0.0.1:1"], environment: environment)
        #expect(outcome.status == 64, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("CSE_SSN_KEY"))
        #expect(!outcome.stderr.contains("tooShort-Secret-Key-Zq81") && !outcome.stdout.contains("tooShort-Secret-Key-Zq81"))
    }
}
