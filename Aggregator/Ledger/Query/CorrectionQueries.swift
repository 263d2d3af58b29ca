import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// One applied correction as the audit, the API and `agritrace audit corrections --json`
/// print it: the superseded record, the one that replaces it, who corrected it and when.
public struct CorrectionRow: Codable, Sendable, Hashable {
    public var superseded: String
    public var correction: String
    public var lot: String
    public var enterprise: String
    public var corrector: String
    public var reason: String
    /// The leaf of the `correctRecord` transaction (its proof: `agritrace audit corrections`).
    public var leafIndex: UInt64
    public var time: String
}

extension LedgerQueries {
    /// The applied corrections of `lot` (every lot when nil), in ledger order.
    public func corrections(lot: String? = nil) throws -> [CorrectionRow] {
        try store.db.cachedStatement(
            """
            SELECT superseded, correction, lot, enterprise, corrector, reason, leaf_index, time
              FROM record_corrections WHERE ?1 IS NULL OR lot = ?1 ORDER BY leaf_index
            """
        ).all([.text(orNull: lot)]) { row in
            CorrectionRow(
                superseded: try Canonical.decode(RecordID.self, from: row.bytes(at: 0) ?? []).hex,
                correction: try Canonical.decode(RecordID.self, from: row.bytes(at: 1) ?? []).hex,
                lot: row.string(at: 2) ?? "", enterprise: row.string(at: 3) ?? "", corrector: row.string(at: 4) ?? "",
                reason: row.string(at: 5) ?? "", leafIndex: UInt64(row.int64(at: 6)),
                time: Timestamp(milliseconds: row.int64(at: 7)).iso8601)
        }
    }

    /// ``trace(lot:direction:maximumLots:)`` as rows, each superseded record marked with the
    /// record that supersedes it and each correction with the record it corrects.
    public func traceRows(lot: String, direction: Direction = .none) throws -> [TraceRow] {
        let traced = try trace(lot: lot, direction: direction)
        var bySuperseded: [String: CorrectionRow] = [:]
        var byCorrection: [String: CorrectionRow] = [:]
        for lot in Set(traced.map(\.record.lot)).sorted() {
            for row in try corrections(lot: lot) {
                bySuperseded[row.superseded] = row
                byCorrection[row.correction] = row
            }
        }
        return traced.map { item in
            var row = TraceRow(item)
            if let correction = bySuperseded[row.recordID] {
                row.supersededBy = correction.correction
                row.correctionReason = correction.reason
            }
            if let correction = byCorrection[row.recordID] {
                row.supersedes = correction.superseded
                row.correctionReason = row.correctionReason ?? correction.reason
            }
            return row
        }
    }
}

/// Every applied correction as two look-ups, for an export that marks records row by row.
public struct CorrectionMarks: Sendable {
    /// Superseded record → the record that supersedes it.
    public var supersededBy: [RecordID: RecordID] = [:]
    /// Correcting record → the record it corrects.
    public var supersedes: [RecordID: RecordID] = [:]

    public init() {}
}

extension LedgerQueries {
    /// Every applied correction (``CorrectionMarks``).
    public func correctionMarks() throws -> CorrectionMarks {
        var marks = CorrectionMarks()
        try store.db.cachedStatement("SELECT superseded, correction FROM record_corrections").all([]) { row in
            let old = try Canonical.decode(RecordID.self, from: row.bytes(at: 0) ?? [])
            let new = try Canonical.decode(RecordID.self, from: row.bytes(at: 1) ?? [])
            marks.supersededBy[old] = new
            marks.supersedes[new] = old
        }
        return marks
    }
}
