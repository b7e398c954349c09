import CaseDomain
import Foundation

/// How a `CaseState` is stored: `cases.state` is its JSON (JSONEncoder) with
/// both parties' SSNs removed, so SQL readers can query it and no SSN is in
/// clear; `cases.sealed_ssns` holds the SSNs AES-GCM sealed with the case id
/// as authenticated context. The party records are the only place CaseState
/// keeps SSNs, so clearing those two fields clears them all.
struct CaseSnapshotCodec {
    let protector: SSNProtector?
    // One of each per codec: creating them costs more than encoding a state.
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    struct Encoded {
        var json: [UInt8]
        var sealedSSNs: [UInt8]?
    }

    /// `protector` nil: read-only use that never needs the SSNs (the read model).
    init(protector: SSNProtector?) {
        self.protector = protector
    }

    func encode(_ state: CaseState) throws -> Encoded {
        var stripped = state
        stripped.custodialParty.ssn = nil
        stripped.noncustodialParty.ssn = nil
        let json = try encoder.encode(stripped)
        let custodial = state.custodialParty.ssn?.digits ?? ""
        let noncustodial = state.noncustodialParty.ssn?.digits ?? ""
        guard !custodial.isEmpty || !noncustodial.isEmpty else { return Encoded(json: Array(json), sealedSSNs: nil) }
        guard let protector else { throw SealError(context: "case \(state.caseId) (no CSE_SSN_KEY)") }
        // "custodial|noncustodial", either side possibly empty.
        let sealed = try protector.seal(Array("\(custodial)|\(noncustodial)".utf8), context: Self.context(state.caseId))
        return Encoded(json: Array(json), sealedSSNs: sealed)
    }

    /// Without a protector the SSNs stay nil.
    func decode(caseId: String, json: [UInt8], sealedSSNs: [UInt8]?) throws -> CaseState {
        var state = try decoder.decode(CaseState.self, from: Data(json))
        guard let sealedSSNs, let protector else { return state }
        let plain = try protector.open(sealedSSNs, context: Self.context(caseId))
        let parts = plain.split(separator: UInt8(ascii: "|"), omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw SealError(context: Self.context(caseId)) }
        state.custodialParty.ssn = SSN(String(decoding: parts[0], as: UTF8.self))
        state.noncustodialParty.ssn = SSN(String(decoding: parts[1], as: UTF8.self))
        return state
    }

    static func context(_ caseId: String) -> String { "case-ssns:\(caseId)" }
}
