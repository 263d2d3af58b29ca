import AgriTraceCore
import LedgerCore
import SQLiteStorage

extension LedgerSchema {
    /// The correction contract's state (docs/governance.md, "Corrections"): which record
    /// supersedes which. A record is superseded at most once and corrects at most one other.
    static let recordCorrectionsDDL = """
        CREATE TABLE record_corrections(
            superseded BLOB PRIMARY KEY,
            correction BLOB NOT NULL UNIQUE,
            lot TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            corrector TEXT NOT NULL,
            reason TEXT NOT NULL,
            leaf_index INTEGER NOT NULL,
            time INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX record_corrections_by_lot ON record_corrections(lot, leaf_index);

        """
}

/// The correction contract's view of the stored world state (records, principals,
/// corrections) and the persistence of its outcome (`record_corrections`).
extension AccessStateRows: RecordCorrectionStateView {
    func principalEnterprise(_ name: String) throws -> String? {
        try db.cachedStatement("SELECT enterprise FROM principals WHERE name = ?").first([.text(name)]) {
            $0.string(at: 0)
        } ?? nil
    }

    func recordFacts(_ id: RecordID) throws -> RecordFacts? {
        try db.cachedStatement("SELECT lot, enterprise, leaf_index FROM records WHERE record_id = ?").first([
            .blob(Canonical.encode(id))
        ]) {
            RecordFacts(
                lot: $0.string(at: 0) ?? "", enterprise: $0.string(at: 1) ?? "", leafIndex: UInt64($0.int64(at: 2)))
        }
    }

    func supersedingRecord(of id: RecordID) throws -> RecordID? {
        try recordID("SELECT correction FROM record_corrections WHERE superseded = ?", id)
    }

    func supersededRecord(by id: RecordID) throws -> RecordID? {
        try recordID("SELECT superseded FROM record_corrections WHERE correction = ?", id)
    }

    /// The record id the one-column query about `id` returns.
    func recordID(_ sql: String, _ id: RecordID) throws -> RecordID? {
        try db.cachedStatement(sql).first([.blob(Canonical.encode(id))]) {
            try Canonical.decode(RecordID.self, from: $0.bytes(at: 0) ?? [])
        }
    }

    /// `correctRecord`: the `record_corrections` row when applied.
    func store(_ outcome: RecordCorrections.Outcome, leaf: Int64, time: Timestamp) throws -> ContractEvent {
        guard let entry = outcome.change else { return outcome.event }
        try run(
            "INSERT INTO record_corrections(superseded, correction, lot, enterprise, corrector, reason, leaf_index, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .blob(Canonical.encode(entry.correction.superseded)),
                .blob(Canonical.encode(entry.correction.correction)),
                .text(entry.lot), .text(entry.enterprise), .text(entry.corrector), .text(entry.correction.reason),
                .integer(leaf), .integer(time.milliseconds),
            ])
        return outcome.event
    }
}
