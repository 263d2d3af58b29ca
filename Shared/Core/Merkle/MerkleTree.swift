import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their verification.
///
/// `leaf = SHA-256(0x00 ‖ entry)`, `node = SHA-256(0x01 ‖ left ‖ right)`; the tree over
/// `n` leaves splits at the largest power of two smaller than `n` (RFC 9162 §2.1.1).
/// Used for the ledger's append-only log and for the per-field commitments of a record.
public enum MerkleTree {
    /// Errors from proof verification.
    public enum ProofError: Error, Equatable, CustomStringConvertible {
        case indexOutOfRange(index: UInt64, size: UInt64)
        case wrongProofLength(expected: Int, actual: Int)
        case rootMismatch
        case invalidSizes(old: UInt64, new: UInt64)

        public var description: String {
            switch self {
            case .indexOutOfRange(let index, let size): return "leaf index \(index) is outside a tree of size \(size)"
            case .wrongProofLength(let expected, let actual): return "proof has \(actual) hashes, expected \(expected)"
            case .rootMismatch: return "the proof does not lead to the expected root"
            case .invalidSizes(let old, let new): return "consistency between sizes \(old) and \(new) is not defined"
            }
        }
    }

    /// The root of the empty tree: SHA-256 of the empty string.
    public static let emptyRoot = Digest32.sha256([UInt8]())

    /// `SHA-256(0x00 ‖ entry)`.
    @inlinable
    public static func leafHash(_ entry: some DataProtocol) -> Digest32 {
        var hasher = SHA256()
        hasher.update(data: [UInt8(0)])
        hasher.update(data: entry)
        return Digest32(hasher.finalize())
    }

    /// `SHA-256(0x00 ‖ digest)`: the leaf hash of an entry that is itself a digest.
    @inlinable
    public static func leafHash(ofDigest entry: Digest32) -> Digest32 {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        entry.update(&hasher)
        return Digest32(hasher.finalize())
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    @inlinable
    public static func nodeHash(_ left: Digest32, _ right: Digest32) -> Digest32 {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(1)) { hasher.update(bufferPointer: $0) }
        left.update(&hasher)
        right.update(&hasher)
        return Digest32(hasher.finalize())
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2).
    @inlinable
    static func split(_ n: UInt64) -> UInt64 {
        UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
    }

    /// The root over already-hashed leaves (`MTH` of RFC 9162 §2.1.1).
    public static func root(leafHashes: some RandomAccessCollection<Digest32>) -> Digest32 {
        guard !leafHashes.isEmpty else { return emptyRoot }
        // Iterative: pair up level by level; an odd last node is promoted, which gives the
        // same tree shape as the recursive split definition.
        var level = Array(leafHashes)
        while level.count > 1 {
            var next = [Digest32]()
            next.reserveCapacity((level.count + 1) / 2)
            var i = 0
            while i + 1 < level.count {
                next.append(nodeHash(level[i], level[i + 1]))
                i += 2
            }
            if i < level.count { next.append(level[i]) }
            level = next
        }
        return level[0]
    }

    /// The audit path of leaf `index` in the tree over `leafHashes` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(
        index: UInt64,
        leafHashes: some RandomAccessCollection<Digest32>
    ) throws -> [Digest32] {
        let leaves = Array(leafHashes)
        let size = UInt64(leaves.count)
        guard index < size else { throw ProofError.indexOutOfRange(index: index, size: size) }
        var proof: [Digest32] = []
        var m = index
        var lo = 0
        var hi = leaves.count
        // Walk down from the root, collecting siblings; reverse to get leaf-to-root order.
        while hi - lo > 1 {
            let k = Int(split(UInt64(hi - lo)))
            if m < UInt64(k) {
                proof.append(root(leafHashes: leaves[(lo + k)..<hi]))
                hi = lo + k
            } else {
                proof.append(root(leafHashes: leaves[lo..<(lo + k)]))
                m -= UInt64(k)
                lo += k
            }
        }
        return proof.reversed()
    }

    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
    /// - Parameters:
    ///   - leafHash: the hash of the leaf (`leafHash(_:)` of the entry).
    ///   - index: the leaf's index.
    ///   - treeSize: the size of the tree the proof is for.
    ///   - proof: the audit path, leaf to root.
    ///   - root: the expected root hash.
    public static func verifyInclusion(
        leafHash: Digest32,
        index: UInt64,
        treeSize: UInt64,
        proof: [Digest32],
        root: Digest32
    ) throws {
        guard index < treeSize else { throw ProofError.indexOutOfRange(index: index, size: treeSize) }
        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { throw ProofError.wrongProofLength(expected: proof.count - 1, actual: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw ProofError.wrongProofLength(expected: proof.count + 1, actual: proof.count) }
        guard r == root else { throw ProofError.rootMismatch }
    }

    /// The consistency proof between the first `oldSize` leaves and all of `leafHashes`
    /// (RFC 9162 §2.1.4.1).
    public static func consistencyProof(
        oldSize: UInt64,
        leafHashes: some RandomAccessCollection<Digest32>
    ) throws -> [Digest32] {
        let leaves = Array(leafHashes)
        let newSize = UInt64(leaves.count)
        guard oldSize > 0, oldSize <= newSize else { throw ProofError.invalidSizes(old: oldSize, new: newSize) }
        if oldSize == newSize { return [] }
        return subproof(m: oldSize, leaves[...], complete: true)
    }

    static func subproof(m: UInt64, _ leaves: ArraySlice<Digest32>, complete: Bool) -> [Digest32] {
        let n = UInt64(leaves.count)
        if m == n { return complete ? [] : [root(leafHashes: leaves)] }
        let k = split(n)
        let start = leaves.startIndex
        if m <= k {
            return subproof(m: m, leaves[start..<(start + Int(k))], complete: complete)
                + [root(leafHashes: leaves[(start + Int(k))...])]
        } else {
            return subproof(m: m - k, leaves[(start + Int(k))...], complete: false)
                + [root(leafHashes: leaves[start..<(start + Int(k))])]
        }
    }

    /// Verifies a consistency proof (RFC 9162 §2.1.4.2).
    public static func verifyConsistency(
        oldSize: UInt64,
        newSize: UInt64,
        oldRoot: Digest32,
        newRoot: Digest32,
        proof: [Digest32]
    ) throws {
        guard oldSize <= newSize, oldSize > 0 else { throw ProofError.invalidSizes(old: oldSize, new: newSize) }
        if oldSize == newSize {
            guard proof.isEmpty else { throw ProofError.wrongProofLength(expected: 0, actual: proof.count) }
            guard oldRoot == newRoot else { throw ProofError.rootMismatch }
            return
        }
        guard !proof.isEmpty else { throw ProofError.wrongProofLength(expected: 1, actual: 0) }
        var path = proof[...]
        // If old size is an exact power of two, the old root is the first node of the path.
        if oldSize & (oldSize - 1) == 0 { path = ([oldRoot] + proof)[...] }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[path.startIndex]
        var sr = fr
        for c in path.dropFirst() {
            if sn == 0 { throw ProofError.wrongProofLength(expected: path.count - 1, actual: proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw ProofError.wrongProofLength(expected: proof.count + 1, actual: proof.count) }
        guard fr == oldRoot, sr == newRoot else { throw ProofError.rootMismatch }
    }
}
