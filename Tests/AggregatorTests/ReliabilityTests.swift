import AgriTraceCore
import Foundation
import Ledger
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The aggregator's findings of issue #22: what a verifier must not take on trust, and the
/// API's list limits.
@Suite("Reliability: verifiers and API limits", .serialized, .timeLimit(.minutes(3)))
struct ReliabilityTests {
    /// `agritrace api` over plain HTTP on loopback for `fixture`; returns the base URL and the process.
    func serve(_ fixture: LedgerFixture) throws -> (String, BackgroundProcess) {
        let port = Int(try freeLoopbackPort())
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            ["api", "--store", fixture.path, "--http-port", "\(port)", "--insecure-http"],
            logFile: fixture.directory.file("api-\(port).log"))
        return ("http://127.0.0.1:\(port)", server)
    }

    /// Runs the CLI until the server answers (it may still be starting).
    func firstAnswer(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await HTTPSAPITests().firstAnswer(arguments)
    }

    /// GET `url`: status, body and the next-page cursor header.
    func get(_ url: String) async throws -> (status: Int, body: Data, cursor: String?) {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            do {
                let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
                let http = response as? HTTPURLResponse
                return (http?.statusCode ?? 0, data, http?.value(forHTTPHeaderField: "Next-Cursor"))
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Finding 2: a proof file whose unsigned `treeHead` fields were edited is refused, naming
    /// the field, though its signed header and path still verify.
    @Test func verifyProofRefusesEditedUnsignedTreeHeadFields() throws {
        let fixture = try populatedLedger(blocks: 2, perBlock: 5)
        let key = fixture.authority.publicKey.hex
        let id = try LedgerQueries(store: fixture.ledger.store).trace(lot: "PL-1")[0].record.id.hex
        let proofFile = fixture.directory.file("proof.json")
        var result = try runAgritrace(["proof", id, "--store", fixture.path, "--output", proofFile])
        #expect(result.status == 0, "\(result.output)")
        let genuine = try JSONDecoder().decode(
            SavedInclusionProof.self, from: Data(contentsOf: URL(fileURLWithPath: proofFile)))
        let edits: [(String, (inout SavedInclusionProof) -> Void)] = [
            ("treeHead.logSize", { $0.treeHead.logSize = 99 }),
            ("treeHead.logRoot", { $0.treeHead.logRoot = String(repeating: "ab", count: 32) }),
            ("treeHead.height", { $0.treeHead.height += 5 }),
            ("treeHead.time", { $0.treeHead.time = "2030-01-01T00:00:00Z" }),
        ]
        for (field, edit) in edits {
            var edited = genuine
            edit(&edited)
            try JSONEncoder().encode(edited).write(to: URL(fileURLWithPath: proofFile))
            result = try runAgritrace(["verify-proof", proofFile, "--authority", key])
            #expect(result.status != 0, "\(field) edited: \(result.output)")
            #expect(result.output.contains("INVALID proof") && result.output.contains(field), "\(result.output)")
            #expect(!result.output.contains("valid: record"))
        }
        try JSONEncoder().encode(genuine).write(to: URL(fileURLWithPath: proofFile))
        result = try runAgritrace(["verify-proof", proofFile, "--authority", key])
        #expect(result.status == 0 && result.output.contains("valid: record \(id)"), "\(result.output)")
    }

    /// Finding 1: `consistency --api` checks both roots against tree heads signed by the
    /// authority; a server answering another log's roots, with a proof that matches them, is refused.
    @Test func consistencyOverTheAPIChecksBothRootsAgainstSignedTreeHeads() async throws {
        let ours = try populatedLedger(blocks: 3, perBlock: 10)
        let theirs = try populatedLedger(blocks: 3, perBlock: 10)  // same sizes, other roots, other key
        let key = ours.authority.publicKey.hex
        let (liar, liarProcess) = try serve(theirs)
        defer { liarProcess.terminate() }
        var result = try await firstAnswer([
            "consistency", "11", "31", "--api", liar, "--insecure-http", "--authority", key,
        ])
        #expect(result.status != 0, "\(result.output)")
        #expect(result.output.contains("not signed by the authority"), "\(result.output)")
        #expect(!result.output.contains("is a prefix of"))
        // Without the authority key there is nothing to check the roots against: refused.
        result = try runAgritrace(["consistency", "11", "31", "--api", liar, "--insecure-http"])
        #expect(result.status != 0 && result.output.contains("--authority"), "\(result.output)")

        let (honest, honestProcess) = try serve(ours)
        defer { honestProcess.terminate() }
        result = try await firstAnswer([
            "consistency", "11", "31", "--api", honest, "--insecure-http", "--authority", key,
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(
            result.output.contains("is a prefix of") && result.output.contains("signed in block 2"), "\(result.output)")
        // A size with no signed tree head (not a block end) cannot be vouched for.
        result = try runAgritrace(["consistency", "12", "31", "--api", honest, "--insecure-http", "--authority", key])
        #expect(result.status != 0 && result.output.contains("12"), "\(result.output)")
    }

    /// Finding 6: `/v1/records` caps and validates `limit` (400 naming it) and pages with a cursor.
    @Test func recordListIsCappedValidatedAndPagedWithACursor() async throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let (base, server) = try serve(fixture)
        defer { server.terminate() }
        for bad in ["100000000", "-1", "0", "abc", "1001"] {
            let answer = try await get(base + "/v1/records?limit=\(bad)")
            #expect(answer.status == 400, "limit=\(bad): \(answer.status)")
            #expect(String(decoding: answer.body, as: UTF8.self).contains("limit"), "limit=\(bad)")
        }
        let badCursor = try await get(base + "/v1/records?limit=5&cursor=nonsense")
        #expect(badCursor.status == 400 && String(decoding: badCursor.body, as: UTF8.self).contains("cursor"))

        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let answer = try await get(base + "/v1/records?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(answer.status == 200)
            let rows = try JSONDecoder().decode([TraceRow].self, from: answer.body)
            #expect(rows.count <= 7)
            seen += rows.map(\.recordID)
            cursor = answer.cursor
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 5, "30 records in pages of 7 are 5 pages")
        #expect(seen.count == 30 && Set(seen).count == 30)
        let all = try JSONDecoder().decode([TraceRow].self, from: try await get(base + "/v1/records").body)
        #expect(all.map(\.recordID) == seen, "the pages are the whole list in order")

        // The CLI reads the capped, paged list.
        let result = try runAgritrace(["records", "--api", base, "--insecure-http", "--limit", "25", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let rows = try JSONDecoder().decode([TraceRow].self, from: Data(result.output.utf8))
        #expect(rows.map(\.recordID) == Array(seen.prefix(25)))
    }
}
