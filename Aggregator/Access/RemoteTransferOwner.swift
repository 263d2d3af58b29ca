import AgriTraceCore
import Crypto
import Foundation
import Ledger

/// Where the owner's remote transfer service reads the ledger (the aggregator's API): lists
/// and proofs only. Nothing it returns is trusted: ``RemoteTransferOwner`` checks every leaf
/// against a tree head signed by the authority before it takes a fact from it.
public protocol TransferLedgerSource: Sendable {
    /// Open redemptions of `owner`'s entries after the redeem leaf `after` (the leaves to verify).
    func openRedemptions(owner: String, after: UInt64?) async throws -> [OpenRedemptionLeaves]
    /// Any leaf with its inclusion proof against a signed tree head.
    func leaf(_ index: UInt64) async throws -> SavedLeafProof
    /// The blob-reference leaves of a lot's stored blobs at one level.
    func blobReferenceLeaves(lot: String, level: PrivacyLevel) async throws -> [UInt64]
    /// A record's inclusion proof against a signed tree head.
    func recordProof(_ id: RecordID) async throws -> SavedInclusionProof
}

/// The owner's transfer service off the aggregator host (`agritrace transfer serve --api`):
/// takes every fact of a redemption from log leaves verified against a tree head signed by
/// `authority`, then decides with ``TransferOwner/decide(_:blobs:)`` (the same checks as on
/// the store). The owner's X25519 private key stays in this process.
public struct RemoteTransferOwner: Sendable {
    public var owner: TransferOwner
    public var authority: Curve25519.Signing.PublicKey

    public init(owner: TransferOwner, authority: Curve25519.Signing.PublicKey) {
        self.owner = owner
        self.authority = authority
    }

    /// One leaf, verified against a signed tree head. Errors reaching the source propagate as
    /// they are (try again later); a proof that does not verify is an ``AccessFlowError``.
    func verifiedLeaf(_ index: UInt64, _ what: String, from source: some TransferLedgerSource) async throws
        -> LogEntry
    {
        let proof = try await source.leaf(index)
        do {
            return try proof.verify(authority: authority)
        } catch {
            throw AccessFlowError("\(what) (leaf \(index)): its inclusion proof does not verify: \(error)")
        }
    }

    /// Verifies one leaf and returns its access transaction (`what` names it in errors).
    func transaction(_ index: UInt64, _ what: String, from source: some TransferLedgerSource) async throws
        -> Signed<AccessTransaction>
    {
        let entry = try await verifiedLeaf(index, what, from: source)
        guard let signed = entry.accessTransaction else {
            throw AccessFlowError("\(what) (leaf \(index)): the leaf is not an access transaction")
        }
        return signed
    }

    /// The transaction-signing key of `principal`, from its registration leaf (verified, and
    /// signed by the authority).
    func principalKey(_ principal: String, leaf index: UInt64, from source: some TransferLedgerSource) async throws
        -> Curve25519.Signing.PublicKey
    {
        guard case .registry(let signed) = try await verifiedLeaf(index, "\(principal)'s registration", from: source),
            signed.isValid(domain: .transaction, key: authority),
            case .addPrincipal(let entry) = signed.value.operation, entry.name == principal,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: entry.publicKey)
        else { throw AccessFlowError("leaf \(index) is not \(principal)'s registration signed by the authority") }
        return key
    }

    /// The facts of one open redemption, each from a verified leaf: the `redeem` (requester,
    /// request id, ephemeral key, token proof, purpose), the request's `addTrapdoor` (same
    /// requester and request id; lot, level, source), both signed with the requester's key from
    /// its registration leaf (signed by the authority), the regulator's `addResult` (the matched
    /// data id) and the owner's own `addEncryptedData` of that data id (same lot and level).
    public func facts(_ open: OpenRedemptionLeaves, from source: some TransferLedgerSource) async throws
        -> RedemptionFacts
    {
        let what = "redemption \(open.redeemLeaf)"
        let signedRedeem = try await transaction(open.redeemLeaf, what, from: source)
        let redeemTransaction = signedRedeem.value
        guard case .redeem(let redeem) = redeemTransaction.operation else {
            throw AccessFlowError("\(what): leaf \(open.redeemLeaf) is not a redeem transaction")
        }
        let signedRequest = try await transaction(open.requestLeaf, "\(what): its request", from: source)
        let requestTransaction = signedRequest.value
        guard case .addTrapdoor(let request) = requestTransaction.operation, request.requestID == redeem.requestID,
            requestTransaction.submitter == redeemTransaction.submitter
        else {
            throw AccessFlowError(
                "\(what): leaf \(open.requestLeaf) is not request \(redeem.requestID) of \(redeemTransaction.submitter)"
            )
        }
        // Both signed with the requester's registered key.
        let requesterKey = try await principalKey(redeemTransaction.submitter, leaf: open.requesterLeaf, from: source)
        guard signedRedeem.isValid(domain: .transaction, key: requesterKey),
            signedRequest.isValid(domain: .transaction, key: requesterKey)
        else {
            throw AccessFlowError(
                "\(what): the redeem or the request is not signed by \(redeemTransaction.submitter)'s registered key")
        }
        let resultTransaction = try await transaction(open.resultLeaf, "\(what): its match result", from: source)
            .value
        guard case .addResult(let requestID, let matched?, _) = resultTransaction.operation,
            requestID == redeem.requestID
        else {
            throw AccessFlowError("\(what): leaf \(open.resultLeaf) is not a match of request \(redeem.requestID)")
        }
        let entryTransaction = try await transaction(open.entryLeaf, "\(what): the redeemed entry", from: source)
            .value
        guard case .addEncryptedData(let entry) = entryTransaction.operation, entry.dataID == matched,
            entryTransaction.submitter == owner.principal, entry.lot == request.lot, entry.level == request.level
        else {
            throw AccessFlowError(
                "\(what): leaf \(open.entryLeaf) is not \(owner.principal)'s entry \(matched) of lot \(request.lot) \(request.level.rawValue)"
            )
        }
        return RedemptionFacts(
            redeemLeaf: open.redeemLeaf, requester: redeemTransaction.submitter, redeem: redeem, lot: request.lot,
            level: request.level, dataID: matched, source: request.source)
    }

    /// The owner-wrapped keys of the lot's blobs at `level`, each from its blob reference leaf
    /// (signed by the uploading device) verified against a signed tree head, its record from a
    /// verified inclusion proof and in `lot`.
    public func ownedKeys(lot: String, level: PrivacyLevel, from source: some TransferLedgerSource) async throws
        -> [OwnedBlobKey]
    {
        var keys: [OwnedBlobKey] = []
        for index in try await source.blobReferenceLeaves(lot: lot, level: level) {
            guard case .blob(let signed) = try await verifiedLeaf(index, "blob reference", from: source) else {
                throw AccessFlowError("leaf \(index) is not a blob reference")
            }
            let reference = signed.value
            guard reference.level == level else {
                throw AccessFlowError(
                    "record \(reference.recordID) \(reference.level.rawValue): listed as \(level.rawValue)")
            }
            let proof = try await source.recordProof(reference.recordID)
            let record: Record
            do {
                record = try proof.verify(authority: authority).0
            } catch {
                throw AccessFlowError("record \(reference.recordID): its inclusion proof does not verify: \(error)")
            }
            guard record.lot == lot else {
                throw AccessFlowError("record \(reference.recordID): belongs to lot \(record.lot), not \(lot)")
            }
            keys.append(
                OwnedBlobKey(
                    recordID: reference.recordID, level: reference.level, blobID: reference.blobID,
                    ownerKey: reference.ownerKey, wrappedKey: reference.wrappedKey))
        }
        return keys
    }

    /// Answers one open redemption: verified facts, the owner's keys, the decision.
    public func answer(_ open: OpenRedemptionLeaves, from source: some TransferLedgerSource) async throws
        -> TransferDecision
    {
        let facts = try await self.facts(open, from: source)
        let keys =
            facts.dataID.flatMap({ owner.tokens[$0] }) == nil
            ? [] : try await ownedKeys(lot: facts.lot, level: facts.level.privacyLevel, from: source)
        return try owner.decide(facts, blobs: keys)
    }
}
