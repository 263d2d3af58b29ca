import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// The credit contract's state (``Credit``): the scores (`credit`) and the owners' public
/// conditions (`encrypted_data.minimum_credit`).
extension AccessStateRows: CreditStateView {
    func credit(ofEnterpriseOf principal: String) throws -> Int64? {
        try db.cachedStatement(
            "SELECT c.score FROM principals p JOIN credit c ON c.enterprise = p.enterprise WHERE p.name = ?"
        ).first([.text(principal)]) { $0.int64(at: 0) }
    }

    func behaviour() throws -> [String: Credit.Behaviour] {
        var behaviour: [String: Credit.Behaviour] = [:]
        _ = try db.cachedStatement("SELECT id FROM enterprises").all([]) { behaviour[$0.string(at: 0) ?? ""] = .init() }
        /// Adds the count each enterprise's row of `sql` gives to the field `field`.
        func add(_ sql: String, _ field: WritableKeyPath<Credit.Behaviour, Int64>) throws {
            _ = try db.cachedStatement(sql).all([]) { row in
                if let enterprise = row.string(at: 0), behaviour[enterprise] != nil {
                    behaviour[enterprise]![keyPath: field] = row.int64(at: 1)
                }
            }
        }
        let byRequester = "FROM access_requests r JOIN principals p ON p.name = r.requester"
        try add(
            "SELECT p.enterprise, count(*) \(byRequester) WHERE r.status = 'granted' GROUP BY p.enterprise", \.grants)
        try add(
            "SELECT p.enterprise, count(*) \(byRequester) WHERE r.status = 'denied' AND r.reason NOT LIKE 'no-data%' AND r.reason NOT LIKE 'rate-limited%' AND r.reason NOT LIKE 'blacklisted%' AND r.reason NOT LIKE 'insufficient-credit%' AND r.reason NOT LIKE 'not-in-effect%' GROUP BY p.enterprise",
            \.denials)
        try add(
            "SELECT p.enterprise, sum(b.strikes) FROM blacklist b JOIN principals p ON b.source = 'principal:' || p.name GROUP BY p.enterprise",
            \.strikes)
        try add(
            "SELECT p.enterprise, count(*) FROM violations v JOIN principals p ON p.name = v.offender WHERE v.status = '\(ViolationStatus.confirmed.rawValue)' GROUP BY p.enterprise",
            \.violations)
        try add(
            "SELECT p.enterprise, count(*) FROM transfers t JOIN transfer_countersignatures c ON c.transfer_leaf = t.leaf_index JOIN principals p ON p.name = t.sender WHERE c.time - t.time <= \(TransferCompletion.defaultDeadlineMilliseconds) GROUP BY p.enterprise",
            \.transfers)
        return behaviour
    }

    /// Recomputes every enterprise's score (the end of a block that carried an access,
    /// transfer or registry transaction). A row whose values did not change is not written.
    func updateCredit() throws {
        for score in Credit.scores(try behaviour()) {
            let b = score.behaviour
            try run(
                """
                INSERT INTO credit(enterprise, grants, denials, strikes, violations, transfers, raw, score)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(enterprise) DO UPDATE SET grants = excluded.grants, denials = excluded.denials,
                    strikes = excluded.strikes, violations = excluded.violations, transfers = excluded.transfers,
                    raw = excluded.raw, score = excluded.score
                WHERE (grants, denials, strikes, violations, transfers, raw, score)
                    IS NOT (excluded.grants, excluded.denials, excluded.strikes, excluded.violations,
                            excluded.transfers, excluded.raw, excluded.score)
                """,
                [
                    .text(score.enterprise), .integer(b.grants), .integer(b.denials), .integer(b.strikes),
                    .integer(b.violations), .integer(b.transfers), .integer(score.raw), .integer(score.basisPoints),
                ])
        }
    }

    /// `setMinimumCredit`'s change.
    func store(_ outcome: ContractOutcome<Credit.Condition>, leaf: Int64) throws -> ContractEvent {
        if let condition = outcome.change {
            try run(
                "UPDATE encrypted_data SET minimum_credit = ? WHERE data_id = ?",
                [condition.basisPoints.map { .integer($0) } ?? .null, .text(condition.dataID)])
        }
        return outcome.event
    }
}
