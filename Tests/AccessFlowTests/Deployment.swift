import AccessCrypto
import AccessFlow
import AgriTraceCore
import Crypto
import Foundation
import Ledger
import TestSupport
import Testing

/// A small deployment on a real ledger store: the planting enterprise's box and its lot of the
/// worked example (domain.md §2), the owner, a regulator with real ABSE / CP-ABE keys, and
/// requesters. Block times are set by the test (a controllable clock).
final class Deployment {
    static let lot = "20240203A001"
    static let product = "fresh corn"
    static let owner = "Firm/owner@PLANT1"
    static let regulator = "Regulator/inspector@AGENCY"
    /// 2026-03-02T09:00:00+08:00, inside the worked example's 08:00-12:00 window.
    static let morning = Timestamp(milliseconds: 1_772_413_200_000)

    /// The worked example's policy.
    static let policyText = """
        policy corn-processing-read
          subject.enterprise = ZS123
          subject.role       = processing-administrator
          subject.stage      = processing
          subject.category   = fresh corn
          object.product     = fresh corn
          object.lot         = 20240203A001
          object.stage       = planting
          object.level       = level-2
          environment.source = Beijing
          environment.time   = 08:00-12:00 +08:00
          action             = read
        """

    /// The worked example's requester.
    static let requesterGrant = AttributeGrant(
        principal: "Firm/zhang@ZS123", enterprise: "ZS123", role: .processingAdministrator, stage: .processing,
        productCategory: "fresh corn", region: "Beijing")

    let directory: TemporaryDirectory
    let ledger: Ledger
    let authority = Curve25519.Signing.PrivateKey()
    let secrets: RegulatorSecrets
    var keys: [String: Curve25519.Signing.PrivateKey] = [:]
    var clock: Timestamp

    init() throws {
        directory = try TemporaryDirectory(prefix: "access-flow")
        ledger = try Ledger(path: directory.file("ledger.sqlite"), authority: authority)
        secrets = try RegulatorSecrets.generate()
        clock = Self.morning
        // The planting box and one record of the lot.
        let box = Curve25519.Signing.PrivateKey()
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
        let reading = Reading(
            stage: .planting, lot: Self.lot, product: Self.product, time: Timestamp(milliseconds: 1_770_000_000_000),
            inputLots: [], fields: ["planting.variety": .text("sweet corn"), "planting.cost_price": .number(3.5)])
        let record = classifier.classify(reading, sequence: 1, bootID: "boot", recordedAt: reading.time).record
        let batch = try Signed(
            RecordBatch(enterprise: "PLANT1", device: "farm-box", sentAt: .now(), records: [record]),
            domain: .recordBatch, key: box)
        _ = ledger.admit(
            topic: Wire.recordTopic(enterprise: "PLANT1", device: "farm-box"), payload: Canonical.encode(batch))
        try submit(Self.regulator, .publishParameters(secrets.publicParameters()))
        try cut()
    }

    deinit { directory.remove() }

    var queries: LedgerQueries { LedgerQueries(store: ledger.store) }

    /// Registers a principal with a fresh signing key (a registry transaction of the authority).
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

    /// Signs and admits an access transaction as `principal`.
    func submit(_ principal: String, _ operation: AccessTransaction.Operation) throws {
        let key = keys[principal] ?? Curve25519.Signing.PrivateKey()
        try ledger.admit(
            access: try Signed(
                AccessTransaction(submitter: principal, operation: operation), domain: .transaction, key: key))
    }

    /// Cuts a block at the test clock.
    func cut() throws { try ledger.cutBlock(now: clock) }

    /// Registers a requester, grants its attributes and returns its keys.
    func enrollRequester(_ grant: AttributeGrant) throws -> RequesterKeys {
        try register(
            grant.principal, kind: .firm, enterprise: grant.enterprise, role: grant.role.rawValue, stage: grant.stage)
        try cut()
        try submit(Self.regulator, .grantAttributes(grant))
        try cut()
        return try secrets.issueKeys(for: grant)
    }

    /// The owner protects the lot's level-2 data under `text`'s policy. Returns the entry and token.
    @discardableResult
    func protect(_ text: String = Deployment.policyText, level: ABAC.Sensitivity = .level2) throws -> (
        entry: EncryptedDataEntry, token: [UInt8]
    ) {
        let policy = try PolicySyntax.parse(text)[0]
        let parameters = try #require(try queries.accessParameters()).parameters
        let result = try DataOwner.protect(
            lot: Self.lot, product: Self.product, stage: .planting, level: level, policy: policy, parameters: parameters
        )
        try submit(Self.owner, .addEncryptedData(result.entry))
        try cut()
        return result
    }

    /// A requester asks for the lot (trapdoor sealed to the regulator); returns the request id
    /// and its status right after the decision contract ran.
    func request(
        _ keys: RequesterKeys, source: String = "10.0.0.7", product: String = Deployment.product,
        lot: String = Deployment.lot, level: ABAC.Sensitivity = .level2, action: ABAC.Action = .read
    ) throws -> AccessRequestRow {
        let parameters = try #require(try queries.accessParameters()).parameters
        let request = try keys.trapdoorRequest(
            lot: lot, product: product, stage: .planting, level: level, action: action, source: source,
            parameters: parameters)
        try submit(keys.grant.principal, .addTrapdoor(request))
        try cut()
        return try #require(try queries.accessRequest(request.requestID))
    }

    /// The regulator's matcher: TEST on every pending request, results on the ledger.
    @discardableResult
    func runMatcher() throws -> Int {
        let pending = try queries.pendingRequests()
        for (row, sealed) in pending {
            let candidates = try queries.candidates(lot: row.lot, level: row.level)
            let match = secrets.match(sealed, candidates: candidates)
            try submit(
                Self.regulator, .addResult(requestID: row.requestID, dataID: match?.dataID, token: match?.token))
        }
        try cut()
        return pending.count
    }

    /// Request, match, and the final row.
    func requestAndMatch(_ keys: RequesterKeys, source: String = "10.0.0.7", product: String = Deployment.product)
        throws -> AccessRequestRow
    {
        let first = try request(keys, source: source, product: product)
        guard first.status == "pending" else { return first }
        try runMatcher()
        return try #require(try queries.accessRequest(first.requestID))
    }

    /// Advances the test clock.
    func advance(minutes: Int64) { clock = Timestamp(milliseconds: clock.milliseconds + minutes * 60_000) }
}
