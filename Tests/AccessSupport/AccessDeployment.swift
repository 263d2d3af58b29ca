import AccessCrypto
import AccessFlow
import AgriTraceCore
import Crypto
import Ingest
import Ledger
import TestSupport

/// A small deployment of the worked example (``WorkedExample``) on a real ledger store: the
/// planting enterprise's box and its records of the lot, the owner, and a regulator with real
/// ABSE / CP-ABE keys whose parameters are on the ledger. Block times are set by the test (a
/// controllable clock). The access-control and transfer suites subclass it.
open class AccessDeployment {
    /// The worked example's lot, product, owner, regulator, morning and requester
    /// (``WorkedExample``), as the suites name them.
    public static let lot = WorkedExample.lot
    public static let product = WorkedExample.product
    public static let owner = WorkedExample.owner
    public static let regulator = WorkedExample.regulator
    public static let morning = WorkedExample.morning
    public static let requesterGrant = WorkedExample.requesterGrant

    /// The folder of the ledger store (removed with the deployment).
    public let directory: TemporaryDirectory
    /// The ledger, on `ledger.sqlite` in ``directory``.
    public let ledger: Ledger
    /// The aggregator's authority key: registry transactions are signed by it.
    public let authority: Curve25519.Signing.PrivateKey
    /// The planting box's signing key (device `farm-box` of `PLANT1`).
    public let box = Curve25519.Signing.PrivateKey()
    /// The regulator's ABSE / CP-ABE secrets.
    public let secrets: RegulatorSecrets
    /// The principals' signing keys by name.
    public var keys: [String: Curve25519.Signing.PrivateKey] = [:]
    /// The time at which ``cut()`` cuts blocks.
    public var clock = WorkedExample.morning

    /// The path of the ledger store.
    public var storePath: String { directory.file("ledger.sqlite") }
    /// Queries over the ledger's store.
    public var queries: LedgerQueries { LedgerQueries(store: ledger.store) }

    /// The planting box's classifier.
    public static let classifier = Classifier(
        identity: DeviceIdentity(enterprise: "PLANT1", device: "farm-box", enrolledAt: Timestamp(milliseconds: 0)))

    /// Registers the box, the owner and the regulator, puts `records` (the box's, of the lot)
    /// on the ledger and publishes the regulator's parameters.
    /// - Parameters:
    ///   - directory: where the ledger store is created.
    ///   - authority: the authority key the ledger is created with.
    public init(
        directory: TemporaryDirectory, authority: Curve25519.Signing.PrivateKey = .init(), records: [Record]
    ) throws {
        self.directory = directory
        self.authority = authority
        ledger = try Ledger(path: directory.file("ledger.sqlite"), authority: authority)
        secrets = try RegulatorSecrets.generate()
        try ledger.admit(
            registry: try SignedRegistry.addDevice(
                enterprise: "PLANT1", device: "farm-box", key: box.publicKey, stage: .planting, authority: authority,
                nonce: 1))
        try register(WorkedExample.owner, kind: .firm, enterprise: "PLANT1", role: "farm-administrator")
        try register(WorkedExample.regulator, kind: .regulator, enterprise: "AGENCY", role: "regulator")
        try cut()
        try publish(records, enterprise: "PLANT1", device: "farm-box", key: box)
        try submit(WorkedExample.regulator, .publishParameters(secrets.publicParameters()))
        try cut()
    }

    deinit { directory.remove() }

    /// Offers `records` to the ledger as one batch of `enterprise`/`device`, signed with `key`
    /// (as ingest receives it from the broker); they are ordered at the next ``cut()``.
    public func publish(_ records: [Record], enterprise: String, device: String, key: Curve25519.Signing.PrivateKey)
        throws
    {
        let batch = try Signed(
            RecordBatch(enterprise: enterprise, device: device, sentAt: .now(), records: records),
            domain: .recordBatch, key: key)
        _ = ledger.admit(
            topic: Wire.recordTopic(enterprise: enterprise, device: device), payload: Canonical.encode(batch))
    }

    /// Registers a principal with a fresh signing key (a registry transaction of the authority).
    public func register(
        _ name: String, kind: PrincipalEntry.Kind, enterprise: String, role: String, stage: Stage? = nil
    ) throws {
        let key = Curve25519.Signing.PrivateKey()
        keys[name] = key
        try ledger.admit(
            registry: try SignedRegistry.addPrincipal(
                name, kind: kind, enterprise: enterprise, role: role, stage: stage, key: key.publicKey,
                authority: authority))
    }

    /// Signs and admits an access transaction as `principal` (a fresh key if it has none).
    /// The canonical bytes of an access transaction signed as `principal` (a fresh key if it
    /// has none): what a client posts to the API.
    public func signed(_ principal: String, _ operation: AccessTransaction.Operation) throws -> [UInt8] {
        Canonical.encode(
            try Signed(
                AccessTransaction(submitter: principal, operation: operation), domain: .transaction,
                key: keys[principal] ?? Curve25519.Signing.PrivateKey()))
    }

    /// With `observedAddress`, the transaction is admitted as the access gateway relays it
    /// (``GatewayAccess``), with that address observed.
    public func submit(
        _ principal: String, _ operation: AccessTransaction.Operation, observedAddress: String? = nil
    ) throws {
        let key = keys[principal] ?? Curve25519.Signing.PrivateKey()
        let signed = try Signed(
            AccessTransaction(submitter: principal, operation: operation), domain: .transaction, key: key)
        if let observedAddress {
            try ledger.admit(relayed: GatewayAccess(observedAddress: observedAddress, transaction: signed))
        } else {
            try ledger.admit(access: signed)
        }
    }

    /// Cuts a block at the test clock.
    public func cut() throws { try ledger.cutBlock(now: clock) }

    /// Registers a requester, grants its attributes and returns its keys.
    public func enrollRequester(_ grant: AttributeGrant) throws -> RequesterKeys {
        try register(
            grant.principal, kind: .firm, enterprise: grant.enterprise, role: grant.role.rawValue, stage: grant.stage)
        try cut()
        try submit(WorkedExample.regulator, .grantAttributes(grant))
        try cut()
        return try secrets.issueKeys(for: grant)
    }

    /// The owner protects the lot's data at `level` under `text`'s first policy; returns the
    /// entry and its access token.
    public func protectLot(_ text: String, level: ABAC.Sensitivity) throws -> (
        entry: EncryptedDataEntry, token: [UInt8]
    ) {
        let policy = try PolicySyntax.parse(text)[0]
        guard let parameters = try queries.accessParameters()?.parameters else {
            throw AccessDeploymentError.noParameters
        }
        let result = try DataOwner.protect(
            lot: WorkedExample.lot, product: WorkedExample.product, stage: .planting, level: level, policy: policy,
            parameters: parameters)
        try submit(WorkedExample.owner, .addEncryptedData(result.entry))
        try cut()
        return result
    }

    /// The regulator's matcher: TEST on every pending request, the results on the ledger in
    /// one block. Returns how many requests it answered.
    @discardableResult
    public func runMatcher() throws -> Int {
        let pending = try queries.pendingRequests()
        for (row, sealed) in pending {
            let match = secrets.match(sealed, candidates: try queries.candidates(lot: row.lot, level: row.level))
            try submit(
                WorkedExample.regulator,
                .addResult(requestID: row.requestID, dataID: match?.dataID, token: match?.token))
        }
        try cut()
        return pending.count
    }
}

/// What an ``AccessDeployment`` found missing.
public enum AccessDeploymentError: Error, CustomStringConvertible {
    /// The regulator's parameters are not on the ledger.
    case noParameters

    public var description: String {
        switch self {
        case .noParameters: "the regulator's access parameters are not on the ledger: publish them first"
        }
    }
}
