import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// One violation report and the regulator's decision (docs/governance.md).
public struct ViolationRow: Codable, Sendable, Equatable {
    public var reportID: String
    public var reporter: String
    public var offender: String
    public var owner: String
    public var lot: String
    public var level: String
    /// SHA-256 of the evidence, hex.
    public var evidence: String
    public var severity: ViolationReport.Severity
    public var summary: String
    public var status: ViolationStatus
    /// The report's leaf and the block it is a side record of.
    public var leafIndex: UInt64
    public var height: UInt64
    public var time: String
    /// The regulator's confirmation or dismissal, once decided.
    public var decidedLeaf: UInt64?
    public var decidedBy: String?
    public var note: String?
    /// How many grants the confirmation revoked.
    public var revokedGrants: Int
}

extension LedgerQueries {
    /// Violation reports, newest first; with `principal`, only those about it.
    public func violations(offender: String? = nil) throws -> [ViolationRow] {
        try store.db.prepare(
            "SELECT v.report_id, v.reporter, v.offender, v.owner, v.lot, v.level, v.evidence, v.severity, v.summary, v.status, v.leaf_index, l.height, v.time, v.decided_leaf, v.decided_by, v.note, v.revoked_grants FROM violations v JOIN log_entries l ON l.leaf_index = v.leaf_index WHERE (?1 IS NULL OR v.offender = ?1) ORDER BY v.leaf_index DESC"
        ).all([.text(orNull: offender)]) { row in
            let id = row.string(at: 0) ?? ""
            return ViolationRow(
                reportID: id, reporter: row.string(at: 1) ?? "", offender: row.string(at: 2) ?? "",
                owner: row.string(at: 3) ?? "", lot: row.string(at: 4) ?? "", level: row.string(at: 5) ?? "",
                evidence: (row.bytes(at: 6) ?? []).hexString,
                severity: try stored(
                    ViolationReport.Severity.self, row.string(at: 7), "violation \(id)", column: "severity"),
                summary: row.string(at: 8) ?? "",
                status: try stored(ViolationStatus.self, row.string(at: 9), "violation \(id)"),
                leafIndex: UInt64(row.int64(at: 10)), height: UInt64(row.int64(at: 11)),
                time: Timestamp(milliseconds: row.int64(at: 12)).iso8601,
                decidedLeaf: row.isNull(at: 13) ? nil : UInt64(row.int64(at: 13)), decidedBy: row.string(at: 14),
                note: row.string(at: 15), revokedGrants: Int(row.int64(at: 16)))
        }
    }

    /// A principal's whole thread, oldest first: every transaction it submitted (requests,
    /// redemptions, reads, reports), the results, revocations and transfers of its requests,
    /// and the reports about it and their decisions; each row names its leaf (for its proof).
    public func history(principal: String) throws -> [AccessEventRow] {
        try store.db.prepare(
            """
            SELECT leaf_index, height, time, submitter, method, subject, outcome, detail FROM access_events
            WHERE submitter = ?1
               OR subject IN (SELECT request_id FROM access_requests WHERE requester = ?1)
               OR leaf_index IN (SELECT leaf_index FROM transfers WHERE receiver = ?1)
               OR subject IN (SELECT report_id FROM violations WHERE offender = ?1)
            ORDER BY leaf_index
            """
        ).all([.text(principal)], Self.eventRow)
    }
}
