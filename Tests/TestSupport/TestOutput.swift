import Foundation

/// Where the suite keeps what its child processes printed, so that
/// scripts/test.sh can scan all of it (with the test runners' own output)
/// for unmasked SSNs: CSE_TEST_OUTPUT_DIR, set by the script; unset, nothing
/// is kept beyond the temporary directory.
public enum TestOutput {
    public static let directory: URL? = ProcessInfo.processInfo.environment["CSE_TEST_OUTPUT_DIR"]
        .flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }

    /// A new directory for one test's log files: under `directory` when set.
    public static func makeDirectory(_ name: String) throws -> URL {
        let parent = directory ?? FileManager.default.temporaryDirectory
        let made = parent.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8).lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: made, withIntermediateDirectories: true)
        return made
    }

    /// Keeps `text` (a finished child's output) in `directory`, when set.
    public static func keep(_ text: String, as name: String) {
        guard let directory, !text.isEmpty else { return }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        let file = directory.appendingPathComponent("\(safe)-\(UUID().uuidString.prefix(8).lowercased()).out")
        FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8))
    }
}
