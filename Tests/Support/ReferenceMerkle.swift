import AgriTraceCore

/// The test-only reference for the Merkle log: RFC 9162 §2.1's recursive definitions
/// (`MTH`, `PATH`, `PROOF`/`SUBPROOF`) written as literally as possible over a leaf list,
/// to check the one production implementation (``MerkleLog``, ``LogProofs``) against.
public enum ReferenceMerkle {
    /// `k`: the largest power of two smaller than `n` (n > 1).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    /// `MTH(D[n])`.
    public static func root(_ leaves: ArraySlice<Digest32>) -> Digest32 {
        if leaves.isEmpty { return MerkleTree.emptyRoot }
        if leaves.count == 1 { return leaves[leaves.startIndex] }
        let k = split(leaves.count)
        let mid = leaves.startIndex + k
        return MerkleTree.nodeHash(root(leaves[..<mid]), root(leaves[mid...]))
    }

    /// `PATH(m, D[n])`, leaf to root.
    public static func inclusionProof(_ m: Int, _ leaves: ArraySlice<Digest32>) -> [Digest32] {
        if leaves.count <= 1 { return [] }
        let k = split(leaves.count)
        let mid = leaves.startIndex + k
        if m < k { return inclusionProof(m, leaves[..<mid]) + [root(leaves[mid...])] }
        return inclusionProof(m - k, leaves[mid...]) + [root(leaves[..<mid])]
    }

    /// `PROOF(m, D[n])`.
    public static func consistencyProof(_ m: Int, _ leaves: ArraySlice<Digest32>) -> [Digest32] {
        m == leaves.count ? [] : subproof(m, leaves, true)
    }

    static func subproof(_ m: Int, _ leaves: ArraySlice<Digest32>, _ complete: Bool) -> [Digest32] {
        if m == leaves.count { return complete ? [] : [root(leaves)] }
        let k = split(leaves.count)
        let mid = leaves.startIndex + k
        if m <= k { return subproof(m, leaves[..<mid], complete) + [root(leaves[mid...])] }
        return subproof(m - k, leaves[mid...], false) + [root(leaves[..<mid])]
    }

    /// Leaf hashes of `"leaf 0"`, `"leaf 1"`, …: the tests' standard log.
    public static func leaves(_ n: Int) -> [Digest32] { (0..<n).map { MerkleTree.leafHash(Array("leaf \($0)".utf8)) } }
}
