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
    /// Writes a blob reference: the blob-reference contract (``BlobReferences``) decides
    /// stored or refused; the `blobs` row records either.
    static func write(_ reference: BlobReference, leafIndex: UInt64, to db: SQLiteConnection) throws {
        let rows = AccessStateRows(db: db)
        let outcome = try BlobReferences.apply(reference, view: rows)
        try rows.run(
            "INSERT INTO blobs(leaf_index, blob_id, record_id, level, enterprise, device, size, owner_key, wrapped_key, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .int(leafIndex), .blob(reference.blobID.bytes), .blob(Canonical.encode(reference.recordID)),
                .text(reference.level.rawValue), .text(reference.enterprise), .text(reference.device),
                .int(reference.size), .blob(reference.ownerKey), .blob(Canonical.encode(reference.wrappedKey)),
                .text(outcome.status.rawValue), .text(orNull: outcome.reason),
            ])
    }

    /// Applies a transfer operation at the block time; returns the audit event.
    /// `address` is the network address the access gateway observed, nil when the
    /// transaction was not relayed by it.
    static func write(
        _ transaction: AccessTransaction, address: String? = nil, leaf: Int64, time: Timestamp,
        _ rows: AccessStateRows
    ) throws -> ContractEvent {
        let submitter = transaction.submitter
        switch transaction.operation {
        case .redeem(let request):
            return try writeRedemption(request, submitter: submitter, address: address, leaf: leaf, time: time, rows)
        case .addTransfer(let report):
            return try rows.store(
                TransferReport.apply(report, submitter: submitter, at: time, view: rows), leaf: leaf, time: time)
        case .revokeGrant(let requestID, let reason):
            return try writeGrantRevocation(
                requestID: requestID, reason: reason, submitter: submitter, leaf: leaf, time: time, rows)
        case .recordRead(let report):
            let grant = try rows.requestFacts(report.requestID)
            return try rows.store(
                ReadReport.apply(report, submitter: submitter, grant: grant, at: time, view: rows), leaf: leaf,
                time: time)
        default:
            return ContractEvent(subject: "", outcome: .refused, detail: "not a transfer operation")
        }
    }

    /// `redeem`: the redemption contract (``Redemption``) and its row.
    static func writeRedemption(
        _ request: RedeemRequest, submitter: String, address: String?, leaf: Int64, time: Timestamp,
        _ rows: AccessStateRows
    ) throws -> ContractEvent {
        let facts = try rows.requestFacts(request.requestID)
        let block = try Punishment.block(
            among: Decision.subjects(requester: submitter, address: address), at: time, view: rows)
        let event = Redemption.apply(
            requestID: request.requestID, submitter: submitter, facts: facts, block: block, at: time)
        try rows.run(
            "INSERT INTO redemptions(leaf_index, request_id, requester, owner, requester_key, proof, purpose, status, reason, time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .integer(leaf), .text(request.requestID), .text(submitter), .text(orNull: facts?.owner),
                .blob(request.requesterKey), .blob(request.proof), .text(request.purpose),
                .text(event.outcome.rawValue), .text(event.detail), .integer(time.milliseconds),
            ])
        return event
    }

    /// `revokeGrant`: the grant-revocation contract (``GrantRevocation``) and its row.
    static func writeGrantRevocation(
        requestID: String, reason: String, submitter: String, leaf: Int64, time: Timestamp, _ rows: AccessStateRows
    ) throws -> ContractEvent {
        let event = GrantRevocation.apply(
            requestID: requestID, reason: reason, submitter: submitter, facts: try rows.requestFacts(requestID))
        guard event.outcome == .applied else { return event }
        try rows.run(
            "INSERT INTO grant_revocations(request_id, owner, reason, leaf_index, time) VALUES (?, ?, ?, ?, ?)",
            [.text(requestID), .text(submitter), .text(reason), .integer(leaf), .integer(time.milliseconds)])
        return event
    }
}
