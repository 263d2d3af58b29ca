import AgriTraceCore

/// The complete-subtree hashes a block's receipts read: the log's right edge before the
/// block and every node its leaves complete. Kept level by level in arrays, because both
/// are contiguous runs of indexes per level (the right edge has at most one node per level,
/// just before the block's first node of that level): a node is found by subtraction, not
/// by hashing its position.
struct BlockLogNodes: LogNodeSource, Sendable {
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
        guard let hash = others[position] else { throw MissingLogNode(position: position) }
        return hash
    }
}
