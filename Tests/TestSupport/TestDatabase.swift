import Foundation
import Postgres

/// The test server comes from CSE_DATABASE_URL; without it the tests fail
/// loudly rather than skip, so a green run always means "ran against PostgreSQL".
public enum TestDatabase {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "CSE_DATABASE_URL is not set: start services with scripts/services.sh start, "
                + "then eval \"$(scripts/services.sh env)\""
        }
    }

    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CSE_DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        return url
    }

    public static func connect() throws -> PostgresConnection {
        try PostgresConnection(connectionString: url(), connectTimeout: .seconds(5))
    }
}
