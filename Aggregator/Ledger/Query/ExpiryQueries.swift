import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// One authority tuple with an effective period (docs/governance.md): a policy (an
/// encrypted-data entry), a principal's attribute grant, or a grant (a granted request), and
/// where the latest block time falls against its period.
public struct ExpiryRow: Codable, Sendable, Equatable {
    /// `policy`, `attributes` or `grant`.
    public var kind: Kind
    /// The entry's data id, the principal, or the request id.
    public var subject: String
    /// Who holds it: the entry's owner, the principal, or the requester.
    public var holder: String
    public var lot: String?
    public var level: String?
    public var notBefore: String?
    public var notAfter: String?
    /// At the latest block time: `not-yet`, `in-effect` or `expired`.
    public var status: EffectivePeriod.Status
    /// The leaf of the transaction that set the period (for its proof).
    public var leafIndex: UInt64

    /// What kind of authority tuple the row is (printed as the raw value).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case policy
        case attributes
        case grant
    }
}

extension LedgerQueries {
    /// Every policy, attribute grant and grant with an effective period, soonest expiry first
    /// (open-ended last), with its status at `time` (default: the latest block's time).
    public func expiries(at time: Timestamp? = nil) throws -> [ExpiryRow] {
        let now = try time ?? latestBlockTime()
        let select = try store.db.prepare(
            """
            SELECT kind, subject, holder, lot, level, not_before, not_after, leaf FROM (
                SELECT 'policy' AS kind, data_id AS subject, owner AS holder, lot, level, not_before, not_after,
                    leaf_index AS leaf FROM encrypted_data
                    WHERE status = 'active' AND (not_before IS NOT NULL OR not_after IS NOT NULL)
                UNION ALL SELECT 'attributes', principal, principal, NULL, NULL, not_before, not_after, leaf_index
                    FROM attribute_grants WHERE status = 'active' AND (not_before IS NOT NULL OR not_after IS NOT NULL)
                UNION ALL SELECT 'grant', request_id, requester, lot, level, grant_not_before, grant_not_after, result_leaf
                    FROM access_requests WHERE status = 'granted'
                    AND (grant_not_before IS NOT NULL OR grant_not_after IS NOT NULL))
            ORDER BY not_after IS NULL, not_after, subject
            """)
        return try select.all([]) { row in
            let period = row.period(at: 5) ?? EffectivePeriod()
            return ExpiryRow(
                kind: try stored(ExpiryRow.Kind.self, row.string(at: 0), "expiry of \(row.string(at: 1) ?? "")"),
                subject: row.string(at: 1) ?? "", holder: row.string(at: 2) ?? "", lot: row.string(at: 3),
                level: row.string(at: 4), notBefore: period.notBefore?.iso8601, notAfter: period.notAfter?.iso8601,
                status: period.status(at: now), leafIndex: UInt64(row.int64(at: 7)))
        }
    }

    /// The time of the latest block (the epoch when there is none).
    func latestBlockTime() throws -> Timestamp {
        Timestamp(
            milliseconds: try store.db.cachedStatement("SELECT time FROM blocks ORDER BY height DESC LIMIT 1").first([])
            {
                $0.int64(at: 0)
            } ?? 0)
    }
}

extension LedgerQueries {
    /// Why the grant of `requestID` is not in effect at `time` (``RequestFacts/periodProblem(_:at:)``),
    /// or nil: what the access gateway checks before it serves a fetch.
    public func grantPeriodProblem(_ requestID: String, at time: Timestamp) throws -> String? {
        try AccessStateRows(db: store.db).requestFacts(requestID)?.periodProblem(requestID, at: time)
    }
}
