import AgriTraceCore
import Crypto
import SQLiteStorage

/// The first thing wrong with a stored ledger, naming the block, leaf or node.
public enum LedgerFault: Error, Sendable, Hashable, CustomStringConvertible {
    case headerSignature(height: UInt64)
    case headerUndecodable(height: UInt64)
    case heightGap(expected: UInt64, found: UInt64)
    case blockHash(height: UInt64)
    case previousHash(height: UInt64)
    case firstLeaf(height: UInt64, expected: UInt64, found: UInt64)
    case missingLeaf(index: UInt64, height: UInt64)
    case leafHeight(index: UInt64, expected: UInt64, found: UInt64)
    case leafHash(index: UInt64, height: UInt64)
    case entryUndecodable(index: UInt64, height: UInt64, reason: String)
    case node(LogNodePosition, height: UInt64)
    case transactionRoot(height: UInt64)
    case transactionCount(height: UInt64)
    case logSize(height: UInt64)
    case logRoot(height: UInt64)
    case extraLeaves(after: UInt64)

    public var description: String {
        switch self {
        case .headerSignature(let h): "block \(h): the header signature does not verify under the authority key"
        case .headerUndecodable(let h): "block \(h): the header does not decode"
        case .heightGap(let e, let f): "block \(f) found where block \(e) was expected"
        case .blockHash(let h): "block \(h): the stored block hash is not the hash of its header"
        case .previousHash(let h): "block \(h): previous hash does not match block \(h - 1)"
        case .firstLeaf(let h, let e, let f): "block \(h): first leaf \(f), expected \(e)"
        case .missingLeaf(let i, let h): "leaf \(i) of block \(h) is missing"
        case .leafHeight(let i, let e, let f): "leaf \(i) is stored in block \(f) but belongs to block \(e)"
        case .leafHash(let i, let h):
            "leaf \(i) (block \(h)): the entry does not hash to its stored leaf hash (the record or the hash was altered)"
        case .entryUndecodable(let i, let h, let r): "leaf \(i) (block \(h)): the entry does not decode: \(r)"
        case .node(let p, let h):
            "log node \(p) (written by block \(h)) does not match the hash recomputed from the leaves"
        case .transactionRoot(let h): "block \(h): the transaction root does not match its leaves"
        case .transactionCount(let h): "block \(h): the transaction count does not match its leaves"
        case .logSize(let h): "block \(h): the log size does not match the leaves"
        case .logRoot(let h): "block \(h): the log root does not match the leaves"
        case .extraLeaves(let after): "the store holds leaves beyond the last block (after leaf \(after))"
        }
    }
}

/// What a check of the store found: the first fault, or none.
public protocol VerificationOutcome: Sendable, Codable {
    /// The first fault, if any (verification stops there).
    var fault: String? { get }
}

extension VerificationOutcome {
    /// True when the check found no fault.
    public var ok: Bool { fault == nil }
}

/// What `verify` found.
public struct VerificationReport: VerificationOutcome {
    public var blocks: UInt64
    public var leaves: UInt64
    public var logRoot: String
    public var fault: String?
}

/// Recomputes the whole chain and log of a store from its rows and checks every header,
/// leaf hash, stored tree node and root against the authority key.
public enum LedgerVerifier {
    /// Verifies the store; `progress` is called every few thousand blocks with (blocks done, blocks total).
    public static func verify(
        store: LedgerStore, authority: Curve25519.Signing.PublicKey,
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) throws -> VerificationReport {
        let total = UInt64(try scalar(store.db, "SELECT count(*) FROM blocks"))
        let blocks = try store.db.prepare("SELECT height, header, hash, first_leaf FROM blocks ORDER BY height")
        defer { blocks.reset() }
        let leaves = try store.db.prepare(
            "SELECT leaf_index, height, entry, leaf_hash FROM log_entries ORDER BY leaf_index")
        defer { leaves.reset() }
        let nodeLookup = try store.db.prepare("SELECT hash FROM log_nodes WHERE key = ?")
        defer { nodeLookup.reset() }
        var frontier = LogFrontier()
        var previousHash = Digest32.zero
        var expectedHeight: UInt64 = 1
        var done: UInt64 = 0
        func report(_ fault: LedgerFault?) -> VerificationReport {
            VerificationReport(
                blocks: done, leaves: frontier.size, logRoot: frontier.root.hex, fault: fault?.description)
        }
        while try blocks.step() {
            let height = UInt64(blocks.int64(at: 0))
            guard height == expectedHeight else { return report(.heightGap(expected: expectedHeight, found: height)) }
            let headerBytes = blocks.bytes(at: 1) ?? []
            guard let signed = try? Canonical.decode(Signed<BlockHeader>.self, from: headerBytes) else {
                return report(.headerUndecodable(height: height))
            }
            let header = signed.value
            guard header.height == height else { return report(.heightGap(expected: height, found: header.height)) }
            guard signed.isValid(domain: .blockHeader, key: authority) else {
                return report(.headerSignature(height: height))
            }
            let hash = StoredBlock.hash(of: signed)
            guard Digest32(bytes: blocks.bytes(at: 2) ?? []) == hash else { return report(.blockHash(height: height)) }
            guard header.previousHash == previousHash else { return report(.previousHash(height: height)) }
            let firstLeaf = UInt64(blocks.int64(at: 3))
            guard firstLeaf == frontier.size else {
                return report(.firstLeaf(height: height, expected: frontier.size, found: firstLeaf))
            }
            var blockLeaves: [Digest32] = []
            blockLeaves.reserveCapacity(Int(header.transactionCount))
            var badNode: LogNodePosition?
            for _ in 0..<header.transactionCount {
                let index = frontier.size
                guard try leaves.step(), UInt64(leaves.int64(at: 0)) == index else {
                    return report(.missingLeaf(index: index, height: height))
                }
                let storedHeight = UInt64(leaves.int64(at: 1))
                guard storedHeight == height else {
                    return report(.leafHeight(index: index, expected: height, found: storedHeight))
                }
                let entry = leaves.bytes(at: 2) ?? []
                let leafHash = MerkleTree.leafHash(entry)
                guard Digest32(bytes: leaves.bytes(at: 3) ?? []) == leafHash else {
                    return report(.leafHash(index: index, height: height))
                }
                do {
                    _ = try Canonical.decode(LogEntry.self, from: entry)
                } catch {
                    return report(.entryUndecodable(index: index, height: height, reason: "\(error)"))
                }
                blockLeaves.append(leafHash)
                var lookupError: Error?
                frontier.append(leafHash) { position, hash in
                    guard position.level > 0, badNode == nil, lookupError == nil else { return }
                    do {
                        nodeLookup.reset()
                        try nodeLookup.bind(position.storageKey, at: 1)
                        if try !nodeLookup.step() || Digest32(bytes: nodeLookup.bytes(at: 0) ?? []) != hash {
                            badNode = position
                        }
                    } catch {
                        lookupError = error
                    }
                }
                if let lookupError { throw lookupError }
                if let badNode { return report(.node(badNode, height: height)) }
            }
            guard MerkleTree.root(leafHashes: blockLeaves) == header.transactionRoot else {
                return report(.transactionRoot(height: height))
            }
            guard header.logSize == frontier.size else { return report(.logSize(height: height)) }
            guard header.logRoot == frontier.root else { return report(.logRoot(height: height)) }
            previousHash = hash
            expectedHeight += 1
            done += 1
            if done % 1000 == 0 { progress(done, total) }
        }
        if try leaves.step() { return report(.extraLeaves(after: frontier.size)) }
        progress(done, total)
        return report(nil)
    }
}

func scalar(_ db: SQLiteConnection, _ sql: String) throws -> Int64 {
    let statement = try db.prepare(sql)
    defer { statement.reset() }
    return try statement.step() ? statement.int64(at: 0) : 0
}

/// What `verify --signatures` found.
public struct SignatureReport: VerificationOutcome {
    public var batches: Int
    /// Records covered by a kept device signature.
    public var recordsSigned: Int
    /// Records on the ledger (those not covered came in batches with refused records).
    public var records: Int
    public var fault: String?
}

extension LedgerVerifier {
    /// Re-checks every kept device batch signature: rebuilds each signed `RecordBatch` from
    /// the records' canonical bytes in the log and verifies it under the device's registered key.
    public static func verifyBatchSignatures(store: LedgerStore) throws -> SignatureReport {
        let batches = try store.db.prepare(
            "SELECT id, enterprise, device, sent_at, signature, record_ids FROM batch_signatures ORDER BY id")
        defer { batches.reset() }
        let keyOf = try store.db.prepare("SELECT public_key FROM devices WHERE enterprise = ? AND device = ?")
        var signed = Set<RecordID>()
        var count = 0
        let records = Int(try scalar(store.db, "SELECT count(*) FROM records"))
        func report(_ fault: String?) -> SignatureReport {
            SignatureReport(batches: count, recordsSigned: signed.count, records: records, fault: fault)
        }
        while try batches.step() {
            let id = batches.int64(at: 0)
            let enterprise = batches.string(at: 1) ?? ""
            let device = batches.string(at: 2) ?? ""
            let sentAt = Timestamp(milliseconds: batches.int64(at: 3))
            let signature = batches.bytes(at: 4) ?? []
            var reader = CanonicalReader(batches.bytes(at: 5) ?? [])
            var ids: [RecordID] = []
            while reader.remaining >= 16 { ids.append(try reader.read(RecordID.self)) }
            keyOf.reset()
            try keyOf.bind(enterprise, at: 1)
            try keyOf.bind(device, at: 2)
            guard try keyOf.step(), let key = try? Curve25519.Signing.PublicKey(rawBytes: keyOf.bytes(at: 0) ?? [])
            else {
                return report("batch signature \(id): device \(enterprise)/\(device) is not registered")
            }
            keyOf.reset()
            var message = CanonicalWriter(capacity: 64 + ids.count * 300)
            message.write(SignatureDomain.recordBatch.rawValue)
            message.write(enterprise)
            message.write(device)
            message.write(sentAt)
            message.write(UInt32(ids.count))
            for recordID in ids {
                guard let location = try store.location(of: recordID),
                    let entry = try store.entry(leafIndex: location.leafIndex)
                else {
                    return report("batch signature \(id): record \(recordID) is not on the ledger")
                }
                let prefix = BatchSignature.recordEntryPrefix
                guard entry.entry.count > prefix.count, Array(entry.entry.prefix(prefix.count)) == prefix else {
                    return report("batch signature \(id): leaf \(location.leafIndex) is not a record entry")
                }
                message.writeRaw(entry.entry.dropFirst(prefix.count))
            }
            guard key.isValidSignature(signature, for: message.bytes) else {
                return report(
                    "batch signature \(id) (\(enterprise)/\(device), \(ids.count) records): the device's signature does not verify over the records in the log"
                )
            }
            signed.formUnion(ids)
            count += 1
        }
        return report(nil)
    }
}
