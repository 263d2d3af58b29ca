import AgriTraceCore
import LedgerCore
import SQLiteStorage

/// One directory entry as `agritrace directory search --json` and `GET /v1/directory` print
/// it: what exists, who produced it, where it is held and whom to ask (the publisher). It
/// holds nothing of any policy.
public struct DirectoryRow: Codable, Sendable, Hashable {
    /// `dataset:LOT:LEVEL` or `blob:HEX`.
    public var resource: String
    /// `dataset` or `blob`.
    public var kind: String
    public var lot: String?
    public var level: String?
    public var blobID: String?
    public var name: String
    public var overview: String
    public var producer: String
    public var stage: String
    public var product: String
    public var mediaType: String
    public var format: String
    public var size: UInt64
    public var heldBy: String
    public var retentionDays: Int
    /// Whom to ask: the owner's principal that published the entry.
    public var publisher: String
    public var leafIndex: UInt64
    /// When the entry was published (its block time).
    public var time: String
}

extension LedgerQueries {
    /// What a directory search asks for: every condition given must hold.
    public struct DirectoryFilter: Sendable {
        public var product: String?
        public var stage: Stage?
        public var enterprise: String?
        public var since: Timestamp?
        public var until: Timestamp?

        public init(
            product: String? = nil, stage: Stage? = nil, enterprise: String? = nil, since: Timestamp? = nil,
            until: Timestamp? = nil
        ) {
            self.product = product
            self.stage = stage
            self.enterprise = enterprise
            self.since = since
            self.until = until
        }
    }

    /// The directory entries matching `filter` (published in `since..<until`), in ledger order.
    public func directory(_ filter: DirectoryFilter = DirectoryFilter(), limit: Int = 1000) throws -> [DirectoryRow] {
        try store.db.cachedStatement(
            """
            SELECT resource, kind, lot, level, blob_id, name, overview, producer, stage, product, media_type, format,
                   size, held_by, retention_days, publisher, leaf_index, time
              FROM directory_entries
             WHERE (?1 IS NULL OR product = ?1) AND (?2 IS NULL OR stage = ?2) AND (?3 IS NULL OR producer = ?3)
               AND (?4 IS NULL OR time >= ?4) AND (?5 IS NULL OR time < ?5)
             ORDER BY leaf_index LIMIT ?6
            """
        ).all([
            .text(orNull: filter.product), .text(orNull: filter.stage?.rawValue), .text(orNull: filter.enterprise),
            filter.since.map { .integer($0.milliseconds) } ?? .null,
            filter.until.map { .integer($0.milliseconds) } ?? .null, .int(UInt64(limit)),
        ]) { row in
            DirectoryRow(
                resource: row.string(at: 0) ?? "", kind: row.string(at: 1) ?? "", lot: row.string(at: 2),
                level: row.string(at: 3), blobID: row.string(at: 4), name: row.string(at: 5) ?? "",
                overview: row.string(at: 6) ?? "", producer: row.string(at: 7) ?? "", stage: row.string(at: 8) ?? "",
                product: row.string(at: 9) ?? "", mediaType: row.string(at: 10) ?? "", format: row.string(at: 11) ?? "",
                size: UInt64(row.int64(at: 12)), heldBy: row.string(at: 13) ?? "",
                retentionDays: Int(row.int64(at: 14)),
                publisher: row.string(at: 15) ?? "", leafIndex: UInt64(row.int64(at: 16)),
                time: Timestamp(milliseconds: row.int64(at: 17)).iso8601)
        }
    }
}
