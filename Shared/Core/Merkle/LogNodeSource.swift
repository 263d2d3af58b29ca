/// The position of a complete subtree of the log: `level` 0 is a leaf, and the node at
/// (`level`, `index`) covers leaves `index << level ..< (index + 1) << level`.
public struct LogNodePosition: Hashable, Sendable, CustomStringConvertible {
    public var level: Int
    public var index: UInt64

    /// The first leaf the node covers.
    public var firstLeaf: UInt64 { index << UInt64(level) }

    /// One integer key for storage: `level << 56 | index`.
    public var storageKey: Int64 { Int64(level) << 56 | Int64(index) }

    public var description: String { "level \(level) index \(index)" }
}

extension LogNodePosition {
    /// The position for a storage key.
    public init(storageKey: Int64) {
        self.init(level: Int(storageKey >> 56), index: UInt64(storageKey & ((1 << 56) - 1)))
    }
}

/// The seam between the proof code and where the hashes of complete subtrees live: memory
/// (``MerkleLog``, a block being cut) or a store (the aggregator's SQLite log). The same
/// ``LogProofs`` serve every source.
public protocol LogNodeSource {
    /// The hash of the complete subtree at `position` (which must lie inside the log).
    mutating func node(_ position: LogNodePosition) throws -> Digest32
}

/// A node a source does not hold.
public struct MissingLogNode: Error, CustomStringConvertible {
    public var position: LogNodePosition

    public init(position: LogNodePosition) { self.position = position }

    public var description: String { "log node \(position) is not available" }
}
