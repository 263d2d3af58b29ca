import AgriTraceCore
import Crypto
import Foundation
import Ledger
import SQLiteStorage

/// Where the owner's remote transfer service (`agritrace transfer serve --api`) delivers the
/// keys it re-wrapped (`POST /v1/transfers/keys`): a ``TransferKeyDelivery`` signed with the
/// owner's registered principal key. It is stored only if the signer is an active registered
/// principal, owns the entry the redemption redeems, the redemption was accepted on the ledger
/// and is not answered yet, its grant is not revoked, no keys were delivered for it before
/// (once per redemption), and every key is for a record of the requested lot, at the granted
/// level, with a stored blob. The keys are wrapped to the requester's ephemeral key: the
/// aggregator cannot open them.
public enum TransferKeyInbox {
    /// Why a delivery was refused (the API answers it with 400, 403 or 409).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public enum Kind: Sendable { case malformed, forbidden, conflict }
        public var kind: Kind
        public var description: String
    }

    /// Checks and stores one delivery (canonical `Signed<TransferKeyDelivery>`); returns the
    /// number of keys stored.
    public static func accept(_ bytes: [UInt8], store: LedgerStore) throws -> Int {
        guard let signed = try? Canonical.decode(Signed<TransferKeyDelivery>.self, from: bytes) else {
            throw Refusal(
                kind: .malformed,
                description: "the body is not a canonical signed transfer-key delivery (application/octet-stream)")
        }
        let delivery = signed.value
        let db = store.db
        // Every check and the insert in one write transaction, begun before any read (a
        // statement still open from a read outside it would make BEGIN IMMEDIATE fail at once
        // instead of waiting): two deliveries for the same redemption at once cannot both pass
        // the once-per-redemption check.
        return try db.transaction {
            let key = try ownerKey(delivery.owner, db: db)
            guard signed.isValid(domain: .transferKeys, key: key) else {
                throw Refusal(
                    kind: .forbidden,
                    description: "the delivery's signature does not verify under \(delivery.owner)'s key")
            }
            let granted = try openRedemption(delivery, db: db)
            try checkKeys(delivery.keys, lot: granted.lot, level: granted.level, db: db)
            try store.insertTransferKeys(delivery.keys, redeemLeaf: delivery.redeemLeaf)
            return delivery.keys.count
        }
    }

    /// The transaction key of `owner`, an active registered principal.
    static func ownerKey(_ owner: String, db: SQLiteConnection) throws -> Curve25519.Signing.PublicKey {
        let row = try db.prepare("SELECT public_key, status FROM principals WHERE name = ?").first([.text(owner)]) {
            ($0.bytes(at: 0), $0.string(at: 1))
        }
        guard let row, row.1 == "active", let raw = row.0,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else {
            throw Refusal(kind: .forbidden, description: "\(owner) is not an active registered principal")
        }
        return key
    }

    /// The lot and level granted by the delivery's redemption, which must redeem an entry of the
    /// delivery's owner, be accepted on the ledger, keep its grant and have no keys or transfer yet.
    static func openRedemption(_ delivery: TransferKeyDelivery, db: SQLiteConnection) throws -> (
        lot: String, level: String
    ) {
        let redemption = try db.prepare(
            """
            SELECT d.owner, d.status, q.lot, q.level,
                   EXISTS (SELECT 1 FROM grant_revocations g WHERE g.request_id = d.request_id),
                   EXISTS (SELECT 1 FROM transfers t WHERE t.redeem_leaf = d.leaf_index AND t.outcome = 'applied'),
                   EXISTS (SELECT 1 FROM transfer_keys k WHERE k.redeem_leaf = d.leaf_index)
              FROM redemptions d JOIN access_requests q ON q.request_id = d.request_id WHERE d.leaf_index = ?
            """)
        let leaf = delivery.redeemLeaf
        try redemption.bind([.int(leaf)])
        guard try redemption.step() else {
            throw Refusal(kind: .forbidden, description: "no redemption at leaf \(leaf)")
        }
        guard redemption.string(at: 0) == delivery.owner else {
            throw Refusal(
                kind: .forbidden,
                description:
                    "redemption \(leaf) redeems an entry of \(redemption.string(at: 0) ?? "nobody"), not of \(delivery.owner)"
            )
        }
        guard redemption.string(at: 1) == EventOutcome.accepted.rawValue else {
            throw Refusal(kind: .forbidden, description: "redemption \(leaf) was refused on the ledger")
        }
        guard redemption.int64(at: 4) == 0 else {
            throw Refusal(kind: .forbidden, description: "the grant of redemption \(leaf) is revoked")
        }
        guard redemption.int64(at: 5) == 0, redemption.int64(at: 6) == 0 else {
            throw Refusal(kind: .conflict, description: "redemption \(leaf) already has its keys or its transfer")
        }
        return (redemption.string(at: 2) ?? "", redemption.string(at: 3) ?? "")
    }

    /// Every key is for a record of `lot` at the granted `level`, once, with a stored blob.
    static func checkKeys(_ keys: [WrappedDataKey], lot: String, level: String, db: SQLiteConnection) throws {
        let blob = try db.prepare(
            "SELECT 1 FROM blobs b JOIN records r ON r.record_id = b.record_id WHERE b.record_id = ? AND b.level = ? AND b.status = ? AND r.lot = ?"
        )
        var seen: Set<RecordID> = []
        for key in keys {
            guard key.level.rawValue == level else {
                throw Refusal(
                    kind: .forbidden,
                    description: "record \(key.recordID) \(key.level.rawValue): the grant is for \(level) only")
            }
            guard seen.insert(key.recordID).inserted else {
                throw Refusal(kind: .malformed, description: "record \(key.recordID): delivered twice")
            }
            let values: [SQLiteValue] = [
                .blob(Canonical.encode(key.recordID)), .text(level), .text(BlobStatus.stored.rawValue), .text(lot),
            ]
            guard try blob.first(values, { _ in true }) != nil else {
                throw Refusal(
                    kind: .forbidden, description: "record \(key.recordID): no stored \(level) blob of lot \(lot)")
            }
        }
    }
}
