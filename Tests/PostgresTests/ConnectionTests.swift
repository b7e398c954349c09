import Foundation
import Postgres
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite("Postgres: connecting")
struct ConnectionTests {
    @Test func connectsAndReportsVersions() throws {
        let connection = try TestDatabase.connect()
        #expect(connection.status == .ok)
        #expect(connection.isHealthy)
        #expect(connection.serverVersion.hasPrefix("15."))
        #expect(connection.serverVersionNumber >= 150_000)
        #expect(connection.backendPID > 0)
        #expect(connection.transactionStatus == .idle)
        try connection.ping()
        #expect(PostgresConnection.libpqVersion.wholeMatch(of: /\d+\.\d+/) != nil)
        #expect(PostgresConnection.libpqVersion.hasPrefix("15."))
        connection.close()
        #expect(connection.status == .closed)
        let error = postgresError { try connection.execute("SELECT 1") }
        #expect(error?.kind == .misuse)
    }

    @Test func unreachablePortFailsFastNamingTheTarget() throws {
        let start = ContinuousClock.now
        let error = postgresError {
            _ = try PostgresConnection(
                connectionString: "host=127.0.0.1 port=1 dbname=csworker user=postgres", connectTimeout: .seconds(3))
        }
        #expect(ContinuousClock.now - start < .seconds(3))
        let described = try #require(error).description
        #expect(described.contains("database csworker at 127.0.0.1:1 unreachable"), "\(described)")
        #expect(described.contains("Connection refused"), "\(described)")
        #expect(error?.kind == .unreachable)
        #expect(error?.isRetriable == true)
    }

    /// A listener that completes the TCP handshake but never speaks: only the
    /// connection deadline can end the attempt.
    @Test func silentServerHitsTheDeadline() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { Glibc.close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        try #require(listen(listener, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)

        let start = ContinuousClock.now
        let error = postgresError {
            _ = try PostgresConnection(
                connectionString: "postgresql://postgres@127.0.0.1:\(port)/csworker", connectTimeout: .milliseconds(1500))
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(1400))
        #expect(elapsed < .seconds(4))
        #expect(error?.kind == .unreachable)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }

    @Test(
        "passwords never appear in connection errors",
        arguments: [
            "host=127.0.0.1 port=1 dbname=csworker user=postgres password=secret",
            "host=127.0.0.1 port=1 dbname=csworker user=postgres password='secret'",
            "postgresql://postgres:secret@127.0.0.1:1/csworker",
            "postgresql://postgres@127.0.0.1:1/csworker?password=secret&sslmode=disable",
        ])
    func passwordIsMasked(connectionString: String) throws {
        let error = try #require(postgresError {
            _ = try PostgresConnection(connectionString: connectionString, connectTimeout: .seconds(3))
        })
        #expect(!error.description.contains("secret"))
        #expect(!error.message.contains("secret"))
        #expect(!"\(error)".contains("secret"))
        let masked = PostgresConnectionString.masked(connectionString)
        #expect(!masked.contains("secret"))
        #expect(masked.contains("***"))
    }

    @Test func maskingKeepsEverythingElse() {
        #expect(
            PostgresConnectionString.masked("host=db password='it\\'s a secret' user=x")
                == "host=db password=*** user=x")
        #expect(PostgresConnectionString.masked("password = s3cr=t port=5") == "password = *** port=5")
        #expect(
            PostgresConnectionString.masked("postgres://u:p%40ss@h:5/d?password=x&application_name=a")
                == "postgres://u:***@h:5/d?password=***&application_name=a")
        #expect(PostgresConnectionString.masked("postgresql://u@h/d") == "postgresql://u@h/d")
        #expect(PostgresConnectionString.masked("host=h dbname=d") == "host=h dbname=d")
    }

    @Test func workingConnectionWithPasswordHidesIt() throws {
        // The local cluster trusts loopback, so the password is accepted and ignored.
        let url = try TestDatabase.url()
        let separator = url.contains("?") ? "&" : "?"
        let connection = try PostgresConnection(connectionString: url + separator + "password=secret")
        #expect(!connection.maskedConnectionString.contains("secret"))
        let error = postgresError { try connection.execute("SELECT * FROM no_such_table_secret") }
        // The SQL itself may say anything; the password is scrubbed from messages.
        #expect(error?.kind == .undefinedTable)
        #expect(error?.description.contains("secret") == false)
    }
}
