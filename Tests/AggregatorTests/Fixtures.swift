import AgriTraceCore
import Crypto
import Foundation
import Ledger
import TestSupport

/// A simulated edge device for tests: its key, identity and a sequence counter.
struct TestDevice {
    let enterprise: String
    let device: String
    let key: Curve25519.Signing.PrivateKey
    var sequence: UInt64 = 0

    init(enterprise: String = "farm-1", device: String = "box-1", key: Curve25519.Signing.PrivateKey = .init()) {
        self.enterprise = enterprise
        self.device = device
        self.key = key
    }

    var classifier: Classifier {
        Classifier(
            identity: DeviceIdentity(enterprise: enterprise, device: device, enrolledAt: Timestamp(milliseconds: 0)))
    }

    /// A classified record of `stage` for `lot` (with public, level-2 and level-1 fields for planting).
    mutating func record(lot: String, stage: Stage = .planting, inputs: [String] = [], time: Int64? = nil) -> Record {
        sequence += 1
        let fields: [String: FieldValue] =
            stage == .planting
            ? [
                "planting.variety": .text("sweet corn"), "planting.planting_origin": .text("Hebei"),
                "planting.planted_quantity": .number(1200), "planting.cost_price": .number(3.5),
            ]
            : ["\(stage.rawValue).variety": .text("sweet corn")]
        let reading = Reading(
            stage: stage, lot: lot, product: "fresh corn",
            time: Timestamp(milliseconds: time ?? (1_780_000_000_000 + Int64(sequence))), inputLots: inputs,
            fields: fields)
        return classifier.classify(
            reading, sequence: sequence, bootID: "boot-1", recordedAt: Timestamp(milliseconds: 1_780_000_000_000)
        ).record
    }

    mutating func records(_ count: Int, lot: String) -> [Record] { (0..<count).map { _ in record(lot: lot) } }

    func batch(_ records: [Record]) -> Signed<RecordBatch> {
        try! Signed(
            RecordBatch(enterprise: enterprise, device: device, sentAt: .now(), records: records), domain: .recordBatch,
            key: key)
    }

    func payload(_ records: [Record]) -> [UInt8] { Canonical.encode(batch(records)) }

    var recordTopic: String { Wire.recordTopic(enterprise: enterprise, device: device) }
    var receiptTopic: String { Wire.receiptTopic(enterprise: enterprise, device: device) }

    func registration(authority: Curve25519.Signing.PrivateKey, stage: Stage? = .planting) -> Signed<
        RegistryTransaction
    > {
        try! SignedRegistry.addDevice(
            enterprise: enterprise, device: device, key: key.publicKey, stage: stage, authority: authority)
    }

    func revocation(authority: Curve25519.Signing.PrivateKey) -> Signed<RegistryTransaction> {
        try! Signed(
            RegistryTransaction(
                operation: .revokeDevice(enterprise: enterprise, device: device, reason: "stolen"), submittedAt: .now(),
                nonce: 1),
            domain: .transaction, key: authority)
    }
}

/// Decodes and checks a published receipt batch.
func decodeReceipts(_ payload: [UInt8], authority: Curve25519.Signing.PublicKey) throws -> ReceiptBatch {
    let signed = try Canonical.decode(Signed<ReceiptBatch>.self, from: payload)
    try signed.verify(domain: .receiptBatch, key: authority)
    return signed.value
}

/// A ledger in a temporary directory with one registered device.
struct LedgerFixture {
    let directory: TemporaryDirectory
    let authority: Curve25519.Signing.PrivateKey
    var device = TestDevice()
    let ledger: Ledger
    var path: String { directory.file("ledger.sqlite") }

    /// A new ledger signed by `authority` (a new key by default) with one block that registers ``device``.
    init(
        configuration: LedgerConfiguration = .init(synchronous: .normal),
        authority: Curve25519.Signing.PrivateKey = .init()
    ) throws {
        self.authority = authority
        directory = try TemporaryDirectory(prefix: "agritrace-ledger")
        ledger = try Ledger(path: directory.file("ledger.sqlite"), authority: authority, configuration: configuration)
        try ledger.admit(registry: device.registration(authority: authority))
        try ledger.cutBlock()
    }
}
