import AgriTraceCore
import Crypto
import SQLiteStorage

/// Evidence that the authority signed two different block headers at one height: the header
/// this box kept and the one it was shown later. A ledger never does that (a height's block is
/// written before its receipts go out), so two of them prove a fork: two stores signing with one
/// key, or a ledger rolled back and rewritten. Both headers are kept, signed, for the operator
/// to hand to the regulator.
public struct TreeHeadFork: Sendable, Equatable {
    public var height: UInt64
    /// The header kept first (canonical bytes of the signed header).
    public var kept: [UInt8]
    /// The other header signed for the same height.
    public var shown: [UInt8]
    /// When the box saw it (RFC 3339).
    public var seenAt: String
}

/// A receipt under a tree head that forks from the one kept for its height: not believed.
struct TreeHeadForkError: Error, CustomStringConvertible {
    var height: UInt64
    var description: String {
        "FORK: the authority signed another tree head for height \(height) before; both are kept in tree_head_forks"
    }
}

extension AgentStore {
    /// The migration step creating the fork evidence table (schema version 5).
    static let treeHeadForksMigration = """
        CREATE TABLE tree_head_forks(
            height INTEGER NOT NULL,
            kept BLOB NOT NULL,
            shown BLOB NOT NULL,
            seen_at INTEGER NOT NULL,
            PRIMARY KEY(height, shown)
        ) WITHOUT ROWID;
        """

    /// What the check of a receipt batch's tree heads found for one head.
    enum HeadCheck {
        /// Signed by the authority and consistent with the heads kept so far.
        case valid
        /// Not signed by the authority.
        case badSignature(SignatureError)
        /// Signed, but another signed header of the same height was kept before.
        case fork
    }

    /// Checks each distinct tree head of `batch` once: its signature under `authority`, and that
    /// no other header of its height was kept before (in `tree_heads`, or earlier in the batch).
    /// A fork is recorded in `tree_head_forks`. Runs inside the caller's transaction, for every
    /// receipt, the duplicates included: a second ledger answering the same batch is caught even
    /// when its receipts retire nothing.
    func checkTreeHeads(
        of batch: ReceiptBatch, authority: Curve25519.Signing.PublicKey, now: Timestamp
    ) throws -> [Signed<BlockHeader>: HeadCheck] {
        var checks: [Signed<BlockHeader>: HeadCheck] = [:]
        var keptInBatch: [UInt64: [UInt8]] = [:]
        let select = try db.cachedStatement("SELECT signed FROM tree_heads WHERE height = ?")
        let evidence = try db.cachedStatement(
            "INSERT OR IGNORE INTO tree_head_forks(height, kept, shown, seen_at) VALUES (?, ?, ?, ?)")
        for head in batch.receipts.map(\.treeHead) where checks[head] == nil {
            do {
                try head.verify(domain: .blockHeader, key: authority)
            } catch {
                checks[head] = .badSignature(error)
                continue
            }
            let height = Int64(bitPattern: head.value.height)
            let bytes = Canonical.encode(head)
            let kept = try keptInBatch[head.value.height] ?? select.first([.integer(height)]) { $0.bytes(at: 0) ?? [] }
            if let kept, kept != bytes {
                try evidence.run([.integer(height), .blob(kept), .blob(bytes), .integer(now.milliseconds)])
                checks[head] = .fork
            } else {
                keptInBatch[head.value.height] = bytes
                checks[head] = .valid
            }
        }
        return checks
    }

    /// The forks seen, oldest first.
    public func treeHeadForks() throws -> [TreeHeadFork] {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.prepare("SELECT height, kept, shown, seen_at FROM tree_head_forks ORDER BY seen_at, height")
        return try select.all([]) { row in
            TreeHeadFork(
                height: UInt64(bitPattern: row.int64(at: 0)), kept: row.bytes(at: 1) ?? [],
                shown: row.bytes(at: 2) ?? [], seenAt: Timestamp(milliseconds: row.int64(at: 3)).iso8601)
        }
    }
}
