/// The data-sharing graph: principals as nodes (grouped into enterprises), the ledger's
/// access and transfer transactions as directed edges, with the indexes its queries need.
///
/// Built from ``SharingDelta``s in leaf order and updated the same way: ``apply(_:)`` adds a
/// block's edges without rebuilding, and remembers the last leaf it covers (``lastLeaf``), so
/// the loader asks the ledger only for what came after. The same ledger gives the same graph
/// whether it was built at once or block by block (tested).
public struct SharingGraph: Sendable {
    /// Every edge, in leaf order (block time never decreases along the log, so also in time order).
    public private(set) var edges: [SharingEdge] = []
    /// Principals by name.
    public private(set) var principals: [String: SharingPrincipal] = [:]
    /// The last leaf applied, nil for an empty graph.
    public private(set) var lastLeaf: UInt64?

    var byLot: [String: [Int]] = [:]
    var outgoing: [String: [Int]] = [:]
    var incoming: [String: [Int]] = [:]
    var members: [String: Set<String>] = [:]
    /// Input lot → lots made from it.
    var outputs: [String: Set<String>] = [:]
    /// Data-carrying neighbours: principal → principals it delivered data to.
    var successors: [String: [String]] = [:]
    /// The first delivering edge's leaf of each (from, to) pair.
    var firstLink: [Pair: UInt64] = [:]
    /// Delivered transfers and records sent and received by each principal, over all edges.
    var sentTotals: [String: Totals] = [:]
    var receivedTotals: [String: Totals] = [:]

    struct Totals {
        var transfers = 0
        var records = 0

        mutating func add(_ edge: SharingEdge) {
            transfers += 1
            records += edge.records
        }
    }

    struct Pair: Hashable {
        var from: String
        var to: String
    }

    public init() {}

    /// Adds a block's edges, principals and lot links. Edges at or before ``lastLeaf`` are
    /// skipped (already applied), so applying a delta twice changes nothing.
    /// - Returns: the number of edges added.
    @discardableResult
    public mutating func apply(_ delta: SharingDelta) -> Int {
        for principal in delta.principals where principals[principal.name] != principal {
            if let old = principals[principal.name] { members[old.enterprise]?.remove(old.name) }
            principals[principal.name] = principal
            members[principal.enterprise, default: []].insert(principal.name)
        }
        for link in delta.lotLinks { outputs[link.input, default: []].insert(link.lot) }
        let fresh = delta.edges.filter { edge in lastLeaf.map { edge.leaf > $0 } ?? true }.sorted { $0.leaf < $1.leaf }
        for edge in fresh { insert(edge) }
        let newest = [lastLeaf, delta.throughLeaf, fresh.last?.leaf].compactMap { $0 }.max()
        lastLeaf = newest
        return fresh.count
    }

    private mutating func insert(_ edge: SharingEdge) {
        let index = edges.count
        edges.append(edge)
        byLot[edge.lot, default: []].append(index)
        outgoing[edge.from, default: []].append(index)
        incoming[edge.to, default: []].append(index)
        guard edge.delivered else { return }
        if edge.kind == .transfer {
            sentTotals[edge.from, default: Totals()].add(edge)
            receivedTotals[edge.to, default: Totals()].add(edge)
        }
        let pair = Pair(from: edge.from, to: edge.to)
        if firstLink[pair] == nil {
            firstLink[pair] = edge.leaf
            successors[edge.from, default: []].append(edge.to)
        }
    }

    /// The enterprise of a principal; a name the registry does not know stands for itself.
    public func enterprise(of principal: String) -> String {
        principals[principal]?.enterprise ?? principal
    }

    /// The principals of an enterprise, sorted.
    public func members(of enterprise: String) -> [String] {
        (members[enterprise] ?? []).sorted()
    }

    /// The number of distinct principals that appear on an edge or in the registry.
    public var nodeCount: Int {
        Set(outgoing.keys).union(incoming.keys).union(principals.keys).count
    }

    /// The edges at `indices` whose time is in `[since, until)`: `indices` are in leaf (so
    /// time) order, so the bounds are found by binary search.
    func slice(_ indices: [Int], since: Int64?, until: Int64?) -> ArraySlice<Int> {
        let lower = since.map { bound in firstIndex(indices) { edges[$0].time >= bound } } ?? 0
        let upper = until.map { bound in firstIndex(indices) { edges[$0].time >= bound } } ?? indices.count
        return indices[lower..<max(lower, upper)]
    }

    /// The first position in `indices` where `reached` holds (it must hold from some point on).
    func firstIndex(_ indices: [Int], where reached: (Int) -> Bool) -> Int {
        var low = 0
        var high = indices.count
        while low < high {
            let middle = (low + high) / 2
            if reached(indices[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The first edge position at or after `time` in ``edges``.
    func firstEdge(atOrAfter time: Int64) -> Int {
        var low = 0
        var high = edges.count
        while low < high {
            let middle = (low + high) / 2
            if edges[middle].time >= time { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
