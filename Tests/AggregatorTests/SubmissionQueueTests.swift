import AgriTraceCore
import Crypto
import Ledger
import SQLiteStorage
import Testing

/// The submission queue keeps each body's kind: `serve` decodes a body once, as that kind.
@Suite struct SubmissionQueueTests {
    @Test func aQueuedTransactionIsDecodedAsTheKindItWasQueuedAs() throws {
        let fixture = try LedgerFixture()
        let second = TestDevice(device: "box-2")
        let registration = second.registration(authority: fixture.authority)
        let typed = try fixture.ledger.store.submit(registration)
        // The same registry bytes queued as an access transaction: decoded as what the queue
        // says, refused, never tried as another kind.
        let mislabelled = try fixture.ledger.store.submit(bytes: Canonical.encode(registration), kind: .access)
        #expect(try fixture.ledger.admitSubmissions() == 1)
        try fixture.ledger.cutBlock()
        #expect(try fixture.ledger.store.submissionStatus(typed).status == .applied)
        let refused = try fixture.ledger.store.submissionStatus(mislabelled)
        #expect(refused.status == .refused)
        #expect(refused.reason?.isEmpty == false)
        let kinds = try fixture.ledger.store.db.prepare("SELECT kind FROM submissions ORDER BY id")
        var stored: [Int64] = []
        while try kinds.step() { stored.append(kinds.int64(at: 0)) }
        #expect(stored == [SubmissionKind.registry.rawValue, SubmissionKind.access.rawValue])
    }

    @Test func aBodyQueuedBeforeKindsWereRecordedIsStillAdmitted() throws {
        let fixture = try LedgerFixture()
        let second = TestDevice(device: "box-2")
        // A row as a store from before migration 5 holds it: no kind.
        try fixture.ledger.store.db.prepare("INSERT INTO submissions(body, submitted_at) VALUES (?, ?)").run([
            .blob(Canonical.encode(second.registration(authority: fixture.authority))), .integer(1),
        ])
        try fixture.ledger.store.db.prepare("INSERT INTO submissions(body, submitted_at) VALUES (?, ?)").run([
            .blob([1, 2, 3]), .integer(2),
        ])
        #expect(try fixture.ledger.admitSubmissions() == 1)
        try fixture.ledger.cutBlock()
        #expect(try fixture.ledger.store.submissionStatus(1).status == .applied)
        let garbage = try fixture.ledger.store.submissionStatus(2)
        #expect(garbage.status == .refused)
        #expect(garbage.reason?.contains("not a canonical signed registry, access or blob transaction") == true)
    }
}
