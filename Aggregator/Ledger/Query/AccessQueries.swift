import AgriTraceCore
import Foundation
import LedgerCore
import SQLiteStorage

/// One access request and its outcome, as the audit and the requester see it.
public struct AccessRequestRow: Codable, Sendable, Equatable {
    public var requestID: String
    public var requester: String
    public var lot: String
    public var level: String
    public var action: String
    public var source: String
    /// `pending` (awaiting the regulator's match), `granted` or `denied`.
    public var status: AccessRequestStatus
    public var reason: String?
    public var dataID: String?
    /// The released D (CP-ABE ciphertext, hex) on a grant.
    public var token: String?
    public var requestLeaf: UInt64
    public var requestTime: String
    public var resultLeaf: UInt64?
    public var resultTime: String?
}

/// One blacklist entry.
public struct BlacklistRow: Codable, Sendable, Equatable {
    /// The blacklist's key: an address, or `principal:` and a principal's name.
    public var source: String
    /// `address` or `principal` (``Punishment/Subject/kind``).
    public var kind: String
    /// The address or the principal's name, without the prefix.
    public var subject: String
    public var strikes: Int
    /// Nil when the block is permanent.
    public var blockedUntil: String?
    public var permanent: Bool
    public var lastStrike: String
    /// The leaf of the transaction that added the last strike.
    public var lastLeaf: UInt64
}

/// One access transaction's outcome (the contracts' audit trail).
public struct AccessEventRow: Codable, Sendable, Equatable {
    public var leafIndex: UInt64
    public var height: UInt64
    public var time: String
    public var submitter: String
    public var method: String
    public var subject: String
    public var outcome: EventOutcome
    public var detail: String
}

/// One encrypted-data entry (its ciphertext left out).
public struct EncryptedDataRow: Codable, Sendable, Equatable {
    public var dataID: String
    public var owner: String
    public var enterprise: String
    public var lot: String
    public var level: String
    /// `HH:MM-HH:MM ±HH:MM`, or nil for any time.
    public var window: String?
    public var actions: [String]
    /// `active`, or `revoked` by its owner.
    public var status: EntryStatus
    public var leafIndex: UInt64
    public var ciphertextBytes: Int
    /// The owner's public credit condition in basis points (`setMinimumCredit`), nil for none.
    public var minimumCredit: Int64?
}

/// One enterprise's credit (docs/governance.md "Credit"): its behaviour counts, raw score and
/// min-max normalised score in basis points (0 to 10,000).
public struct CreditRow: Codable, Sendable, Equatable {
    public var enterprise: String
    public var grants: Int64
    public var denials: Int64
    public var strikes: Int64
    public var violations: Int64
    public var transfers: Int64
    public var raw: Int64
    public var basisPoints: Int64
}

/// A leaf's inclusion proof against the latest signed tree head, checked before it is returned.
public struct LeafProof: Codable, Sendable, Equatable {
    public var leafIndex: UInt64
    public var leafHash: String
    public var treeSize: UInt64
    public var treeHeight: UInt64
    public var root: String
    public var proof: [String]
    public var verified: Bool
}

/// The public parts of a lot that the access flow needs (its keyword).
public struct LotSummary: Sendable, Equatable {
    public var product: String
    public var stage: Stage
    public var enterprise: String

    public init(product: String, stage: Stage, enterprise: String) {
        self.product = product
        self.stage = stage
        self.enterprise = enterprise
    }
}

extension LedgerQueries {
    /// The regulator's parameters in force and who published them.
    public func accessParameters() throws -> (parameters: AccessParameters, regulator: String)? {
        let select = try store.db.cachedStatement(
            "SELECT regulator, searchable, token_encryption, trapdoor_key, maximum_strikes, block_ms, trapdoors_per_minute FROM access_parameters ORDER BY leaf_index DESC LIMIT 1"
        )
        defer { select.reset() }
        guard try select.step() else { return nil }
        return (
            AccessParameters(
                searchable: select.bytes(at: 1) ?? [], tokenEncryption: select.bytes(at: 2) ?? [],
                trapdoorKey: select.bytes(at: 3) ?? [], maximumStrikes: UInt32(select.int64(at: 4)),
                blockMilliseconds: select.int64(at: 5), trapdoorsPerMinute: UInt32(select.int64(at: 6))),
            select.string(at: 0) ?? ""
        )
    }

    /// The product, stage and enterprise of a lot's first record (what its keyword uses).
    public func lotSummary(_ lot: String) throws -> LotSummary? {
        let select = try store.db.cachedStatement(
            "SELECT product, stage, enterprise FROM records WHERE lot = ? ORDER BY time, leaf_index LIMIT 1")
        let summary = try select.first([.text(lot)]) { row -> LotSummary? in
            guard let stage = Stage(name: row.string(at: 1) ?? "") else { return nil }
            return LotSummary(product: row.string(at: 0) ?? "", stage: stage, enterprise: row.string(at: 2) ?? "")
        }
        return summary ?? nil
    }

    /// Requests awaiting the regulator's match, oldest first, with their sealed trapdoors;
    /// with `leaf`, only those whose request came after that log leaf (a matcher's cursor).
    public func pendingRequests(after leaf: UInt64? = nil, limit: Int = 100) throws -> [(
        row: AccessRequestRow, trapdoor: SealedMessage
    )] {
        let select = try store.db.prepare(
            "SELECT \(Self.requestColumns), trapdoor FROM access_requests WHERE status = 'pending' AND request_leaf > ?1 ORDER BY request_leaf LIMIT ?2"
        )
        return try select.all([.integer(leaf.map { Int64($0) } ?? -1), .int(limit)]) { row in
            (try Self.requestRow(row), try Canonical.decode(SealedMessage.self, from: row.bytes(at: 14) ?? []))
        }
    }

    /// The active entries a request for `lot` and `level` is tested against.
    public func candidates(lot: String, level: String) throws -> [(dataID: String, ciphertext: [UInt8])] {
        let select = try store.db.prepare(
            "SELECT data_id, ciphertext FROM encrypted_data WHERE lot = ? AND level = ? AND status = 'active' ORDER BY leaf_index"
        )
        return try select.all([.text(lot), .text(level)]) { row in (row.string(at: 0) ?? "", row.bytes(at: 1) ?? []) }
    }

    /// One request, or nil.
    public func accessRequest(_ id: String) throws -> AccessRequestRow? {
        let select = try store.db.prepare(
            "SELECT \(Self.requestColumns) FROM access_requests WHERE request_id = ?")
        return try select.first([.text(id)], Self.requestRow)
    }

    /// Every request (the regulator's `audit matches`), newest first, optionally of one lot or requester.
    public func accessRequests(lot: String? = nil, requester: String? = nil, limit: Int = 1000) throws
        -> [AccessRequestRow]
    {
        let select = try store.db.prepare(
            "SELECT \(Self.requestColumns) FROM access_requests WHERE (?1 IS NULL OR lot = ?1) AND (?2 IS NULL OR requester = ?2) ORDER BY request_leaf DESC LIMIT ?3"
        )
        return try select.all([.text(orNull: lot), .text(orNull: requester), .int(limit)], Self.requestRow)
    }

    static let requestColumns =
        "request_id, requester, lot, level, action, source, status, reason, data_id, token, request_leaf, request_time, result_leaf, result_time"

    static func requestRow(_ s: Statement) throws -> AccessRequestRow {
        try AccessRequestRow(
            requestID: s.string(at: 0) ?? "", requester: s.string(at: 1) ?? "", lot: s.string(at: 2) ?? "",
            level: s.string(at: 3) ?? "", action: s.string(at: 4) ?? "", source: s.string(at: 5) ?? "",
            status: stored(AccessRequestStatus.self, s.string(at: 6), "access request \(s.string(at: 0) ?? "")"),
            reason: s.string(at: 7), dataID: s.string(at: 8),
            token: s.bytes(at: 9)?.hexString, requestLeaf: UInt64(s.int64(at: 10)),
            requestTime: Timestamp(milliseconds: s.int64(at: 11)).iso8601,
            resultLeaf: s.isNull(at: 12) ? nil : UInt64(s.int64(at: 12)),
            resultTime: s.isNull(at: 13) ? nil : Timestamp(milliseconds: s.int64(at: 13)).iso8601)
    }

    /// The blacklist, most strikes first.
    public func blacklist() throws -> [BlacklistRow] {
        let select = try store.db.prepare(
            "SELECT source, strikes, blocked_until, last_strike, last_leaf FROM blacklist ORDER BY strikes DESC, source"
        )
        return try select.all([]) { row in
            let permanent = row.isNull(at: 2)
            let key = row.string(at: 0) ?? ""
            let subject = Punishment.Subject(key: key)
            let name: String =
                switch subject {
                case .address(let address): address
                case .principal(let principal): principal
                }
            return BlacklistRow(
                source: key, kind: subject.kind, subject: name, strikes: Int(row.int64(at: 1)),
                blockedUntil: permanent ? nil : Timestamp(milliseconds: row.int64(at: 2)).iso8601,
                permanent: permanent, lastStrike: Timestamp(milliseconds: row.int64(at: 3)).iso8601,
                lastLeaf: UInt64(row.int64(at: 4)))
        }
    }

    /// The contracts' audit trail, newest first, optionally of one method.
    public func accessEvents(method: String? = nil, leaf: UInt64? = nil, limit: Int = 1000) throws -> [AccessEventRow] {
        let select = try store.db.prepare(
            "SELECT leaf_index, height, time, submitter, method, subject, outcome, detail FROM access_events WHERE (?1 IS NULL OR method = ?1) AND (?3 IS NULL OR leaf_index = ?3) ORDER BY leaf_index DESC LIMIT ?2"
        )
        return try select.all([.text(orNull: method), .int(limit), leaf.map { .int($0) } ?? .null], Self.eventRow)
    }

    /// An `access_events` row (leaf, height, time, submitter, method, subject, outcome, detail).
    static func eventRow(_ row: Statement) throws -> AccessEventRow {
        AccessEventRow(
            leafIndex: UInt64(row.int64(at: 0)), height: UInt64(row.int64(at: 1)),
            time: Timestamp(milliseconds: row.int64(at: 2)).iso8601, submitter: row.string(at: 3) ?? "",
            method: row.string(at: 4) ?? "", subject: row.string(at: 5) ?? "",
            outcome: try stored(
                EventOutcome.self, row.string(at: 6), "access_events row at leaf \(row.int64(at: 0))",
                column: "outcome"),
            detail: row.string(at: 7) ?? "")
    }

    /// The outcome of the access transaction at `leaf`, if it is one.
    public func accessEvent(leaf: UInt64) throws -> AccessEventRow? {
        try accessEvents(leaf: leaf, limit: 1).first
    }

    /// Encrypted-data entries, optionally of one owner or lot.
    public func encryptedData(owner: String? = nil, lot: String? = nil) throws -> [EncryptedDataRow] {
        let select = try store.db.prepare(
            "SELECT data_id, owner, enterprise, lot, level, time_window, actions, status, leaf_index, length(ciphertext), minimum_credit FROM encrypted_data WHERE (?1 IS NULL OR owner = ?1) AND (?2 IS NULL OR lot = ?2) ORDER BY leaf_index"
        )
        return try select.all([.text(orNull: owner), .text(orNull: lot)]) { row in
            try EncryptedDataRow(
                dataID: row.string(at: 0) ?? "", owner: row.string(at: 1) ?? "",
                enterprise: row.string(at: 2) ?? "", lot: row.string(at: 3) ?? "",
                level: row.string(at: 4) ?? "",
                window: row.string(at: 5).flatMap(AccessContracts.decodeWindow).map(\.description),
                actions: (row.string(at: 6) ?? "").split(separator: ",").map(String.init),
                status: stored(EntryStatus.self, row.string(at: 7), "entry \(row.string(at: 0) ?? "")"),
                leafIndex: UInt64(row.int64(at: 8)),
                ciphertextBytes: Int(row.int64(at: 9)), minimumCredit: row.isNull(at: 10) ? nil : row.int64(at: 10))
        }
    }

    /// Every enterprise's credit (``Credit``), best first, as of the latest block.
    public func credit() throws -> [CreditRow] {
        try store.db.prepare(
            "SELECT enterprise, grants, denials, strikes, violations, transfers, raw, score FROM credit ORDER BY score DESC, enterprise"
        ).all([]) { row in
            CreditRow(
                enterprise: row.string(at: 0) ?? "", grants: row.int64(at: 1), denials: row.int64(at: 2),
                strikes: row.int64(at: 3), violations: row.int64(at: 4), transfers: row.int64(at: 5),
                raw: row.int64(at: 6), basisPoints: row.int64(at: 7))
        }
    }

    /// The inclusion proof of any leaf against the latest signed tree head, verified here
    /// (the audit attaches one to every row it shows).
    public func leafProof(_ leafIndex: UInt64) throws -> LeafProof {
        let head = try treeHead()
        guard leafIndex < head.value.logSize, let entry = try store.entry(leafIndex: leafIndex) else {
            throw LedgerStoreError.missing("leaf \(leafIndex) in the log of size \(head.value.logSize)")
        }
        var reader = store.nodeReader
        let proof = try LogProofs.inclusionProof(index: leafIndex, size: head.value.logSize, &reader)
        let leafHash = MerkleTree.leafHash(entry.entry)
        try MerkleTree.verifyInclusion(
            leafHash: leafHash, index: leafIndex, treeSize: head.value.logSize, proof: proof, root: head.value.logRoot)
        return LeafProof(
            leafIndex: leafIndex, leafHash: leafHash.hex, treeSize: head.value.logSize, treeHeight: head.value.height,
            root: head.value.logRoot.hex, proof: proof.map(\.hex), verified: true)
    }
}

/// A status column read back as its enum; a value the contracts never write is a corrupt store
/// (the error names the row, the column and the value).
func stored<Status: RawRepresentable>(
    _ type: Status.Type, _ text: String?, _ row: String, column: String = "status"
) throws -> Status
where Status.RawValue == String {
    guard let text, let status = Status(rawValue: text) else {
        throw LedgerStoreError.corrupt("\(row) has the unknown \(column) '\(text ?? "NULL")'")
    }
    return status
}

extension LedgerQueries {
    /// The first block in force at `time` among `subjects` (the punishment contract's
    /// ``Punishment/block(among:at:view:)`` over the stored blacklist), or nil: what the
    /// access gateway checks before it relays a request or serves a fetch or a blob.
    public func block(among subjects: [Punishment.Subject], at time: Timestamp) throws
        -> (subject: Punishment.Subject, until: Timestamp?)?
    {
        try Punishment.block(among: subjects, at: time, view: AccessStateRows(db: store.db))
    }
}
