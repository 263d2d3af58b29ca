import AccessCrypto
import AccessFlow
import AccessTestSupport
import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ledger
import SQLiteStorage
import TestSupport
import Testing

/// The worked example's deployment (``AccessDeployment``) with records of one lot carrying
/// level-2 and level-1 values that are unique to the test, the owner with its X25519 transfer
/// key, requesters, and the aggregator's blob service (driven directly; the MQTT path is in
/// ``UploadTests``).
final class TransferDeployment: AccessDeployment {
    static func policy(level: ABAC.Sensitivity) -> String { WorkedExample.policy(level: level) }

    let ownerKey = Curve25519.KeyAgreement.PrivateKey()
    /// The aggregator's blob service on the ledger's store (opened once the ledger exists).
    private(set) var blobService: BlobService!
    /// The classified readings (records and their private values).
    let classified: [ClassifiedReading]
    /// Every private value the test generated, as text (for the operator's scan).
    let plaintexts: [String]
    var tokens: [String: [UInt8]] = [:]

    var blobStore: BlobStore { BlobStore(storePath: storePath) }

    /// - Parameter largeValueBytes: when set, each record's level-2 weeding records are this
    ///   long (multi-byte text, so segment boundaries fall inside characters).
    init(records: Int = 3, largeValueBytes: Int? = nil) async throws {
        (classified, plaintexts) = Self.readings(records, largeValueBytes: largeValueBytes)
        try super.init(directory: try TemporaryDirectory(prefix: "transfer"), records: classified.map(\.record))
        blobService = try BlobService(
            storePath: storePath, authority: authority, broker: .init(host: "127.0.0.1", port: 1),
            clientID: "test-blobs")
    }

    /// `count` classified readings of the lot, each with a level-2 and a level-1 value unique to
    /// the test, and those values.
    static func readings(_ count: Int, largeValueBytes: Int?) -> ([ClassifiedReading], [String]) {
        var classified: [ClassifiedReading] = []
        var plaintexts: [String] = []
        for index in 0..<count {
            var secret2 = "weeding-L2-\(UUID().uuidString)"
            if let largeValueBytes {
                secret2 += String(repeating: "麦田ü-", count: max(0, largeValueBytes - secret2.utf8.count) / 9)
            }
            let secret1 = "farmer-L1-\(UUID().uuidString)"
            plaintexts += [secret2, secret1]
            let reading = Reading(
                stage: .planting, lot: Self.lot, product: Self.product,
                time: Timestamp(milliseconds: 1_770_000_000_000 + Int64(index) * 1000), inputLots: [],
                fields: [
                    "planting.variety": .text("sweet corn"), "planting.weeding_records": .text(secret2),
                    "planting.planted_quantity": .number(Double(1000 + index)),
                    "planting.personnel": .text(secret1), "planting.cost_price": .number(3.5),
                ])
            classified.append(
                classifier.classify(reading, sequence: UInt64(index + 1), bootID: "boot", recordedAt: reading.time))
        }
        return (classified, plaintexts)
    }

    /// The box uploads every record's level-2 and level-1 blobs through the blob service;
    /// the references are ordered into a block and acknowledged.
    func uploadAll() async throws {
        for item in classified {
            for fields in [item.level2, item.level1].compactMap({ $0 }) {
                let upload = try BlobUpload.make(
                    fields, record: item.record.id, enterprise: "PLANT1", device: "farm-box",
                    owner: ownerKey.publicKey, deviceKey: box)
                await blobService.handle(
                    topic: Wire.blobTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(upload))
            }
        }
        try ledger.admitSubmissions()
        try cut()
        await blobService.tick()
    }

    /// The owner protects the lot at `level` (its token kept for the transfer service).
    func protect(level: ABAC.Sensitivity) throws {
        let result = try protectLot(Self.policy(level: level), level: level)
        tokens[result.entry.dataID] = result.token
    }

    /// Request, match; returns the request row and the opened token on a grant.
    func requestAndMatch(_ keys: RequesterKeys, level: ABAC.Sensitivity) throws -> (AccessRequestRow, [UInt8]?) {
        let parameters = try #require(try queries.accessParameters()).parameters
        let request = try keys.trapdoorRequest(
            lot: Self.lot, product: Self.product, stage: .planting, level: level, action: .read, source: "10.0.0.7",
            parameters: parameters)
        try submit(keys.grant.principal, .addTrapdoor(request))
        try cut()
        try runMatcher()
        let row = try #require(try queries.accessRequest(request.requestID))
        let token = try row.token.flatMap { [UInt8](hexString: $0) }.map { try keys.openToken($0) }
        return (row, token)
    }

    /// The requester redeems; returns the redemption row (its contract outcome) and the key.
    func redeem(_ requestID: String, token: [UInt8], as principal: String = TransferDeployment.requesterGrant.principal)
        throws -> (RedemptionRow, Curve25519.KeyAgreement.PrivateKey)
    {
        let (operation, key) = TransferRequester.redeem(requestID: requestID, token: token, purpose: "quality audit")
        try submit(principal, operation)
        try cut()
        let select = try ledger.store.db.prepare("SELECT max(leaf_index) FROM redemptions WHERE request_id = ?")
        try select.bind(requestID, at: 1)
        _ = try select.step()
        let leaf = UInt64(select.int64(at: 0))
        return (try #require(try queries.redemption(leaf: leaf)), key)
    }

    /// The owner's transfer service answers every open redemption.
    @discardableResult
    func serveTransfers() throws -> Int {
        let owner = TransferOwner(principal: Self.owner, ownerKey: ownerKey, tokens: tokens)
        let open = try queries.openRedemptions(owner: Self.owner)
        for redemption in open {
            try submit(Self.owner, try owner.answer(redemption, store: ledger.store))
        }
        try cut()
        return open.count
    }

    /// Runs the built `agritrace` while ordering its submissions into blocks (standing in for
    /// `agritrace serve`) and, with `serve`, answering redemptions on the store; with `serve`
    /// false the owner's service here never answers. `directory` and `environment`: where
    /// and with what it runs (e.g. the owner's own machine, with no store).
    func runCLI(
        _ arguments: [String], serve: Bool = true, directory: String? = nil, environment: [String: String]? = nil
    ) throws -> (status: Int32, output: String) {
        let output = self.directory.file("cli-\(UUID().uuidString).log")
        #expect(FileManager.default.createFile(atPath: output, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtProduct(named: "agritrace"))
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            try ledger.admitSubmissions()
            if serve { try serveTransfers() } else { try cut() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// The lot uploaded and protected at `level`, and the worked example's requester's request
    /// matched: the request row and, on a grant, the opened token.
    func grantedRequest(level: ABAC.Sensitivity = .level2) async throws -> (AccessRequestRow, [UInt8]?) {
        try await uploadAll()
        try protect(level: level)
        return try requestAndMatch(try enrollRequester(Self.requesterGrant), level: level)
    }

    /// The start of `agritrace fetch` for the worked example's requester's request `row`: its
    /// signing key and `token` written to files (mode 0600) in `folder` (default: the
    /// deployment's directory), and the arguments naming the request, the token, the principal
    /// and the key.
    func fetchCommand(_ row: AccessRequestRow, token: [UInt8]?, in folder: String? = nil) throws -> [String] {
        let principal = Self.requesterGrant.principal
        let folder = folder ?? directory.path
        let keyFile = folder + "/requester.key"
        try writeSecretFile(Array(try #require(keys[principal]).rawRepresentation).hexString + "\n", to: keyFile)
        let tokenFile = folder + "/requester.token"
        try writeSecretFile(try #require(token).hexString + "\n", to: tokenFile)
        return ["fetch", row.requestID, "--token", tokenFile, "--as", principal, "--key", keyFile]
    }

    /// A granted request, redeemed and served: the transfer row and the redemption key.
    func grantedTransfer(level: ABAC.Sensitivity = .level2) async throws -> (
        request: AccessRequestRow, transfer: TransferRow, key: Curve25519.KeyAgreement.PrivateKey
    ) {
        let (row, token) = try await grantedRequest(level: level)
        #expect(row.status == .granted)
        let (redemption, key) = try redeem(row.requestID, token: try #require(token))
        #expect(redemption.status == .accepted, "\(redemption.reason ?? "")")
        #expect(try serveTransfers() == 1)
        let transfer = try #require(try queries.transfer(redeemLeaf: redemption.leafIndex))
        return (row, transfer, key)
    }
}
