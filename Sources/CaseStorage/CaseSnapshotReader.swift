import CaseDomain
import Foundation

/// Why a stored case snapshot could not be read: where (the field path, e.g.
/// `ledger.obligations[0].terms[1].effectiveOn`) and what is wrong with it,
/// never the value itself (it may be a name or an identifier).
public struct CaseSnapshotFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Outermost first; array positions are `[n]` components.
    public var path: [String]
    public var problem: String

    public init(path: [String] = [], problem: String) {
        self.path = path
        self.problem = problem
    }

    public var pathText: String {
        var text = ""
        for component in path {
            if !text.isEmpty, !component.hasPrefix("[") { text += "." }
            text += component
        }
        return text.isEmpty ? "(document)" : text
    }

    public var description: String { "corrupt case snapshot at \(pathText): \(problem)" }

    /// The same error one level further out (errors gain their path while unwinding,
    /// so reading a good snapshot builds no path strings).
    func inside(_ component: String) -> CaseSnapshotFormatError {
        CaseSnapshotFormatError(path: [component] + path, problem: problem)
    }
}

/// Reads what `CaseSnapshotWriter` writes, and what JSONEncoder wrote before
/// it: the strict JSON parser (`JSONValue.parse`), then each stored type built
/// directly from its object. Optionals may be absent or `null`; unknown keys
/// are ignored (as JSONDecoder does), and so is a party's `ssn` (SSNs come only
/// from the sealed column). Anything else that does not fit is an error naming
/// the field: a corrupt row fails loudly instead of becoming a different case.
public enum CaseSnapshotReader {
    public static func decode(_ bytes: [UInt8]) throws(CaseSnapshotFormatError) -> CaseState {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw CaseSnapshotFormatError(problem: error.description)
        }
        return try catching { try caseState(document) }
    }

    /// The reading functions throw only `CaseSnapshotFormatError`; untyped
    /// throws inside keep the many small closures simple.
    private static func catching<T>(_ body: () throws -> T) throws(CaseSnapshotFormatError) -> T {
        do {
            return try body()
        } catch let error as CaseSnapshotFormatError {
            throw error
        } catch {
            throw CaseSnapshotFormatError(problem: "\(type(of: error))")
        }
    }

    // MARK: The stored types

    static func caseState(_ value: JSONValue) throws -> CaseState {
        let o = try SnapshotObject(value)
        var state = CaseState(
            caseId: try o.required("caseId", Read.string), program: try o.required("program", Read.code),
            applicationReceivedOn: try o.required("applicationReceivedOn", Read.date),
            openedOn: try o.required("openedOn", Read.date),
            custodialParty: try o.required("custodialParty", party),
            noncustodialParty: try o.required("noncustodialParty", party),
            children: try o.required("children") { try Read.array($0, child) },
            ledger: try o.required("ledger", ledger))
        state.orders = try o.required("orders") { try Read.array($0, order) }
        state.employments = try o.required("employments") { try Read.array($0, employment) }
        state.endedEmployments = try o.required("endedEmployments") { try Read.array($0, endedEmployment) }
        state.referrals = try o.required("referrals") { try Read.array($0, referral) }
        state.hearings = try o.required("hearings") { try Read.array($0, hearing) }
        state.serviceOfProcess = try o.required("serviceOfProcess") { try Read.array($0, serviceAttempt) }
        state.locateRequestedOn = try o.optional("locateRequestedOn", Read.date)
        state.establishmentPreparationRequestedOn = try o.optional("establishmentPreparationRequestedOn", Read.date)
        state.contempt = try o.optional("contempt", contempt)
        state.pendingClosure = try o.optional("pendingClosure", closureReview)
        state.closedOn = try o.optional("closedOn", Read.date)
        state.referralsEvaluatedThrough = try o.optional("referralsEvaluatedThrough", Read.date)
        state.appliedEventIds = try o.required("appliedEventIds") { try Read.array($0, Read.uuid) }
        return state
    }

    static func party(_ value: JSONValue) throws -> PartyRecord {
        let o = try SnapshotObject(value)
        return PartyRecord(
            partyId: try o.required("partyId", Read.string), firstName: try o.required("firstName", Read.string),
            lastName: try o.required("lastName", Read.string), dateOfBirth: try o.optional("dateOfBirth", Read.date),
            ssn: nil, address: try o.optional("address", address),
            addressUsable: try o.required("addressUsable", Read.bool), deceasedOn: try o.optional("deceasedOn", Read.date))
    }

    static func address(_ value: JSONValue) throws -> Address {
        let o = try SnapshotObject(value)
        return Address(
            line1: try o.required("line1", Read.string), city: try o.required("city", Read.string),
            state: try o.required("state", Read.usState), postalCode: try o.required("postalCode", Read.string))
    }

    static func child(_ value: JSONValue) throws -> ChildRecord {
        let o = try SnapshotObject(value)
        return ChildRecord(
            childId: try o.required("childId", Read.string), firstName: try o.required("firstName", Read.string),
            lastName: try o.required("lastName", Read.string), dateOfBirth: try o.required("dateOfBirth", Read.date),
            paternity: try o.required("paternity", paternity),
            geneticTestingRequestedOn: try o.optional("geneticTestingRequestedOn", Read.date))
    }

    static func paternity(_ value: JSONValue) throws -> PaternityStatus {
        let o = try SnapshotObject(value)
        switch try o.required("status", Read.string) {
        case "OPEN": return .open
        case "EXCLUDED": return .excluded
        case "ESTABLISHED": return .established(try o.optional("method", Read.code))
        default: throw CaseSnapshotFormatError(path: ["status"], problem: "not a paternity status")
        }
    }

    static func order(_ value: JSONValue) throws -> SupportOrder {
        let o = try SnapshotObject(value)
        var order = SupportOrder(terms: OrderTerms(
            orderId: try o.required("orderId", Read.string), docketNumber: try o.required("docketNumber", Read.string),
            monthlySupportCents: try o.required("monthlySupportCents", Read.cents),
            monthlyArrearsPaymentCents: try o.optional("monthlyArrearsPaymentCents", Read.cents),
            medicalSupportOrdered: try o.required("medicalSupportOrdered", Read.bool),
            effectiveOn: try o.required("effectiveOn", Read.date)))
        order.status = try o.required("status", Read.code)
        order.terminatedOn = try o.optional("terminatedOn", Read.date)
        order.terminationReason = try o.optional("terminationReason", Read.code)
        return order
    }

    static func employment(_ value: JSONValue) throws -> Employment {
        let o = try SnapshotObject(value)
        var employment = Employment(
            fein: try o.required("fein", Read.fein), name: try o.optional("name", Read.string),
            address: try o.optional("address", address), since: try o.required("since", Read.date))
        employment.withholding = try o.required("withholding", Read.code)
        employment.withholdingOrderId = try o.optional("withholdingOrderId", Read.string)
        employment.medicalSupportNoticeIssued = try o.required("medicalSupportNoticeIssued", Read.bool)
        employment.medicalCoverage = try o.optional("medicalCoverage", Read.code)
        employment.lastReportedQuarter = try o.optional("lastReportedQuarter", Read.quarter)
        employment.lastReportedWagesCents = try o.optional("lastReportedWagesCents", Read.cents)
        return employment
    }

    static func endedEmployment(_ value: JSONValue) throws -> EndedEmployment {
        let o = try SnapshotObject(value)
        return EndedEmployment(
            fein: try o.required("fein", Read.fein), endedOn: try o.required("endedOn", Read.date),
            reason: try o.required("reason", Read.string))
    }

    static func ledger(_ value: JSONValue) throws -> Ledger {
        let o = try SnapshotObject(value)
        return Ledger(
            obligations: try o.required("obligations") { try Read.array($0, obligation) },
            payments: try o.required("payments") { try Read.array($0, payment) },
            assignedToState: try o.required("assignedToState", Read.bool))
    }

    static func obligation(_ value: JSONValue) throws -> Obligation {
        let o = try SnapshotObject(value)
        let terms = try o.required("terms") { try Read.array($0, supportTerm) }
        guard let obligation = Obligation(
            orderId: try o.required("orderId", Read.string), terms: terms,
            terminatedOn: try o.optional("terminatedOn", Read.date),
            judgmentArrearsCents: try o.required("judgmentArrearsCents", Read.cents))
        else {
            throw CaseSnapshotFormatError(path: ["terms"], problem: "empty, or effective dates not strictly increasing")
        }
        return obligation
    }

    static func supportTerm(_ value: JSONValue) throws -> SupportTerm {
        let o = try SnapshotObject(value)
        return SupportTerm(
            effectiveOn: try o.required("effectiveOn", Read.date),
            monthlySupportCents: try o.required("monthlySupportCents", Read.cents),
            monthlyArrearsPaymentCents: try o.required("monthlyArrearsPaymentCents", Read.cents))
    }

    static func payment(_ value: JSONValue) throws -> Payment {
        let o = try SnapshotObject(value)
        return Payment(
            id: try o.required("id", Read.string), amountCents: try o.required("amountCents", Read.cents),
            receivedOn: try o.required("receivedOn", Read.date),
            arrearsAssignedToState: try o.required("arrearsAssignedToState", Read.bool))
    }

    static func referral(_ value: JSONValue) throws -> ActiveReferral {
        let o = try SnapshotObject(value)
        return ActiveReferral(
            type: try o.required("type", Read.code), issuedOn: try o.required("issuedOn", Read.date),
            arrearsCents: try o.required("arrearsCents", Read.cents), taskId: try o.required("taskId", Read.uuid))
    }

    static func hearing(_ value: JSONValue) throws -> Hearing {
        let o = try SnapshotObject(value)
        return Hearing(
            hearingId: try o.required("hearingId", Read.string), type: try o.required("type", Read.code),
            scheduledFor: try o.required("scheduledFor", Read.referenceDateTime),
            courtName: try o.required("courtName", Read.string),
            preparationDueBy: try o.required("preparationDueBy", Read.date))
    }

    static func serviceAttempt(_ value: JSONValue) throws -> ServiceAttempt {
        let o = try SnapshotObject(value)
        return ServiceAttempt(
            partyId: try o.required("partyId", Read.string), outcome: try o.required("outcome", Read.code),
            attemptedOn: try o.required("attemptedOn", Read.date))
    }

    static func contempt(_ value: JSONValue) throws -> ContemptRecord {
        let o = try SnapshotObject(value)
        return ContemptRecord(
            purgeAmountCents: try o.required("purgeAmountCents", Read.cents),
            complianceDueOn: try o.required("complianceDueOn", Read.date), foundOn: try o.required("foundOn", Read.date))
    }

    static func closureReview(_ value: JSONValue) throws -> ClosureReview {
        let o = try SnapshotObject(value)
        return ClosureReview(
            reason: try o.required("reason", Read.code), detail: try o.optional("detail", Read.string),
            requestedOn: try o.required("requestedOn", Read.date),
            earliestClosureOn: try o.required("earliestClosureOn", Read.date))
    }
}

/// One JSON object of the snapshot; a field's errors come out with its key in the path.
private struct SnapshotObject {
    let fields: [String: JSONValue]

    init(_ value: JSONValue) throws {
        guard case .object(let fields) = value else { throw Read.mismatch("an object", value) }
        self.fields = fields
    }

    func required<T>(_ key: String, _ read: (JSONValue) throws -> T) throws -> T {
        guard let value = fields[key], value != .null else {
            throw CaseSnapshotFormatError(path: [key], problem: "missing")
        }
        return try Read.within(key) { try read(value) }
    }

    /// Absent and `null` both mean nil: JSONEncoder leaves nil out, other writers may not.
    func optional<T>(_ key: String, _ read: (JSONValue) throws -> T) throws -> T? {
        guard let value = fields[key], value != .null else { return nil }
        return try Read.within(key) { try read(value) }
    }
}

/// Scalars in their stored representation.
private enum Read {
    static func within<T>(_ component: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as CaseSnapshotFormatError {
            throw error.inside(component)
        }
    }

    static func mismatch(_ expected: String, _ found: JSONValue) -> CaseSnapshotFormatError {
        CaseSnapshotFormatError(problem: "expected \(expected), found \(found.typeName)")
    }

    static func array<T>(_ value: JSONValue, _ element: (JSONValue) throws -> T) throws -> [T] {
        guard case .array(let values) = value else { throw mismatch("an array", value) }
        var result: [T] = []
        result.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            result.append(try within("[\(index)]") { try element(value) })
        }
        return result
    }

    static func string(_ value: JSONValue) throws -> String {
        guard case .string(let text) = value else { throw mismatch("a string", value) }
        return text
    }

    static func bool(_ value: JSONValue) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch("a boolean", value) }
        return flag
    }

    /// Integer cents only: a fraction or an out-of-range number is corruption, not money.
    static func cents(_ value: JSONValue) throws -> Cents {
        guard case .int(let cents) = value else { throw mismatch("integer cents", value) }
        return cents
    }

    static func code<Code: RawRepresentable<String>>(_ value: JSONValue) throws -> Code {
        guard let code = Code(rawValue: try string(value)) else {
            throw CaseSnapshotFormatError(problem: "not a known \(Code.self) value")
        }
        return code
    }

    static func date(_ value: JSONValue) throws -> LocalDate {
        guard let date = LocalDate(iso8601: try string(value)) else {
            throw CaseSnapshotFormatError(problem: "not a YYYY-MM-DD date")
        }
        return date
    }

    static func uuid(_ value: JSONValue) throws -> UUID {
        guard let uuid = UUID(uuidString: try string(value)) else { throw CaseSnapshotFormatError(problem: "not a UUID") }
        return uuid
    }

    static func fein(_ value: JSONValue) throws -> FEIN {
        guard let fein = FEIN(try string(value)) else { throw CaseSnapshotFormatError(problem: "not a FEIN") }
        return fein
    }

    static func quarter(_ value: JSONValue) throws -> Quarter {
        guard let quarter = Quarter(try string(value)) else { throw CaseSnapshotFormatError(problem: "not a YYYYQn quarter") }
        return quarter
    }

    static func usState(_ value: JSONValue) throws -> USState {
        guard let state = USState(try string(value)) else { throw CaseSnapshotFormatError(problem: "not a USPS state code") }
        return state
    }

    /// Seconds since 2001-01-01 (JSONEncoder's default for `Date`); whole seconds may come as an integer.
    static func referenceDateTime(_ value: JSONValue) throws -> Date {
        switch value {
        case .double(let seconds): return Date(timeIntervalSinceReferenceDate: seconds)
        case .int(let seconds): return Date(timeIntervalSinceReferenceDate: Double(seconds))
        default: throw mismatch("a number of seconds", value)
        }
    }
}
