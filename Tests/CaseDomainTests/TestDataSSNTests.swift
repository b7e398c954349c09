import Foundation
import Testing

/// Every SSN in the test data -- fixtures and test sources -- is from the
/// 900-999 area, which the SSA never issues: so the scan of the suite's output
/// (scripts/scan-test-output.py) can treat any such number written out in full
/// as a leak, and no test ever carries a number that could be a person's.
@Suite("Test data: SSNs only from the never-issued 900-999 area")
struct TestDataSSNTests {
    static let testsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// An SSN-shaped value where the test data names one: `"ssn": "..."`,
    /// `SSN("...")`, `ssn: "..."` (with or without dashes).
    static var pattern: Regex<(Substring, Substring)> { #/(?:"ssn"\s*:\s*"|SSN\("|ssn:\s*"|ssn=)(\d{3})-?\d{2}-?\d{4}/# }

    @Test func everySSNInTheTestDataIsFromTheNeverIssuedArea() throws {
        var offenders: [String] = []
        var seen = 0
        let files = FileManager.default.enumerator(at: Self.testsRoot, includingPropertiesForKeys: nil)!
        for case let url as URL in files where ["swift", "json"].contains(url.pathExtension) {
            guard url.lastPathComponent != "TestDataSSNTests.swift",
                let bytes = try? Data(contentsOf: url)
            else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            for match in text.matches(of: Self.pattern) {
                seen += 1
                if !match.output.1.hasPrefix("9") { offenders.append("\(url.lastPathComponent): \(match.output.0)") }
            }
        }
        #expect(seen > 50, "the pattern found only \(seen) SSNs: it no longer matches the test data")
        #expect(offenders.isEmpty, "SSNs outside the 900-999 area: \(offenders.prefix(10))")
    }
}
