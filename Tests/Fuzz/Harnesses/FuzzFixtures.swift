import AgriTraceCore
import Crypto
import Ledger

/// Fixed keys and a small signed log the harnesses check inputs against, and the seeds built
/// from them (no binary files in the repository). The keys are constants: a test fixture, not
/// a secret; signatures made with them are real Ed25519 signatures, so the proof, tree-head
/// and batch harnesses reach the code behind the signature checks.
enum FuzzFixtures {
    /// The authority key the `proof` and `treehead` harnesses verify under.
    static let authority = fixedKey(0x41)
    /// The device key the `batch` harness knows for `FARM1/box-1`.
    static let device = fixedKey(0x44)
    /// The principal key the API bodies are signed with.
    static let principal = fixedKey(0x50)

    static func fixedKey(_ byte: UInt8) -> Curve25519.Signing.PrivateKey {
        // 32 bytes are always a valid Ed25519 seed.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: byte, count: 32))
    }

    static let classifier = Classifier(
        identity: DeviceIdentity(enterprise: "FARM1", device: "box-1", enrolledAt: Timestamp(milliseconds: 0)))

    /// Five records of one device, sequences 1 to 5, with public fields only: the same bytes
    /// in every process (private fields get fresh salts), so a seed written by one run
    /// verifies in another.
    static let records: [Record] = (1...5).map { sequence in
        let reading = Reading(
            stage: .planting, lot: "PL-\(sequence)", product: "fresh corn",
            time: Timestamp(milliseconds: 1_777_624_200_000 + Int64(sequence)), inputLots: ["BR-1"],
            fields: ["planting.variety": .text("JD-101"), "planting.planting_number": .text("N-\(sequence)")])
        return classifier.classify(
            reading, sequence: UInt64(sequence), bootID: "boot", recordedAt: Timestamp(milliseconds: 1_777_624_201_000)
        ).record
    }

    /// A record with level-2 and level-1 commitments (fresh salts: for the wire seeds only).
    static let recordWithCommitments: Record = {
        let reading = Reading(
            stage: .planting, lot: "PL-9", product: "fresh corn", time: Timestamp(milliseconds: 1_777_624_200_000),
            inputLots: ["BR-1"],
            fields: [
                "planting.variety": .text("JD-101"), "planting.planted_quantity": .number(1200),
                "planting.cost_price": .number(1.85),
            ])
        return classifier.classify(
            reading, sequence: 9, bootID: "boot", recordedAt: Timestamp(milliseconds: 1_777_624_201_000)
        ).record
    }()

    /// The log: one entry per record.
    static let entries: [[UInt8]] = records.map { Canonical.encode(LogEntry.record($0)) }
    static let leafHashes: [Digest32] = entries.map { MerkleTree.leafHash($0) }

    /// The signed tree head of each log size 1...5 (block height = size).
    static let treeHeads: [Signed<BlockHeader>] = (1...entries.count).map { size in
        let header = BlockHeader(
            height: UInt64(size), previousHash: .zero, transactionRoot: .zero, transactionCount: 1,
            logSize: UInt64(size), logRoot: MerkleTree.root(leafHashes: leafHashes.prefix(size)),
            time: Timestamp(milliseconds: 1_777_624_300_000 + Int64(size)), proposer: "node-1")
        return try! Signed(header, domain: .blockHeader, key: authority)
    }
    /// The canonical bytes of every block header the authority signed.
    static let signedHeaders: Set<[UInt8]> = Set(treeHeads.map { Canonical.encode($0.value) })

    /// The saved inclusion proof of leaf `index` in the log of `size` leaves.
    static func proof(index: Int, size: Int) -> SavedInclusionProof {
        SavedInclusionProof(
            recordID: records[index].id, leafIndex: UInt64(index), entry: entries[index],
            proof: try! MerkleTree.inclusionProof(index: UInt64(index), leafHashes: leafHashes.prefix(size)),
            treeHead: treeHeads[size - 1])
    }

    /// A batch of `records` signed by the device key.
    static func batch(_ records: ArraySlice<Record>) -> Signed<RecordBatch> {
        let batch = RecordBatch(
            enterprise: "FARM1", device: "box-1", sentAt: Timestamp(milliseconds: 1_777_624_202_000),
            records: Array(records))
        return try! Signed(batch, domain: .recordBatch, key: device)
    }
}
