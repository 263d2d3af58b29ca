import AgriTraceCore
import Crypto
import LedgerCore
import SQLiteStorage

extension LedgerSchema {
    /// The transfer contracts' state (migration 3): blob references, redemptions, grant
    /// revocations, transfers (the 4Wh records) and reads.
    static let transferDDL = """
        CREATE TABLE blobs(
            leaf_index INTEGER PRIMARY KEY,
            blob_id BLOB NOT NULL,
            record_id BLOB NOT NULL,
            level TEXT NOT NULL,
            enterprise TEXT NOT NULL,
            device TEXT NOT NULL,
            size INTEGER NOT NULL,
            owner_key BLOB NOT NULL,
            wrapped_key BLOB NOT NULL,
            status TEXT NOT NULL,
            reason TEXT
        );
        CREATE INDEX blobs_by_id ON blobs(blob_id);
        CREATE INDEX blobs_by_record ON blobs(record_id, level);
        CREATE TABLE redemptions(
            leaf_index INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            requester TEXT NOT NULL,
            owner TEXT,
            requester_key BLOB NOT NULL,
            proof BLOB NOT NULL,
            purpose TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            time INTEGER NOT NULL
        );
        CREATE INDEX redemptions_by_request ON redemptions(request_id);
        CREATE TABLE grant_revocations(
            request_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            reason TEXT NOT NULL,
            leaf_index INTEGER NOT NULL,
            time INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE transfers(
            leaf_index INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            redeem_leaf INTEGER NOT NULL,
            sender TEXT NOT NULL,
            receiver TEXT NOT NULL,
            lot TEXT NOT NULL,
            level TEXT NOT NULL,
            record_count INTEGER NOT NULL,
            blob_digest BLOB NOT NULL,
            source TEXT NOT NULL,
            status TEXT NOT NULL,
            purpose TEXT NOT NULL,
            reason TEXT NOT NULL,
            outcome TEXT NOT NULL,
            time INTEGER NOT NULL
        );
        CREATE INDEX transfers_by_redeem ON transfers(redeem_leaf);
        CREATE INDEX transfers_by_lot ON transfers(lot);
        CREATE TABLE transfer_reads(
            leaf_index INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            reader TEXT NOT NULL,
            lot TEXT NOT NULL,
            level TEXT NOT NULL,
            transfer_leaf INTEGER NOT NULL,
            record_count INTEGER NOT NULL,
            fields TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL,
            time INTEGER NOT NULL
        );

        """

    /// Data keys the owner's transfer service re-wrapped for a redemption's ephemeral key
    /// (not world state: they are not on the ledger, only their blobs' digest is).
    static let transferKeysDDL = """
        CREATE TABLE transfer_keys(
            redeem_leaf INTEGER NOT NULL,
            record_id BLOB NOT NULL,
            level TEXT NOT NULL,
            wrapped BLOB NOT NULL,
            PRIMARY KEY(redeem_leaf, record_id, level)
        ) WITHOUT ROWID;
        """
}

/// The transfer contracts (docs/transfer.md): blob references from devices, and the
/// `redeem`, `addTransfer`, `revokeGrant` and `recordRead` access transactions. Like the
/// access contracts, the outcome is decided at block time from the state and recorded, never
/// thrown, so replay rebuilds it.
public enum TransferContracts {
    /// Writes a blob reference: stored if the record is on the ledger and belongs to the
    /// uploading device and has no blob at this level yet; refused otherwise.
    static func write(_ reference: BlobReference, leafIndex: UInt64, to db: SQLiteConnection) throws {
        let recordBytes = Canonical.encode(reference.recordID)
        var status = "stored"
        var reason: String?
        let record = try db.cachedStatement("SELECT enterprise, device FROM records WHERE record_id = ?")
        try record.bind(recordBytes, at: 1)
        if try record.step() {
            if record.string(at: 0) != reference.enterprise || record.string(at: 1) != reference.device {
                status = "refused"
                reason = "record \(reference.recordID) belongs to another device"
            }
        } else {
            status = "refused"
            reason = "record \(reference.recordID) is not on the ledger"
        }
        record.reset()
        if status == "stored" {
            let existing = try db.cachedStatement(
                "SELECT blob_id FROM blobs WHERE record_id = ? AND level = ? AND status = 'stored'")
            try existing.bind(recordBytes, at: 1)
            try existing.bind(reference.level.rawValue, at: 2)
            if try existing.step() {
                status = "refused"
                reason =
                    (existing.bytes(at: 0) ?? []) == reference.blobID.bytes
                    ? "duplicate: blob \(reference.blobID) is already stored"
                    : "record \(reference.recordID) already has a \(reference.level.rawValue) blob"
            }
            existing.reset()
        }
        let insert = try db.cachedStatement(
            "INSERT INTO blobs(leaf_index, blob_id, record_id, level, enterprise, device, size, owner_key, wrapped_key, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(Int64(leafIndex), at: 1)
        try insert.bind(reference.blobID.bytes, at: 2)
        try insert.bind(recordBytes, at: 3)
        try insert.bind(reference.level.rawValue, at: 4)
        try insert.bind(reference.enterprise, at: 5)
        try insert.bind(reference.device, at: 6)
        try insert.bind(Int64(reference.size), at: 7)
        try insert.bind(reference.ownerKey, at: 8)
        try insert.bind(Canonical.encode(reference.wrappedKey), at: 9)
        try insert.bind(status, at: 10)
        if let reason { try insert.bind(reason, at: 11) } else { try insert.bindNull(at: 11) }
        try insert.run()
    }

    static func requestState(_ requestID: String, _ db: SQLiteConnection) throws -> RequestFacts? {
        let select = try db.cachedStatement(
            "SELECT r.requester, r.lot, r.level, r.source, r.status, e.owner, (SELECT 1 FROM grant_revocations g WHERE g.request_id = r.request_id) FROM access_requests r LEFT JOIN encrypted_data e ON e.data_id = r.data_id WHERE r.request_id = ?"
        )
        defer { select.reset() }
        try select.bind(requestID, at: 1)
        guard try select.step() else { return nil }
        return RequestFacts(
            requester: select.string(at: 0) ?? "", lot: select.string(at: 1) ?? "", level: select.string(at: 2) ?? "",
            source: select.string(at: 3) ?? "", status: select.string(at: 4) ?? "", owner: select.string(at: 5),
            revoked: !select.isNull(at: 6))
    }

    /// Applies a transfer operation at the block time; returns the audit event.
    static func write(_ transaction: AccessTransaction, leaf: Int64, time: Timestamp, _ db: SQLiteConnection) throws
        -> ContractEvent
    {
        switch transaction.operation {
        case .redeem(let request):
            return try writeRedemption(request, transaction, leaf: leaf, time: time, db)
        case .addTransfer(let transfer):
            return try writeTransfer(transfer, transaction, leaf: leaf, time: time, db)
        case .revokeGrant(let requestID, let reason):
            return try writeGrantRevocation(
                requestID: requestID, reason: reason, transaction, leaf: leaf, time: time, db)
        case .recordRead(let read):
            return try writeRead(read, transaction, leaf: leaf, time: time, db)
        default:
            return ContractEvent(subject: "", outcome: .refused, detail: "not a transfer operation")
        }
    }

    /// `redeem`: the redemption contract (``Redemption``) and its row.
    static func writeRedemption(
        _ request: RedeemRequest, _ transaction: AccessTransaction, leaf: Int64, time: Timestamp, _ db: SQLiteConnection
    ) throws -> ContractEvent {
        let state = try requestState(request.requestID, db)
        let event = Redemption.apply(requestID: request.requestID, submitter: transaction.submitter, facts: state)
        let insert = try db.cachedStatement(
            "INSERT INTO redemptions(leaf_index, request_id, requester, owner, requester_key, proof, purpose, status, reason, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(leaf, at: 1)
        try insert.bind(request.requestID, at: 2)
        try insert.bind(transaction.submitter, at: 3)
        if let owner = state?.owner { try insert.bind(owner, at: 4) } else { try insert.bindNull(at: 4) }
        try insert.bind(request.requesterKey, at: 5)
        try insert.bind(request.proof, at: 6)
        try insert.bind(request.purpose, at: 7)
        try insert.bind(event.outcome.rawValue, at: 8)
        try insert.bind(event.detail, at: 9)
        try insert.bind(time.milliseconds, at: 10)
        try insert.run()
        return event
    }

    /// `addTransfer`: the owner's transfer service reports what it delivered.
    static func writeTransfer(
        _ transfer: TransferRecord, _ transaction: AccessTransaction, leaf: Int64, time: Timestamp,
        _ db: SQLiteConnection
    ) throws -> ContractEvent {
        var outcome = EventOutcome.applied
        var detail =
            "\(transfer.status): \(transfer.recordCount) records of \(transfer.lot) \(transfer.level.rawValue) to \(transfer.receiver) for \(transfer.purpose)"
        let select = try db.cachedStatement(
            "SELECT request_id, requester, owner, status FROM redemptions WHERE leaf_index = ?")
        try select.bind(Int64(transfer.redeemLeaf), at: 1)
        let redemption =
            try select.step()
            ? (select.string(at: 0) ?? "", select.string(at: 1) ?? "", select.string(at: 2), select.string(at: 3))
            : nil
        select.reset()
        let state = try requestState(transfer.requestID, db)
        if let redemption, let state {
            if redemption.0 != transfer.requestID || redemption.3 != EventOutcome.accepted.rawValue {
                outcome = .refused
                detail =
                    "leaf \(transfer.redeemLeaf) is not an accepted redemption of request \(transfer.requestID)"
            } else if redemption.2 != transaction.submitter {
                outcome = .refused
                detail = "only the entry's owner \(redemption.2 ?? "?") may transfer, not \(transaction.submitter)"
            } else if redemption.1 != transfer.receiver || state.lot != transfer.lot
                || state.level != transfer.level.rawValue
            {
                outcome = .refused
                detail = "the receiver, lot or level differ from the request"
            } else if try AccessContracts.exists(
                "SELECT 1 FROM transfers WHERE redeem_leaf = ? AND outcome = 'applied'",
                [String(transfer.redeemLeaf)],
                db)
            {
                outcome = .refused
                detail = "redemption \(transfer.redeemLeaf) already has a transfer"
            } else if state.revoked && transfer.status == "delivered" {
                outcome = .refused
                detail = "revoked: the grant of request \(transfer.requestID) was revoked"
            }
        } else {
            outcome = .refused
            detail = "no redemption at leaf \(transfer.redeemLeaf) for request \(transfer.requestID)"
        }
        let insert = try db.cachedStatement(
            "INSERT INTO transfers(leaf_index, request_id, redeem_leaf, sender, receiver, lot, level, record_count, blob_digest, source, status, purpose, reason, outcome, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(leaf, at: 1)
        try insert.bind(transfer.requestID, at: 2)
        try insert.bind(Int64(transfer.redeemLeaf), at: 3)
        try insert.bind(transaction.submitter, at: 4)
        try insert.bind(transfer.receiver, at: 5)
        try insert.bind(transfer.lot, at: 6)
        try insert.bind(transfer.level.rawValue, at: 7)
        try insert.bind(Int64(transfer.recordCount), at: 8)
        try insert.bind(transfer.blobDigest.bytes, at: 9)
        try insert.bind(state?.source ?? transfer.source, at: 10)
        try insert.bind(transfer.status, at: 11)
        try insert.bind(transfer.purpose, at: 12)
        try insert.bind(outcome == .applied ? transfer.reason : detail, at: 13)
        try insert.bind(outcome.rawValue, at: 14)
        try insert.bind(time.milliseconds, at: 15)
        try insert.run()
        return ContractEvent(subject: transfer.requestID, outcome: outcome, detail: detail)
    }

    /// `revokeGrant`: the grant-revocation contract (``GrantRevocation``) and its row.
    static func writeGrantRevocation(
        requestID: String, reason: String, _ transaction: AccessTransaction, leaf: Int64, time: Timestamp,
        _ db: SQLiteConnection
    ) throws -> ContractEvent {
        let event = GrantRevocation.apply(
            requestID: requestID, reason: reason, submitter: transaction.submitter,
            facts: try requestState(requestID, db))
        guard event.outcome == .applied else { return event }
        let insert = try db.cachedStatement(
            "INSERT INTO grant_revocations(request_id, owner, reason, leaf_index, time) VALUES (?, ?, ?, ?, ?)")
        try insert.bind(requestID, at: 1)
        try insert.bind(transaction.submitter, at: 2)
        try insert.bind(reason, at: 3)
        try insert.bind(leaf, at: 4)
        try insert.bind(time.milliseconds, at: 5)
        try insert.run()
        return event
    }

    /// `recordRead`: the receiver records what it read.
    static func writeRead(
        _ read: ReadRecord, _ transaction: AccessTransaction, leaf: Int64, time: Timestamp, _ db: SQLiteConnection
    ) throws -> ContractEvent {
        let select = try db.cachedStatement(
            "SELECT receiver, lot, level FROM transfers WHERE leaf_index = ? AND request_id = ? AND outcome = 'applied'"
        )
        try select.bind(Int64(read.transferLeaf), at: 1)
        try select.bind(read.requestID, at: 2)
        guard try select.step(), select.string(at: 0) == transaction.submitter else {
            select.reset()
            return ContractEvent(
                subject: read.requestID, outcome: .refused,
                detail: "no transfer at leaf \(read.transferLeaf) to \(transaction.submitter)")
        }
        let (lot, level) = (select.string(at: 1) ?? "", select.string(at: 2) ?? "")
        select.reset()
        let insert = try db.cachedStatement(
            "INSERT INTO transfer_reads(leaf_index, request_id, reader, lot, level, transfer_leaf, record_count, fields, outcome, detail, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try insert.bind(leaf, at: 1)
        try insert.bind(read.requestID, at: 2)
        try insert.bind(transaction.submitter, at: 3)
        try insert.bind(lot, at: 4)
        try insert.bind(level, at: 5)
        try insert.bind(Int64(read.transferLeaf), at: 6)
        try insert.bind(Int64(read.recordCount), at: 7)
        try insert.bind(read.fields.joined(separator: ","), at: 8)
        try insert.bind(read.outcome, at: 9)
        try insert.bind(read.detail, at: 10)
        try insert.bind(time.milliseconds, at: 11)
        try insert.run()
        return ContractEvent(
            subject: read.requestID, outcome: .applied,
            detail: "\(read.outcome): \(read.recordCount) records of \(lot) \(level)")
    }
}
