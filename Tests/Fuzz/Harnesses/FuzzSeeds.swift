import AgriTraceCore
import Foundation
import Ledger

/// Seeds built from ``FuzzFixtures``: valid inputs of each harness (signed with the fixture
/// keys, so the fuzzer starts past the signature checks), written to the run's corpus by
/// `scripts/fuzz.sh` and replayed by the test suite.
enum FuzzSeeds {
    static let placeholderSignature = [UInt8](repeating: 7, count: 64)

    /// Canonical encodings of each wire type (signatures are placeholders: decoding does not
    /// check them).
    static func wire() -> [[UInt8]] {
        let record = FuzzFixtures.recordWithCommitments
        let header = FuzzFixtures.treeHeads[1]
        let receipts = Signed(
            value: ReceiptBatch(
                receipts: [
                    Receipt(
                        recordID: record.id, height: 2, leafIndex: 0,
                        inclusionProof: [FuzzFixtures.leafHashes[1]], treeHead: header)
                ],
                rejections: [Rejection(recordID: nil, code: .unknownDevice, reason: "not registered")]),
            signature: placeholderSignature)
        let reference = blobReference()
        let ack = Signed(
            value: BlobAck(
                enterprise: "FARM1", device: "box-1", stored: [reference.value.blobID],
                refused: [BlobAck.Refusal(blobID: .zero, reason: "too large")]),
            signature: placeholderSignature)
        return [
            Canonical.encode(FuzzFixtures.batch([record, FuzzFixtures.records[1]])), Canonical.encode(receipts),
            Canonical.encode(record), Canonical.encode(LogEntry.record(record)), Canonical.encode(header),
            Canonical.encode(LogEntry.blob(reference)),
            Canonical.encode(BlobUpload(reference: reference, blob: [1, 2, 3])),
            Canonical.encode(BlobPiece(reference: reference, offset: 0, bytes: [1, 2, 3])), Canonical.encode(ack),
        ]
    }

    static func blobReference() -> Signed<BlobReference> {
        let record = FuzzFixtures.records[0]
        let key = WrappedDataKey(
            recordID: record.id, level: .level2, encapsulatedKey: [UInt8](repeating: 9, count: 32),
            ciphertext: [UInt8](repeating: 5, count: 48))
        let reference = BlobReference(
            enterprise: "FARM1", device: "box-1", recordID: record.id, level: .level2, blobID: .sha256([1, 2, 3]),
            size: 3, ownerKey: [UInt8](repeating: 3, count: 32), wrappedKey: key,
            sealedAt: Timestamp(milliseconds: 1_777_624_204_000))
        return try! Signed(reference, domain: .blobReference, key: FuzzFixtures.device)
    }

    /// Signed batches of one, two and five records, and one from another device.
    static func batches() -> [[UInt8]] {
        var other = FuzzFixtures.batch(FuzzFixtures.records[0...0])
        other.value.device = "box-2"
        return [
            Canonical.encode(FuzzFixtures.batch(FuzzFixtures.records[0...0])),
            Canonical.encode(FuzzFixtures.batch(FuzzFixtures.records[1...2])),
            Canonical.encode(FuzzFixtures.batch(FuzzFixtures.records[...])), Canonical.encode(other),
        ]
    }

    /// Valid saved proofs of several leaves and log sizes.
    static func proofs() -> [[UInt8]] {
        [(0, 1), (0, 5), (2, 3), (3, 4), (4, 5)].map { json(FuzzFixtures.proof(index: $0.0, size: $0.1)) }
    }

    /// Valid saved tree heads of log sizes 1, 3 and 5.
    static func treeHeads() -> [[UInt8]] {
        [0, 2, 4].map { json(SavedTreeHead(FuzzFixtures.treeHeads[$0])) }
    }

    /// Signed bodies of each write route.
    static func apiBodies() -> [[UInt8]] {
        let key = FuzzFixtures.principal
        let time = Timestamp(milliseconds: 1_777_624_205_000)
        let access = [
            AccessTransaction.Operation.revokeAttributes(principal: "Firm/alice@ZS123", reason: "left the firm"),
            .addResult(requestID: "rq-1", dataID: "d-1", token: [1, 2, 3]),
            .addToBlacklist(source: "FARM1", reason: "forged lot"),
        ].map {
            Canonical.encode(
                try! Signed(
                    AccessTransaction(submitter: "Regulator/r@GOV", operation: $0, submittedAt: time, nonce: 7),
                    domain: .transaction, key: key))
        }
        let registry = [
            RegistryTransaction.Operation.addDevice(
                enterprise: "FARM1", device: "box-1", publicKey: Array(FuzzFixtures.device.publicKey.rawRepresentation),
                stage: .planting),
            .revokePrincipal(name: "Firm/alice@ZS123", reason: "key lost"),
        ].map {
            Canonical.encode(
                try! Signed(
                    RegistryTransaction(operation: $0, submittedAt: time, nonce: 8), domain: .transaction, key: key))
        }
        let delivery = TransferKeyDelivery(
            owner: "Firm/owner@FARM1", redeemLeaf: 12, keys: [blobReference().value.wrappedKey])
        return access + registry + [Canonical.encode(try! Signed(delivery, domain: .transferKeys, key: key))]
    }

    static func json(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try! encoder.encode(value))
    }
}
