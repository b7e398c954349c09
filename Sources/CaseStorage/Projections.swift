import CaseDomain
import Foundation
import Postgres

/// bytea as an array element (`bytea[]` parameters for unnest); the Postgres
/// module's `[UInt8]` is a scalar bytea only.
struct Bytea: PostgresArrayElement, Hashable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static var postgresArrayType: PostgresTypeOID { PostgresTypeOID(1001) }
    static var postgresElementType: PostgresTypeOID { .bytea }

    var postgresArrayElementText: String? { "\\x" + Self.hex(bytes) }
    static var postgresBinaryElements: Bool { true }
    func appendPostgresBinaryElement(to out: inout [UInt8]) -> Bool {
        out.append(contentsOf: bytes)
        return true
    }

    /// Lower-case hex without a prefix.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            digits.withUTF8Buffer { digits in
                for (index, byte) in bytes.enumerated() {
                    buffer[2 * index] = digits[Int(byte >> 4)]
                    buffer[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
            }
            return bytes.count * 2
        }
    }

    init(postgresArrayElement cell: PostgresCell) throws {
        bytes = try [UInt8](postgresCell: cell)
    }
}

extension LocalDate {
    /// ISO form, the text a date[] parameter takes.
    var sqlText: String { description }
}

/// The SQL-facing projections of one case state. Each table's rows are
/// computed in Swift, compared with the rows of the state loaded at the start
/// of the batch, and only tables whose rows differ are rewritten for that case
/// (an employer report rewrites the employments, not the parties). The
/// account's lines are not projected: `case show` derives them from the state.
struct CaseProjection: Equatable {
    struct Party: Equatable {
        var role: String
        var partyId: String
        var firstName: String
        var lastName: String
        var ssnHash: SSNHash?
        var ssnLast4: String?
        var deceasedOn: String?
    }

    struct Child: Equatable {
        var childId: String
        var dateOfBirth: String
        var paternity: String
        var paternityMethod: String?
    }

    struct Order: Equatable {
        var orderId: String
        var docketNumber: String
        var monthlySupportCents: Int64
        var monthlyArrearsPaymentCents: Int64?
        var medicalSupportOrdered: Bool
        var effectiveOn: String
        var status: String
        var terminatedOn: String?
        var terminationReason: String?
    }

    struct EmploymentRow: Equatable {
        var fein: String
        var employerName: String?
        var since: String
        var withholdingStatus: String
        var medicalCoverage: String?
    }

    struct Referral: Equatable {
        var taskType: String
        var arrearsCents: Int64
        var since: String
        var taskId: UUID
    }

    var parties: [Party]
    var children: [Child]
    var orders: [Order]
    var employments: [EmploymentRow]
    var referrals: [Referral]

    init(state: CaseState, protector: SSNProtector) {
        func party(_ record: PartyRecord, role: String) -> Party {
            Party(
                role: role, partyId: record.partyId, firstName: record.firstName, lastName: record.lastName,
                ssnHash: record.ssn.map(protector.hash), ssnLast4: record.ssn.map { String($0.lastFour) },
                deceasedOn: record.deceasedOn?.sqlText)
        }
        parties = [
            party(state.custodialParty, role: "CUSTODIAL"), party(state.noncustodialParty, role: "NONCUSTODIAL"),
        ]
        children = state.children.map { child in
            let (status, method): (String, String?) =
                switch child.paternity {
                case .open: ("OPEN", nil)
                case .excluded: ("EXCLUDED", nil)
                case .established(let method): ("ESTABLISHED", method?.rawValue)
                }
            return Child(
                childId: child.childId, dateOfBirth: child.dateOfBirth.sqlText, paternity: status,
                paternityMethod: method)
        }
        orders = state.orders.map { order in
            Order(
                orderId: order.orderId, docketNumber: order.docketNumber,
                monthlySupportCents: order.monthlySupportCents,
                monthlyArrearsPaymentCents: order.monthlyArrearsPaymentCents,
                medicalSupportOrdered: order.medicalSupportOrdered, effectiveOn: order.effectiveOn.sqlText,
                status: order.status.rawValue, terminatedOn: order.terminatedOn?.sqlText,
                terminationReason: order.terminationReason?.rawValue)
        }
        employments = state.employments.map { employment in
            EmploymentRow(
                fein: employment.fein.digits, employerName: employment.name, since: employment.since.sqlText,
                withholdingStatus: employment.withholding.rawValue,
                medicalCoverage: employment.medicalCoverage?.rawValue)
        }
        referrals = state.referrals.map { referral in
            Referral(
                taskType: referral.type.rawValue, arrearsCents: referral.arrearsCents,
                since: referral.issuedOn.sqlText, taskId: referral.taskId)
        }
    }
}

/// Column arrays for the set-based rewrite of every projection table: one
/// DELETE ... WHERE case_id = ANY($1) and one INSERT ... SELECT FROM unnest(...)
/// per table and batch, whatever the number of cases.
struct ProjectionWrites {
    var partyDeletes: [String] = []
    var partyCase: [String] = [], partyRole: [String] = [], partyId: [String] = []
    var partyFirst: [String] = [], partyLast: [String] = [], partyHash: [Bytea?] = []
    var partyLast4: [String?] = [], partyDeceased: [String?] = []

    var childDeletes: [String] = []
    var childCase: [String] = [], childId: [String] = [], childBirth: [String] = []
    var childPaternity: [String] = [], childMethod: [String?] = []

    var orderDeletes: [String] = []
    var orderCase: [String] = [], orderId: [String] = [], orderDocket: [String] = []
    var orderSupport: [Int64] = [], orderArrearsPayment: [Int64?] = [], orderMedical: [Bool] = []
    var orderEffective: [String] = [], orderStatus: [String] = [], orderTerminated: [String?] = []
    var orderReason: [String?] = []

    var employmentDeletes: [String] = []
    var employmentCase: [String] = [], employmentFein: [String] = [], employmentName: [String?] = []
    var employmentSince: [String] = [], employmentWithholding: [String] = [], employmentCoverage: [String?] = []

    var referralDeletes: [String] = []
    var referralCase: [String] = [], referralType: [String] = [], referralArrears: [Int64] = []
    var referralSince: [String] = [], referralTaskId: [UUID] = []

    /// Adds what changed between `old` (nil for a new case) and `new`.
    mutating func add(caseId: String, old: CaseProjection?, new: CaseProjection) {
        if old?.parties != new.parties {
            if old != nil { partyDeletes.append(caseId) }
            for party in new.parties {
                partyCase.append(caseId)
                partyRole.append(party.role)
                partyId.append(party.partyId)
                partyFirst.append(party.firstName)
                partyLast.append(party.lastName)
                partyHash.append(party.ssnHash.map { Bytea($0.bytes) })
                partyLast4.append(party.ssnLast4)
                partyDeceased.append(party.deceasedOn)
            }
        }
        if old?.children != new.children {
            if old != nil { childDeletes.append(caseId) }
            for child in new.children {
                childCase.append(caseId)
                childId.append(child.childId)
                childBirth.append(child.dateOfBirth)
                childPaternity.append(child.paternity)
                childMethod.append(child.paternityMethod)
            }
        }
        if old?.orders != new.orders {
            if old != nil { orderDeletes.append(caseId) }
            for order in new.orders {
                orderCase.append(caseId)
                orderId.append(order.orderId)
                orderDocket.append(order.docketNumber)
                orderSupport.append(order.monthlySupportCents)
                orderArrearsPayment.append(order.monthlyArrearsPaymentCents)
                orderMedical.append(order.medicalSupportOrdered)
                orderEffective.append(order.effectiveOn)
                orderStatus.append(order.status)
                orderTerminated.append(order.terminatedOn)
                orderReason.append(order.terminationReason)
            }
        }
        if old?.employments != new.employments {
            if old != nil { employmentDeletes.append(caseId) }
            for employment in new.employments {
                employmentCase.append(caseId)
                employmentFein.append(employment.fein)
                employmentName.append(employment.employerName)
                employmentSince.append(employment.since)
                employmentWithholding.append(employment.withholdingStatus)
                employmentCoverage.append(employment.medicalCoverage)
            }
        }
        if old?.referrals != new.referrals {
            if old != nil { referralDeletes.append(caseId) }
            for referral in new.referrals {
                referralCase.append(caseId)
                referralType.append(referral.taskType)
                referralArrears.append(referral.arrearsCents)
                referralSince.append(referral.since)
                referralTaskId.append(referral.taskId)
            }
        }
    }

    /// Queues the statements; tables with nothing to do cost nothing.
    func enqueue(on pipeline: PostgresPipeline) {
        func delete(_ statement: PreparedStatement, _ caseIds: [String]) {
            if !caseIds.isEmpty { pipeline.execute(statement, caseIds) }
        }
        delete(ProjectionSQL.deleteParties, partyDeletes)
        delete(ProjectionSQL.deleteChildren, childDeletes)
        delete(ProjectionSQL.deleteOrders, orderDeletes)
        delete(ProjectionSQL.deleteEmployments, employmentDeletes)
        delete(ProjectionSQL.deleteReferrals, referralDeletes)
        if !partyCase.isEmpty {
            pipeline.execute(
                ProjectionSQL.insertParties, partyCase, partyRole, partyId, partyFirst, partyLast, partyHash, partyLast4,
                partyDeceased)
        }
        if !childCase.isEmpty {
            pipeline.execute(ProjectionSQL.insertChildren, childCase, childId, childBirth, childPaternity, childMethod)
        }
        if !orderCase.isEmpty {
            pipeline.execute(
                ProjectionSQL.insertOrders, orderCase, orderId, orderDocket, orderSupport, orderArrearsPayment,
                orderMedical, orderEffective, orderStatus, orderTerminated, orderReason)
        }
        if !employmentCase.isEmpty {
            pipeline.execute(
                ProjectionSQL.insertEmployments, employmentCase, employmentFein, employmentName, employmentSince,
                employmentWithholding, employmentCoverage)
        }
        if !referralCase.isEmpty {
            pipeline.execute(
                ProjectionSQL.insertReferrals, referralCase, referralType, referralArrears, referralSince,
                referralTaskId)
        }
    }
}

enum ProjectionSQL {
    static let deleteParties = PreparedStatement(
        name: "cs_delete_parties", sql: "DELETE FROM parties WHERE case_id = ANY($1::text[])")
    static let deleteChildren = PreparedStatement(
        name: "cs_delete_children", sql: "DELETE FROM children WHERE case_id = ANY($1::text[])")
    static let deleteOrders = PreparedStatement(
        name: "cs_delete_orders", sql: "DELETE FROM support_orders WHERE case_id = ANY($1::text[])")
    static let deleteEmployments = PreparedStatement(
        name: "cs_delete_employments", sql: "DELETE FROM employments WHERE case_id = ANY($1::text[])")
    static let deleteReferrals = PreparedStatement(
        name: "cs_delete_referrals", sql: "DELETE FROM referrals WHERE case_id = ANY($1::text[])")

    static let insertParties = PreparedStatement(
        name: "cs_insert_parties",
        sql: """
            INSERT INTO parties (case_id, role, party_id, first_name, last_name, ssn_hash, ssn_last4, deceased_on)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[],
                                 $7::text[], $8::date[])
            """)
    static let insertChildren = PreparedStatement(
        name: "cs_insert_children",
        sql: """
            INSERT INTO children (case_id, child_id, date_of_birth, paternity, paternity_method)
            SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[])
            """)
    static let insertOrders = PreparedStatement(
        name: "cs_insert_orders",
        sql: """
            INSERT INTO support_orders (case_id, order_id, docket_number, monthly_support_cents,
                monthly_arrears_payment_cents, medical_support_ordered, effective_on, status, terminated_on,
                termination_reason)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::bool[], $7::date[],
                                 $8::text[], $9::date[], $10::text[])
            """)
    static let insertEmployments = PreparedStatement(
        name: "cs_insert_employments",
        sql: """
            INSERT INTO employments (case_id, fein, employer_name, since, withholding_status, medical_coverage)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[])
            """)
    static let insertReferrals = PreparedStatement(
        name: "cs_insert_referrals",
        sql: """
            INSERT INTO referrals (case_id, task_type, status, arrears_cents, since, task_id)
            SELECT c, t, 'ISSUED', a, s, i FROM unnest($1::text[], $2::text[], $3::int8[], $4::date[], $5::uuid[])
                AS r(c, t, a, s, i)
            """)
}
