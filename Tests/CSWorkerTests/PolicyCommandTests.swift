import Foundation
import Testing
import TestSupport

/// `--policy-file` / `CSE_POLICY_FILE` and `csworker policy show`, as an operator runs them.
@Suite struct PolicyCommandTests {
    static func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func showPrintsTheFederalDefaultsWithoutAFile() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_POLICY_FILE"] = nil
        let outcome = try await BuiltBinary.run(["policy", "show"], environment: environment)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("policy: federal defaults"))
        #expect(outcome.stdout.contains("time zone: America/Chicago"))
        #expect(outcome.stdout.contains("passportDenialCents: 250000"))
        #expect(outcome.stdout.contains("reviewDays: 180"))
        #expect(outcome.stdout.contains("noticeBusinessDays: 2"))
        #expect(outcome.stdout.contains("credit-bureau-report 30"))
        #expect(outcome.stdout.contains("home state (a parent located only elsewhere may need an intergovernmental referral): NC"))
    }

    @Test func theProcessSettingsOfTheFileAreWhatShowPrints() async throws {
        let path = try Self.file(#"{"timeframes": {"intergovernmentalReferralDays": 10}, "contestDays": {"financial-levy": 15}, "homeState": "SC"}"#)
        let text = try await BuiltBinary.run(["policy", "show", "--policy-file", path])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("intergovernmentalReferralDays: 10"))
        #expect(text.stdout.contains("financial-levy 15"))
        #expect(text.stdout.contains("intergovernmental referral): SC"))
        let json = try await BuiltBinary.run(["policy", "show", "--policy-file", path, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains(#""homeState":"SC""#))
        #expect(json.stdout.contains(#""financial-levy":15"#))
        #expect(json.stdout.contains(#""intergovernmentalReferralDays":10"#))
    }

    @Test func theFileFromTheEnvironmentOrTheFlagIsWhatShowPrints() async throws {
        let path = try Self.file(#"{"timeZone": "America/Denver", "holidays": {"add": ["2026-11-27"]}, "thresholds": {"creditBureauCents": 50000}}"#)
        var environment = ProcessInfo.processInfo.environment
        environment["CSE_POLICY_FILE"] = path
        let text = try await BuiltBinary.run(["policy", "show", "--year", "2026"], environment: environment)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("time zone: America/Denver"))
        #expect(text.stdout.contains("2026-11-27"))
        environment["CSE_POLICY_FILE"] = nil
        let json = try await BuiltBinary.run(["policy", "show", "--policy-file", path, "--json"], environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains(#""creditBureauCents":50000"#))
        #expect(json.stdout.contains(#""timeZone":"America/Denver""#))
    }

    @Test(arguments: [
        (#"{"thresholds": {"pasportDenialCents": 1}}"#, "thresholds.pasportDenialCents"),
        (#"{"timeZone": "Mars/Olympus"}"#, "timeZone"),
        (#"{"timeframes": {"locateDays": -1}}"#, "timeframes.locateDays"),
        (#"{"contestDays": {"locate": 30}}"#, "contestDays.locate"),
        (#"{"homeState": "Carolina"}"#, "homeState"),
    ])
    func aBadFileExits64NamingTheKey(text: String, key: String) async throws {
        let path = try Self.file(text)
        for command in [["policy", "show"], ["case", "show", "CS-1"], ["sweep"]] {
            let outcome = try await BuiltBinary.run(command + ["--policy-file", path])
            #expect(outcome.status == 64, "\(command): \(outcome.stderr)")
            #expect(outcome.stderr.contains(key), "\(command): \(outcome.stderr)")
        }
    }

    @Test func anUnreadableFileExits64() async throws {
        let outcome = try await BuiltBinary.run(["policy", "show", "--policy-file", "/nonexistent/policy.json"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("/nonexistent/policy.json"))
    }
}
