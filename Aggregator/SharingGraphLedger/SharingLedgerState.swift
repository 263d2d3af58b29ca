import Ledger
import SharingGraph

/// A store's sharing graph and its records' public facts, kept up to date block by block:
/// each ``update(from:)`` reads only the leaves after the last one applied.
public struct SharingLedgerState: Sendable {
    public private(set) var graph = SharingGraph()
    public private(set) var facts = TraceabilityLoader.Facts()

    public init() {}

    /// Reads and applies what `store` holds after the last leaf applied.
    /// - Returns: the edges and records added.
    @discardableResult
    public mutating func update(from store: LedgerStore) throws -> Int {
        let delta = try SharingGraphLoader.delta(store, after: graph.lastLeaf)
        let later = try TraceabilityLoader.facts(store, after: facts.throughLeaf)
        return apply(delta, later, factsAfter: facts.throughLeaf)
    }

    /// Applies a delta and facts read after `factsAfter`; facts read from another point (a
    /// concurrent update got there first) are dropped, so nothing is counted twice.
    @discardableResult
    public mutating func apply(_ delta: SharingDelta, _ later: TraceabilityLoader.Facts, factsAfter: UInt64?) -> Int {
        let edges = graph.apply(delta)
        guard factsAfter == facts.throughLeaf else { return edges }
        facts.append(later)
        return edges + later.records.count
    }

    /// The audit's alarms over the current state.
    public func alarms(_ audit: AnomalyAudit = .init(), since: Int64? = nil, kinds: Set<AnomalyAlarm.Kind>? = nil)
        -> [AnomalyAlarm]
    {
        audit.alarms(graph: graph, records: facts.records, series: facts.series, since: since, kinds: kinds)
    }
}
