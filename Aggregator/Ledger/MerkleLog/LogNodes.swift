import AgriTraceCore

/// The position of a complete subtree of the log: `level` 0 is a leaf, and the node at
/// (`level`, `index`) covers leaves `index << level ..< (index + 1) << level`.
public struct LogNodePosition: Hashable, Sendable, CustomStringConvertible {
    public var level: Int
    public var index: UInt64

    public init(level: Int, index: UInt64) {
        self.level = level
        self.index = index
    }

    /// The first leaf the node covers.
    public var firstLeaf: UInt64 { index << UInt64(level) }

    /// One integer key for storage: `level << 56 | index`.
    public var storageKey: Int64 { Int64(level) << 56 | Int64(index) }

    /// The position for a storage key.
    public init(storageKey: Int64) {
        level = Int(storageKey >> 56)
        index = UInt64(storageKey & ((1 << 56) - 1))
    }

    public var description: String { "level \(level) index \(index)" }
}

/// Where proofs read the hashes of complete subtrees from (the store, or memory).
public protocol LogNodeReader {
    /// The hash of the complete subtree at `position` (which must lie inside the log).
    mutating func node(_ position: LogNodePosition) throws -> Digest32
}

/// RFC 9162 subtree roots and proofs computed from complete-subtree hashes, so a log
/// of any size answers a proof with O(log n) node reads.
///
/// These functions give the same results as the reference ``MerkleTree`` functions over
/// the full leaf list (tested against them).
public enum LogProofs {
    /// The RFC 9162 root of leaves `lo ..< hi` (hi > lo); `lo` must be aligned as in
    /// the recursive split of the tree (always true for ranges the proofs ask for).
    public static func subtreeRoot(_ lo: UInt64, _ hi: UInt64, _ reader: inout some LogNodeReader) throws -> Digest32 {
        let count = hi - lo
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            return try reader.node(LogNodePosition(level: level, index: lo >> UInt64(level)))
        }
        let k = largestPowerOfTwo(below: count)
        let left = try subtreeRoot(lo, lo + k, &reader)
        let right = try subtreeRoot(lo + k, hi, &reader)
        return MerkleTree.nodeHash(left, right)
    }

    /// The root of the first `size` leaves (the empty root for 0).
    public static func root(size: UInt64, _ reader: inout some LogNodeReader) throws -> Digest32 {
        size == 0 ? MerkleTree.emptyRoot : try subtreeRoot(0, size, &reader)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves, leaf to root.
    public static func inclusionProof(index: UInt64, size: UInt64, _ reader: inout some LogNodeReader) throws
        -> [Digest32]
    {
        var edge = RightEdge(size: size)
        return try inclusionProof(index: index, &edge, &reader)
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
    public static func inclusionProof(index: UInt64, _ edge: inout RightEdge, _ reader: inout some LogNodeReader)
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
                    hi == size ? try rightEdgeRoot(lo + k, &edge, &reader) : try subtreeRoot(lo + k, hi, &reader))
                hi = lo + k
            } else {
                proof.append(try subtreeRoot(lo, lo + k, &reader))
                lo += k
            }
        }
        proof.reverse()
        return proof
    }

    static func rightEdgeRoot(_ lo: UInt64, _ edge: inout RightEdge, _ reader: inout some LogNodeReader) throws
        -> Digest32
    {
        if let root = edge.roots[lo] { return root }
        let count = edge.size - lo
        let root: Digest32
        if count & (count - 1) == 0 {
            root = try subtreeRoot(lo, edge.size, &reader)
        } else {
            let k = largestPowerOfTwo(below: count)
            root = MerkleTree.nodeHash(
                try subtreeRoot(lo, lo + k, &reader), try rightEdgeRoot(lo + k, &edge, &reader))
        }
        edge.roots[lo] = root
        return root
    }

    /// The consistency proof between the first `oldSize` and the first `newSize` leaves.
    public static func consistencyProof(oldSize: UInt64, newSize: UInt64, _ reader: inout some LogNodeReader) throws
        -> [Digest32]
    {
        guard oldSize > 0, oldSize <= newSize else {
            throw MerkleTree.ProofError.invalidSizes(old: oldSize, new: newSize)
        }
        if oldSize == newSize { return [] }
        return try subproof(m: oldSize, lo: 0, hi: newSize, complete: true, &reader)
    }

    static func subproof(m: UInt64, lo: UInt64, hi: UInt64, complete: Bool, _ reader: inout some LogNodeReader) throws
        -> [Digest32]
    {
        let n = hi - lo
        if m == n { return complete ? [] : [try subtreeRoot(lo, hi, &reader)] }
        let k = largestPowerOfTwo(below: n)
        if m <= k {
            return try subproof(m: m, lo: lo, hi: lo + k, complete: complete, &reader) + [
                subtreeRoot(lo + k, hi, &reader)
            ]
        } else {
            return try subproof(m: m - k, lo: lo + k, hi: hi, complete: false, &reader) + [
                subtreeRoot(lo, lo + k, &reader)
            ]
        }
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2).
    @inlinable
    static func largestPowerOfTwo(below n: UInt64) -> UInt64 {
        UInt64(1) << UInt64(63 - (n - 1).leadingZeroBitCount)
    }
}

/// Complete-subtree hashes held in memory (a block being cut, or a test).
public struct InMemoryLogNodes: LogNodeReader, Sendable {
    public var nodes: [LogNodePosition: Digest32]

    public init(nodes: [LogNodePosition: Digest32] = [:]) { self.nodes = nodes }

    /// All complete nodes over `leafHashes` (for tests and small logs).
    public init(leafHashes: [Digest32]) {
        var frontier = LogFrontier()
        var nodes: [LogNodePosition: Digest32] = [:]
        for hash in leafHashes {
            frontier.append(hash) { nodes[$0] = $1 }
        }
        self.nodes = nodes
    }

    public struct MissingNode: Error, CustomStringConvertible {
        public var position: LogNodePosition
        public var description: String { "log node \(position) is not available" }
    }

    public func node(_ position: LogNodePosition) throws -> Digest32 {
        guard let hash = nodes[position] else { throw MissingNode(position: position) }
        return hash
    }
}

/// The complete-subtree hashes a block's receipts read: the log's right edge before the
/// block and every node its leaves complete. Kept level by level in arrays, because both
/// are contiguous runs of indexes per level (the right edge has at most one node per level,
/// just before the block's first node of that level): a node is found by subtraction, not
/// by hashing its position.
struct BlockLogNodes: LogNodeReader, Sendable {
    /// Per level, the index of the first node held.
    private var first: [UInt64] = []
    /// Per level, the hashes of nodes `first[level]...` in index order.
    private var levels: [[Digest32]] = []
    /// Nodes outside the runs (none for a frontier followed by appends; kept for safety).
    private var others: [LogNodePosition: Digest32] = [:]

    /// Room for the nodes of `leaves` appended leaves.
    init(reservingFor leaves: Int) {
        var count = leaves + 1
        while count > 1 {
            var level: [Digest32] = []
            level.reserveCapacity(count + 1)
            levels.append(level)
            first.append(0)
            count = (count + 1) / 2
        }
    }

    mutating func insert(_ position: LogNodePosition, _ hash: Digest32) {
        while levels.count <= position.level {
            levels.append([])
            first.append(0)
        }
        if levels[position.level].isEmpty { first[position.level] = position.index }
        if position.index == first[position.level] &+ UInt64(levels[position.level].count) {
            levels[position.level].append(hash)
        } else {
            others[position] = hash
        }
    }

    func node(_ position: LogNodePosition) throws -> Digest32 {
        if position.level < levels.count {
            let offset = position.index &- first[position.level]
            if offset < UInt64(levels[position.level].count) { return levels[position.level][Int(offset)] }
        }
        guard let hash = others[position] else { throw InMemoryLogNodes.MissingNode(position: position) }
        return hash
    }
}

/// The right edge of the log: the roots of the complete subtrees whose sizes are the
/// binary digits of the log size, largest first. Appending a leaf merges equal-sized
/// subtrees and reports every complete node it creates.
public struct LogFrontier: Sendable, Equatable {
    /// The complete subtrees of the right edge, largest (leftmost) first.
    public private(set) var subtrees: [(position: LogNodePosition, hash: Digest32)] = []
    /// The number of leaves.
    public private(set) var size: UInt64 = 0

    public init() {}

    /// Rebuilds the frontier of a log of `size` leaves from stored nodes.
    public init(size: UInt64, reader: inout some LogNodeReader) throws {
        var offset: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (UInt64(1) << UInt64(level)) != 0 {
            let position = LogNodePosition(level: level, index: offset >> UInt64(level))
            subtrees.append((position, try reader.node(position)))
            offset += UInt64(1) << UInt64(level)
        }
        self.size = size
    }

    /// Appends a leaf hash; `emit` sees the leaf (level 0) and every completed parent node.
    public mutating func append(_ leafHash: Digest32, emit: (LogNodePosition, Digest32) -> Void) {
        var position = LogNodePosition(level: 0, index: size)
        var hash = leafHash
        emit(position, hash)
        while let last = subtrees.last, last.position.level == position.level {
            subtrees.removeLast()
            hash = MerkleTree.nodeHash(last.hash, hash)
            position = LogNodePosition(level: position.level + 1, index: position.index >> 1)
            emit(position, hash)
        }
        subtrees.append((position, hash))
        size += 1
    }

    /// The RFC 9162 root of the log.
    public var root: Digest32 {
        guard var hash = subtrees.last?.hash else { return MerkleTree.emptyRoot }
        for subtree in subtrees.dropLast().reversed() {
            hash = MerkleTree.nodeHash(subtree.hash, hash)
        }
        return hash
    }

    public static func == (lhs: LogFrontier, rhs: LogFrontier) -> Bool {
        lhs.size == rhs.size && lhs.subtrees.map(\.hash) == rhs.subtrees.map(\.hash)
    }
}
