import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// The access contracts' view of the stored world state: what ``Decision`` and ``Punishment``
/// read, answered from the state tables.
struct AccessStateRows: MatchStateView {
    let db: SQLiteConnection

    func rules() throws -> AccessRules {
        let select = try db.cachedStatement(
            "SELECT maximum_strikes, block_ms, trapdoors_per_minute FROM access_parameters ORDER BY leaf_index DESC LIMIT 1"
        )
        defer { select.reset() }
        guard try select.step() else { return AccessRules() }
        return AccessRules(
            maximumStrikes: select.int64(at: 0), blockMilliseconds: select.int64(at: 1),
            trapdoorsPerMinute: select.int64(at: 2))
    }

    func blacklistEntry(_ source: String) throws -> Blacklist.Entry? {
        let select = try db.cachedStatement(
            "SELECT strikes, blocked_until, last_strike FROM blacklist WHERE source = ?")
        defer { select.reset() }
        try select.bind(source, at: 1)
        guard try select.step() else { return nil }
        return Blacklist.Entry(
            strikes: Int(select.int64(at: 0)),
            blockedUntil: select.isNull(at: 1) ? nil : Timestamp(milliseconds: select.int64(at: 1)),
            lastStrike: Timestamp(milliseconds: select.int64(at: 2)))
    }

    func hasActiveAttributes(_ principal: String) throws -> Bool {
        try AccessContracts.exists(
            "SELECT 1 FROM principals p JOIN attribute_grants g ON g.principal = p.name WHERE p.name = ? AND p.status = 'active' AND g.status = 'active'",
            [principal], db)
    }

    func requestCount(by requester: String, after time: Timestamp) throws -> Int64 {
        let recent = try db.cachedStatement(
            "SELECT count(*) FROM access_requests WHERE requester = ? AND request_time > ?")
        defer { recent.reset() }
        try recent.bind(requester, at: 1)
        try recent.bind(time.milliseconds, at: 2)
        _ = try recent.step()
        return recent.int64(at: 0)
    }

    func activeEntries(lot: String, level: ABAC.Sensitivity) throws -> [EntryTerms] {
        let entries = try db.cachedStatement(
            "SELECT time_window, actions FROM encrypted_data WHERE lot = ? AND level = ? AND status = 'active'")
        defer { entries.reset() }
        try entries.bind(lot, at: 1)
        try entries.bind(level.rawValue, at: 2)
        var terms: [EntryTerms] = []
        while try entries.step() {
            let actions = (entries.string(at: 1) ?? "").split(separator: ",").compactMap {
                ABAC.Action(rawValue: String($0))
            }
            terms.append(
                EntryTerms(
                    window: entries.string(at: 0).flatMap(AccessContracts.decodeWindow), actions: Set(actions)))
        }
        return terms
    }

    func requestFacts(_ requestID: String) throws -> RequestFacts? {
        try TransferContracts.requestState(requestID, db)
    }

    func isActiveEntry(_ dataID: String, lot: String, level: String) throws -> Bool {
        try AccessContracts.exists(
            "SELECT 1 FROM encrypted_data WHERE data_id = ? AND lot = ? AND level = ? AND status = 'active'",
            [dataID, lot, level], db)
    }

    /// Stores the source's entry after a strike (nothing when the strike changed nothing).
    func store(_ strike: Punishment.Strike, leaf: Int64) throws {
        guard let entry = strike.entry else { return }
        let upsert = try db.cachedStatement(
            "INSERT OR REPLACE INTO blacklist(source, strikes, blocked_until, last_strike, last_leaf) VALUES (?, ?, ?, ?, ?)"
        )
        try upsert.bind(strike.source, at: 1)
        try upsert.bind(Int64(entry.strikes), at: 2)
        if let until = entry.blockedUntil {
            try upsert.bind(until.milliseconds, at: 3)
        } else {
            try upsert.bindNull(at: 3)
        }
        try upsert.bind(entry.lastStrike.milliseconds, at: 4)
        try upsert.bind(leaf, at: 5)
        try upsert.run()
    }
}
