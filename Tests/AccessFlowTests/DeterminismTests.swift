import AccessFlow
import AgriTraceCore
import Ledger
import SQLiteStorage
import Testing

/// What the consortium nodes rely on: the same log applied in two fresh stores gives the same
/// world-state bytes, equal to the state the ledger stored while it wrote the log.
@Suite struct DeterminismTests {
    @Test func theSameLogAppliedInTwoFreshStoresGivesIdenticalStateBytes() throws {
        let d = try Deployment()
        // A state touching every access table: grants, an entry, granted and denied requests,
        // strikes, a manual strike and a match result.
        let granted = try d.enrollRequester(Deployment.requesterGrant)
        try d.protect()
        #expect(try d.requestAndMatch(granted).status == .granted)
        #expect(try d.request(granted, action: .write).status == .denied)
        try d.submit(Deployment.regulator, .addToBlacklist(source: "10.9.9.9", reason: "by hand"))
        try d.cut()
        d.advance(minutes: 240)
        #expect(try d.request(granted, source: "10.0.0.8").status == .denied)

        var states: [[UInt8]] = []
        for node in ["node-a", "node-b"] {
            let db = try SQLiteConnection(path: d.directory.file("\(node).sqlite"))
            let rebuilt = try StateReplay.rebuild(from: d.ledger.store, authority: d.authority.publicKey, into: db)
            #expect(rebuilt.refusals.isEmpty && rebuilt.transactions > 10)
            states.append(try StateReplay.stateBytes(db))
        }
        #expect(states[0] == states[1])
        #expect(states[0] == (try StateReplay.stateBytes(d.ledger.store.db)))
        let rows = try d.queries.blacklist()
        #expect(
            rows.filter { $0.kind == "address" }.count == 3,
            "strikes on 10.0.0.7, 10.9.9.9 and 10.0.0.8 are in the state")
        #expect(rows.filter { $0.kind == "principal" }.map(\.subject) == [granted.grant.principal])
    }
}
