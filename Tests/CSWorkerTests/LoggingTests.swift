import Foundation
import Logging
import Testing

@testable import csworker

/// CSE_LOG_LEVEL and CSE_LOG_FORMAT.
@Suite struct LoggingTests {
    @Test func defaultsFollowTheTerminal() throws {
        #expect(try LoggingSettings.fromEnvironment([:], stderrIsTerminal: true) == LoggingSettings(level: .info, format: .text))
        #expect(try LoggingSettings.fromEnvironment([:], stderrIsTerminal: false) == LoggingSettings(level: .info, format: .json))
        let set = try LoggingSettings.fromEnvironment(["CSE_LOG_LEVEL": "DEBUG", "CSE_LOG_FORMAT": "text"], stderrIsTerminal: false)
        #expect(set == LoggingSettings(level: .debug, format: .text))
    }

    @Test func invalidValuesNameTheSetting() {
        #expect(throws: (any Error).self) { try LoggingSettings.fromEnvironment(["CSE_LOG_LEVEL": "verbose"], stderrIsTerminal: false) }
        #expect(throws: (any Error).self) { try LoggingSettings.fromEnvironment(["CSE_LOG_FORMAT": "xml"], stderrIsTerminal: false) }
    }

    @Test(arguments: [("CSE_LOG_LEVEL", "verbose"), ("CSE_LOG_FORMAT", "logfmt")])
    func theBinaryRefusesInvalidValuesWith64(setting: String, value: String) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment[setting] = value
        let outcome = try await BuiltBinary.run(["status", "--help"], environment: environment)
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains(setting))
    }

    @Test func aJSONLineIsOneObjectWithEveryFieldAsAString() throws {
        let line = JSONLogHandler.line(
            timestamp: Date(timeIntervalSince1970: 1_790_000_000.123), level: .warning, label: "csworker.test",
            message: "quote \" backslash \\ newline \n tab \t bell \u{7} é",
            metadata: ["caseId": "CS-1", "attempt": "\(3)", "nested": ["a": "b"]])
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "csworker.test")
        #expect(object["message"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{7} é")
        #expect((object["timestamp"] as? String)?.hasPrefix("2026-09-21T") == true)
        let metadata = try #require(object["metadata"] as? [String: String])
        #expect(metadata["caseId"] == "CS-1")
        #expect(metadata["attempt"] == "3")
        #expect(metadata["nested"] != nil)
    }

    /// The binary's records on stderr are JSON lines; the last line is the
    /// command's own one-line failure message.
    @Test func theBinaryLogsJSONLinesWhenAsked() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_LOG_FORMAT"] = "json"
        environment["CSE_LOG_LEVEL"] = "debug"
        let outcome = try await BuiltBinary.run(
            ["case", "show", "CS-1", "--database-url", "postgresql://worker:pw@127.0.0.1:1/cases"], environment: environment)
        #expect(outcome.status == 69)
        var lines = outcome.stderr.split(separator: "\n").map(String.init)
        let last = lines.popLast()
        let failure = try #require(last)
        #expect(failure.hasPrefix("csworker: "))
        #expect(!lines.isEmpty, "the retry is logged")
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            for field in ["timestamp", "level", "label", "message"] {
                #expect(object[field] is String, "\(field) missing in \(line)")
            }
            #expect(object["metadata"] is [String: String])
        }
    }
}
