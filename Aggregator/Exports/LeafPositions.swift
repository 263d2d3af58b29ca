/// Positions by leaf: a table indexed by leaf when the leaves lie close together (a window's
/// records), a dictionary otherwise (a lot's lineage, records read from elsewhere in the log).
struct LeafPositions {
    /// The first leaf of ``table``.
    var base: UInt64 = 0
    /// Position + 1 of each leaf from ``base`` (0: none).
    var table: [Int] = []
    var others: [UInt64: Int] = [:]

    /// The positions of `leaves` (the position of a leaf given twice is its last). The table
    /// spans the leaves of a sample of them but its outlying hundredth at each end (a window's few
    /// records recorded long before or after the rest stay in the dictionary), if that span is
    /// at most four times the number of leaves.
    init(_ leaves: [UInt64]) {
        let sample = stride(from: 0, to: leaves.count, by: 64).map { leaves[$0] }.sorted()
        if !sample.isEmpty {
            let low = sample[sample.count / 100]
            let high = sample[sample.count - 1 - sample.count / 100]
            if high - low < UInt64(4 * leaves.count) {
                base = low
                table = Array(repeating: 0, count: Int(high - low) + 1)
            }
        }
        for (position, leaf) in leaves.enumerated() { self[leaf] = position }
    }

    subscript(leaf: UInt64) -> Int? {
        get {
            guard leaf >= base, leaf - base < UInt64(table.count) else { return others[leaf] }
            let entry = table[Int(leaf - base)]
            return entry == 0 ? nil : entry - 1
        }
        set {
            guard leaf >= base, leaf - base < UInt64(table.count) else {
                others[leaf] = newValue
                return
            }
            table[Int(leaf - base)] = newValue.map { $0 + 1 } ?? 0
        }
    }
}
