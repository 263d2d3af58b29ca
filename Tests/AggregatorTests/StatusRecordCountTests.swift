import Foundation
import Ingest
import LedgerAPI
import TestSupport
import Testing

/// `/v1/status` keeps a running count of the records (the ledger only grows; a full count of
/// 10M records takes seconds): the count must follow the ledger as blocks are added while the
/// API runs.
@Suite("Status record count", .serialized, .timeLimit(.minutes(2)))
struct StatusRecordCountTests {
    func records(_ origin: String) async throws -> Int? {
        let (status, _, body) = try await ConsoleRouteTests.send(origin + "/v1/status")
        #expect(status == 200, "\(body)")
        return (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["records"] as? Int
    }

    @Test func theCountFollowsNewBlocks() async throws {
        var fixture = try populatedLedger(blocks: 2, perBlock: 5)
        let port = Int(try freeLoopbackPort())
        let origin = "http://127.0.0.1:\(port)"
        let app = try LedgerAPI.application(storePath: fixture.path, host: "127.0.0.1", port: port)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        #expect(try await records(origin) == 10)
        #expect(try await records(origin) == 10, "counted twice")
        for block in 0..<3 {
            _ = fixture.ledger.admit(
                topic: fixture.device.recordTopic,
                payload: fixture.device.payload(fixture.device.records(7, lot: "NEW-\(block)")))
            try fixture.ledger.cutBlock()
            #expect(try await records(origin) == 10 + 7 * (block + 1))
        }
    }
}
