import AgriTraceCore
import Crypto
import SQLiteStorage

/// Errors about the contents of a ledger store.
public enum LedgerStoreError: Error, CustomStringConvertible, Equatable {
    /// The store was created with another authority key.
    case authorityMismatch(stored: String, given: String)
    /// A row that should exist does not.
    case missing(String)
    /// A stored value does not decode.
    case corrupt(String)

    public var description: String {
        switch self {
        case .authorityMismatch(let stored, let given):
            "the store belongs to authority key \(stored), not \(given): use the key the store was created with"
        case .missing(let what): "the store has no \(what)"
        case .corrupt(let what): "the store is corrupt: \(what)"
        }
    }
}

/// One stored block: the signed header, its hash and where its leaves start.
public struct StoredBlock: Sendable, Hashable {
    public var header: Signed<BlockHeader>
    /// SHA-256 of the canonical signed header (the next block's `previousHash`).
    public var hash: Digest32
    public var firstLeaf: UInt64

    /// The hash a block's successor must name as `previousHash`.
    public static func hash(of header: Signed<BlockHeader>) -> Digest32 {
        Digest32.sha256(Canonical.encode(header))
    }
}

/// A ledger store: one SQLite file in WAL mode holding the log, the blocks and the world state.
///
/// One writer (the `serve` process) and any number of read-only readers (the CLI).
/// Not `Sendable`: own it from one actor or thread.
public final class LedgerStore {
    /// The SQLite connection (exposed for queries in this module and for tests).
    public let db: SQLiteConnection
    public let path: String
    public let isReadOnly: Bool

    /// Opens (creating if needed) a store for writing, or read-only for the CLI.
    public init(path: String, readOnly: Bool = false, synchronous: SQLiteConnection.Options.Synchronous = .full) throws
    {
        self.path = path
        self.isReadOnly = readOnly
        db = try SQLiteConnection(
            path: path, options: .init(readOnly: readOnly, create: !readOnly, synchronous: synchronous))
        if !readOnly {
            try db.migrate(LedgerSchema.migrations)
            try db.execute("PRAGMA cache_size = -65536")
        } else {
            guard try db.userVersion() >= 1 else {
                throw LedgerStoreError.missing("schema (is \(path) a ledger store?)")
            }
        }
    }

    // MARK: Meta

    func meta(_ key: String) throws -> [UInt8]? {
        let value = try db.cachedStatement("SELECT value FROM meta WHERE key = ?").first([.text(key)]) {
            $0.bytes(at: 0)
        }
        return value ?? nil
    }

    func setMeta(_ key: String, _ value: [UInt8]) throws {
        try db.cachedStatement("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)").run([.text(key), .blob(value)])
    }

    /// The authority public key recorded when the first block was written, if any.
    public func authorityKey() throws -> Curve25519.Signing.PublicKey? {
        guard let raw = try meta("authority_public_key") else { return nil }
        return try Curve25519.Signing.PublicKey(rawBytes: raw)
    }

    /// Records `key` as the store's authority, or checks it against the recorded one.
    /// The key registry transactions are signed with: the consortium's registry authority a
    /// consortium node recorded, else the authority key.
    public func registryAuthorityKey() throws -> Curve25519.Signing.PublicKey? {
        guard let raw = try meta("registry_authority_public_key") else { return try authorityKey() }
        return try Curve25519.Signing.PublicKey(rawBytes: raw)
    }

    /// Records the consortium's registry authority (a consortium node's store).
    public func setRegistryAuthority(_ key: Curve25519.Signing.PublicKey) throws {
        try setMeta("registry_authority_public_key", Array(key.rawRepresentation))
    }

    public func claimAuthority(_ key: Curve25519.Signing.PublicKey) throws {
        if let stored = try authorityKey() {
            guard stored.rawRepresentation == key.rawRepresentation else {
                throw LedgerStoreError.authorityMismatch(stored: stored.hex, given: key.hex)
            }
        } else {
            try setMeta("authority_public_key", Array(key.rawRepresentation))
        }
    }

    // MARK: Blocks

    /// The last block, if any.
    public func latestBlock() throws -> StoredBlock? {
        let statement = try db.cachedStatement(
            "SELECT header, hash, first_leaf FROM blocks ORDER BY height DESC LIMIT 1")
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return try storedBlock(statement)
    }

    /// The block at `height`.
    public func block(height: UInt64) throws -> StoredBlock? {
        try db.cachedStatement("SELECT header, hash, first_leaf FROM blocks WHERE height = ?").first(
            [.int(height)], storedBlock)
    }

    /// The first block whose log size is at least `size` (the block that made the log that big).
    public func block(coveringLogSize size: UInt64) throws -> StoredBlock? {
        // log size after block h = first_leaf + transaction count; find the first block with first_leaf >= size - count.
        let statement = try db.cachedStatement(
            "SELECT header, hash, first_leaf FROM blocks WHERE first_leaf < ? ORDER BY height DESC LIMIT 1")
        return try statement.first([.int(size)], storedBlock)
    }

    func storedBlock(_ statement: Statement) throws -> StoredBlock {
        let bytes = statement.bytes(at: 0) ?? []
        guard let header = try? Canonical.decode(Signed<BlockHeader>.self, from: bytes) else {
            throw LedgerStoreError.corrupt("a block header does not decode")
        }
        guard let hash = Digest32(bytes: statement.bytes(at: 1) ?? []) else {
            throw LedgerStoreError.corrupt("block \(header.value.height) hash is not 32 bytes")
        }
        return StoredBlock(header: header, hash: hash, firstLeaf: UInt64(statement.int64(at: 2)))
    }

    func insertBlock(_ block: StoredBlock) throws {
        let statement = try db.cachedStatement(
            "INSERT INTO blocks(height, header, hash, first_leaf, time) VALUES (?, ?, ?, ?, ?)")
        defer { statement.reset() }
        try statement.run([
            .int(block.header.value.height), .blob(Canonical.encode(block.header)), .blob(block.hash.bytes),
            .int(block.firstLeaf), .integer(block.header.value.time.milliseconds),
        ])
    }

    // MARK: Log

    func insertEntry(leafIndex: UInt64, height: UInt64, kind: UInt8, entry: [UInt8], leafHash: Digest32) throws {
        let statement = try db.cachedStatement(
            "INSERT INTO log_entries(leaf_index, height, kind, entry, leaf_hash) VALUES (?, ?, ?, ?, ?)")
        defer { statement.reset() }
        try statement.bind(Int64(leafIndex), at: 1)
        try statement.bind(Int64(height), at: 2)
        try statement.bind(Int64(kind), at: 3)
        try statement.bind(entry, at: 4)
        try statement.bind(leafHash.bytes, at: 5)
        try statement.run()
    }

    func insertNode(_ position: LogNodePosition, _ hash: Digest32) throws {
        let statement = try db.cachedStatement("INSERT INTO log_nodes(key, hash) VALUES (?, ?)")
        try statement.bind(position.storageKey, at: 1)
        try statement.bind(hash.bytes, at: 2)
        try statement.run()
    }

    /// The canonical bytes of the log entry at `leafIndex` and its height.
    public func entry(leafIndex: UInt64) throws -> (entry: [UInt8], height: UInt64, leafHash: Digest32)? {
        let statement = try db.cachedStatement("SELECT entry, height, leaf_hash FROM log_entries WHERE leaf_index = ?")
        defer { statement.reset() }
        try statement.bind(Int64(leafIndex), at: 1)
        guard try statement.step() else { return nil }
        return (
            statement.bytes(at: 0) ?? [], UInt64(statement.int64(at: 1)),
            Digest32(bytes: statement.bytes(at: 2) ?? []) ?? .zero
        )
    }

    /// Reads complete-subtree hashes from the store: leaves from `log_entries`, higher levels from `log_nodes`.
    public struct NodeReader: LogNodeSource {
        let store: LedgerStore

        public mutating func node(_ position: LogNodePosition) throws -> Digest32 {
            let statement: Statement
            if position.level == 0 {
                statement = try store.db.cachedStatement("SELECT leaf_hash FROM log_entries WHERE leaf_index = ?")
                try statement.bind(Int64(position.index), at: 1)
            } else {
                statement = try store.db.cachedStatement("SELECT hash FROM log_nodes WHERE key = ?")
                try statement.bind(position.storageKey, at: 1)
            }
            defer { statement.reset() }
            guard try statement.step(), let hash = Digest32(bytes: statement.bytes(at: 0) ?? []) else {
                throw LedgerStoreError.missing("log node \(position)")
            }
            return hash
        }
    }

    /// A reader of the stored log nodes (for proofs).
    public var nodeReader: NodeReader { NodeReader(store: self) }

    /// The number of leaves in the log (from the last block).
    public func logSize() throws -> UInt64 { try latestBlock()?.header.value.logSize ?? 0 }

    // MARK: Records

    /// Where a record is: its leaf, its block, and its leaf hash.
    public struct RecordLocation: Sendable, Hashable {
        public var leafIndex: UInt64
        public var height: UInt64
    }

    /// The location of the record with `id`, if it is on the ledger.
    public func location(of id: RecordID) throws -> RecordLocation? {
        let statement = try db.cachedStatement("SELECT leaf_index, height FROM records WHERE record_id = ?")
        defer { statement.reset() }
        try statement.bind(Canonical.encode(id), at: 1)
        guard try statement.step() else { return nil }
        return RecordLocation(leafIndex: UInt64(statement.int64(at: 0)), height: UInt64(statement.int64(at: 1)))
    }

    // MARK: Batch signatures

    func insertBatchSignature(_ signature: BatchSignature, height: UInt64) throws {
        let statement = try db.cachedStatement(
            "INSERT INTO batch_signatures(height, enterprise, device, sent_at, signature, record_ids) VALUES (?, ?, ?, ?, ?, ?)"
        )
        var ids = CanonicalWriter(capacity: signature.recordIDs.count * 16)
        for id in signature.recordIDs { ids.write(id) }
        try statement.run([
            .int(height), .text(signature.enterprise), .text(signature.device),
            .integer(signature.sentAt.milliseconds), .blob(signature.signature), .blob(ids.bytes),
        ])
    }

    // MARK: Counters

    /// Adds to the ingest counters (rejections by code, records received).
    func addCounters(_ counters: [String: Int]) throws {
        let statement = try db.cachedStatement(
            "INSERT INTO ingest_counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"
        )
        defer { statement.reset() }
        for (name, value) in counters.sorted(by: { $0.key < $1.key }) where value != 0 {
            try statement.run([.text(name), .int(value)])
        }
    }

    /// The ingest counters.
    public func counters() throws -> [String: Int] {
        let statement = try db.cachedStatement("SELECT name, value FROM ingest_counters")
        defer { statement.reset() }
        var result: [String: Int] = [:]
        while try statement.step() { result[statement.string(at: 0) ?? ""] = Int(statement.int64(at: 1)) }
        return result
    }
}
