import AgriTraceCore
import LedgerCore
import SQLiteStorage

extension LedgerSchema {
    /// The resource directory's state (docs/governance.md, "Resource directory"): the latest
    /// entry of each resource. No column holds or points to a policy.
    static let directoryDDL = """
        CREATE TABLE directory_entries(
            resource TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            lot TEXT,
            level TEXT,
            blob_id TEXT,
            name TEXT NOT NULL,
            overview TEXT NOT NULL,
            producer TEXT NOT NULL,
            stage TEXT NOT NULL,
            product TEXT NOT NULL,
            media_type TEXT NOT NULL,
            format TEXT NOT NULL,
            size INTEGER NOT NULL,
            held_by TEXT NOT NULL,
            retention_days INTEGER NOT NULL,
            publisher TEXT NOT NULL,
            leaf_index INTEGER NOT NULL,
            time INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX directory_by_product ON directory_entries(product, stage, time);

        """
}

/// The directory contract's view of the stored world state and the persistence of its outcome.
extension AccessStateRows: ResourceDirectoryStateView {
    func lotOwner(_ lot: String) throws -> String? {
        try db.cachedStatement("SELECT enterprise FROM records WHERE lot = ? ORDER BY leaf_index LIMIT 1").first([
            .text(lot)
        ]) { $0.string(at: 0) } ?? nil
    }

    func blobOwner(_ id: Digest32) throws -> String? {
        try db.cachedStatement("SELECT enterprise FROM blobs WHERE blob_id = ? AND status = ? LIMIT 1").first([
            .blob(id.bytes), .text(BlobStatus.stored.rawValue),
        ]) { $0.string(at: 0) } ?? nil
    }

    /// `publishDirectoryEntry`: the resource's `directory_entries` row, replaced when applied.
    func store(_ outcome: ResourceDirectory.Outcome, leaf: Int64, time: Timestamp) throws -> ContractEvent {
        guard let row = outcome.change else { return outcome.event }
        let entry = row.entry
        var lot: String?
        var level: String?
        var blob: String?
        switch entry.resource {
        case .dataset(let name, let sensitivity): (lot, level) = (name, sensitivity.rawValue)
        case .blob(let id): blob = id.hex
        }
        try run(
            "INSERT OR REPLACE INTO directory_entries(resource, kind, lot, level, blob_id, name, overview, producer, stage, product, media_type, format, size, held_by, retention_days, publisher, leaf_index, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(entry.resource.key), .text(blob == nil ? "dataset" : "blob"), .text(orNull: lot),
                .text(orNull: level), .text(orNull: blob), .text(entry.name), .text(entry.overview),
                .text(entry.producer), .text(entry.stage.rawValue), .text(entry.product), .text(entry.mediaType),
                .text(entry.format), .int(entry.size), .text(entry.heldBy), .int(UInt64(entry.retentionDays)),
                .text(row.publisher), .integer(leaf), .integer(time.milliseconds),
            ])
        return outcome.event
    }
}
