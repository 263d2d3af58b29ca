import AgriTraceCore
import PropertyBased
import TestSupport
import Testing

/// The one Merkle-log implementation (``MerkleLog`` over ``LogProofs``) against the recursive
/// RFC 9162 reference, for random log sizes, leaves and old sizes; the verifier accepts the
/// real proofs and refuses every mutation of them.
@Suite struct MerkleLogPropertyTests {
    @Test func proofsAgreeWithTheReferenceAndVerify() async {
        await Self.forRandomLogs(sizes: 1...300, secondSeeds: 0..<300) { leaves, log, leafSeed, oldSeed in
            let size = leaves.count
            let index = leafSeed % size
            let oldSize = 1 + oldSeed % size
            let root = ReferenceMerkle.root(leaves[...])
            let oldRoot = ReferenceMerkle.root(leaves[..<oldSize])
            #expect(log.root == root)
            #expect(try log.root(size: UInt64(oldSize)) == oldRoot)
            let path = try log.inclusionProof(index: UInt64(index))
            #expect(path == ReferenceMerkle.inclusionProof(index, leaves[...]))
            let consistency = try log.consistencyProof(oldSize: UInt64(oldSize))
            #expect(consistency == ReferenceMerkle.consistencyProof(oldSize, leaves[...]))
            try MerkleTree.verifyInclusion(
                leafHash: leaves[index], index: UInt64(index), treeSize: UInt64(size), proof: path, root: root)
            try MerkleTree.verifyConsistency(
                oldSize: UInt64(oldSize), newSize: UInt64(size), oldRoot: oldRoot, newRoot: root, proof: consistency)
        }
    }

    @Test func mutatedInclusionProofsAreRefused() async {
        await Self.forRandomLogs(sizes: 2...300, secondSeeds: 0..<64) { leaves, log, leafSeed, mutation in
            let size = leaves.count
            let index = leafSeed % size
            let proof = try log.inclusionProof(index: UInt64(index))
            // A signed tree head binds the size to the root: a size is mutated with its own root.
            var leaf = leaves[index], at = UInt64(index), treeSize = UInt64(size), path = proof, root = log.root
            switch mutation % 6 {
            case 0: path[mutation % path.count] = Self.flip(path[mutation % path.count], mutation)
            case 1: leaf = Self.flip(leaf, mutation)
            case 2: at = (at + 1 + UInt64(mutation % (size - 1))) % treeSize
            case 3 where index < size - 1:
                treeSize -= 1
                root = try log.root(size: treeSize)
            case 4: path.append(leaves[mutation % size])
            default: path = Array(path.dropLast())
            }
            #expect(throws: MerkleTree.ProofError.self, "mutation \(mutation % 6), leaf \(index) of \(size)") {
                try MerkleTree.verifyInclusion(leafHash: leaf, index: at, treeSize: treeSize, proof: path, root: root)
            }
        }
    }

    @Test func mutatedConsistencyProofsAreRefused() async {
        await Self.forRandomLogs(sizes: 2...300, secondSeeds: 0..<64) { leaves, log, oldSeed, mutation in
            let size = leaves.count
            let oldSize = 1 + oldSeed % (size - 1)
            let proof = try log.consistencyProof(oldSize: UInt64(oldSize))
            var path = proof, oldRoot = try log.root(size: UInt64(oldSize)), old = UInt64(oldSize)
            switch mutation % 5 {
            case 0: path[mutation % path.count] = Self.flip(path[mutation % path.count], mutation)
            case 1: oldRoot = Self.flip(oldRoot, mutation)
            case 2: old = old == 1 ? 2 : old - 1
            case 3: path.append(leaves[mutation % size])
            default: path = Array(path.dropLast())
            }
            #expect(throws: MerkleTree.ProofError.self, "mutation \(mutation % 5), \(oldSize) → \(size)") {
                try MerkleTree.verifyConsistency(
                    oldSize: old, newSize: UInt64(size), oldRoot: oldRoot, newRoot: log.root, proof: path)
            }
        }
    }

    /// Checks `body` on 200 random logs of `sizes` leaves (the reference's leaves and the
    /// ``MerkleLog`` over them) with two random seeds: one below 300, one in `secondSeeds`.
    static func forRandomLogs(
        sizes: ClosedRange<Int>, secondSeeds: Range<Int>, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (_ leaves: [Digest32], _ log: MerkleLog, _ seed: Int, _ secondSeed: Int) throws -> Void
    ) async {
        await propertyCheck(
            count: 200, input: Gen.int(in: sizes), Gen.int(in: 0..<300), Gen.int(in: secondSeeds),
            perform: { size, seed, secondSeed in
                let leaves = ReferenceMerkle.leaves(size)
                try body(leaves, MerkleLog(leafHashes: leaves), seed, secondSeed)
            }, sourceLocation: sourceLocation)
    }

    /// `digest` with one bit of one byte flipped.
    static func flip(_ digest: Digest32, _ seed: Int) -> Digest32 {
        var bytes = digest.bytes
        bytes[seed % 32] ^= UInt8(1 << (seed % 8))
        return Digest32(bytes: bytes)!
    }
}
