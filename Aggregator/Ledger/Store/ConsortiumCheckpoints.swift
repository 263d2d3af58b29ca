import AgriTraceCore
import SQLiteStorage

/// A block proposal a consortium node applied (table `consortium_checkpoints`, migration 7):
/// what it checkpointed and cosigned, and the signed note once the checkpoint is final.
public struct AppliedCheckpoint: Sendable, Hashable {
    /// The proposal's height.
    public var height: UInt64
    /// The ledger blocks written up to and with this proposal (a proposal whose bodies were all
    /// refused or duplicates writes none and keeps the previous count).
    public var blockHeight: UInt64
    /// The proposal's block time.
    public var time: Timestamp
    /// The checkpoint body (C2SP `tlog-checkpoint` text with the `state` line).
    public var checkpoint: String
    /// The world state's root after the proposal.
    public var stateRoot: Digest32
    /// This node's `cosignature/v1` line over ``checkpoint``.
    public var cosignature: String
    /// The checkpoint as a signed note with k members' cosignatures, once final.
    public var finalNote: String?

    public init(
        height: UInt64, blockHeight: UInt64, time: Timestamp, checkpoint: String, stateRoot: Digest32,
        cosignature: String, finalNote: String? = nil
    ) {
        self.height = height
        self.blockHeight = blockHeight
        self.time = time
        self.checkpoint = checkpoint
        self.stateRoot = stateRoot
        self.cosignature = cosignature
        self.finalNote = finalNote
    }
}

extension LedgerStore {
    static let checkpointColumns = "height, block_height, time, checkpoint, state_root, cosignature, final_note"

    /// Records an applied proposal (in the transaction that wrote its block).
    public func insertCheckpoint(_ applied: AppliedCheckpoint) throws {
        try db.cachedStatement(
            "INSERT INTO consortium_checkpoints(\(Self.checkpointColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).run([
            .int(applied.height), .int(applied.blockHeight), .integer(applied.time.milliseconds),
            .text(applied.checkpoint), .blob(applied.stateRoot.bytes), .text(applied.cosignature),
            applied.finalNote.map(SQLiteValue.text) ?? .null,
        ])
    }

    /// Keeps the final signed note of the checkpoint at `height`.
    public func setFinalNote(_ note: String, height: UInt64) throws {
        try db.cachedStatement("UPDATE consortium_checkpoints SET final_note = ? WHERE height = ?")
            .run([.text(note), .int(height)])
    }

    /// The last applied proposal, if any.
    public func latestCheckpoint() throws -> AppliedCheckpoint? {
        try db.cachedStatement(
            "SELECT \(Self.checkpointColumns) FROM consortium_checkpoints ORDER BY height DESC LIMIT 1"
        ).first([], Self.appliedCheckpoint)
    }

    /// The applied proposal at `height`, if any.
    public func checkpoint(height: UInt64) throws -> AppliedCheckpoint? {
        try db.cachedStatement("SELECT \(Self.checkpointColumns) FROM consortium_checkpoints WHERE height = ?")
            .first([.int(height)], Self.appliedCheckpoint)
    }

    /// Every applied proposal from `height` on, in order.
    public func checkpoints(from height: UInt64 = 1) throws -> [AppliedCheckpoint] {
        try db.cachedStatement(
            "SELECT \(Self.checkpointColumns) FROM consortium_checkpoints WHERE height >= ? ORDER BY height"
        ).all([.int(height)], Self.appliedCheckpoint)
    }

    static func appliedCheckpoint(_ row: Statement) throws -> AppliedCheckpoint {
        guard let root = Digest32(bytes: row.bytes(at: 4) ?? []) else {
            throw LedgerStoreError.corrupt("consortium checkpoint \(row.int64(at: 0)) has no 32-byte state root")
        }
        return AppliedCheckpoint(
            height: UInt64(row.int64(at: 0)), blockHeight: UInt64(row.int64(at: 1)),
            time: Timestamp(milliseconds: row.int64(at: 2)), checkpoint: row.string(at: 3) ?? "", stateRoot: root,
            cosignature: row.string(at: 5) ?? "", finalNote: row.isNull(at: 6) ? nil : row.string(at: 6))
    }
}

extension LedgerStore {
    /// The id of the last queued submission a consortium node put up for ordering (0: none).
    public func forwardedSubmission() throws -> Int64 {
        guard let bytes = try meta("consortium_forwarded_submission") else { return 0 }
        return Int64(String(decoding: bytes, as: UTF8.self)) ?? 0
    }

    /// Notes that the submissions up to `id` were put up for ordering.
    public func setForwardedSubmission(_ id: Int64) throws {
        try setMeta("consortium_forwarded_submission", Array(String(id).utf8))
    }

    /// The queued submissions after `id`, in order, as the bodies a consortium orders.
    public func pendingSubmissions(after id: Int64) throws -> [(id: Int64, body: ConsortiumBody)] {
        try db.cachedStatement(
            "SELECT id, body, kind, observed_address FROM submissions WHERE status = 'pending' AND id > ? ORDER BY id"
        ).all([.integer(id)]) { row in
            let body = row.bytes(at: 1) ?? []
            let kind =
                row.isNull(at: 2) ? SubmissionKind.ofLegacyBody(body) : SubmissionKind(rawValue: row.int64(at: 2))
            switch kind {
            case .access: return (id: row.int64(at: 0), body: .access(body, observedAddress: row.string(at: 3)))
            case .blob: return (id: row.int64(at: 0), body: .blob(body))
            case .registry, nil: return (id: row.int64(at: 0), body: .registry(body))
            }
        }
    }
}

/// A consortium node's standing, from its store (`agritrace status --store`).
public struct ConsortiumStanding: Sendable, Hashable {
    /// The last proposal applied.
    public var applied: UInt64
    /// The last height whose checkpoint is final.
    public var final: UInt64
    /// The first height at which the final checkpoint is not this node's, if any: its reads
    /// are not authoritative.
    public var divergedAt: UInt64?
}

extension LedgerStore {
    /// Where this consortium node stands, nil for a single-node store.
    public func consortiumStanding() throws -> ConsortiumStanding? {
        guard let latest = try latestCheckpoint() else { return nil }
        let final = try db.cachedStatement(
            "SELECT max(height) FROM consortium_checkpoints WHERE final_note IS NOT NULL"
        ).first([]) { UInt64($0.int64(at: 0)) }
        let diverged = try db.cachedStatement(
            "SELECT height, checkpoint, final_note FROM consortium_checkpoints WHERE final_note IS NOT NULL ORDER BY height"
        ).all([]) { row -> UInt64? in
            let note = (try? SignedNote(parsing: row.string(at: 2) ?? ""))?.text
            return note == row.string(at: 1) ? nil : UInt64(row.int64(at: 0))
        }.compactMap { $0 }.first
        return ConsortiumStanding(applied: latest.height, final: final ?? 0, divergedAt: diverged)
    }
}
