/// An append-only RFC 9162 log held in memory: every complete-subtree hash, level by level,
/// so roots and proofs of any prefix cost O(log n) node reads through ``LogProofs``.
///
/// The in-memory ``LogNodeSource``: the field commitments of a record, a block's transaction
/// root, and test receivers use it; the aggregator's stored log answers the same proofs from
/// SQLite.
public struct MerkleLog: LogNodeSource, Sendable, Equatable {
    /// `levels[k][j]`: the hash of the complete subtree of `2^k` leaves starting at leaf `j·2^k`.
    public private(set) var levels: [[Digest32]] = [[]]

    /// An empty log.
    public init() {}

    /// The log of `leafHashes`, in order.
    public init(leafHashes: some Sequence<Digest32>) {
        levels[0].reserveCapacity(leafHashes.underestimatedCount)
        for hash in leafHashes { append(hash) }
    }

    /// The number of leaves.
    public var size: UInt64 { UInt64(levels[0].count) }

    /// Appends a leaf hash and every complete subtree it finishes.
    public mutating func append(_ leafHash: Digest32) {
        levels[0].append(leafHash)
        var level = 0
        while levels[level].count % 2 == 0 {
            let count = levels[level].count
            let parent = MerkleTree.nodeHash(levels[level][count - 2], levels[level][count - 1])
            if levels.count == level + 1 { levels.append([]) }
            levels[level + 1].append(parent)
            level += 1
        }
    }

    public func node(_ position: LogNodePosition) throws -> Digest32 {
        guard position.level < levels.count, position.index < UInt64(levels[position.level].count) else {
            throw MissingLogNode(position: position)
        }
        return levels[position.level][Int(position.index)]
    }

    /// The root of the whole log.
    public var root: Digest32 { (try? root(size: size)) ?? MerkleTree.emptyRoot }

    /// The root of the first `size` leaves.
    public func root(size: UInt64) throws -> Digest32 {
        guard size <= self.size else { throw MerkleTree.ProofError.invalidSizes(old: size, new: self.size) }
        var source = self
        return try LogProofs.root(size: size, &source)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves (default: all).
    public func inclusionProof(index: UInt64, size: UInt64? = nil) throws -> [Digest32] {
        let size = size ?? self.size
        guard size <= self.size else { throw MerkleTree.ProofError.indexOutOfRange(index: index, size: self.size) }
        var source = self
        return try LogProofs.inclusionProof(index: index, size: size, &source)
    }

    /// The consistency proof between the first `oldSize` and the first `newSize` leaves (default: all).
    public func consistencyProof(oldSize: UInt64, newSize: UInt64? = nil) throws -> [Digest32] {
        let newSize = newSize ?? size
        guard newSize <= size else { throw MerkleTree.ProofError.invalidSizes(old: oldSize, new: newSize) }
        var source = self
        return try LogProofs.consistencyProof(oldSize: oldSize, newSize: newSize, &source)
    }
}
