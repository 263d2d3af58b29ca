import AgriTraceCore
import Ledger
import SQLiteStorage
import SharingGraph

/// Reads the sharing graph's edges and the traceability checks' public facts from a ledger
/// store's contract tables, for the leaves after a given one: a whole graph at first, then
/// one block's worth at a time (``SharingGraph/apply(_:)``).
///
/// Deterministic: each edge is taken from the row its own leaf wrote (a request's owner is
/// the first entry of its lot and level before the request), so a graph built block by block
/// equals one built at once.
public enum SharingGraphLoader {
    /// The edges, principals and lot links of the leaves after `after` (nil: from the start),
    /// read in one snapshot, up to the store's last leaf.
    public static func delta(_ store: LedgerStore, after: UInt64?) throws -> SharingDelta {
        try store.db.transaction(.deferred) {
            guard let through = try lastLeaf(store) else { return SharingDelta() }
            let bounds = LeafBounds(after: after, through: through)
            var edges = try requests(store, bounds)
            edges += try results(store, bounds)
            edges += try transfers(store, bounds)
            edges += try reads(store, bounds)
            edges += try revocations(store, bounds)
            return SharingDelta(
                edges: edges, principals: try principals(store), lotLinks: try lotLinks(store, bounds),
                throughLeaf: through)
        }
    }

    /// The whole graph of `store`.
    public static func graph(_ store: LedgerStore) throws -> SharingGraph {
        var graph = SharingGraph()
        graph.apply(try delta(store, after: nil))
        return graph
    }

    /// Applies what the store holds after `graph`'s last leaf. Returns the edges added.
    @discardableResult
    public static func update(_ graph: inout SharingGraph, from store: LedgerStore) throws -> Int {
        graph.apply(try delta(store, after: graph.lastLeaf))
    }

    /// The store's last leaf, nil when it is empty.
    public static func lastLeaf(_ store: LedgerStore) throws -> UInt64? {
        let select = try store.db.prepare("SELECT max(leaf_index) FROM log_entries")
        guard try select.step(), !select.isNull(at: 0) else { return nil }
        return UInt64(select.int64(at: 0))
    }

    struct LeafBounds {
        var after: UInt64?
        var through: UInt64

        func bind(_ statement: Statement) throws {
            try statement.bind([.integer(after.map { Int64($0) } ?? -1), .int(through)])
        }
    }

    static func rows(_ store: LedgerStore, _ sql: String, _ bounds: LeafBounds, _ row: (Statement) -> SharingEdge)
        throws -> [SharingEdge]
    {
        let select = try store.db.prepare(sql)
        try bounds.bind(select)
        var edges: [SharingEdge] = []
        while try select.step() { edges.append(row(select)) }
        return edges
    }

    static func edge(_ kind: SharingEdge.Kind, _ s: Statement, records: Int = 0) -> SharingEdge {
        SharingEdge(
            kind: kind, from: s.string(at: 2) ?? "", to: s.string(at: 3) ?? "", lot: s.string(at: 4) ?? "",
            level: s.string(at: 5) ?? "", time: s.int64(at: 1),
            outcome: SharingEdge.Outcome(rawValue: s.string(at: 6) ?? ""),
            leaf: UInt64(s.int64(at: 0)), source: s.string(at: 7) ?? "", records: records,
            requestID: s.string(at: 8) ?? "")
    }

    /// The owner a request at `leafColumn` addressed: the first entry of its lot and level
    /// before it, else the enterprise of the lot's first record.
    static func owner(_ leafColumn: String) -> String {
        """
        coalesce((SELECT e.owner FROM encrypted_data e WHERE e.lot = q.lot AND e.level = q.level AND e.leaf_index < \(leafColumn) ORDER BY e.leaf_index LIMIT 1),
                 (SELECT r.enterprise FROM records r WHERE r.lot = q.lot ORDER BY r.leaf_index LIMIT 1), '')
        """
    }

    static func requests(_ store: LedgerStore, _ bounds: LeafBounds) throws -> [SharingEdge] {
        try rows(
            store,
            """
            SELECT ev.leaf_index, q.request_time, q.requester, \(owner("q.request_leaf")), q.lot, q.level,
                   CASE WHEN q.status = 'denied' AND q.result_leaf IS NULL THEN 'denied' ELSE 'submitted' END, q.source, q.request_id
              FROM access_events ev JOIN access_requests q ON q.request_id = ev.subject AND q.request_leaf = ev.leaf_index
             WHERE ev.leaf_index > ?1 AND ev.leaf_index <= ?2 AND ev.method = 'addTrapdoor'
            """, bounds
        ) { edge(.request, $0) }
    }

    static func results(_ store: LedgerStore, _ bounds: LeafBounds) throws -> [SharingEdge] {
        try rows(
            store,
            """
            SELECT ev.leaf_index, q.result_time,
                   coalesce((SELECT e.owner FROM encrypted_data e WHERE e.data_id = q.data_id), \(owner("q.result_leaf"))),
                   q.requester, q.lot, q.level, q.status, q.source, q.request_id
              FROM access_events ev JOIN access_requests q ON q.request_id = ev.subject AND q.result_leaf = ev.leaf_index
             WHERE ev.leaf_index > ?1 AND ev.leaf_index <= ?2 AND ev.method = 'addResult'
            """, bounds
        ) { result($0) }
    }

    /// A match's edge: a grant when it granted the request, else a denial.
    static func result(_ s: Statement) -> SharingEdge {
        var edge = edge(.grant, s)
        if edge.outcome != .granted { edge.kind = .denial }
        return edge
    }
}
