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
    public init(size: UInt64, source: inout some LogNodeSource) throws {
        var offset: UInt64 = 0
        for level in stride(from: 63, through: 0, by: -1) where size & (UInt64(1) << UInt64(level)) != 0 {
            let position = LogNodePosition(level: level, index: offset >> UInt64(level))
            subtrees.append((position, try source.node(position)))
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
