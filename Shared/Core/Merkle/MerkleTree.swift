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
/// Proofs over a list of leaves are built by ``MerkleLog`` and ``LogProofs``, the one
/// implementation; this namespace holds the hashing and the verification.
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

    /// `SHA-256(0x00 ‖ entry)` for an entry's canonical bytes (the ingest path: no generic
    /// `DataProtocol` hashing).
    @inlinable
    public static func leafHash(_ entry: [UInt8]) -> Digest32 {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
        hasher.update(bytes: entry)
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

    /// The root over already-hashed leaves (`MTH` of RFC 9162 §2.1.1).
    public static func root(leafHashes: some Sequence<Digest32>) -> Digest32 {
        // The log's right edge only: no stored levels (a record's commitment is computed per
        // reading on the agent's intake path).
        var frontier = LogFrontier()
        for hash in leafHashes { frontier.append(hash) { _, _ in } }
        return frontier.root
    }

    /// The audit path of leaf `index` in the tree over `leafHashes` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: UInt64, leafHashes: some Sequence<Digest32>) throws -> [Digest32] {
        try MerkleLog(leafHashes: leafHashes).inclusionProof(index: index)
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
            r = stepUp(&fn, &sn) ? nodeHash(p, r) : nodeHash(r, p)
        }
        guard sn == 0 else { throw ProofError.wrongProofLength(expected: proof.count + 1, actual: proof.count) }
        guard r == root else { throw ProofError.rootMismatch }
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
            if stepUp(&fn, &sn) {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
            } else {
                sr = nodeHash(sr, c)
            }
        }
        guard sn == 0 else { throw ProofError.wrongProofLength(expected: proof.count + 1, actual: proof.count) }
        guard fr == oldRoot, sr == newRoot else { throw ProofError.rootMismatch }
    }

    /// The walk up the tree both verifications share (RFC 9162 §2.1.3.2 and §2.1.4.2): whether
    /// the next node of the path is a left sibling (`LSB(fn)` set or `fn == sn`; then `fn` and
    /// `sn` first shift right until `LSB(fn)` is set or `fn` is 0), then one level up.
    @inline(__always)
    static func stepUp(_ fn: inout UInt64, _ sn: inout UInt64) -> Bool {
        let leftSibling = fn & 1 == 1 || fn == sn
        if leftSibling {
            while fn & 1 == 0 && fn != 0 {
                fn >>= 1
                sn >>= 1
            }
        }
        fn >>= 1
        sn >>= 1
        return leftSibling
    }
}
