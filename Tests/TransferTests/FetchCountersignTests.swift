import AgriTraceCore
import Foundation
import Ledger
import TestSupport
import Testing

/// `agritrace fetch --countersign` (docs/governance.md, "Trades signed by both sides"): the
/// built CLI fetches, verifies every value, and countersigns what it received; the transfer is
/// then complete in the audit.
@Suite("fetch --countersign (built binary)", .serialized, .timeLimit(.minutes(3)))
struct FetchCountersignTests {
    @Test func fetchCountersignCompletesTheTransfer() async throws {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        let arguments =
            try d.fetchCommand(row, token: token) + [
                "--store", d.storePath, "--timeout", "30", "--wait", "30", "--state", d.directory.file("state"),
                "--countersign",
            ]
        let fetched = try d.runCLI(arguments, serve: true)
        #expect(fetched.status == 0, "\(fetched.output)")
        try d.ledger.admitSubmissions()
        try d.cut()
        let event = try #require(try d.queries.accessEvents(method: "countersignTransfer").first)
        #expect(event.outcome == .applied, "\(event.detail)")
        let completions = try d.queries.transferCompletions()
        #expect(completions.map(\.status) == [.complete])
        #expect(completions.first?.receiver == TransferDeployment.requesterGrant.principal)
        #expect(completions.first?.countersignatureLeaf == event.leafIndex)
    }
}
