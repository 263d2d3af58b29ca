import AccessCrypto
import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import SQLiteStorage
import TestSupport
import Testing

/// A deployment on a real ledger store (copied from AccessFlowTests/Deployment): the planting
/// box with records of one lot carrying level-2 and level-1 values that are unique to the
/// test, the owner with its X25519 transfer key, the regulator, requesters, and the
/// aggregator's blob service (driven directly; the MQTT path is in ``UploadTests``).
final class TransferDeployment {
    static let lot = "20240203A001"
    static let product = "fresh corn"
    static let owner = "Firm/owner@PLANT1"
    static let regulator = "Regulator/inspector@AGENCY"
    static let morning = Timestamp(milliseconds: 1_772_413_200_000)

    static func policy(level: ABAC.Sensitivity) -> String {
        """
        policy corn-processing-read
          subject.enterprise = ZS123
          subject.role       = processing-administrator
          subject.stage      = processing
          subject.category   = fresh corn
          object.product     = fresh corn
          object.lot         = 20240203A001
          object.stage       = planting
          object.level       = \(level.rawValue)
          environment.source = Beijing
          environment.time   = 08:00-12:00 +08:00
          action             = read
        """
    }

    static let requesterGrant = AttributeGrant(
        principal: "Firm/zhang@ZS123", enterprise: "ZS123", role: .processingAdministrator, stage: .processing,
        productCategory: "fresh corn", region: "Beijing")

    let directory: TemporaryDirectory
    let ledger: Ledger
    let authority = Curve25519.Signing.PrivateKey()
    let box = Curve25519.Signing.PrivateKey()
    let ownerKey = Curve25519.KeyAgreement.PrivateKey()
    let secrets: RegulatorSecrets
    let blobService: BlobService
    var keys: [String: Curve25519.Signing.PrivateKey] = [:]
    var clock: Timestamp
    /// The classified readings (records and their private values).
    var classified: [ClassifiedReading] = []
    /// Every private value the test generated, as text (for the operator's scan).
    var plaintexts: [String] = []
    var tokens: [String: [UInt8]] = [:]

    var storePath: String { directory.file("ledger.sqlite") }
    var blobStore: BlobStore { BlobStore(storePath: storePath) }
    var queries: LedgerQueries { LedgerQueries(store: ledger.store) }

    /// - Parameter largeValueBytes: when set, each record's level-2 weeding records are this
    ///   long (multi-byte text, so segment boundaries fall inside characters).
    init(records: Int = 3, largeValueBytes: Int? = nil) async throws {
        directory = try TemporaryDirectory(prefix: "transfer")
        ledger = try Ledger(path: directory.file("ledger.sqlite"), authority: authority)
        secrets = try RegulatorSecrets.generate()
        clock = Self.morning
        blobService = try BlobService(
            storePath: directory.file("ledger.sqlite"), authority: authority,
            broker: .init(host: "127.0.0.1", port: 1), clientID: "test-blobs")
        try ledger.admit(
            registry: try Signed(
                RegistryTransaction(
                    operation: .addDevice(
                        enterprise: "PLANT1", device: "farm-box", publicKey: Array(box.publicKey.rawRepresentation),
                        stage: .planting), submittedAt: .now(), nonce: 1), domain: .transaction, key: authority))
        try register(Self.owner, kind: .firm, enterprise: "PLANT1", role: "farm-administrator")
        try register(Self.regulator, kind: .regulator, enterprise: "AGENCY", role: "regulator")
        try cut()
        let classifier = Classifier(
            identity: DeviceIdentity(enterprise: "PLANT1", device: "farm-box", enrolledAt: Timestamp(milliseconds: 0)))
        for index in 0..<records {
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
        let batch = try Signed(
            RecordBatch(enterprise: "PLANT1", device: "farm-box", sentAt: .now(), records: classified.map(\.record)),
            domain: .recordBatch, key: box)
        _ = ledger.admit(
            topic: Wire.recordTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(batch))
        try submit(Self.regulator, .publishParameters(secrets.publicParameters()))
        try cut()
    }

    deinit { directory.remove() }

    func register(_ name: String, kind: PrincipalEntry.Kind, enterprise: String, role: String, stage: Stage? = nil)
        throws
    {
        let key = Curve25519.Signing.PrivateKey()
        keys[name] = key
        try ledger.admit(
            registry: try Signed(
                RegistryTransaction(
                    operation: .addPrincipal(
                        PrincipalEntry(
                            name: name, kind: kind, enterprise: enterprise, role: role, stage: stage,
                            publicKey: Array(key.publicKey.rawRepresentation))),
                    submittedAt: .now(), nonce: UInt64.random(in: 0...UInt64.max)), domain: .transaction, key: authority
            ))
    }

    func submit(_ principal: String, _ operation: AccessTransaction.Operation) throws {
        let key = keys[principal] ?? Curve25519.Signing.PrivateKey()
        try ledger.admit(
            access: try Signed(
                AccessTransaction(submitter: principal, operation: operation), domain: .transaction, key: key))
    }

    func cut() throws { try ledger.cutBlock(now: clock) }

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

    func enrollRequester(_ grant: AttributeGrant) throws -> RequesterKeys {
        try register(
            grant.principal, kind: .firm, enterprise: grant.enterprise, role: grant.role.rawValue, stage: grant.stage)
        try cut()
        try submit(Self.regulator, .grantAttributes(grant))
        try cut()
        return try secrets.issueKeys(for: grant)
    }

    /// The owner protects the lot at `level` (its token kept for the transfer service).
    func protect(level: ABAC.Sensitivity) throws {
        let policy = try PolicySyntax.parse(Self.policy(level: level))[0]
        let parameters = try #require(try queries.accessParameters()).parameters
        let result = try DataOwner.protect(
            lot: Self.lot, product: Self.product, stage: .planting, level: level, policy: policy, parameters: parameters
        )
        tokens[result.entry.dataID] = result.token
        try submit(Self.owner, .addEncryptedData(result.entry))
        try cut()
    }

    /// Request, match; returns the request row and the opened token on a grant.
    func requestAndMatch(_ keys: RequesterKeys, level: ABAC.Sensitivity) throws -> (AccessRequestRow, [UInt8]?) {
        let parameters = try #require(try queries.accessParameters()).parameters
        let request = try keys.trapdoorRequest(
            lot: Self.lot, product: Self.product, stage: .planting, level: level, action: .read, source: "10.0.0.7",
            parameters: parameters)
        try submit(keys.grant.principal, .addTrapdoor(request))
        try cut()
        for (row, sealed) in try queries.pendingRequests() {
            let match = secrets.match(sealed, candidates: try queries.candidates(lot: row.lot, level: row.level))
            try submit(Self.regulator, .addResult(requestID: row.requestID, dataID: match?.dataID, token: match?.token))
        }
        try cut()
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

    /// A granted request, redeemed and served: the transfer row and the redemption key.
    func grantedTransfer(level: ABAC.Sensitivity = .level2) async throws -> (
        request: AccessRequestRow, transfer: TransferRow, key: Curve25519.KeyAgreement.PrivateKey
    ) {
        try await uploadAll()
        try protect(level: level)
        let keys = try enrollRequester(Self.requesterGrant)
        let (row, token) = try requestAndMatch(keys, level: level)
        #expect(row.status == "granted")
        let (redemption, key) = try redeem(row.requestID, token: try #require(token))
        #expect(redemption.status == "accepted", "\(redemption.reason ?? "")")
        #expect(try serveTransfers() == 1)
        let transfer = try #require(try queries.transfer(redeemLeaf: redemption.leafIndex))
        return (row, transfer, key)
    }
}
