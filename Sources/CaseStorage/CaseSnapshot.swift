import CaseDomain
import Foundation

/// How a `CaseState` is stored: `cases.state` is its JSON without SSNs
/// (`CaseSnapshotWriter`, the same format the Codable conformances give), so
/// SQL readers can query it and no SSN is in clear; `cases.sealed_ssns` holds
/// the SSNs AES-GCM sealed with the case id as authenticated context. The party
/// records are the only place CaseState keeps SSNs, and the writer never writes
/// theirs.
struct CaseSnapshotCodec {
    let protector: SSNProtector?

    struct Encoded {
        var json: [UInt8]
        var sealedSSNs: [UInt8]?
    }

    /// `protector` nil: read-only use that never needs the SSNs (the read model).
    init(protector: SSNProtector?) {
        self.protector = protector
    }

    func encode(_ state: CaseState) throws -> Encoded {
        let json = try CaseSnapshotWriter.encode(state)
        let custodial = state.custodialParty.ssn?.digits ?? ""
        let noncustodial = state.noncustodialParty.ssn?.digits ?? ""
        guard !custodial.isEmpty || !noncustodial.isEmpty else { return Encoded(json: json, sealedSSNs: nil) }
        guard let protector else { throw SealError(context: "case \(state.caseId) (no CSE_SSN_KEY)") }
        // "custodial|noncustodial", either side possibly empty.
        let sealed = try protector.seal(Array("\(custodial)|\(noncustodial)".utf8), context: Self.context(state.caseId))
        return Encoded(json: json, sealedSSNs: sealed)
    }

    /// Without a protector the SSNs stay nil. A snapshot of another case than
    /// its row's is as corrupt as unreadable JSON.
    func decode(caseId: String, json: [UInt8], sealedSSNs: [UInt8]?) throws -> CaseState {
        var state = try CaseSnapshotReader.decode(json)
        guard state.caseId == caseId else {
            throw CaseSnapshotFormatError(path: ["caseId"], problem: "not the case id of its row (\(caseId))")
        }
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
