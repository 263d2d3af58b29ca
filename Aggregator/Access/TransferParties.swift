import AgriTraceCore
import Blobs
import Crypto
import Foundation
import Ledger
import SQLiteStorage

/// The owner's transfer service (docs/transfer.md): it answers accepted redemptions of its
/// entries by re-wrapping the data keys of the lot's blobs, at the granted level, from its own
/// X25519 key to the requester's ephemeral key. The aggregator only relays ciphertexts.
public struct TransferOwner: Sendable {
    /// The owner's principal (the entries' owner on the ledger).
    public var principal: String
    /// The enterprise's X25519 private key the agents wrap data keys to.
    public var ownerKey: Curve25519.KeyAgreement.PrivateKey
    /// The access tokens of the owner's entries, by data id (`owner-tokens.json`).
    public var tokens: [String: [UInt8]]

    public init(principal: String, ownerKey: Curve25519.KeyAgreement.PrivateKey, tokens: [String: [UInt8]]) {
        self.principal = principal
        self.ownerKey = ownerKey
        self.tokens = tokens
    }

    /// Answers one redemption on the server's store: takes the facts from the store, decides
    /// (``decide(_:blobs:)``), writes the re-wrapped keys to the store's `transfer_keys` table
    /// (through `store`, a writer connection) and returns the `addTransfer` operation to submit
    /// (status delivered, or refused with the reason).
    public func answer(_ redemption: RedemptionRow, store: LedgerStore) throws -> AccessTransaction.Operation {
        let queries = LedgerQueries(store: store)
        guard let request = try queries.accessRequest(redemption.requestID),
            let sensitivity = ABAC.Sensitivity(rawValue: request.level)
        else { throw AccessFlowError("redemption \(redemption.leafIndex) names an unknown request") }
        let facts = RedemptionFacts(
            redeemLeaf: redemption.leafIndex, requester: redemption.requester,
            redeem: RedeemRequest(
                requestID: redemption.requestID, requesterKey: redemption.requesterKey, proof: redemption.proof,
                purpose: redemption.purpose),
            lot: request.lot, level: sensitivity, dataID: request.dataID, source: request.source)
        let decision = try decide(
            facts,
            blobs: try queries.blobs(lot: request.lot, level: sensitivity.privacyLevel).map {
                OwnedBlobKey(
                    recordID: $0.recordID, level: $0.level, blobID: $0.blobID, ownerKey: $0.ownerKey,
                    wrappedKey: $0.wrappedKey)
            })
        try store.insertTransferKeys(decision.keys, redeemLeaf: redemption.leafIndex)
        return decision.operation
    }

    /// The one place a redemption is decided, whatever the facts came from (the server's store,
    /// or log leaves verified against a signed tree head): checks the token proof against the
    /// owner's token of the entry (constant-time), then unwraps each owner-wrapped data key of
    /// the lot's blobs at the granted level with the owner key and re-wraps it to the
    /// requester's ephemeral key (HPKE, bound to record and level).
    /// - Returns: the `addTransfer` operation (delivered, or refused with the reason) and the
    ///   re-wrapped keys (none when refused).
    /// - Throws: naming the record, if a wrapped key is not for the record and level it is
    ///   listed under or does not open with the owner key (nothing is delivered then).
    public func decide(_ facts: RedemptionFacts, blobs: [OwnedBlobKey]) throws -> TransferDecision {
        func refuse(_ reason: String) -> TransferDecision {
            TransferDecision(
                operation: .addTransfer(
                    TransferRecord(
                        requestID: facts.redeem.requestID, redeemLeaf: facts.redeemLeaf, receiver: facts.requester,
                        lot: facts.lot, level: facts.level, recordCount: 0, blobDigest: TransferRecord.digest(of: []),
                        source: facts.source, status: .refused, purpose: facts.redeem.purpose, reason: reason)),
                keys: [])
        }
        guard let dataID = facts.dataID, let token = tokens[dataID] else {
            return refuse("the owner has no token for entry \(facts.dataID ?? "?")")
        }
        guard facts.redeem.isProven(by: token) else {
            return refuse("the token proof does not verify: the requester does not hold the access token")
        }
        guard let requesterKey = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: facts.redeem.requesterKey)
        else { return refuse("the requester key is not an X25519 key") }
        let level = facts.level.privacyLevel
        let ownerPublic = Array(ownerKey.publicKey.rawRepresentation)
        var rewrapped: [WrappedDataKey] = []
        var blobIDs: [Digest32] = []
        for blob in blobs where blob.ownerKey == ownerPublic {
            guard blob.level == level, blob.wrappedKey.recordID == blob.recordID, blob.wrappedKey.level == level
            else {
                throw AccessFlowError(
                    "record \(blob.recordID) \(blob.level.rawValue): its wrapped key is for record \(blob.wrappedKey.recordID) \(blob.wrappedKey.level.rawValue), not the granted \(level.rawValue) of this record"
                )
            }
            let dataKey: SymmetricKey
            do {
                dataKey = try blob.wrappedKey.unwrap(with: ownerKey)
            } catch {
                throw AccessFlowError(
                    "record \(blob.recordID) \(level.rawValue): the wrapped data key does not open with the owner key for this record and level (\(error))"
                )
            }
            rewrapped.append(try WrappedDataKey.wrap(dataKey, recordID: blob.recordID, level: level, for: requesterKey))
            blobIDs.append(blob.blobID)
        }
        return TransferDecision(
            operation: .addTransfer(
                TransferRecord(
                    requestID: facts.redeem.requestID, redeemLeaf: facts.redeemLeaf, receiver: facts.requester,
                    lot: facts.lot, level: facts.level, recordCount: UInt32(rewrapped.count),
                    blobDigest: TransferRecord.digest(of: blobIDs), source: facts.source, status: .delivered,
                    purpose: facts.redeem.purpose)),
            keys: rewrapped)
    }
}

/// What the owner answers a redemption from: the `redeem` transaction and the request and
/// entry it redeems.
public struct RedemptionFacts: Sendable, Equatable {
    /// The leaf of the `redeem` transaction.
    public var redeemLeaf: UInt64
    /// Who redeemed (the redeem transaction's submitter, the request's requester).
    public var requester: String
    /// The request id, ephemeral key, token proof and purpose.
    public var redeem: RedeemRequest
    public var lot: String
    public var level: ABAC.Sensitivity
    /// The matched entry's data id (which token the proof is checked against).
    public var dataID: String?
    /// The request's source (the 4Wh "where").
    public var source: String
}

/// One blob's data key wrapped to the owner, as its blob reference on the ledger states it.
public struct OwnedBlobKey: Sendable, Equatable {
    public var recordID: RecordID
    public var level: PrivacyLevel
    public var blobID: Digest32
    public var ownerKey: [UInt8]
    public var wrappedKey: WrappedDataKey
}

/// The owner's answer to one redemption: the `addTransfer` to submit and the keys to deliver.
public struct TransferDecision: Sendable {
    public var operation: AccessTransaction.Operation
    public var keys: [WrappedDataKey]
}

/// One record's private values as fetched and verified.
public struct FetchedRecord: Sendable {
    public var record: Record
    public var blobID: Digest32
    public var fields: PrivateFields
    /// With `--fields`: one disclosure per selected field, each checked against the commitment.
    public var disclosures: [FieldDisclosure]
}

/// The requester's side: redeem a granted request with a fresh key, then fetch and verify.
public enum TransferRequester {
    /// The `redeem` operation for `requestID`, with a fresh ephemeral key (keep it to fetch).
    /// `key`: the ephemeral key to redeem with (a fresh one by default; a resumed fetch passes
    /// the one it kept).
    public static func redeem(
        requestID: String, token: [UInt8], purpose: String,
        key: Curve25519.KeyAgreement.PrivateKey = Curve25519.KeyAgreement.PrivateKey()
    ) -> (
        operation: AccessTransaction.Operation, key: Curve25519.KeyAgreement.PrivateKey
    ) {
        let raw = Array(key.publicKey.rawRepresentation)
        let request = RedeemRequest(
            requestID: requestID, requesterKey: raw,
            proof: RedeemRequest.proof(token: token, requestID: requestID, requesterKey: raw), purpose: purpose)
        return (.redeem(request), key)
    }

    /// Opens every transferred blob and checks it against the ledger: the blob's hash against
    /// the blob id on the ledger, the transfer's digest of blob ids, and every value against
    /// the record's commitment; with `fields`, each selected field's disclosure proof too.
    /// Throws naming the record on the first mismatch.
    public static func fetch(
        transfer: TransferRow, key: Curve25519.KeyAgreement.PrivateKey, queries: LedgerQueries, blobs: BlobStore,
        fields selected: [String]? = nil
    ) throws -> [FetchedRecord] {
        try fetch(
            transfer: transfer, key: key, material: StoreTransferMaterial(queries: queries, blobs: blobs),
            fields: selected)
    }

    /// ``fetch(transfer:key:queries:blobs:fields:)`` over any source of the transfer's material
    /// (the server's store, or what the API returned, its records checked against signed tree heads).
    public static func fetch(
        transfer: TransferRow, key: Curve25519.KeyAgreement.PrivateKey, material: some TransferMaterial,
        fields selected: [String]? = nil
    ) throws -> [FetchedRecord] {
        try eachRelayedKey(transfer: transfer, key: key, material: material) { relayed, fail in
            let bytes: [UInt8]
            do {
                bytes = try material.blob(relayed.blobID)
            } catch {
                throw fail("\(error)")
            }
            let sealed = SealedPrivateFields(recordID: relayed.recordID, level: relayed.level, blob: bytes)
            let fields: PrivateFields
            do {
                fields = try sealed.open(
                    dataKey: relayed.dataKey, record: relayed.record, expectedBlobID: relayed.blobID)
            } catch {
                throw fail("\(error)")
            }
            var disclosures: [FieldDisclosure] = []
            if let selected, let commitment = relayed.record.commitment(for: relayed.level) {
                for name in selected where fields.entries.contains(where: { $0.key == name }) {
                    let disclosure = try fields.disclose(key: name)
                    do {
                        try disclosure.verify(against: commitment)
                    } catch {
                        throw fail("field \(name): \(error)")
                    }
                    disclosures.append(disclosure)
                }
            }
            return FetchedRecord(
                record: relayed.record, blobID: relayed.blobID, fields: fields, disclosures: disclosures)
        }
    }

    /// One relayed key after the checks every fetch makes: its record is on the ledger and in
    /// the transferred lot, the record has a blob reference at that level, and the key opens
    /// with the redemption's private key.
    struct RelayedKey {
        var recordID: RecordID
        var level: PrivacyLevel
        var record: Record
        var blobID: Digest32
        var dataKey: SymmetricKey
    }

    /// Runs the checks both fetches share around `open`: the transfer was delivered, the
    /// relayed keys are as many as the ledger says, each key passes ``RelayedKey``'s checks
    /// before `open` sees it (errors name the record through `fail`), and the relayed blob
    /// ids are the ones the transfer on the ledger names.
    static func eachRelayedKey<Result>(
        transfer: TransferRow, key: Curve25519.KeyAgreement.PrivateKey, material: some TransferMaterial,
        _ open: (RelayedKey, (String) -> AccessFlowError) throws -> Result
    ) throws -> [Result] {
        guard transfer.status == .delivered else {
            throw AccessFlowError("the owner refused the transfer: \(transfer.reason)")
        }
        let keys = try material.transferKeys(redeemLeaf: transfer.redeemLeaf)
        guard keys.count == transfer.recordCount else {
            throw AccessFlowError(
                "the transfer on the ledger has \(transfer.recordCount) records but \(keys.count) keys were relayed")
        }
        var results: [Result] = []
        var blobIDs: [Digest32] = []
        for wrapped in keys {
            func fail(_ reason: String) -> AccessFlowError {
                AccessFlowError("record \(wrapped.recordID) \(wrapped.level.rawValue): \(reason)")
            }
            guard let record = try material.record(wrapped.recordID) else { throw fail("not on the ledger") }
            guard record.lot == transfer.lot else { throw fail("belongs to lot \(record.lot), not \(transfer.lot)") }
            guard let blobID = try material.blobID(record: wrapped.recordID, level: wrapped.level) else {
                throw fail("no blob reference on the ledger")
            }
            let dataKey: SymmetricKey
            do {
                dataKey = try wrapped.unwrap(with: key)
            } catch {
                throw fail("the re-wrapped data key does not open with this redemption's key (\(error))")
            }
            results.append(
                try open(
                    RelayedKey(
                        recordID: wrapped.recordID, level: wrapped.level, record: record, blobID: blobID,
                        dataKey: dataKey), fail))
            blobIDs.append(blobID)
        }
        guard TransferRecord.digest(of: blobIDs).bytes.hexString == transfer.blobDigest else {
            throw AccessFlowError(
                "the relayed blobs are not the ones the transfer on the ledger names (digest differs)")
        }
        return results
    }
}

/// What a requester's fetch reads: the relayed keys, the records and blob ids on the ledger,
/// and the blobs.
public protocol TransferMaterial {
    func transferKeys(redeemLeaf: UInt64) throws -> [WrappedDataKey]
    func record(_ id: RecordID) throws -> Record?
    func blobID(record: RecordID, level: PrivacyLevel) throws -> Digest32?
    /// A blob file (read a piece at a time by the streamed fetch).
    func blobPath(_ id: Digest32) throws -> String
}

extension TransferMaterial {
    /// A whole blob in memory.
    public func blob(_ id: Digest32) throws -> [UInt8] {
        let source = try FileBlobSource(path: try blobPath(id))
        return try source.read(source.size)
    }
}

/// Receives a streamed fetch: each record's start, its values (``PrivateValueSink``), its end.
/// Nothing is verified until the fetch returns: write to a temporary place and publish only then.
public protocol FetchSink: PrivateValueSink {
    mutating func beginRecord(_ record: Record, level: PrivacyLevel, blobID: Digest32) throws
    mutating func endRecord(_ verified: StreamedFields) throws
}

/// One record verified by a streamed fetch.
public struct StreamedRecord: Sendable {
    public var record: Record
    public var verified: StreamedFields
}

extension TransferRequester {
    /// The streamed fetch: like ``fetch(transfer:key:material:fields:)`` but each blob is read
    /// from its file a segment at a time, decrypted, parsed and checked against the record's
    /// commitment as it goes, its values passed to `sink`; memory stays bounded by a segment
    /// whatever the size of a value. Throws naming the record on the first mismatch.
    public static func fetch<Sink: FetchSink>(
        transfer: TransferRow, key: Curve25519.KeyAgreement.PrivateKey, material: some TransferMaterial,
        fields selected: [String]? = nil, into sink: inout Sink
    ) throws -> [StreamedRecord] {
        try eachRelayedKey(transfer: transfer, key: key, material: material) { relayed, fail in
            let verified: StreamedFields
            do {
                let reader = try SealedBlobReader(
                    source: try FileBlobSource(path: try material.blobPath(relayed.blobID)), dataKey: relayed.dataKey,
                    record: relayed.recordID, level: relayed.level)
                try sink.beginRecord(relayed.record, level: relayed.level, blobID: relayed.blobID)
                verified = try StreamedFields.open(
                    reader, record: relayed.record, level: relayed.level, expectedBlobID: relayed.blobID,
                    disclose: selected ?? [], into: &sink)
                try sink.endRecord(verified)
            } catch {
                throw fail("\(error)")
            }
            return StreamedRecord(record: relayed.record, verified: verified)
        }
    }
}

/// The material on the server: the ledger store and the blob store.
public struct StoreTransferMaterial: TransferMaterial {
    public let queries: LedgerQueries
    public let blobs: BlobStore

    public init(queries: LedgerQueries, blobs: BlobStore) {
        self.queries = queries
        self.blobs = blobs
    }

    public func transferKeys(redeemLeaf: UInt64) throws -> [WrappedDataKey] {
        try queries.transferKeys(redeemLeaf: redeemLeaf)
    }
    public func record(_ id: RecordID) throws -> Record? { try queries.record(id) }
    public func blobID(record: RecordID, level: PrivacyLevel) throws -> Digest32? {
        try queries.blob(record: record, level: level)?.blobID
    }
    public func blobPath(_ id: Digest32) throws -> String {
        guard blobs.contains(id) else { throw BlobStore.Error.missing(id) }
        return blobs.path(of: id)
    }
}

/// Material already fetched (from the API): the caller checked each record's inclusion proof
/// against a signed tree head before putting it here, and downloaded the blobs to files;
/// blobs and keys are checked by ``TransferRequester/fetch(transfer:key:material:fields:)``.
public struct FetchedTransferMaterial: TransferMaterial {
    public var keys: [WrappedDataKey]
    public var records: [RecordID: Record]
    public var blobIDs: [String: Digest32]
    /// Downloaded blob files, by blob id.
    public var blobs: [Digest32: String]

    public init(
        keys: [WrappedDataKey], records: [RecordID: Record], blobIDs: [String: Digest32], blobs: [Digest32: String]
    ) {
        self.keys = keys
        self.records = records
        self.blobIDs = blobIDs
        self.blobs = blobs
    }

    public static func key(_ record: RecordID, _ level: PrivacyLevel) -> String { record.hex + "/" + level.rawValue }

    public func transferKeys(redeemLeaf: UInt64) throws -> [WrappedDataKey] { keys }
    public func record(_ id: RecordID) throws -> Record? { records[id] }
    public func blobID(record: RecordID, level: PrivacyLevel) throws -> Digest32? { blobIDs[Self.key(record, level)] }
    public func blobPath(_ id: Digest32) throws -> String {
        guard let path = blobs[id] else { throw AccessFlowError("blob \(id.hex) was not served") }
        return path
    }
}
