import CaseDomain
import Foundation
import Postgres

/// What supervisors answer for, read from the case tables: the federal
/// timeframes (open work past its deadline, due soon, and by week), the
/// caseload, and drill-down lists. For the console; pure reads.
public struct SupervisionReader {
    let connection: PostgresConnection
    let policy: Policy

    public init(connection: PostgresConnection, policy: Policy) {
        self.connection = connection
        self.policy = policy
    }

    // MARK: timeliness

    /// One federal timeframe and where the caseload stands against it.
    public struct Timeframe: Sendable, Hashable {
        public var id: String
        public var title: String
        public var citation: String
        /// "within 75 calendar days of the locate request", in the agency's figures.
        public var rule: String
        /// Open items past their deadline today.
        public var past: Int
        /// Open items whose deadline falls within the next 7 days.
        public var dueSoon: Int
        /// Items that missed their deadline, by the week (Monday) the deadline fell in; the last 12 weeks, oldest first.
        public var weekly: [(weekOf: LocalDate, count: Int)]

        public static func == (lhs: Timeframe, rhs: Timeframe) -> Bool {
            lhs.id == rhs.id && lhs.past == rhs.past && lhs.dueSoon == rhs.dueSoon
                && lhs.weekly.map(\.count) == rhs.weekly.map(\.count) && lhs.weekly.map(\.weekOf) == rhs.weekly.map(\.weekOf)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(id)
            hasher.combine(past)
        }
    }

    /// An item of a drill-down: the case, its deadline, and how the item stands.
    public struct TimeframeItem: Sendable, Hashable {
        public var caseId: String
        public var deadline: LocalDate
        /// Days past the deadline today (negative: days left).
        public var daysPast: Int
        public var detail: String
    }

    /// The timeframes the console tracks, by id.
    public static let timeframeIds = [
        "locate", "establishment", "enforcement", "income-withholding", "medical-support-notice", "disbursement",
        "review-and-adjustment", "party-notice", "closure", "intergovernmental-referral",
    ]

    /// Each timeframe as (title, citation, rule, SQL yielding `case_id, deadline, open, detail` rows).
    /// `open`: the work is still outstanding (a case still waiting, a task not yet published);
    /// a closed item counts as missed when it was done after its deadline.
    public func definitions(today: LocalDate) -> [(id: String, title: String, citation: String, rule: String, sql: String)] {
        let zone = policy.calendar.timeZoneIdentifier.replacingOccurrences(of: "'", with: "''")
        func task(_ type: TaskType) -> String {
            """
            SELECT convert_from(o.key, 'UTF8') AS case_id, o.due_by AS deadline, o.published_at IS NULL AS open,
                   CASE WHEN o.published_at IS NULL AND o.set_aside_at IS NOT NULL THEN 'not sent: refused by the broker, set aside'
                        WHEN o.published_at IS NULL THEN 'not yet sent'
                        ELSE 'sent ' || to_char(o.published_at AT TIME ZONE '\(zone)', 'YYYY-MM-DD') END AS detail,
                   (o.published_at AT TIME ZONE '\(zone)')::date AS done_on
            FROM outbox o
            WHERE NOT o.sealed AND o.due_by IS NOT NULL
              AND o.headers @> '[{"name":"\(OutboxMessage.TaskHeader.taskType)","value":"\(type.rawValue)"}]'
              AND o.headers @> '[{"name":"\(OutboxMessage.TaskHeader.taskAction)","value":"ISSUE"}]'
            """
        }
        return [
            ("locate", "Locate the noncustodial parent", "45 CFR 303.3(b)(3)",
             "within \(policy.locateDays) calendar days of the locate request",
             """
             SELECT case_id, (state->>'locateRequestedOn')::date + \(policy.locateDays) AS deadline, true AS open,
                    'locate requested ' || (state->>'locateRequestedOn') AS detail, NULL::date AS done_on
             FROM cases WHERE stage = 'LOCATE' AND state->>'locateRequestedOn' IS NOT NULL
             """),
            ("establishment", "Establish paternity and an order", "45 CFR 303.4(d)",
             "within \(policy.establishmentDays) calendar days of locating the parent",
             """
             SELECT case_id, (state->>'establishmentPreparationRequestedOn')::date + \(policy.establishmentDays) AS deadline,
                    true AS open, 'established work requested ' || (state->>'establishmentPreparationRequestedOn') AS detail,
                    NULL::date AS done_on
             FROM cases WHERE stage IN ('PATERNITY', 'ESTABLISHMENT') AND state->>'establishmentPreparationRequestedOn' IS NOT NULL
             """),
            ("enforcement", "Enforce an established order", "45 CFR 303.6(c)(2)",
             "within \(policy.enforcementDays) calendar days of the order, while arrears are owed and no withholding, referral or notice of intent acts on them",
             """
             SELECT c.case_id, max(o.effective_on) + \(policy.enforcementDays) AS deadline, true AS open,
                    'order effective ' || max(o.effective_on)::text || ', arrears $' || to_char(c.arrears_cents / 100.0, 'FM999,999,990.00') AS detail,
                    NULL::date AS done_on
             FROM cases c JOIN support_orders o ON o.case_id = c.case_id AND o.status = 'ACTIVE'
             WHERE c.stage = 'ENFORCEMENT' AND c.arrears_cents > 0
               AND NOT EXISTS (SELECT FROM referrals r WHERE r.case_id = c.case_id)
               AND coalesce(json_array_length(c.state->'processes'->'remedyNotices'), 0) = 0
               AND NOT EXISTS (SELECT FROM employments e WHERE e.case_id = c.case_id AND e.withholding_status <> 'NONE')
             GROUP BY c.case_id, c.arrears_cents
             """),
            ("income-withholding", "Send the income withholding notice", "42 USC 666(b); 45 CFR 303.100",
             "within \(policy.withholdingNoticeBusinessDays) business days of the employment information",
             task(.incomeWithholding)),
            ("medical-support-notice", "Send the National Medical Support Notice", "45 CFR 303.32",
             "within \(policy.medicalSupportNoticeBusinessDays) business days of the new-hire match",
             task(.medicalSupportNotice)),
            ("disbursement", "Distribute collections", "45 CFR 302.32",
             "within \(policy.distributionBusinessDays) business days of receipt",
             task(.disbursement)),
            ("review-and-adjustment", "Review an order on request", "45 CFR 303.8(e)",
             "within \(policy.reviewDays) calendar days of the request, or of locating the other parent if later",
             """
             SELECT case_id, (state->'processes'->'review'->>'dueOn')::date AS deadline, true AS open,
                    'requested ' || (state->'processes'->'review'->>'requestedOn') || ' by ' || (state->'processes'->'review'->>'requestedBy') AS detail,
                    NULL::date AS done_on
             FROM cases WHERE state->'processes'->'review' IS NOT NULL AND stage <> 'CLOSED'
             """),
            ("party-notice", "Send the notices the law requires to parents", "42 USC 666(a)(7)(B); 45 CFR 303.8, 303.11",
             "within \(policy.noticeBusinessDays) business days (review rights after an incarceration: \(policy.incarcerationNoticeBusinessDays))",
             task(.partyNotice)),
            ("closure", "Close cases whose notice of intent ran out", "45 CFR 303.11(d)",
             "on the day the \(policy.closureNoticeDays)-day notice ends, unless the recipient answered or the criterion stopped holding",
             """
             SELECT case_id, (state->'pendingClosure'->>'earliestClosureOn')::date AS deadline, true AS open,
                    (state->'pendingClosure'->>'reason') || ', noticed ' || (state->'pendingClosure'->>'requestedOn') AS detail,
                    NULL::date AS done_on
             FROM cases WHERE stage <> 'CLOSED' AND (state->'pendingClosure'->>'noticeSent')::boolean
               AND state->'pendingClosure'->'answeredOn' IS NULL
             """),
            ("intergovernmental-referral", "Refer to the state the parent was located in", "45 CFR 303.7(c)(2)",
             "within \(policy.intergovernmentalReferralDays) calendar days of locating him only in another state",
             task(.intergovernmentalReferral)),
        ]
    }

    /// Every timeframe as of `today` (the agency's date): one pass over each
    /// timeframe's items, grouped by the week of their deadline.
    public func timeliness(today: LocalDate) throws -> [Timeframe] {
        let firstWeek = Self.monday(of: today).adding(days: -7 * 11)
        return try definitions(today: today).map { definition in
            var past = 0, dueSoon = 0
            var weekly: [LocalDate: Int] = [:]
            for row in try connection.query(
                """
                WITH items AS (\(definition.sql))
                SELECT date_trunc('week', deadline)::date::text,
                       count(*) FILTER (WHERE open AND deadline < $1::date),
                       count(*) FILTER (WHERE open AND deadline >= $1::date AND deadline < $1::date + 7),
                       count(*) FILTER (WHERE deadline >= $2::date AND deadline < $1::date
                                          AND (open OR done_on > deadline))
                FROM items GROUP BY 1
                """, today.sqlText, firstWeek.sqlText)
            {
                past += try row.decode(Int.self, column: 1)
                dueSoon += try row.decode(Int.self, column: 2)
                let missed = try row.decode(Int.self, column: 3)
                if missed > 0, let week = try row.decode(String?.self, column: 0).flatMap(LocalDate.init(iso8601:)) {
                    weekly[week] = missed
                }
            }
            return Timeframe(
                id: definition.id, title: definition.title, citation: definition.citation, rule: definition.rule,
                past: past, dueSoon: dueSoon,
                weekly: (0..<12).map { index in
                    let week = firstWeek.adding(days: 7 * index)
                    return (week, weekly[week] ?? 0)
                })
        }
    }

    /// The open items of one timeframe past their deadline (or, with `dueSoon`, due within 7 days), most overdue first.
    public func timeframeItems(_ id: String, today: LocalDate, dueSoon: Bool = false, limit: Int = 500) throws -> [TimeframeItem]? {
        guard let definition = definitions(today: today).first(where: { $0.id == id }) else { return nil }
        let condition = dueSoon ? "deadline >= $1::date AND deadline < $1::date + 7" : "deadline < $1::date"
        return try connection.query(
            """
            WITH items AS (\(definition.sql))
            SELECT case_id, deadline::text, $1::date - deadline, detail FROM items
            WHERE open AND \(condition) ORDER BY deadline, case_id LIMIT $2::int8
            """, today.sqlText, limit
        ).map { row in
            TimeframeItem(
                caseId: try row.decode(String.self, column: 0),
                deadline: LocalDate(iso8601: try row.decode(String.self, column: 1)) ?? today,
                daysPast: try row.decode(Int.self, column: 2), detail: try row.decode(String.self, column: 3))
        }
    }

    static func monday(of date: LocalDate) -> LocalDate {
        // LocalDate.weekday: 1 = Monday ... 7 = Sunday.
        date.adding(days: -(date.isoWeekday - 1))
    }

    // MARK: caseload

    public struct Caseload: Sendable, Hashable {
        public var byStageAndProgram: [String: [String: Int]]
        public var activeReferralsByType: [String: Int]
        /// Open cases in each process (`CaseProcessFilter`), by its name.
        public var inProcess: [String: Int]
        public var total: Int

        public var byStage: [String: Int] { byStageAndProgram.mapValues { $0.values.reduce(0, +) } }
        public var byProgram: [String: Int] {
            byStageAndProgram.values.reduce(into: [:]) { totals, programs in
                for (program, count) in programs { totals[program, default: 0] += count }
            }
        }
    }

    public func caseload() throws -> Caseload {
        var matrix: [String: [String: Int]] = [:]
        var total = 0
        for row in try connection.query("SELECT stage, program, count(*) FROM cases GROUP BY 1, 2") {
            let count = try row.decode(Int.self, column: 2)
            matrix[try row.decode(String.self, column: 0), default: [:]][try row.decode(String.self, column: 1)] = count
            total += count
        }
        var referrals: [String: Int] = [:]
        for row in try connection.query("SELECT task_type, count(*) FROM referrals GROUP BY 1") {
            referrals[try row.decode(String.self, column: 0)] = try row.decode(Int.self, column: 1)
        }
        var inProcess: [String: Int] = [:]
        let filters = CaseProcessFilter.allCases
        let row = try connection.query(
            "SELECT " + filters.map { "count(*) FILTER (WHERE \($0.condition))" }.joined(separator: ", ")
                + " FROM cases c WHERE c.stage <> 'CLOSED'")
        if let row = row.first {
            for (index, filter) in filters.enumerated() { inProcess[filter.rawValue] = try row.decode(Int.self, column: index) }
        }
        return Caseload(byStageAndProgram: matrix, activeReferralsByType: referrals, inProcess: inProcess, total: total)
    }

    /// The processes a supervisor follows cases through (domain.md "Processes (v1.1)").
    public enum CaseProcessFilter: String, CaseIterable, Sendable {
        case enforcementIntent = "enforcement-intent"
        case contest
        case paymentAgreement = "payment-agreement"
        case pendingClosure = "pending-closure"
        case review
        case intergovernmental

        private static func notice(status: String) -> String {
            "EXISTS (SELECT FROM json_array_elements(c.state->'processes'->'remedyNotices') n WHERE n->>'status' = '\(status)')"
        }

        /// A condition on `cases c`.
        var condition: String {
            switch self {
            // `cases.state` is json (not jsonb): no `?` operator or JSON path.
            case .enforcementIntent: Self.notice(status: "AWAITING")
            case .contest: Self.notice(status: "CONTESTED")
            case .paymentAgreement: "c.state->'processes'->'agreement' IS NOT NULL"
            case .pendingClosure: "c.state->'pendingClosure' IS NOT NULL"
            case .review: "c.state->'processes'->'review' IS NOT NULL"
            case .intergovernmental: "c.state->'processes'->'intergovernmental' IS NOT NULL"
            }
        }
    }

    public struct CaseRow: Sendable, Hashable {
        public var caseId: String
        public var program: String
        public var stage: String
        public var arrearsCents: Int64
        public var openedOn: String
    }

    /// Cases by stage, program or active referral type (nil: any), by case id.
    public func cases(stage: String?, program: String?, referral: String?, process: CaseProcessFilter? = nil, limit: Int = 500) throws -> [CaseRow] {
        try connection.query(
            """
            SELECT c.case_id, c.program, c.stage, c.arrears_cents, c.opened_on::text FROM cases c
            WHERE ($1::text IS NULL OR c.stage = $1) AND ($2::text IS NULL OR c.program = $2)
              AND ($3::text IS NULL OR EXISTS (SELECT FROM referrals r WHERE r.case_id = c.case_id AND r.task_type = $3))
              AND \(process.map { "c.stage <> 'CLOSED' AND " + $0.condition } ?? "true")
            ORDER BY c.case_id LIMIT $4::int8
            """, stage, program, referral, limit
        ).map { row in
            CaseRow(
                caseId: try row.decode(String.self, column: 0), program: try row.decode(String.self, column: 1),
                stage: try row.decode(String.self, column: 2), arrearsCents: try row.decode(Int64.self, column: 3),
                openedOn: try row.decode(String.self, column: 4))
        }
    }

    // MARK: operations

    /// Events applied per minute over the last `hours`, oldest first (minutes without any are absent).
    public func appliedPerMinute(hours: Int) throws -> [(minute: Date, count: Int)] {
        try connection.query(
            """
            SELECT date_trunc('minute', processed_at), count(*) FROM processed_events
            WHERE processed_at > now() - make_interval(hours => $1::int4) AND outcome = 'applied'
            GROUP BY 1 ORDER BY 1
            """, hours
        ).map { row in (try row.decode(Date.self, column: 0), try row.decode(Int.self, column: 1)) }
    }

    /// Dead letters on `topic` by error class.
    public func deadLettersByClass(topic: String, errorClassHeader: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try connection.query(
            """
            SELECT h->>'value', count(*) FROM outbox o, jsonb_array_elements(o.headers) h
            WHERE o.sealed AND o.topic = $1 AND h->>'name' = $2 GROUP BY 1
            """, topic, errorClassHeader)
        {
            counts[try row.decode(String.self, column: 0)] = try row.decode(Int.self, column: 1)
        }
        return counts
    }
}
