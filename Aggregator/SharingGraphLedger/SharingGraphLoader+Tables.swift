import AgriTraceCore
import Ledger
import SQLiteStorage
import SharingGraph

extension SharingGraphLoader {
    static func transfers(_ store: LedgerStore, _ bounds: LeafBounds) throws -> [SharingEdge] {
        try rows(
            store,
            """
            SELECT leaf_index, time, sender, receiver, lot, level,
                   CASE outcome WHEN 'applied' THEN status ELSE 'refused-by-contract' END, source, request_id, record_count
              FROM transfers WHERE leaf_index > ?1 AND leaf_index <= ?2
            """, bounds
        ) { edge(.transfer, $0, records: Int($0.int64(at: 9))) }
    }

    static func reads(_ store: LedgerStore, _ bounds: LeafBounds) throws -> [SharingEdge] {
        try rows(
            store,
            """
            SELECT r.leaf_index, r.time, r.reader, coalesce(t.sender, ''), r.lot, r.level, r.outcome, '', r.request_id, r.record_count
              FROM transfer_reads r LEFT JOIN transfers t ON t.leaf_index = r.transfer_leaf
             WHERE r.leaf_index > ?1 AND r.leaf_index <= ?2
            """, bounds
        ) { edge(.read, $0, records: Int($0.int64(at: 9))) }
    }

    static func revocations(_ store: LedgerStore, _ bounds: LeafBounds) throws -> [SharingEdge] {
        try rows(
            store,
            """
            SELECT g.leaf_index, g.time, g.owner, q.requester, q.lot, q.level, 'revoked', q.source, g.request_id
              FROM grant_revocations g JOIN access_requests q ON q.request_id = g.request_id
             WHERE g.leaf_index > ?1 AND g.leaf_index <= ?2
            """, bounds
        ) { edge(.revocation, $0) }
    }

    /// Every registered principal (a small table, read whole each time).
    static func principals(_ store: LedgerStore) throws -> [SharingPrincipal] {
        let select = try store.db.prepare("SELECT name, enterprise, role FROM principals ORDER BY name")
        var found: [SharingPrincipal] = []
        while try select.step() {
            found.append(
                SharingPrincipal(
                    name: select.string(at: 0) ?? "", enterprise: select.string(at: 1) ?? "",
                    role: select.string(at: 2) ?? ""))
        }
        return found
    }

    /// The lot links the records in the bounds made (found through the records, by leaf).
    static func lotLinks(_ store: LedgerStore, _ bounds: LeafBounds) throws -> [LotLink] {
        let select = try store.db.prepare(
            """
            SELECT l.lot, l.input_lot FROM records r JOIN lot_links l ON l.lot = r.lot AND l.leaf_index = r.leaf_index
             WHERE r.leaf_index > ?1 AND r.leaf_index <= ?2 ORDER BY r.leaf_index
            """)
        try bounds.bind(select)
        var links: [LotLink] = []
        while try select.step() {
            links.append(LotLink(lot: select.string(at: 0) ?? "", input: select.string(at: 1) ?? ""))
        }
        return links
    }
}
