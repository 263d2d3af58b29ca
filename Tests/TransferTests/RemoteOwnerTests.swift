import AccessFlow
import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ledger
import Synchronization
import TestSupport
import Testing

/// The owner's transfer service off the aggregator host (`agritrace transfer serve --api`):
/// the real `agritrace api` over HTTPS with mutual TLS on a real store, the service and the
/// requester's fetch as built binaries on "their own machines" (folders with no store).
@Suite("transfer serve --api (the owner's own machine)", .serialized, .timeLimit(.minutes(3)))
struct RemoteOwnerTests {
    /// The owner's machine: its principal key, X25519 key and token file, and no store.
    struct OwnerMachine {
        let folder: String
        let principalKey: String
        let ownerKey: String
        let tokens: String

        init(_ d: TransferDeployment) throws {
            folder = d.directory.file("owner-machine")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            principalKey = folder + "/owner.key"
            ownerKey = folder + "/owner-x25519.key"
            tokens = folder + "/owner-tokens.json"
            let principal = try #require(d.keys[TransferDeployment.owner])
            try writeSecretFile(Array(principal.rawRepresentation).hexString + "\n", to: principalKey)
            try writeSecretFile(Array(d.ownerKey.rawRepresentation).hexString + "\n", to: ownerKey)
            try JSONEncoder().encode(d.tokens.mapValues(\.hexString)).write(to: URL(fileURLWithPath: tokens))
        }
    }

    @Test(
        "grant → redeem → transfer serve --api answers from the owner's machine → fetch --api verifies; a wrong token and a revoked grant get no keys; the aggregator host never holds the owner key"
    )
    func remoteOwnerEndToEnd() async throws {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        let owner = try OwnerMachine(d)

        let certificates = try TestCertificates.generate(in: d.directory.path, clientCommonName: "firm-owner")
        let requesterCertificate = try certificates.issueClientCertificate(commonName: "firm-zhang")
        let port = try freeLoopbackPort()
        let server = try BackgroundProcess(
            try builtProduct(named: "agritrace"),
            [
                "api", "--store", d.storePath, "--http-port", "\(port)", "--api-cert",
                certificates.serverCertificateFile, "--api-key", certificates.serverKeyFile, "--api-client-ca",
                certificates.caFile,
            ],
            logFile: d.directory.file("api.log"))
        defer { server.terminate() }
        let api = "https://127.0.0.1:\(port)"
        let authority = Array(d.authority.publicKey.rawRepresentation).hexString
        let serveArguments = [
            "transfer", "serve", "--api", api, "--tls-ca", certificates.caFile, "--tls-cert",
            certificates.clientCertificateFile, "--tls-key", certificates.clientKeyFile, "--authority", authority,
            "--as", TransferDeployment.owner, "--key", owner.principalKey, "--owner-key", owner.ownerKey, "--tokens",
            owner.tokens, "--wait", "30",
        ]
        let ownerEnvironment = ["HOME": owner.folder, "XDG_STATE_HOME": owner.folder + "/state"]
        func serveOnce() throws -> (status: Int32, output: String) {
            try d.runCLI(serveArguments, serve: false, directory: owner.folder, environment: ownerEnvironment)
        }
        // The API is up once a single pass of the service (nothing to answer yet) succeeds.
        var probe = try serveOnce()
        for _ in 0..<75 where probe.status != 0 && probe.output.contains("cannot connect") {
            try await Task.sleep(for: .milliseconds(200))
            probe = try serveOnce()
        }
        #expect(probe.status == 0, "\(probe.output)")

        // The owner's service keeps running on its machine; the requester fetches remotely.
        let serviceLog = d.directory.file("owner-service.log")
        #expect(FileManager.default.createFile(atPath: serviceLog, contents: nil))
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: serviceLog))
        let service = Process()
        service.executableURL = URL(fileURLWithPath: try builtProduct(named: "agritrace"))
        service.arguments = serveArguments + ["--follow", "--interval", "0.1"]
        service.currentDirectoryURL = URL(fileURLWithPath: owner.folder)
        service.environment = ProcessInfo.processInfo.environment.merging(ownerEnvironment) { $1 }
        service.standardOutput = logHandle
        service.standardError = logHandle
        service.standardInput = FileHandle.nullDevice
        try service.run()
        defer {
            if service.isRunning {
                service.terminate()
                service.waitUntilExit()
            }
        }

        let requesterFolder = d.directory.file("requester-machine")
        try FileManager.default.createDirectory(atPath: requesterFolder, withIntermediateDirectories: true)
        let out = requesterFolder + "/values.json"
        let fetched = try d.runCLI(
            try d.fetchCommand(row, token: token, in: requesterFolder) + [
                "--api", api, "--tls-ca", certificates.caFile, "--tls-cert", requesterCertificate.certificateFile,
                "--tls-key",
                requesterCertificate.keyFile, "--authority", authority, "--timeout", "40", "--wait", "30", "--state",
                requesterFolder + "/state", "--out", out,
            ], serve: false, directory: requesterFolder)
        service.terminate()
        service.waitUntilExit()
        try logHandle.close()
        let serviceOutput = (try? String(contentsOfFile: serviceLog, encoding: .utf8)) ?? ""
        #expect(fetched.status == 0, "\(fetched.output)\n--- owner's service:\n\(serviceOutput)")
        #expect(
            fetched.output.contains("verified: every value of \(d.classified.count) records"),
            "\(fetched.output)")
        #expect(serviceOutput.contains("delivered \(d.classified.count) records"), "\(serviceOutput)")
        let written = try String(contentsOfFile: out, encoding: .utf8)
        for item in d.classified {
            for entry in try #require(item.level2).entries where entry.key == "planting.weeding_records" {
                #expect(written.contains(entry.value.display))
            }
        }
        // The owner's machine has no store (the service never opened one there).
        let ownerFiles = try FileManager.default.contentsOfDirectory(atPath: owner.folder)
        #expect(!ownerFiles.contains { $0.hasSuffix(".sqlite") || $0.contains("sqlite-") }, "\(ownerFiles)")
        let transfer = try #require(
            try d.queries.provenance(lot: TransferDeployment.lot).first { $0.kind == .transfer })
        #expect(transfer.status == .delivered)

        // A redemption with a wrong token: the owner refuses it, no keys are delivered.
        let (wrong, _) = try d.redeem(row.requestID, token: [UInt8](repeating: 7, count: 32))
        #expect(wrong.status == .accepted)
        let refused = try serveOnce()
        #expect(refused.status == 0, "\(refused.output)")
        #expect(refused.output.contains("refused 0 records"), "\(refused.output)")
        #expect(refused.output.contains("the token proof does not verify"), "\(refused.output)")
        #expect(try d.queries.transferKeys(redeemLeaf: wrong.leafIndex).isEmpty)
        #expect(try d.queries.transfer(redeemLeaf: wrong.leafIndex)?.status == .refused)

        // A redemption whose grant the owner revokes before its service answers: the API
        // refuses the keys, the transfer on the ledger is refused, nothing is delivered.
        let (late, _) = try d.redeem(row.requestID, token: try #require(token))
        #expect(late.status == .accepted)
        try d.submit(TransferDeployment.owner, .revokeGrant(requestID: row.requestID, reason: "contract ended"))
        try d.cut()
        let revoked = try serveOnce()
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(revoked.output.contains("is revoked"), "\(revoked.output)")
        #expect(try d.queries.transferKeys(redeemLeaf: late.leafIndex).isEmpty)
        #expect(try d.queries.transfer(redeemLeaf: late.leafIndex)?.status == .refused)

        // The aggregator host's files (store, its WAL, the blob folder) never hold the owner's
        // X25519 private key, raw or in hex.
        let secret = Array(d.ownerKey.rawRepresentation)
        let secretHex = Array(secret.hexString.utf8)
        var scanned = 0
        let storeFolder = (d.storePath as NSString).deletingLastPathComponent
        let storeName = (d.storePath as NSString).lastPathComponent
        let enumerator = try #require(FileManager.default.enumerator(atPath: storeFolder))
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasPrefix(storeName) else { continue }
            let path = storeFolder + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            let bytes = [UInt8](data)
            scanned += 1
            #expect(!Self.contains(bytes, secret), "\(relative) holds the owner's private key")
            #expect(!Self.contains(bytes, secretHex), "\(relative) holds the owner's private key in hex")
        }
        #expect(scanned >= 1 + d.classified.count * 2, "scanned \(scanned) files")
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && Array(haystack[index..<index + needle.count]) == needle { return true }
            index += 1
        }
        return false
    }
}

/// The ledger as the store has it, with hooks that alter what a dishonest API would serve.
struct TamperingSource: TransferLedgerSource {
    let storePath: String
    /// Alters the entry of a leaf proof before it is served.
    var alterLeaf: (@Sendable (UInt64, inout LogEntry) -> Void)?
    /// Replaces the blob-reference leaves listed.
    var blobLeaves: (@Sendable ([UInt64]) -> [UInt64])?

    func queries() throws -> LedgerQueries { LedgerQueries(store: try LedgerStore(path: storePath)) }

    func openRedemptions(owner: String, after: UInt64?) async throws -> [OpenRedemptionLeaves] {
        try queries().openRedemptionLeaves(owner: owner, after: after)
    }
    func leaf(_ index: UInt64) async throws -> SavedLeafProof {
        var proof = try queries().leafEntryProof(index)
        if let alterLeaf, let bytes = [UInt8](hexString: proof.entry) {
            var entry = try Canonical.decode(LogEntry.self, from: bytes)
            alterLeaf(index, &entry)
            proof.entry = Canonical.encode(entry).hexString
        }
        return proof
    }
    func blobReferenceLeaves(lot: String, level: PrivacyLevel) async throws -> [UInt64] {
        let leaves = try queries().blobs(lot: lot, level: level).map(\.leafIndex)
        return blobLeaves?(leaves) ?? leaves
    }
    func recordProof(_ id: RecordID) async throws -> SavedInclusionProof { try queries().inclusionProof(of: id) }
}

@Suite("RemoteTransferOwner: nothing from the API is taken unverified")
struct RemoteOwnerVerificationTests {
    func setUp() async throws -> (TransferDeployment, RemoteTransferOwner, OpenRedemptionLeaves, RedemptionRow) {
        let d = try await TransferDeployment()
        let (row, token) = try await d.grantedRequest()
        let (redemption, _) = try d.redeem(row.requestID, token: try #require(token))
        let open = try #require(try d.queries.openRedemptionLeaves(owner: TransferDeployment.owner).first)
        #expect(open.redeemLeaf == redemption.leafIndex)
        let remote = RemoteTransferOwner(
            owner: TransferOwner(principal: TransferDeployment.owner, ownerKey: d.ownerKey, tokens: d.tokens),
            authority: d.authority.publicKey)
        return (d, remote, open, redemption)
    }

    @Test("the honest API's leaves give the ledger's facts and a delivery of every level-2 key")
    func honest() async throws {
        let (d, remote, open, redemption) = try await setUp()
        let source = TamperingSource(storePath: d.storePath)
        let facts = try await remote.facts(open, from: source)
        #expect(facts.redeem.requesterKey == redemption.requesterKey)
        #expect(facts.requester == TransferDeployment.requesterGrant.principal)
        #expect(facts.lot == TransferDeployment.lot && facts.level == .level2)
        let decision = try await remote.answer(open, from: source)
        guard case .addTransfer(let transfer) = decision.operation else { throw AccessFlowError("not a transfer") }
        #expect(transfer.status == .delivered)
        #expect(decision.keys.count == d.classified.count)
        #expect(decision.keys.allSatisfy { $0.level == .level2 })
        // With another authority key no leaf is accepted.
        let stranger = RemoteTransferOwner(owner: remote.owner, authority: Curve25519.Signing.PrivateKey().publicKey)
        await #expect(throws: AccessFlowError.self) { try await stranger.answer(open, from: source) }
    }

    @Test("a redeem leaf served with another ephemeral key does not verify: the redemption is not answered")
    func alteredEphemeralKey() async throws {
        let (d, remote, open, _) = try await setUp()
        let attacker = Curve25519.KeyAgreement.PrivateKey()
        var source = TamperingSource(storePath: d.storePath)
        source.alterLeaf = { index, entry in
            guard index == open.redeemLeaf, case .access(var signed) = entry,
                case .redeem(var redeem) = signed.value.operation
            else { return }
            redeem.requesterKey = Array(attacker.publicKey.rawRepresentation)
            signed.value.operation = .redeem(redeem)
            entry = .access(signed)
        }
        do {
            _ = try await remote.answer(open, from: source)
            Issue.record("a tampered redeem leaf was answered")
        } catch {
            #expect("\(error)".contains("redemption \(open.redeemLeaf)"), "\(error)")
            #expect("\(error)".contains("inclusion proof does not verify"), "\(error)")
        }
    }

    @Test("a registration of another principal served as the requester's: the redemption is not answered")
    func otherPrincipalsRegistration() async throws {
        let (d, remote, open, _) = try await setUp()
        var forged = open
        forged.requesterLeaf = try #require(try d.queries.principalLeaf(TransferDeployment.owner))
        #expect(forged.requesterLeaf != open.requesterLeaf)
        do {
            _ = try await remote.answer(forged, from: TamperingSource(storePath: d.storePath))
            Issue.record("a redemption was answered under another principal's registration")
        } catch {
            #expect(
                "\(error)".contains("is not \(TransferDeployment.requesterGrant.principal)'s registration"), "\(error)")
        }
    }

    @Test("level-1 blob references listed for a level-2 grant are refused, naming the record")
    func otherLevelKeys() async throws {
        let (d, remote, open, _) = try await setUp()
        var source = TamperingSource(storePath: d.storePath)
        let level1 = try d.queries.blobs(lot: TransferDeployment.lot, level: .level1)
        source.blobLeaves = { _ in level1.map(\.leafIndex) }
        do {
            _ = try await remote.answer(open, from: source)
            Issue.record("level-1 keys were re-wrapped under a level-2 grant")
        } catch {
            #expect("\(error)".contains("record \(level1[0].recordID)"), "\(error)")
        }
    }

    @Test("a wrapped key listed under another record is refused by the decision, naming the record")
    func keyOfAnotherRecord() async throws {
        let (d, remote, open, _) = try await setUp()
        let source = TamperingSource(storePath: d.storePath)
        let facts = try await remote.facts(open, from: source)
        var keys = try await remote.ownedKeys(lot: facts.lot, level: .level2, from: source)
        #expect(keys.count == d.classified.count)
        // The first record's key, relabelled as the second record's: the AEAD binding fails.
        var swapped = keys[0].wrappedKey
        swapped.recordID = keys[1].recordID
        keys[1].wrappedKey = swapped
        do {
            _ = try remote.owner.decide(facts, blobs: keys)
            Issue.record("a key bound to another record was re-wrapped")
        } catch {
            #expect("\(error)".contains("record \(keys[1].recordID)"), "\(error)")
            #expect("\(error)".contains("does not open"), "\(error)")
        }
    }

    @Test(
        "the API stores a key delivery only signed by the entry's owner, at the granted level, once per redemption")
    func keyDeliveryChecks() async throws {
        let (d, remote, open, _) = try await setUp()
        let decision = try await remote.answer(open, from: TamperingSource(storePath: d.storePath))
        let ownerKey = try #require(d.keys[TransferDeployment.owner])
        let requester = TransferDeployment.requesterGrant.principal
        func deliver(_ delivery: TransferKeyDelivery, key: Curve25519.Signing.PrivateKey) throws -> Int {
            try TransferKeyInbox.accept(
                Canonical.encode(try Signed(delivery, domain: .transferKeys, key: key)), store: d.ledger.store)
        }
        func refusal(_ body: () throws -> Int) -> String {
            do {
                _ = try body()
                return "stored"
            } catch { return "\(error)" }
        }
        let delivery = TransferKeyDelivery(
            owner: TransferDeployment.owner, redeemLeaf: open.redeemLeaf, keys: decision.keys)
        // Another principal (here the requester itself) is not the entry's owner.
        var byRequester = delivery
        byRequester.owner = requester
        #expect(
            refusal { try deliver(byRequester, key: try #require(d.keys[requester])) }.contains(
                "not of \(requester)"))
        // The owner's name with another key.
        #expect(
            refusal { try deliver(delivery, key: Curve25519.Signing.PrivateKey()) }.contains(
                "signature does not verify"))
        // The owner's signature, but in the transaction domain: refused too.
        #expect(
            refusal {
                try TransferKeyInbox.accept(
                    Canonical.encode(try Signed(delivery, domain: .transaction, key: ownerKey)), store: d.ledger.store)
            }.contains("signature does not verify"))
        // A level-1 key under the level-2 grant, named.
        let level1 = try #require(try d.queries.blobs(lot: TransferDeployment.lot, level: .level1).first)
        var wrongLevel = delivery
        wrongLevel.keys[0] = level1.wrappedKey
        #expect(
            refusal { try deliver(wrongLevel, key: ownerKey) }.contains(
                "record \(level1.recordID) level-1: the grant is for level-2 only"))
        #expect(try d.queries.transferKeys(redeemLeaf: open.redeemLeaf).isEmpty)
        // The owner's delivery is stored once: of four sent at once, each on its own connection
        // (as concurrent API requests are), one is stored and three are conflicts.
        let bytes = Canonical.encode(try Signed(delivery, domain: .transferKeys, key: ownerKey))
        let path = d.storePath
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let outcome: String
            do {
                outcome = "stored \(try TransferKeyInbox.accept(bytes, store: try LedgerStore(path: path)))"
            } catch { outcome = "\(error)" }
            outcomes.withLock { $0.append(outcome) }
        }
        let all = outcomes.withLock { $0 }
        #expect(all.filter { $0 == "stored \(d.classified.count)" }.count == 1, "\(all)")
        #expect(all.filter { $0.contains("already has its keys") }.count == 3, "\(all)")
        #expect(try d.queries.transferKeys(redeemLeaf: open.redeemLeaf).count == d.classified.count)
        #expect(refusal { try deliver(delivery, key: ownerKey) }.contains("already has its keys"))
    }
}
