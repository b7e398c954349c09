import CaseDomain

/// The input topics. Raw values are the Kafka topic names.
public enum EventTopic: String, CaseIterable, Sendable, Hashable {
    case intake = "cse.intake.v1"
    case employerReports = "cse.employer-reports.v1"
    case courtOutcomes = "cse.court-outcomes.v1"
    case collections = "cse.collections.v1"
    case dataMatches = "cse.data-matches.v1"

    public var eventTypes: [EventType] { EventType.allCases.filter { $0.topic == self } }
}

extension EventType {
    /// The topic events of this type arrive on.
    public var topic: EventTopic {
        switch self {
        case .intakeApplication, .intakePartyUpdate, .intakeClosureRequest, .intakeReviewRequested, .intakeClosureResponse,
            .intakeRemedyContested, .intakeContestDecided, .intakePaymentAgreement:
            .intake
        case .employerNewHire, .employerTermination, .employerQuarterlyWage, .employerWithholdingRemittance,
            .employerIWOResponse:
            .employerReports
        case .courtOrderEstablished, .courtOrderModified, .courtOrderTerminated, .courtPaternityEstablished,
            .courtPaternityExcluded, .courtHearingScheduled, .courtServiceCompleted, .courtServiceFailed,
            .courtContemptFinding:
            .courtOutcomes
        case .collectionReceived, .collectionReversed, .accountAdjusted, .disbursementReturned:
            .collections
        case .matchUnemploymentClaim, .matchFinancialAccount:
            .dataMatches
        }
    }
}

extension TaskType {
    /// `cse.tasks.<type>.v1`
    public var topic: String { "cse.tasks.\(rawValue).v1" }
}

/// Dead letters: every refused input message, with its reason in the headers.
public enum DeadLetterTopic {
    public static let name = "cse.deadletter.v1"
}
