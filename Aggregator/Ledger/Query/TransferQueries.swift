import AgriTraceCore
import SQLiteStorage

/// One stored blob reference of the ledger.
public struct BlobRow: Sendable, Equatable {
    public var leafIndex: UInt64
    public var blobID: Digest32
    public var recordID: RecordID
    public var level: PrivacyLevel
    public var enterprise: String
    public var device: String
    public var size: UInt64
    public var ownerKey: [UInt8]
    public var wrappedKey: WrappedDataKey
    public var status: BlobStatus
    public var reason: String?
}

/// One redemption (`redeem`) and its contract outcome.
public struct RedemptionRow: Codable, Sendable, Equatable {
    public var leafIndex: UInt64
    public var requestID: String
    public var requester: String
    public var owner: String?
    public var requesterKey: [UInt8]
    public var proof: [UInt8]
    public var purpose: String
    /// `accepted` or `refused`.
    public var status: EventOutcome
    public var reason: String?
    public var time: String
}

/// An open redemption as the API lists it to a remote owner (`transfer serve --api`): the
/// log leaves the owner verifies and takes every fact from, so it need not trust this row.
public struct OpenRedemptionLeaves: Codable, Sendable, Equatable {
    /// The `redeem` transaction (requester, ephemeral key, token proof, purpose).
    public var redeemLeaf: UInt64
    /// The request's `addTrapdoor` (requester, lot, level, source).
    public var requestLeaf: UInt64
    /// The regulator's `addResult` (the matched data id).
    public var resultLeaf: UInt64
    /// The owner's `addEncryptedData` of that data id (lot, level, owner).
    public var entryLeaf: UInt64
    /// The requester's registration (`addPrincipal`, signed by the authority): the key the
    /// redeem and the request are signed with.
    public var requesterLeaf: UInt64
}

/// One transfer (the 4Wh record).
public struct TransferRow: Codable, Sendable, Equatable {
    public var leafIndex: UInt64
    public var requestID: String
    public var redeemLeaf: UInt64
    public var sender: String
    public var receiver: String
    public var lot: String
    public var level: String
    public var recordCount: Int
    public var blobDigest: String
    public var source: String
    /// The owner's answer.
    public var status: TransferStatus
    public var purpose: String
    public var reason: String
    /// `applied` or `refused` (the contract's).
    public var outcome: EventOutcome
    public var time: String
}

/// What one provenance event is (its raw value is what the CLI and the API print).
public enum ProvenanceKind: String, Codable, Sendable, CaseIterable {
    /// A requester redeemed its grant (asked the owner for the data).
    case redeem
    /// The owner sent the data keys of a redemption (or refused to).
    case transfer
    /// The requester fetched and checked the data against the ledger.
    case read
    /// The owner revoked the grant.
    case revocation
}

/// One event of a lot's provenance: a redemption, transfer, read or revocation.
public struct ProvenanceRow: Codable, Sendable, Equatable {
    public var leafIndex: UInt64
    public var time: String
    public var kind: ProvenanceKind
    public var requestID: String
    public var who: String
    public var counterpart: String
    public var level: String
    public var status: ProvenanceStatus
    public var detail: String
}

/// A grant of one owner, with its revocation if any.
public struct GrantRow: Codable, Sendable, Equatable {
    public var requestID: String
    public var requester: String
    public var lot: String
    public var level: String
    public var source: String
    public var dataID: String
    public var resultTime: String?
    public var revoked: Bool
    public var transfers: Int
}

extension LedgerQueries {
    static func blobRow(_ s: Statement) throws -> BlobRow {
        BlobRow(
            leafIndex: UInt64(s.int64(at: 0)), blobID: Digest32(bytes: s.bytes(at: 1) ?? []) ?? .zero,
            recordID: try Canonical.decode(RecordID.self, from: s.bytes(at: 2) ?? []),
            level: PrivacyLevel(rawValue: s.string(at: 3) ?? "") ?? .level2, enterprise: s.string(at: 4) ?? "",
            device: s.string(at: 5) ?? "", size: UInt64(s.int64(at: 6)), ownerKey: s.bytes(at: 7) ?? [],
            wrappedKey: try Canonical.decode(WrappedDataKey.self, from: s.bytes(at: 8) ?? []),
            status: try stored(BlobStatus.self, s.string(at: 9), "blobs row at leaf \(s.int64(at: 0))"),
            reason: s.string(at: 10))
    }

    static let blobColumns =
        "b.leaf_index, b.blob_id, b.record_id, b.level, b.enterprise, b.device, b.size, b.owner_key, b.wrapped_key, b.status, b.reason"

    /// The stored blobs of a lot's records at one level, in record order.
    public func blobs(lot: String, level: PrivacyLevel) throws -> [BlobRow] {
        let select = try store.db.prepare(
            "SELECT \(Self.blobColumns) FROM blobs b JOIN records r ON r.record_id = b.record_id WHERE r.lot = ? AND b.level = ? AND b.status = 'stored' ORDER BY r.leaf_index"
        )
        return try select.all([.text(lot), .text(level.rawValue)], Self.blobRow)
    }

    /// The stored blob of one record and level, if any.
    public func blob(record: RecordID, level: PrivacyLevel) throws -> BlobRow? {
        let select = try store.db.prepare(
            "SELECT \(Self.blobColumns) FROM blobs b WHERE b.record_id = ? AND b.level = ? AND b.status = 'stored'")
        return try select.first([.blob(Canonical.encode(record)), .text(level.rawValue)], Self.blobRow)
    }

    /// The latest reference of a blob id (stored or refused), if any.
    public func blob(id: Digest32) throws -> BlobRow? {
        let select = try store.db.prepare(
            "SELECT \(Self.blobColumns) FROM blobs b WHERE b.blob_id = ? ORDER BY (b.status = 'stored') DESC, b.leaf_index DESC LIMIT 1"
        )
        return try select.first([.blob(id.bytes)], Self.blobRow)
    }

    /// A record as it is on the ledger.
    public func record(_ id: RecordID) throws -> Record? {
        guard let location = try store.location(of: id), let stored = try store.entry(leafIndex: location.leafIndex)
        else { return nil }
        guard case .record(let record) = try Canonical.decode(LogEntry.self, from: stored.entry) else { return nil }
        return record
    }

    static let redemptionColumns =
        "leaf_index, request_id, requester, owner, requester_key, proof, purpose, status, reason, time"

    static func redemptionRow(_ s: Statement) throws -> RedemptionRow {
        RedemptionRow(
            leafIndex: UInt64(s.int64(at: 0)), requestID: s.string(at: 1) ?? "", requester: s.string(at: 2) ?? "",
            owner: s.string(at: 3), requesterKey: s.bytes(at: 4) ?? [], proof: s.bytes(at: 5) ?? [],
            purpose: s.string(at: 6) ?? "",
            status: try stored(EventOutcome.self, s.string(at: 7), "redemptions row at leaf \(s.int64(at: 0))"),
            reason: s.string(at: 8),
            time: Timestamp(milliseconds: s.int64(at: 9)).iso8601)
    }

    /// Accepted redemptions of `owner`'s entries with no transfer yet, oldest first; with
    /// `after`, only those whose redeem leaf comes after it (a service's cursor).
    public func openRedemptions(owner: String, after: UInt64? = nil) throws -> [RedemptionRow] {
        let select = try store.db.prepare(
            "SELECT \(Self.redemptionColumns) FROM redemptions d WHERE owner = ? AND status = 'accepted' AND leaf_index > ? AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.redeem_leaf = d.leaf_index AND t.outcome = 'applied') ORDER BY leaf_index"
        )
        return try select.all([.text(owner), .integer(after.map { Int64($0) } ?? -1)], Self.redemptionRow)
    }

    /// ``openRedemptions(owner:after:)`` as the leaves a remote owner verifies.
    public func openRedemptionLeaves(owner: String, after: UInt64? = nil) throws -> [OpenRedemptionLeaves] {
        let select = try store.db.prepare(
            """
            SELECT d.leaf_index, q.request_leaf, q.result_leaf, e.leaf_index, d.requester
              FROM redemptions d JOIN access_requests q ON q.request_id = d.request_id
              JOIN encrypted_data e ON e.data_id = q.data_id
             WHERE d.owner = ? AND d.status = 'accepted' AND d.leaf_index > ? AND q.result_leaf IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.redeem_leaf = d.leaf_index AND t.outcome = 'applied')
             ORDER BY d.leaf_index
            """)
        let rows = try select.all([.text(owner), .integer(after.map { Int64($0) } ?? -1)]) { row in
            (
                OpenRedemptionLeaves(
                    redeemLeaf: UInt64(row.int64(at: 0)), requestLeaf: UInt64(row.int64(at: 1)),
                    resultLeaf: UInt64(row.int64(at: 2)), entryLeaf: UInt64(row.int64(at: 3)), requesterLeaf: 0),
                row.string(at: 4) ?? ""
            )
        }
        return try rows.compactMap { row, requester in
            guard let leaf = try principalLeaf(requester) else { return nil }
            var open = row
            open.requesterLeaf = leaf
            return open
        }
    }

    /// The leaf of a principal's registration (`addPrincipal`), found among the registry
    /// entries (kind 2) of the block of its registered height.
    public func principalLeaf(_ name: String) throws -> UInt64? {
        let height = try store.db.prepare("SELECT registered_height FROM principals WHERE name = ?")
        guard let registered = try height.first([.text(name)], { $0.int64(at: 0) }) else { return nil }
        let entries = try store.db.prepare(
            "SELECT leaf_index, entry FROM log_entries WHERE height = ? AND kind = 2 ORDER BY leaf_index")
        try entries.bind([.integer(registered)])
        while try entries.step() {
            guard case .registry(let signed)? = try? Canonical.decode(LogEntry.self, from: entries.bytes(at: 1) ?? []),
                case .addPrincipal(let principal) = signed.value.operation, principal.name == name
            else { continue }
            return UInt64(entries.int64(at: 0))
        }
        return nil
    }

    /// One redemption by its leaf.
    public func redemption(leaf: UInt64) throws -> RedemptionRow? {
        let select = try store.db.prepare("SELECT \(Self.redemptionColumns) FROM redemptions WHERE leaf_index = ?")
        return try select.first([.int(leaf)], Self.redemptionRow)
    }

    static func transferRow(_ s: Statement) throws -> TransferRow {
        let row = "transfers row at leaf \(s.int64(at: 0))"
        return
            TransferRow(
                leafIndex: UInt64(s.int64(at: 0)), requestID: s.string(at: 1) ?? "", redeemLeaf: UInt64(s.int64(at: 2)),
                sender: s.string(at: 3) ?? "", receiver: s.string(at: 4) ?? "", lot: s.string(at: 5) ?? "",
                level: s.string(at: 6) ?? "", recordCount: Int(s.int64(at: 7)),
                blobDigest: (s.bytes(at: 8) ?? []).hexString,
                source: s.string(at: 9) ?? "", status: try stored(TransferStatus.self, s.string(at: 10), row),
                purpose: s.string(at: 11) ?? "", reason: s.string(at: 12) ?? "",
                outcome: try stored(EventOutcome.self, s.string(at: 13), row, column: "outcome"),
                time: Timestamp(milliseconds: s.int64(at: 14)).iso8601)
    }

    /// The applied transfer answering a redemption, if any.
    public func transfer(redeemLeaf: UInt64) throws -> TransferRow? {
        let select = try store.db.prepare(
            "SELECT leaf_index, request_id, redeem_leaf, sender, receiver, lot, level, record_count, blob_digest, source, status, purpose, reason, outcome, time FROM transfers WHERE redeem_leaf = ? AND outcome = 'applied' ORDER BY leaf_index LIMIT 1"
        )
        return try select.first([.int(redeemLeaf)], Self.transferRow)
    }

    /// The keys the owner re-wrapped for a redemption.
    public func transferKeys(redeemLeaf: UInt64) throws -> [WrappedDataKey] {
        let select = try store.db.prepare(
            "SELECT wrapped FROM transfer_keys WHERE redeem_leaf = ? ORDER BY record_id, level")
        return try select.all([.int(redeemLeaf)]) { row in
            try Canonical.decode(WrappedDataKey.self, from: row.bytes(at: 0) ?? [])
        }
    }

    /// Who received what, when and for what purpose: redemptions, transfers, reads and
    /// revocations of a lot, in log order.
    public func provenance(lot: String) throws -> [ProvenanceRow] {
        let select = try store.db.prepare(
            """
            SELECT d.leaf_index, d.time, 'redeem', d.request_id, d.requester, coalesce(d.owner, ''), q.level, d.status, d.purpose || ': ' || coalesce(d.reason, '')
              FROM redemptions d JOIN access_requests q ON q.request_id = d.request_id WHERE q.lot = ?1
            UNION ALL
            SELECT leaf_index, time, 'transfer', request_id, sender, receiver, level, CASE outcome WHEN 'applied' THEN status ELSE 'refused by contract' END,
                   record_count || ' records, blobs ' || substr(hex(blob_digest), 1, 16) || ', from ' || source || ', purpose ' || purpose || CASE reason WHEN '' THEN '' ELSE ': ' || reason END
              FROM transfers WHERE lot = ?1
            UNION ALL
            SELECT leaf_index, time, 'read', request_id, reader, '', level, outcome, record_count || ' records' || CASE fields WHEN '' THEN ', all fields' ELSE ', fields ' || fields END || CASE detail WHEN '' THEN '' ELSE ': ' || detail END
              FROM transfer_reads WHERE lot = ?1
            UNION ALL
            SELECT g.leaf_index, g.time, 'revocation', g.request_id, g.owner, q.requester, q.level, 'revoked', g.reason
              FROM grant_revocations g JOIN access_requests q ON q.request_id = g.request_id WHERE q.lot = ?1
            ORDER BY 1
            """)
        return try select.all([.text(lot)], Self.provenanceRow)
    }

    static func provenanceRow(_ s: Statement) throws -> ProvenanceRow {
        let row = "provenance row at leaf \(s.int64(at: 0))"
        return ProvenanceRow(
            leafIndex: UInt64(s.int64(at: 0)), time: Timestamp(milliseconds: s.int64(at: 1)).iso8601,
            kind: try provenanceKind(s.string(at: 2)), requestID: s.string(at: 3) ?? "",
            who: s.string(at: 4) ?? "", counterpart: s.string(at: 5) ?? "", level: s.string(at: 6) ?? "",
            status: try stored(ProvenanceStatus.self, s.string(at: 7), row), detail: s.string(at: 8) ?? "")
    }

    private static func provenanceKind(_ text: String?) throws -> ProvenanceKind {
        guard let text, let kind = ProvenanceKind(rawValue: text) else {
            throw LedgerStoreError.corrupt("provenance row of unknown kind \(text ?? "null")")
        }
        return kind
    }

    /// The granted requests of an owner's entries.
    public func grants(owner: String) throws -> [GrantRow] {
        let select = try store.db.prepare(
            """
            SELECT q.request_id, q.requester, q.lot, q.level, q.source, q.data_id, q.result_time,
                   EXISTS (SELECT 1 FROM grant_revocations g WHERE g.request_id = q.request_id),
                   (SELECT count(*) FROM transfers t WHERE t.request_id = q.request_id AND t.outcome = 'applied' AND t.status = 'delivered')
              FROM access_requests q JOIN encrypted_data e ON e.data_id = q.data_id
             WHERE e.owner = ? AND q.status = 'granted' ORDER BY q.request_leaf
            """)
        return try select.all([.text(owner)]) { row in
            GrantRow(
                requestID: row.string(at: 0) ?? "", requester: row.string(at: 1) ?? "",
                lot: row.string(at: 2) ?? "", level: row.string(at: 3) ?? "",
                source: row.string(at: 4) ?? "", dataID: row.string(at: 5) ?? "",
                resultTime: row.isNull(at: 6) ? nil : Timestamp(milliseconds: row.int64(at: 6)).iso8601,
                revoked: row.int64(at: 7) != 0, transfers: Int(row.int64(at: 8)))
        }
    }
}
