import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import TestSupport
import Testing

/// `agritrace fetch` (the built binary) against a real ledger store whose blocks this test
/// cuts (standing in for `agritrace serve`) and whose owner's transfer service it runs:
/// a verified fetch, then a tampered blob that fails loudly, naming the record, with the
/// mismatch recorded on the ledger.
@Suite("agritrace fetch (built binary)", .serialized, .timeLimit(.minutes(2)))
struct FetchCLITests {
    func runFetch(_ d: TransferDeployment, _ arguments: [String], serve: Bool = true) throws -> (
        status: Int32, output: String
    ) { try d.runCLI(arguments, serve: serve) }

    /// Expects a run of the CLI to fail, saying `reason`.
    func expectFailure(
        _ result: (status: Int32, output: String), saying reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(result.output.contains(reason), "\(result.output)", sourceLocation: sourceLocation)
    }

    @Test(
        "fetch verifies the lot's level-2 values; a tampered blob fails naming the record; a revoked grant is refused")
    func fetchVerifiesThenFailsLoudly() async throws {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        let common =
            try d.fetchCommand(row, token: token) + [
                "--store", d.storePath, "--timeout", "30", "--wait", "30", "--state", d.directory.file("state"),
            ]

        let out = d.directory.file("values.json")
        let good = try runFetch(d, common + ["--purpose", "intake check", "--out", out])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("verified: every value of \(d.classified.count) records"), "\(good.output)")
        let written = try String(contentsOfFile: out, encoding: .utf8)
        for item in d.classified {
            for entry in try #require(item.level2).entries where entry.key == "planting.weeding_records" {
                #expect(written.contains(entry.value.display))
            }
            for entry in try #require(item.level1).entries where entry.key == "planting.personnel" {
                #expect(!written.contains(entry.value.display), "a level-1 value was transferred under a level-2 grant")
            }
        }

        let blob = try #require(try d.queries.blobs(lot: TransferDeployment.lot, level: .level2).last)
        let path = d.blobStore.path(of: blob.blobID)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        bytes[0] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let bad = try runFetch(d, common)
        #expect(bad.status == 1, "\(bad.output)")
        #expect(bad.output.contains("VERIFICATION FAILED"), "\(bad.output)")
        #expect(bad.output.contains("record \(blob.recordID)"), "\(bad.output)")
        try d.ledger.admitSubmissions()
        try d.cut()
        let reads = try d.queries.provenance(lot: TransferDeployment.lot).filter { $0.kind == .read }
        #expect(reads.map(\.status) == [.verified, .mismatch])

        // The owner revokes the grant: the next fetch's redemption is refused, and says why.
        try d.submit(TransferDeployment.owner, .revokeGrant(requestID: row.requestID, reason: "contract ended"))
        try d.cut()
        let revoked = try runFetch(d, common)
        expectFailure(revoked, saying: "redemption refused: revoked")
    }

    @Test("fetch through the API: records are accepted only under a tree head signed by the given authority")
    func fetchThroughTheAPI() async throws {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        let port = try freeLoopbackPort()
        // The API in its own process (`agritrace api`), reading the store this test writes.
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            ["api", "--store", d.storePath, "--http-port", "\(port)", "--insecure-http"],
            logFile: d.directory.file("api.log"))
        defer { server.terminate() }
        let common =
            try d.fetchCommand(row, token: token) + [
                "--api", "http://127.0.0.1:\(port)", "--insecure-http", "--timeout", "30", "--wait", "30", "--state",
                d.directory.file("state"),
            ]
        var good = try runFetch(d, common + ["--authority", Array(d.authority.publicKey.rawRepresentation).hexString])
        for _ in 0..<50 where good.output.contains("cannot connect") {
            try await Task.sleep(for: .milliseconds(200))  // the server task is still starting
            good = try runFetch(d, common + ["--authority", Array(d.authority.publicKey.rawRepresentation).hexString])
        }
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("verified: every value of \(d.classified.count) records"), "\(good.output)")
        // The same API with another authority key: the records' tree heads do not verify.
        let forged = try runFetch(
            d, common + ["--authority", Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation).hexString])
        expectFailure(forged, saying: "inclusion proof")

        // Where the data went and the owner's grants, through the same API: what the store says.
        try d.ledger.admitSubmissions()
        try d.cut()
        let expected = try d.queries.provenance(lot: TransferDeployment.lot)
        #expect(Set(expected.map(\.kind)).isSuperset(of: [.redeem, .transfer, .read]), "\(expected)")
        let api = ["--api", "http://127.0.0.1:\(port)", "--insecure-http", "--json"]
        let provenance = try d.runCLI(["provenance", TransferDeployment.lot] + api, serve: false)
        #expect(provenance.status == 0, "\(provenance.output)")
        #expect(try JSONDecoder().decode([ProvenanceRow].self, from: Data(provenance.output.utf8)) == expected)
        let grants = try d.runCLI(["grants", "list", "--as", TransferDeployment.owner] + api, serve: false)
        #expect(grants.status == 0, "\(grants.output)")
        let expectedGrants = try d.queries.grants(owner: TransferDeployment.owner)
        #expect(expectedGrants.map(\.requestID) == [row.requestID])
        #expect(try JSONDecoder().decode([GrantRow].self, from: Data(grants.output.utf8)) == expectedGrants)
        // A command that works on the store file itself says so rather than reading a local store.
        let verify = try d.runCLI(["verify"] + api, serve: false)
        expectFailure(verify, saying: "`agritrace verify` reads the store file itself")
    }

    @Test("an interrupted fetch keeps its one-time key (0600) and a re-run resumes the same redemption")
    func interruptedFetchResumes() async throws {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        let stateFolder = d.directory.file("state")
        let common =
            try d.fetchCommand(row, token: token) + ["--store", d.storePath, "--wait", "30", "--state", stateFolder]
        // The owner's service is away: the fetch gives up, keeping its key and redemption leaf.
        let first = try runFetch(d, common + ["--timeout", "2"], serve: false)
        expectFailure(first, saying: "run fetch again to resume redemption leaf")
        let stateFile = stateFolder + "/" + row.requestID + ".json"
        let attributes = try FileManager.default.attributesOfItem(atPath: stateFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        struct Saved: Decodable {
            var key: String
            var redeemLeaf: UInt64?
        }
        let saved = try JSONDecoder().decode(Saved.self, from: try Data(contentsOf: URL(fileURLWithPath: stateFile)))
        let leaf = try #require(saved.redeemLeaf)
        let redemption = try #require(try d.queries.redemption(leaf: leaf))
        let savedKey = try Curve25519.KeyAgreement.PrivateKey(
            rawRepresentation: try #require([UInt8](hexString: saved.key)))
        #expect(redemption.requesterKey == Array(savedKey.publicKey.rawRepresentation))

        // The re-run resumes that redemption (no second one), is answered, verifies, and
        // removes the key.
        let second = try runFetch(d, common + ["--timeout", "30"])
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("resuming redemption leaf \(leaf)"), "\(second.output)")
        #expect(second.output.contains("verified: every value of \(d.classified.count) records"), "\(second.output)")
        #expect(!FileManager.default.fileExists(atPath: stateFile))
        try d.ledger.admitSubmissions()
        try d.cut()
        let provenance = try d.queries.provenance(lot: TransferDeployment.lot)
        #expect(provenance.filter { $0.kind == .redeem }.count == 1)
        #expect(provenance.filter { $0.kind == .transfer }.count == 1)
    }
}
