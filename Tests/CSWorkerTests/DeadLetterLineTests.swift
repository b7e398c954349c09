import CasePipeline
import Foundation
import Testing

@testable import CaseStorage
@testable import csworker

/// `deadletters list`'s text: a refused event chose its reason text; no control sequence reaches the terminal.
@Suite struct DeadLetterLineTests {
    @Test func theTableDropsControlSequences() {
        let record = DeadLetterRecord(
            id: 1, messageId: UUID(), createdAt: Date(timeIntervalSince1970: 1_800_000_000), publishedAt: nil, replayedAt: nil,
            headers: [
                OutboxHeader(name: DeadLetter.Header.errorClass, value: "malformed"),
                OutboxHeader(name: DeadLetter.Header.reason, value: "bad field \u{1B}]0;pwned\u{07}name\u{1B}[2K\r"),
            ])
        let table = DeadLetterLine.table([record])
        #expect(table.hasSuffix("malformed: bad field name"), "\(table.debugDescription)")
        #expect(!table.unicodeScalars.contains { $0.value < 0x20 })
    }
}
