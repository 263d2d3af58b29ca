/// RFC 9162 subtree roots and proofs computed from complete-subtree hashes, so a log of
/// any size answers a proof with O(log n) node reads. The one proof implementation: the
/// in-memory ``MerkleLog``, the list functions of ``MerkleTree`` and the aggregator's stored
/// log all build their proofs here (checked against a recursive test-only reference).
public enum LogProofs {
    /// The RFC 9162 root of leaves `lo ..< hi` (hi > lo); `lo` must be aligned as in
    /// the recursive split of the tree (always true for ranges the proofs ask for).
    public static func subtreeRoot(_ lo: UInt64, _ hi: UInt64, _ source: inout some LogNodeSource) throws -> Digest32 {
        let count = hi - lo
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return try source.node(LogNodePosition(level: level, index: lo >> UInt64(level)))
        }
        let k = largestPowerOfTwo(below: count)
        let left = try subtreeRoot(lo, lo + k, &source)
        let right = try subtreeRoot(lo + k, hi, &source)
        return MerkleTree.nodeHash(left, right)
    }

    /// The root of the first `size` leaves (the empty root for 0).
    public static func root(size: UInt64, _ source: inout some LogNodeSource) throws -> Digest32 {
        size == 0 ? MerkleTree.emptyRoot : try subtreeRoot(0, size, &source)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves, leaf to root.
    public static func inclusionProof(index: UInt64, size: UInt64, _ source: inout some LogNodeSource) throws
        -> [Digest32]
    {
        var edge = RightEdge(size: size)
        return try inclusionProof(index: index, &edge, &source)
    }

    /// The roots of the right edge of one log size, `[lo, size)` for the `lo` the proofs
    /// visit: every inclusion proof against that size shares them, so the receipts of a
    /// block (all against the block's tree head) compute each once instead of once per record.
    public struct RightEdge: Sendable {
        public let size: UInt64
        var roots: [UInt64: Digest32] = [:]

        public init(size: UInt64) { self.size = size }
    }

    /// ``inclusionProof(index:size:_:)`` against `edge.size`, with the right-edge roots memoized in `edge`.
    public static func inclusionProof(index: UInt64, _ edge: inout RightEdge, _ source: inout some LogNodeSource)
        throws -> [Digest32]
    {
        let size = edge.size
        guard index < size else { throw MerkleTree.ProofError.indexOutOfRange(index: index, size: size) }
        var proof: [Digest32] = []
        proof.reserveCapacity(64 - size.leadingZeroBitCount)
        var lo: UInt64 = 0
        var hi = size
        while hi - lo > 1 {
            let k = largestPowerOfTwo(below: hi - lo)
            if index < lo + k {
                // [lo + k, hi) is on the right edge when hi is the size; otherwise complete.
                proof.append(
                    hi == size ? try rightEdgeRoot(lo + k, &edge, &source) : try subtreeRoot(lo + k, hi, &source))
                hi = lo + k
            } else {
                proof.append(try subtreeRoot(lo, lo + k, &source))
                lo += k
            }
        }
        proof.reverse()
        return proof
    }

    static func rightEdgeRoot(_ lo: UInt64, _ edge: inout RightEdge, _ source: inout some LogNodeSource) throws
        -> Digest32
    {
        if let root = edge.roots[lo] { return root }
        let count = edge.size - lo
        let root: Digest32
        if count & (count - 1) == 0 {
            root = try subtreeRoot(lo, edge.size, &source)
        } else {
            let k = largestPowerOfTwo(below: count)
            root = MerkleTree.nodeHash(
                try subtreeRoot(lo, lo + k, &source), try rightEdgeRoot(lo + k, &edge, &source))
        }
        edge.roots[lo] = root
        return root
    }

    /// The consistency proof between the first `oldSize` and the first `newSize` leaves.
    public static func consistencyProof(oldSize: UInt64, newSize: UInt64, _ source: inout some LogNodeSource) throws
        -> [Digest32]
    {
        guard oldSize > 0, oldSize <= newSize else {
            throw MerkleTree.ProofError.invalidSizes(old: oldSize, new: newSize)
        }
        if oldSize == newSize { return [] }
        var proof: [Digest32] = []
        try subproof(m: oldSize, lo: 0, hi: newSize, complete: true, &source, into: &proof)
        return proof
    }

    /// SUBPROOF of RFC 9162 §2.1.4.1 over leaves `lo ..< hi`, appended to `proof`.
    static func subproof(
        m: UInt64, lo: UInt64, hi: UInt64, complete: Bool, _ source: inout some LogNodeSource,
        into proof: inout [Digest32]
    ) throws {
        let n = hi - lo
        if m == n {
            if !complete { proof.append(try subtreeRoot(lo, hi, &source)) }
            return
        }
        let k = largestPowerOfTwo(below: n)
        if m <= k {
            try subproof(m: m, lo: lo, hi: lo + k, complete: complete, &source, into: &proof)
            proof.append(try subtreeRoot(lo + k, hi, &source))
        } else {
            try subproof(m: m - k, lo: lo + k, hi: hi, complete: false, &source, into: &proof)
            proof.append(try subtreeRoot(lo, lo + k, &source))
        }
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2).
    @inlinable
    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        UInt64(1) << UInt64(63 - (n - 1).leadingZeroBitCount)
    }
}
