import AgriTraceCore
import Crypto
import TestSupport
import Testing

/// The RFC 9162 definition, written recursively as in the RFC (the shared test reference).
private func referenceRoot(_ leaves: ArraySlice<Digest32>) -> Digest32 { ReferenceMerkle.root(leaves) }

private func leaves(_ n: Int) -> [Digest32] { ReferenceMerkle.leaves(n) }

@Suite struct MerkleTreeTests {
    @Test func hashingIsDomainSeparatedAsInRFC9162() {
        // SHA-256 of the empty string.
        #expect(MerkleTree.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // The leaf hash of the empty entry is SHA-256(0x00).
        #expect(
            MerkleTree.leafHash([UInt8]()).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let a = MerkleTree.leafHash([1]), b = MerkleTree.leafHash([2])
        var hasher = SHA256()
        hasher.update(data: [1] + a.bytes + b.bytes)
        #expect(MerkleTree.nodeHash(a, b) == Digest32(hasher.finalize()))
    }

    @Test func rootMatchesTheRecursiveDefinition() {
        for n in 0...70 {
            let hashes = leaves(n)
            #expect(MerkleTree.root(leafHashes: hashes) == referenceRoot(hashes[...]), "n=\(n)")
        }
    }

    @Test func inclusionProofsVerifyForEveryLeafAndSize() throws {
        for n in 1...40 {
            let hashes = leaves(n)
            let root = MerkleTree.root(leafHashes: hashes)
            for i in 0..<n {
                let proof = try MerkleTree.inclusionProof(index: UInt64(i), leafHashes: hashes)
                try MerkleTree.verifyInclusion(
                    leafHash: hashes[i], index: UInt64(i), treeSize: UInt64(n), proof: proof, root: root)
            }
        }
    }

    @Test func forgedInclusionProofsAreRejected() throws {
        let hashes = leaves(13)
        let root = MerkleTree.root(leafHashes: hashes)
        let proof = try MerkleTree.inclusionProof(index: 5, leafHashes: hashes)
        // Wrong leaf, wrong index, wrong size, truncated, extended, altered hash, wrong root.
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[6], index: 5, treeSize: 13, proof: proof, root: root)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[5], index: 4, treeSize: 13, proof: proof, root: root)
        }
        // The size is bound to the root by the signed tree head: a size-13 proof does not verify
        // against the root of a 14-leaf tree, nor for a size whose tree has another shape.
        let root14 = MerkleTree.root(leafHashes: leaves(14))
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[5], index: 5, treeSize: 14, proof: proof, root: root14)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[5], index: 5, treeSize: 6, proof: proof, root: root)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(
                leafHash: hashes[5], index: 5, treeSize: 13, proof: Array(proof.dropLast()), root: root)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(
                leafHash: hashes[5], index: 5, treeSize: 13, proof: proof + [hashes[0]], root: root)
        }
        var altered = proof
        altered[1] = hashes[0]
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[5], index: 5, treeSize: 13, proof: altered, root: root)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[5], index: 5, treeSize: 13, proof: proof, root: hashes[0])
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(leafHash: hashes[5], index: 13, treeSize: 13, proof: proof, root: root)
        }
        // An interior node presented as a leaf (second-preimage attempt) does not verify at leaf depth.
        let interior = MerkleTree.nodeHash(hashes[4], hashes[5])
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyInclusion(
                leafHash: interior, index: 2, treeSize: 13, proof: Array(proof.dropFirst()), root: root)
        }
    }

    @Test func consistencyProofsVerifyForEverySizePair() throws {
        let all = leaves(33)
        for newSize in 1...33 {
            let newRoot = MerkleTree.root(leafHashes: all[..<newSize])
            for oldSize in 1...newSize {
                let oldRoot = MerkleTree.root(leafHashes: all[..<oldSize])
                let proof = try MerkleLog(leafHashes: all[..<newSize]).consistencyProof(oldSize: UInt64(oldSize))
                try MerkleTree.verifyConsistency(
                    oldSize: UInt64(oldSize), newSize: UInt64(newSize), oldRoot: oldRoot, newRoot: newRoot, proof: proof
                )
            }
        }
    }

    @Test func forgedConsistencyProofsAreRejected() throws {
        let all = leaves(20)
        let oldRoot = MerkleTree.root(leafHashes: all[..<7])
        let newRoot = MerkleTree.root(leafHashes: all)
        let proof = try MerkleLog(leafHashes: all).consistencyProof(oldSize: 7)
        // A rewritten history: the old tree with one leaf changed.
        var rewritten = all
        rewritten[3] = MerkleTree.leafHash([9, 9])
        let rewrittenOld = MerkleTree.root(leafHashes: rewritten[..<7])
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyConsistency(
                oldSize: 7, newSize: 20, oldRoot: rewrittenOld, newRoot: newRoot, proof: proof)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyConsistency(
                oldSize: 7, newSize: 20, oldRoot: oldRoot, newRoot: newRoot, proof: Array(proof.dropLast()))
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyConsistency(oldSize: 7, newSize: 20, oldRoot: oldRoot, newRoot: newRoot, proof: [])
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyConsistency(oldSize: 8, newSize: 20, oldRoot: oldRoot, newRoot: newRoot, proof: proof)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyConsistency(oldSize: 7, newSize: 6, oldRoot: oldRoot, newRoot: newRoot, proof: proof)
        }
        #expect(throws: MerkleTree.ProofError.self) {
            try MerkleTree.verifyConsistency(oldSize: 7, newSize: 7, oldRoot: oldRoot, newRoot: newRoot, proof: [])
        }
    }
}
