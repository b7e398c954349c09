import Postgres

/// The cases a time-driven sweep re-evaluates: every case not closed, in
/// case id order, a page at a time (keyset pagination, so pages stay cheap
/// however many cases there are and a case is visited once per sweep).
extension CaseStore {
    public func openCaseIds(after lastCaseId: String?, limit: Int) throws -> [String] {
        try connection.execute(prepared: SweepSQL.openCases, parameters: [lastCaseId ?? "", Int64(limit)]).map {
            try $0.decode(String.self, column: 0)
        }
    }
}

enum SweepSQL {
    static let openCases = PreparedStatement(
        name: "cs_sweep_open_cases",
        sql: """
            SELECT case_id FROM cases
            WHERE stage <> 'CLOSED' AND case_id > $1::text
            ORDER BY case_id
            LIMIT $2::int8
            """)
}
