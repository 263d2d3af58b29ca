import AgriTraceCore
import Crypto
import Foundation
import Ledger
import LedgerAPI
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs `agritrace` and returns (exit status, standard output + standard error).
func runAgritrace(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try agritraceExecutable())
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("HTTP API and CLI", .serialized, .timeLimit(.minutes(2)))
struct APIAndCLITests {
    @Test func apiServesProofsThatVerifyOfflineAndTraces() async throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let port = Int(try freeLoopbackPort())
        let app = try LedgerAPI.application(storePath: fixture.path, host: "127.0.0.1", port: port)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        func get(_ path: String) async throws -> (Int, Data) {
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                do {
                    let (data, response) = try await URLSession.shared.data(
                        from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
                    return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
                } catch  where ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))  // the server is still starting
                }
            }
        }
        let (traceStatus, traceData) = try await get("/v1/trace/PL-1")
        #expect(traceStatus == 200)
        let rows = try JSONDecoder().decode([TraceRow].self, from: traceData)
        #expect(rows.count == 10)
        #expect(
            rows.allSatisfy {
                $0.lot == "PL-1" && $0.commitments["level-1"] != nil
                    && $0.publicFields["planting.variety"] == "sweet corn"
            })
        let (proofStatus, proofData) = try await get("/v1/proof/\(rows[3].recordID)")
        #expect(proofStatus == 200)
        let proof = try JSONDecoder().decode(SavedInclusionProof.self, from: proofData)
        let (record, header) = try proof.verify(authority: fixture.authority.publicKey)
        #expect(record.id.hex == rows[3].recordID)
        #expect(header.logSize == 31)
        let (headStatus, headData) = try await get("/v1/tree-head?tree-size=11")
        #expect(headStatus == 200)
        let head = try JSONDecoder().decode(SavedTreeHead.self, from: headData)
        #expect(try head.verified(authority: fixture.authority.publicKey).value.height == 2)
        #expect(try await get("/v1/proof/00000000000000000000000000000000").0 == 404)
        #expect(try await get("/v1/proof/not-hex").0 == 400)
        #expect(try await get("/v1/consistency?old=11&new=31").0 == 200)
        #expect(try await get("/v1/consistency?old=40").0 == 400)
        let status = try JSONDecoder().decode(LedgerStatus.self, from: try await get("/v1/status").1)
        #expect(status.records == 30)
    }

    @Test func cliVerifyNamesATamperedNodeAndVerifyProofRefusesAForgery() throws {
        let fixture = try populatedLedger(blocks: 3, perBlock: 10)
        let key = fixture.authority.publicKey.hex
        var result = try runAgritrace(["verify", "--store", fixture.path, "--authority", key, "--signatures"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("OK: 4 blocks, 31 leaves"))
        #expect(result.output.contains("OK: 3 device batch signatures verify over 30 of 30 records"))
        result = try runAgritrace(["replay", "--store", fixture.path])
        #expect(result.status == 0, "\(result.output)")

        let id = try LedgerQueries(store: fixture.ledger.store).trace(lot: "PL-2")[0].record.id.hex
        let proofFile = fixture.directory.file("proof.json")
        result = try runAgritrace(["proof", id, "--store", fixture.path, "--output", proofFile])
        #expect(result.status == 0, "\(result.output)")
        result = try runAgritrace(["verify-proof", proofFile, "--authority", key])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid: record \(id)"))
        var forged = try JSONDecoder().decode(
            SavedInclusionProof.self, from: Data(contentsOf: URL(fileURLWithPath: proofFile)))
        forged.proof.removeLast()
        try JSONEncoder().encode(forged).write(to: URL(fileURLWithPath: proofFile))
        result = try runAgritrace(["verify-proof", proofFile, "--authority", key])
        #expect(result.status != 0)
        #expect(result.output.contains("INVALID proof"))

        let update = try fixture.ledger.store.db.prepare("UPDATE log_nodes SET hash = ? WHERE key = ?")
        try update.bind(Digest32.zero.bytes, at: 1)
        try update.bind(LogNodePosition(level: 2, index: 3).storageKey, at: 2)
        try update.run()
        result = try runAgritrace(["verify", "--store", fixture.path, "--authority", key])
        #expect(result.status == 1)
        #expect(result.output.contains("FAILED: log node level 2 index 3"), "\(result.output)")
    }
}
