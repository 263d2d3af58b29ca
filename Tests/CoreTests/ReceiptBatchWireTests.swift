import AgriTraceCore
import Crypto
import Testing

/// A receipt batch says once on the wire what its receipts share (the signed tree head, the
/// tail of the inclusion proofs), and has one encoding.
@Suite struct ReceiptBatchWireTests {
    static let authority = Curve25519.Signing.PrivateKey()
    static let leafHashes = (0..<5_000).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)]) }

    static func head(height: UInt64, logSize: UInt64) throws -> Signed<BlockHeader> {
        try Signed(
            BlockHeader(
                height: height, previousHash: .zero, transactionRoot: Digest32.sha256([UInt8(height)]),
                transactionCount: 100, logSize: logSize,
                logRoot: MerkleTree.root(leafHashes: leafHashes.prefix(Int(logSize))),
                time: Timestamp(milliseconds: 1_780_000_000_000), proposer: "aggregator-1"),
            domain: .blockHeader, key: authority)
    }

    /// The receipt of leaf `index`, with its real audit path in the log of the head's size.
    static func receipt(_ index: UInt64, head: Signed<BlockHeader>) throws -> Receipt {
        Receipt(
            recordID: RecordID.derive(enterprise: "FARM1", device: "box-1", sequence: index),
            height: head.value.height, leafIndex: index,
            inclusionProof: try MerkleTree.inclusionProof(
                index: index, leafHashes: leafHashes.prefix(Int(head.value.logSize))),
            treeHead: head)
    }

    @Test func aBatchRoundTripsWithReceiptsAgainstSeveralHeads() throws {
        let first = try Self.head(height: 7, logSize: 700)
        let second = try Self.head(height: 8, logSize: 4_999)
        var odd = try Self.receipt(3, head: second)
        odd.inclusionProof = []
        let batch = ReceiptBatch(
            receipts: [
                try Self.receipt(1, head: first), try Self.receipt(2, head: first), try Self.receipt(699, head: second),
                try Self.receipt(4, head: first), odd, try Self.receipt(4_998, head: second),
                try Self.receipt(4_998, head: second),
            ],
            rejections: [Rejection(recordID: nil, code: .unknownDevice, reason: "not registered")])
        let bytes = Canonical.encode(batch)
        #expect(try Canonical.decode(ReceiptBatch.self, from: bytes) == batch)
        // The receipt count stays the first four bytes (monitoring reads it without decoding).
        #expect(Array(bytes.prefix(4)) == [0, 0, 0, 7])
    }

    @Test func aBatchOfConsecutiveLeavesIsAFractionOfItsReceiptsAlone() throws {
        let head = try Self.head(height: 9, logSize: 4_321)
        let receipts = try (1_000..<1_100).map { try Self.receipt(UInt64($0), head: head) }
        let bytes = Canonical.encode(ReceiptBatch(receipts: receipts, rejections: []))
        let decoded = try Canonical.decode(ReceiptBatch.self, from: bytes)
        #expect(decoded.receipts == receipts)
        for receipt in decoded.receipts {
            try MerkleTree.verifyInclusion(
                leafHash: Self.leafHashes[Int(receipt.leafIndex)], index: receipt.leafIndex,
                treeSize: head.value.logSize, proof: receipt.inclusionProof, root: head.value.logRoot)
        }
        let alone = receipts.reduce(0) { $0 + Canonical.encode($1).count }
        #expect(bytes.count * 5 < alone, "batch \(bytes.count) bytes, receipts alone \(alone)")
        #expect(bytes.count <= 100 * receipts.count, "\(bytes.count) bytes for \(receipts.count) receipts")
    }

    /// A receipt as written on the wire: a nil field is left out (and its omission flag set).
    struct WireReceipt {
        var head: UInt32? = 0
        var height: UInt64? = nil
        var leaf: UInt64? = nil
        var shared: UInt8 = 0
        var proof: [Digest32] = []
        var extraFlags: UInt8 = 0
    }

    /// Writes a batch as ``ReceiptBatch/encode(to:)`` does, but with every field given.
    static func bytes(heads: [Signed<BlockHeader>], receipts: [WireReceipt]) -> [UInt8] {
        var writer = CanonicalWriter()
        writer.write(UInt32(receipts.count))
        writer.write(heads)
        for (sequence, receipt) in receipts.enumerated() {
            let flags = (receipt.head == nil ? 1 : 0) | (receipt.height == nil ? 2 : 0) | (receipt.leaf == nil ? 4 : 0)
            writer.write(UInt8(flags) | receipt.extraFlags)
            writer.write(RecordID.derive(enterprise: "FARM1", device: "box-1", sequence: UInt64(sequence)))
            if let head = receipt.head { writer.write(head) }
            if let height = receipt.height { writer.write(height) }
            if let leaf = receipt.leaf { writer.write(leaf) }
            writer.write(receipt.shared)
            writer.write(UInt8(receipt.proof.count))
            for node in receipt.proof { writer.write(node) }
        }
        writer.write([Rejection]())
        return writer.bytes
    }

    /// Hand-written batches that decode to a valid value but are not its encoding.
    @Test func aNonCanonicalBatchIsRefused() throws {
        let first = try Self.head(height: 7, logSize: 700)
        let second = try Self.head(height: 8, logSize: 800)
        let (a, b, c) = (Self.leafHashes[0], Self.leafHashes[1], Self.leafHashes[2])
        let valid = try Canonical.decode(
            ReceiptBatch.self,
            from: Self.bytes(
                heads: [first, second],
                receipts: [
                    WireReceipt(leaf: 5, proof: [a, b, c]), WireReceipt(head: 1, shared: 3),
                    WireReceipt(head: 0, height: 9, leaf: 9, shared: 1, proof: [a]),
                ]))
        #expect(valid.receipts.map(\.treeHead) == [first, second, first])
        #expect(valid.receipts.map(\.height) == [7, 8, 9])
        #expect(valid.receipts.map(\.leafIndex) == [5, 6, 9])
        #expect(valid.receipts.map(\.inclusionProof) == [[a, b, c], [a, b, c], [a, c]])
        let refused: [(String, [WireReceipt], [Signed<BlockHeader>])] = [
            ("a head listed twice", [WireReceipt(leaf: 0), WireReceipt(head: 1)], [first, first]),
            ("a head no receipt names", [WireReceipt(leaf: 0), WireReceipt(head: nil)], [first, second]),
            ("a head named out of order", [WireReceipt(head: 1, leaf: 0), WireReceipt(head: 0)], [first, second]),
            ("a head index past the list", [WireReceipt(leaf: 0), WireReceipt(head: 5)], [first]),
            ("the previous receipt's head named again", [WireReceipt(leaf: 0), WireReceipt(head: 0)], [first]),
            ("the head's height spelt out", [WireReceipt(height: 7, leaf: 0)], [first]),
            ("the next leaf spelt out", [WireReceipt(leaf: 0), WireReceipt(head: nil, leaf: 1)], [first]),
            ("the first receipt with no leaf index", [WireReceipt()], [first]),
            ("the first receipt with no head index", [WireReceipt(head: nil, leaf: 0)], [first]),
            ("an unknown omission flag", [WireReceipt(leaf: 0, extraFlags: 8)], [first]),
            (
                "more shared nodes than the previous proof",
                [WireReceipt(leaf: 0, proof: [a]), WireReceipt(head: nil, shared: 2)], [first]
            ),
            (
                "a shared tail that is not the longest",
                [WireReceipt(leaf: 0, proof: [a, b]), WireReceipt(head: nil, shared: 1, proof: [a])], [first]
            ),
        ]
        for (what, receipts, heads) in refused {
            #expect(throws: Canonical.DecodingError.self, "\(what)") {
                try Canonical.decode(ReceiptBatch.self, from: Self.bytes(heads: heads, receipts: receipts))
            }
        }
    }
}
