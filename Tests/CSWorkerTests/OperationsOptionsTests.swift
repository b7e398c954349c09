import ArgumentParser
import Testing

@testable import csworker

/// `csworker run`'s HTTP and metrics settings: flags over environment, defaults, refusals.
@Suite struct OperationsOptionsTests {
    func settings(_ arguments: [String] = [], _ environment: [String: String] = [:]) throws -> OperationsOptions.Settings {
        try OperationsOptions.parse(arguments).settings(environment: environment)
    }

    @Test func defaultsServeOnEveryAddressAtPort8080() throws {
        #expect(try settings() == OperationsOptions.Settings(port: 8080, host: "0.0.0.0", databaseInterval: 15, retryLimit: 30))
    }

    @Test func environmentSetsThemAndFlagsWin() throws {
        let environment = [
            "CSE_HTTP_PORT": "9100", "CSE_HTTP_HOST": "127.0.0.1", "CSE_METRICS_DB_INTERVAL_SECONDS": "60",
            "CSE_READY_MAX_RETRY_SECONDS": "120",
        ]
        #expect(try settings([], environment) == OperationsOptions.Settings(port: 9100, host: "127.0.0.1", databaseInterval: 60, retryLimit: 120))
        let flagged = try settings(["--http-port", "0", "--metrics-db-interval-seconds", "5"], environment)
        #expect(flagged.port == 0 && flagged.databaseInterval == 5 && flagged.host == "127.0.0.1")
    }

    @Test func anEmptyValueIsUnset() throws {
        // One rule for every setting (Setting.resolve): an empty variable is as if it were not set.
        #expect(try settings([], ["CSE_HTTP_PORT": "", "CSE_HTTP_HOST": ""]) == settings([], [:]))
    }

    @Test func offTurnsTheServerOff() throws {
        #expect(try settings([], ["CSE_HTTP_PORT": "off"]).port == nil)
        #expect(try settings(["--http-port", "OFF"]).port == nil)
    }

    @Test(arguments: [
        ("CSE_HTTP_PORT", "http"), ("CSE_HTTP_PORT", "70000"),
        ("CSE_METRICS_DB_INTERVAL_SECONDS", "0"), ("CSE_READY_MAX_RETRY_SECONDS", "soon"),
    ])
    func invalidValuesNameTheSetting(name: String, value: String) {
        #expect {
            try settings([], [name: value])
        } throws: { error in
            "\(error)".contains(name)
        }
    }
}
