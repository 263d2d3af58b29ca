import AgriTraceCore
import SQLiteStorage
import TestSupport
import Testing

@testable import Ledger

/// Migration 6 (the access gateway's observed address) on a store made by the previous build.
@Suite struct ObservedAddressMigrationTests {
    @Test func aStoreFromBeforeTheGatewayOpensMigratedAndKeepsItsRows() throws {
        let directory = try TemporaryDirectory(prefix: "migration-6")
        let path = directory.file("old.sqlite")
        do {
            // The store as the build before migration 6 left it, with a queued submission.
            let old = try SQLiteConnection(path: path)
            #expect(try old.migrate(Array(LedgerSchema.migrations.prefix(5))) == 5)
            try old.prepare("INSERT INTO submissions(body, submitted_at, kind) VALUES (?, ?, ?)").run([
                .blob([1, 2, 3]), .integer(1), .integer(SubmissionKind.access.rawValue),
            ])
        }
        let store = try LedgerStore(path: path)
        func columns(_ table: String) throws -> [String] {
            try store.db.prepare("SELECT name FROM pragma_table_info(?)").all([.text(table)]) { $0.string(at: 0) ?? "" }
        }
        #expect(try columns("submissions").contains("observed_address"))
        #expect(try columns("access_requests").contains("observed_address"))
        let kept = try store.db.prepare("SELECT body, observed_address FROM submissions WHERE id = 1").first([]) {
            ($0.bytes(at: 0) ?? [], $0.isNull(at: 1))
        }
        #expect(kept?.0 == [1, 2, 3] && kept?.1 == true)
        // The gateway queues with the address it observed.
        let id = try store.submit(bytes: [4], kind: .access, observedAddress: "192.0.2.1")
        let address = try store.db.prepare("SELECT observed_address FROM submissions WHERE id = ?").first([
            .integer(id)
        ]) { $0.string(at: 0) }
        #expect(address == "192.0.2.1")
    }
}
