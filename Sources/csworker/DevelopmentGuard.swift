import ArgumentParser
import CasePipeline
import Logging
import Postgres

/// `feed` and `bench` generate fake cases and heavy load: they are for
/// development and test setups. Unless told otherwise (`--allow-existing-data`)
/// they refuse to touch a database that holds cases or input topics that
/// hold records, which is what an agency's real deployment looks like.
struct DevelopmentGuardOptions: ParsableArguments {
    @Flag(help: "Run even though the database holds cases or the input topics hold records (never against an agency's real deployment).")
    var allowExistingData = false

    static let refusal = "this is a development tool; pass --allow-existing-data if this is a test setup"

    /// Refuses (exit 64) when the input topics already hold records.
    func checkTopics(brokers: [String], properties: [String: String], topics: [String]) throws {
        guard !allowExistingData else { return }
        let lag = try GroupLag.read(
            brokers: brokers, properties: properties, group: "csworker-development-guard", topics: topics,
            logger: Logger(label: "csworker.guard"))
        let records = lag.partitions.reduce(Int64(0)) { $0 + $1.end }
        guard records == 0 else {
            throw ValidationError("the input topics already hold \(records) records: \(Self.refusal)")
        }
    }

    /// Refuses (exit 64) when the database has a `cases` table with rows in it.
    func checkDatabase(_ connection: PostgresConnection) throws {
        guard !allowExistingData else { return }
        let hasTable = try connection.query("SELECT to_regclass('cases') IS NOT NULL")[0].decode(Bool.self, column: 0)
        guard hasTable else { return }
        let holdsCases = try connection.query("SELECT EXISTS (SELECT 1 FROM cases)")[0].decode(Bool.self, column: 0)
        if holdsCases { throw ValidationError("the database holds cases: \(Self.refusal)") }
    }
}
