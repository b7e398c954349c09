/// Payloads of `cse.employer-reports.v1`.

/// `employer.new-hire`: employee names and employer name and address are all present.
public struct NewHire: Sendable, Hashable {
    public var employee: Employee
    public var employer: EmployerRef
    public var hireDate: LocalDate
    public var receivedOn: LocalDate

    public init(employee: Employee, employer: EmployerRef, hireDate: LocalDate, receivedOn: LocalDate) {
        self.employee = employee
        self.employer = employer
        self.hireDate = hireDate
        self.receivedOn = receivedOn
    }
}

/// `employer.termination`.
public struct Termination: Sendable, Hashable {
    public var employee: Employee
    public var employer: EmployerRef
    public var terminatedOn: LocalDate
    public var newEmployer: EmployerRef?

    public init(employee: Employee, employer: EmployerRef, terminatedOn: LocalDate, newEmployer: EmployerRef? = nil) {
        self.employee = employee
        self.employer = employer
        self.terminatedOn = terminatedOn
        self.newEmployer = newEmployer
    }
}

/// `employer.quarterly-wage`: the employer's name is present.
public struct QuarterlyWage: Sendable, Hashable {
    public var employee: Employee
    public var employer: EmployerRef
    public var quarter: Quarter
    public var wagesCents: Cents

    public init(employee: Employee, employer: EmployerRef, quarter: Quarter, wagesCents: Cents) {
        self.employee = employee
        self.employer = employer
        self.quarter = quarter
        self.wagesCents = wagesCents
    }
}

/// One case's share of a withholding remittance.
public struct RemittancePayment: Sendable, Hashable {
    public var caseId: String
    public var amountCents: Cents

    public init(caseId: String, amountCents: Cents) {
        self.caseId = caseId
        self.amountCents = amountCents
    }
}

/// `employer.withholding-remittance`: amounts withheld on one payday, split by case.
public struct WithholdingRemittance: Sendable, Hashable {
    public var employer: EmployerRef
    public var payDate: LocalDate
    public var receivedOn: LocalDate
    /// At least one.
    public var payments: [RemittancePayment]

    public init(employer: EmployerRef, payDate: LocalDate, receivedOn: LocalDate, payments: [RemittancePayment]) {
        self.employer = employer
        self.payDate = payDate
        self.receivedOn = receivedOn
        self.payments = payments
    }
}

public enum IWOStatus: String, CaseIterable, Sendable, Hashable {
    case accepted = "ACCEPTED"
    case notEmployed = "NOT_EMPLOYED"
}

public enum MedicalCoverage: String, CaseIterable, Sendable, Hashable {
    case enrolled = "ENROLLED"
    case notAvailable = "NOT_AVAILABLE"
}

/// `employer.iwo-response`: the employer's answer to an income withholding order.
public struct IWOResponse: Sendable, Hashable {
    public var caseId: String
    public var employer: EmployerRef
    public var status: IWOStatus
    public var medicalCoverage: MedicalCoverage?

    public init(caseId: String, employer: EmployerRef, status: IWOStatus, medicalCoverage: MedicalCoverage? = nil) {
        self.caseId = caseId
        self.employer = employer
        self.status = status
        self.medicalCoverage = medicalCoverage
    }
}
