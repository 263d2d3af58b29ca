import AgriTraceCore
import Crypto
import PosixThreads
import SQLiteStorage

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line of input, as read from a source, with where it came from.
public struct InputLine: Sendable {
    /// The line's bytes without the newline; empty with `oversize` set when it was too long.
    public var bytes: [UInt8]
    /// 1-based line number within the source.
    public var number: Int64
    /// The line was longer than the limit (its bytes were discarded).
    public var oversizeBytes: Int?

    public init(bytes: [UInt8], number: Int64, oversizeBytes: Int? = nil) {
        self.bytes = bytes
        self.number = number
        self.oversizeBytes = oversizeBytes
    }
}

/// Where a tailed file has been read up to, stored with the readings in the same transaction.
public struct InputPosition: Sendable, Equatable {
    /// The source name (`file:/var/log/sensors.jsonl`).
    public var source: String
    public var device: UInt64
    public var inode: UInt64
    /// Bytes consumed up to the end of the last complete line.
    public var offset: Int64
    /// Lines consumed so far in this file.
    public var line: Int64
}

/// The outcome of one group commit.
public struct IntakeResult: Sendable, Equatable {
    public var accepted: Int = 0
    public var rejected: Int = 0
    /// The sequence numbers given, first...last (nil if none accepted).
    public var sequences: ClosedRange<UInt64>?
}

/// A rejected line as listed by `agritrace-agent rejects`.
public struct RejectedLine: Sendable, Codable, Equatable {
    public var id: Int64
    public var at: String
    public var source: String
    public var line: Int64
    public var kind: ReadingError.Kind
    public var field: String?
    public var stage: String?
    public var reason: String
    public var fix: String
}

/// A record the aggregator refused (listed with the rejects).
public struct RefusedRecord: Sendable, Codable, Equatable {
    public var recordID: String
    public var sequence: UInt64
    public var code: RejectionCode
    public var reason: String
    public var at: String
}

/// Counts for metrics and `status`.
public struct StoreStatistics: Sendable, Equatable {
    public var outboxDepth: Int64
    public var oldestUnreceiptedMillis: Int64?
    public var receipted: Int64
    public var rejects: Int64
    public var refused: Int64
    public var usedBytes: Int64
    public var nextSequence: UInt64
}

/// Errors from the store.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The disk budget is reached: nothing was written; retry when space returns.
    case budgetReached(usedBytes: Int64, budgetBytes: Int64)
    /// The filesystem holding the store has less than `keptBytes` free (nothing was written).
    case filesystemFull(freeBytes: Int64, keptBytes: Int64, path: String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .budgetReached(let used, let budget):
            "storage budget reached (\(used) of \(budget) bytes); intake paused until space returns"
        case .filesystemFull(let free, let kept, let path):
            "filesystem full: \(free) bytes free on the filesystem of \(path), under the \(kept) bytes kept free for delivery and receipts (storage.min_free_bytes); intake paused until space is freed there (the storage budget is not the cause)"
        case .corrupt(let detail): "store is corrupt: \(detail)"
        }
    }
}

/// The agent's SQLite store: vault, outbox, receipts, rejects and input positions.
///
/// One connection, serialized by a lock: every method is a short synchronous transaction.
/// The outbox row, the vault rows, the sequence counter and the input position of a
/// reading are written in one transaction, so after a crash either all of a reading is
/// there or none of it.
public final class AgentStore: @unchecked Sendable {
    let lock = PosixMutex()
    let db: SQLiteConnection
    let cipher: VaultCipher
    let pageSize: Int64
    private(set) var budgetBytes: Int64
    /// Intake pauses while the store's filesystem has less free than this: the headroom that
    /// keeps delivery and receipts writing when something fills the disk (0: no check).
    private(set) var minimumFreeBytes: Int64
    /// The database file, for the free-space check.
    let path: String
    /// Whether intake is paused on the filesystem's free space (see `checkHeadroomLocked`).
    private var lowOnSpace = false
    private var nextSequenceValue: UInt64

    /// Free space kept for receipts and bookkeeping once intake pauses (fraction of the budget).
    static let intakeReserveFraction = 0.10

    static let migrations: [String] = [
        """
        CREATE TABLE agent_state(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE outbox(
            sequence INTEGER PRIMARY KEY,
            record_id BLOB NOT NULL UNIQUE,
            body BLOB NOT NULL,
            accepted_at INTEGER NOT NULL,
            sent_at INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX outbox_sent_at ON outbox(sent_at);
        CREATE TABLE vault(
            record_id BLOB NOT NULL,
            level INTEGER NOT NULL,
            sealed BLOB NOT NULL,
            accepted_at INTEGER NOT NULL,
            PRIMARY KEY(record_id, level)
        ) WITHOUT ROWID;
        CREATE INDEX vault_accepted_at ON vault(accepted_at);
        CREATE TABLE tree_heads(height INTEGER PRIMARY KEY, signed BLOB NOT NULL);
        CREATE TABLE receipted(
            sequence INTEGER PRIMARY KEY,
            record_id BLOB NOT NULL UNIQUE,
            body BLOB NOT NULL,
            height INTEGER NOT NULL,
            leaf_index INTEGER NOT NULL,
            proof BLOB NOT NULL,
            receipted_at INTEGER NOT NULL
        );
        CREATE INDEX receipted_at ON receipted(receipted_at);
        CREATE TABLE refused(
            sequence INTEGER PRIMARY KEY,
            record_id BLOB NOT NULL UNIQUE,
            body BLOB NOT NULL,
            code TEXT NOT NULL,
            reason TEXT NOT NULL,
            refused_at INTEGER NOT NULL
        );
        CREATE TABLE rejects(
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            source TEXT NOT NULL,
            line INTEGER NOT NULL,
            kind TEXT NOT NULL,
            field TEXT,
            stage TEXT,
            reason TEXT NOT NULL,
            fix TEXT NOT NULL,
            sealed_line BLOB
        );
        CREATE TABLE input_positions(
            source TEXT PRIMARY KEY,
            device INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            line INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // Version 2: the vault keyed by sequence number. Record ids are hashes, so a vault
        // keyed by them took every insert to a random leaf of a large B-tree (a page read
        // and a whole page written to the WAL per row once the vault outgrew the cache);
        // sequence numbers only ever append. The record id stays the key of the outbox,
        // `receipted` and `refused`, which give the sequence of a record id.
        """
        CREATE TABLE vault_by_sequence(
            sequence INTEGER NOT NULL,
            level INTEGER NOT NULL,
            sealed BLOB NOT NULL,
            accepted_at INTEGER NOT NULL,
            PRIMARY KEY(sequence, level)
        ) WITHOUT ROWID;
        INSERT INTO vault_by_sequence(sequence, level, sealed, accepted_at)
            SELECT s.sequence, v.level, v.sealed, v.accepted_at FROM vault v
            JOIN (SELECT sequence, record_id FROM outbox UNION ALL SELECT sequence, record_id FROM receipted
                  UNION ALL SELECT sequence, record_id FROM refused) s ON s.record_id = v.record_id;
        DROP TABLE vault;
        ALTER TABLE vault_by_sequence RENAME TO vault;
        CREATE INDEX vault_accepted_at ON vault(accepted_at);
        """,
        // Version 3: whole-batch refusals (DeliveryRefusal.swift).
        deliveryRefusalsMigration,
        // Version 4: the sealed uploads of `[sharing]` (BlobUploader). The uploader used to
        // create this table itself, so a store may have it already.
        """
        CREATE TABLE IF NOT EXISTS blob_uploads(
            record_id BLOB NOT NULL,
            level TEXT NOT NULL,
            blob_id BLOB,
            body BLOB,
            status TEXT NOT NULL,
            reason TEXT,
            sent_at INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(record_id, level)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS blob_uploads_status ON blob_uploads(status, sent_at);
        """,
        // Version 5: evidence of forks, two signed tree heads at one height (TreeHeadForks.swift).
        treeHeadForksMigration,
    ]

    /// Opens (creating if needed) the store.
    /// - Parameters:
    ///   - path: the database file.
    ///   - cipher: seals private values and rejected lines.
    ///   - budgetBytes: the largest database size; SQLite refuses to grow past it (`max_page_count`).
    ///   - fullSync: fsync every commit (`synchronous=FULL`) instead of WAL's NORMAL.
    ///   - minimumFreeBytes: intake pauses while the filesystem has less free (0: no check).
    public init(
        path: String, cipher: VaultCipher, budgetBytes: Int64, fullSync: Bool = false, minimumFreeBytes: Int64 = 0
    ) throws {
        self.path = path
        self.minimumFreeBytes = minimumFreeBytes
        var options = SQLiteConnection.Options()
        options.synchronous = fullSync ? .full : .normal
        db = try SQLiteConnection(path: path, options: options)
        // 1 MiB of page cache instead of SQLite's 2 MB default: intake appends (outbox and
        // vault are keyed by sequence), so the hot pages are few; it bounds the agent's own memory.
        try db.execute("PRAGMA cache_size = -1024")
        _ = try db.migrate(Self.migrations)
        let pageSizeStatement = try db.prepare("PRAGMA page_size")
        _ = try pageSizeStatement.step()
        pageSize = pageSizeStatement.int64(at: 0)
        self.cipher = cipher
        self.budgetBytes = budgetBytes
        nextSequenceValue = 0
        try applyBudget(budgetBytes)
        let state = try db.prepare("SELECT value FROM agent_state WHERE name = 'next_sequence'")
        if try state.step() { nextSequenceValue = UInt64(state.int64(at: 0)) }
    }

    /// Changes the budget (on reload, or when the operator frees space).
    public func setBudget(_ bytes: Int64) throws {
        lock.lock()
        defer { lock.unlock() }
        try applyBudget(bytes)
    }

    /// Changes the free space intake keeps on the filesystem (on reload).
    public func setMinimumFree(_ bytes: Int64) {
        lock.lock()
        defer { lock.unlock() }
        minimumFreeBytes = bytes
    }

    /// Throws ``StoreError/filesystemFull(freeBytes:keptBytes:path:)`` when the filesystem
    /// has less than the headroom free (a disk filled by anything, not only this store).
    /// On the first check of an episode the write-ahead log is checkpointed and truncated,
    /// so its file gives its space back to delivery.
    private func checkHeadroomLocked() throws {
        guard minimumFreeBytes > 0, let free = FilesystemSpace.freeBytes(near: path), free < minimumFreeBytes else {
            lowOnSpace = false
            return
        }
        if !lowOnSpace {
            lowOnSpace = true
            try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        throw StoreError.filesystemFull(freeBytes: free, keptBytes: minimumFreeBytes, path: path)
    }

    /// The error for SQLite's "disk full": the filesystem when it really is short of space
    /// (under the headroom, or under 1 MiB when the headroom check is off), else the budget
    /// (`max_page_count`), whose limit SQLite reports the same way even while free pages and
    /// the write-ahead log keep the live pages under it.
    private func diskFullErrorLocked() -> StoreError {
        let used = (try? usedBytesLocked()) ?? 0
        if let free = FilesystemSpace.freeBytes(near: path), free < max(minimumFreeBytes, 1 << 20) {
            return .filesystemFull(freeBytes: free, keptBytes: minimumFreeBytes, path: path)
        }
        return .budgetReached(usedBytes: used, budgetBytes: budgetBytes)
    }

    private func applyBudget(_ bytes: Int64) throws {
        budgetBytes = bytes
        try db.execute("PRAGMA max_page_count = \(max(bytes / pageSize, 16))")
    }

    /// Bytes in use by live pages (free pages are reused before the file grows).
    public var usedBytes: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return (try? usedBytesLocked()) ?? 0
    }

    func usedBytesLocked() throws -> Int64 {
        let pages = try db.cachedStatement("PRAGMA page_count")
        _ = try pages.step()
        let total = pages.int64(at: 0)
        pages.reset()
        let free = try db.cachedStatement("PRAGMA freelist_count")
        _ = try free.step()
        let freeCount = free.int64(at: 0)
        free.reset()
        return (total - freeCount) * pageSize
    }

    /// The level at which intake pauses.
    public var intakeLimitBytes: Int64 { Int64(Double(budgetBytes) * (1 - Self.intakeReserveFraction)) }

    /// Whether intake must pause (the budget minus its reserve is used).
    public func isAtBudget() -> Bool {
        usedBytes >= intakeLimitBytes
    }

    /// The next sequence number to assign.
    public var nextSequence: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return nextSequenceValue
    }

    // MARK: Intake

    /// Validates, classifies, commits and stores a group of lines in one transaction.
    ///
    /// - Parameters:
    ///   - lines: the lines, in source order.
    ///   - source: the source name for rejects (`stdin`, `socket`, `file:/path`).
    ///   - position: the tailed file's position after these lines, stored in the same transaction.
    ///   - classifier: the device's classifier.
    ///   - bootID: this run's boot id.
    ///   - now: the wall clock.
    /// - Returns: how many lines were accepted and rejected; nothing is durable before this returns.
    /// - Throws: ``StoreError/budgetReached(usedBytes:budgetBytes:)`` (nothing written) or a SQLite error (rolled back).
    ///   - fastPath: the direct parser of `classifier`'s catalog (built once by the caller;
    ///     nil builds one for this call).
    public func ingest(
        _ lines: [InputLine], source: String, position: InputPosition?, classifier: Classifier,
        bootID: String, now: Timestamp = .now(), fastPath: ReadingFastPath? = nil
    ) throws -> IntakeResult {
        let fastPath = fastPath ?? ReadingFastPath(catalog: classifier.catalog)
        lock.lock()
        defer { lock.unlock() }
        let used = try usedBytesLocked()
        if used >= intakeLimitBytes { throw StoreError.budgetReached(usedBytes: used, budgetBytes: budgetBytes) }
        try checkHeadroomLocked()
        var sequence = nextSequenceValue
        var result = IntakeResult()
        do {
            try db.transaction {
                let insertOutbox = try db.cachedStatement(
                    "INSERT INTO outbox(sequence, record_id, body, accepted_at) VALUES (?, ?, ?, ?)")
                let insertVault = try db.cachedStatement(
                    "INSERT INTO vault(sequence, level, sealed, accepted_at) VALUES (?, ?, ?, ?)")
                for line in lines {
                    guard
                        let classified = try classifyLocked(
                            line, source: source, classifier: classifier, fastPath: fastPath, sequence: sequence,
                            bootID: bootID, now: now)
                    else {
                        result.rejected += 1
                        continue
                    }
                    try storeLocked(
                        classified, sequence: sequence, now: now, outbox: insertOutbox, vault: insertVault)
                    result.sequences = (result.sequences?.lowerBound ?? sequence)...sequence
                    sequence += 1
                    result.accepted += 1
                }
                if result.accepted > 0 { try saveNextSequenceLocked(sequence) }
                if let position { try savePositionLocked(position) }
            }
        } catch let error as SQLiteError where error.isDiskFull {
            throw diskFullErrorLocked()
        }
        nextSequenceValue = sequence
        return result
    }

    /// The line classified as the record of `sequence`: by the fast path when it can, else
    /// parsed in full. A line that is oversize or does not parse is kept in `rejects` and nil
    /// returned.
    private func classifyLocked(
        _ line: InputLine, source: String, classifier: Classifier, fastPath: ReadingFastPath, sequence: UInt64,
        bootID: String, now: Timestamp
    ) throws -> ClassifiedReading? {
        if line.oversizeBytes == nil,
            let direct = fastPath.classify(
                line.bytes, classifier: classifier, sequence: sequence, bootID: bootID, recordedAt: now)
        {
            return direct
        }
        let reading: Reading
        do {
            if let size = line.oversizeBytes {
                throw ReadingError(
                    kind: .oversize, field: nil, stage: nil,
                    reason: "the line has \(size) bytes or more, over the limit",
                    fix:
                        "keep one reading per line under inputs.max_line_bytes; split long series into several readings"
                )
            }
            reading = try JSONLineParser.reading(line.bytes, catalog: classifier.catalog)
        } catch {
            try insertRejectLocked(error, source: source, line: line, now: now)
            return nil
        }
        return classifier.classify(reading, sequence: sequence, bootID: bootID, recordedAt: now)
    }

    /// Inserts the record into the outbox and its sealed private fields into the vault.
    private func storeLocked(
        _ classified: ClassifiedReading, sequence: UInt64, now: Timestamp, outbox: Statement, vault: Statement
    ) throws {
        let idBytes = Canonical.encode(classified.record.id)
        try outbox.bind(Int64(bitPattern: sequence), at: 1)
        try outbox.bind(idBytes, at: 2)
        try outbox.bind(Canonical.encode(classified.record), at: 3)
        try outbox.bind(now.milliseconds, at: 4)
        try outbox.run()
        for fields in [classified.level2, classified.level1] {
            guard let fields else { continue }
            try vault.bind(Int64(bitPattern: sequence), at: 1)
            try vault.bind(Int64(fields.level.number), at: 2)
            try vault.bind(try cipher.seal(Canonical.encode(fields), context: idBytes + [fields.level.number]), at: 3)
            try vault.bind(now.milliseconds, at: 4)
            try vault.run()
        }
    }

    /// Stores the next sequence number to assign (in the intake's transaction).
    private func saveNextSequenceLocked(_ sequence: UInt64) throws {
        let state = try db.cachedStatement(
            "INSERT INTO agent_state(name, value) VALUES ('next_sequence', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"
        )
        try state.run([.integer(Int64(bitPattern: sequence))])
    }

    /// Stores the tailed file's position after the intake's lines (in its transaction).
    private func savePositionLocked(_ position: InputPosition) throws {
        let save = try db.cachedStatement(
            "INSERT INTO input_positions(source, device, inode, offset, line) VALUES (?, ?, ?, ?, ?) ON CONFLICT(source) DO UPDATE SET device = excluded.device, inode = excluded.inode, offset = excluded.offset, line = excluded.line"
        )
        try save.run([
            .text(position.source), .integer(Int64(bitPattern: position.device)),
            .integer(Int64(bitPattern: position.inode)), .integer(position.offset), .integer(position.line),
        ])
    }

    private func insertRejectLocked(_ error: any Error, source: String, line: InputLine, now: Timestamp) throws {
        let readingError =
            (error as? ReadingError)
            ?? ReadingError(
                kind: .invalidValue, field: nil, stage: nil, reason: "\(error)",
                fix: "check the reading format (docs/reading-format.md)")
        let insert = try db.cachedStatement(
            "INSERT INTO rejects(at, source, line, kind, field, stage, reason, fix, sealed_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        // The raw line may hold private values: it is kept sealed, never in the clear.
        let sealed =
            line.bytes.isEmpty
            ? nil : try cipher.seal(line.bytes, context: Array("reject/\(source)/\(line.number)".utf8))
        try insert.run([
            .integer(now.milliseconds), .text(source), .integer(line.number), .text(readingError.kind.rawValue),
            .text(orNull: readingError.field), .text(orNull: readingError.stage), .text(readingError.reason),
            .text(readingError.fix), .blob(orNull: sealed),
        ])
    }

    /// The stored position of a tailed source.
    public func position(of source: String) throws -> InputPosition? {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.cachedStatement("SELECT device, inode, offset, line FROM input_positions WHERE source = ?")
        return try select.first([.text(source)]) { row in
            InputPosition(
                source: source, device: UInt64(bitPattern: row.int64(at: 0)),
                inode: UInt64(bitPattern: row.int64(at: 1)),
                offset: row.int64(at: 2), line: row.int64(at: 3))
        }
    }

    // MARK: Outbox

    /// Marks every unreceipted record as not sent (after a restart or reconnect, send them again now).
    public func markAllUnsent() throws {
        lock.lock()
        defer { lock.unlock() }
        try db.execute("UPDATE outbox SET sent_at = 0 WHERE sent_at != 0")
    }

    /// Records sent at or after `since` (milliseconds) and not yet receipted.
    public func outstandingCount(sentSince since: Int64) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        let count = try db.cachedStatement("SELECT count(*) FROM outbox WHERE sent_at >= ?")
        return try count.first([.integer(since)]) { Int($0.int64(at: 0)) } ?? 0
    }

    /// Takes the oldest records never sent or sent before `cutoff`, marks them sent at `now`.
    ///
    /// A record marked sent more than the resend timeout (`now - cutoff`) after `now` was sent
    /// before the wall clock stepped back: it counts as expired too, so a step back delays a
    /// resend by at most two timeouts instead of by the size of the step.
    /// - Returns: `(sequence, canonical record bytes)`, oldest first.
    public func takeBatch(limit: Int, resendCutoff cutoff: Int64, now: Int64) throws -> [(
        sequence: UInt64, body: [UInt8]
    )] {
        lock.lock()
        defer { lock.unlock() }
        return try db.transaction {
            // Go-back-N: once the oldest sent record has waited past the timeout, everything
            // sent after it goes again too, oldest first, so the ledger can keep device order.
            let expired = try db.cachedStatement(
                "SELECT 1 FROM outbox WHERE sent_at > 0 AND (sent_at < ? OR sent_at > ?) LIMIT 1")
            let hasExpired =
                try expired.first([.integer(cutoff), .integer(now + (now - cutoff))]) { _ in true } ?? false
            if hasExpired { try db.execute("UPDATE outbox SET sent_at = 0 WHERE sent_at != 0") }
            let select = try db.cachedStatement(
                "SELECT sequence, body FROM outbox WHERE sent_at < ? ORDER BY sequence LIMIT ?")
            let rows = try select.all([.integer(cutoff), .int(limit)]) {
                (UInt64(bitPattern: $0.int64(at: 0)), $0.bytes(at: 1) ?? [])
            }
            guard let first = rows.first, let last = rows.last else { return [] }
            let mark = try db.cachedStatement(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE sequence BETWEEN ? AND ? AND sent_at < ?")
            try mark.run([
                .integer(now), .integer(Int64(bitPattern: first.0)), .integer(Int64(bitPattern: last.0)),
                .integer(cutoff),
            ])
            return rows.map { (sequence: $0.0, body: $0.1) }
        }
    }

    /// What applying a receipt batch did.
    public struct ReceiptOutcome: Sendable, Equatable {
        public var receipted = 0
        public var duplicates = 0
        public var invalid = 0
        public var refused = 0
        public var invalidReasons: [String] = []
        /// Heights at which the batch showed a tree head other than the one kept (``TreeHeadFork``).
        public var forkedHeights: [UInt64] = []
    }

    /// Verifies each receipt against the stored record and the authority, then moves the
    /// record from the outbox to `receipted`; applies record rejections (record moved to `refused`).
    /// The receipt batch's own signature must have been checked by the caller.
    ///
    /// At the disk budget, a receipt must still retire its record, or the store could never
    /// drain: a receipted row (record plus inclusion proof) is larger than the outbox row it
    /// replaces. When the batch does not fit, it is applied again in compact form: the
    /// record leaves the outbox and `receipted` keeps its id, sequence, height and leaf index
    /// but not its copy of the record and proof (the ledger has both; `agritrace proof`
    /// gives the proof again). The freed outbox pages return to the budget.
    public func apply(_ batch: ReceiptBatch, authority: Curve25519.Signing.PublicKey, now: Timestamp = .now()) throws
        -> ReceiptOutcome
    {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try applyLocked(batch, authority: authority, now: now, compact: false)
        } catch let error as SQLiteError where error.isDiskFull {
            return try applyLocked(batch, authority: authority, now: now, compact: true)
        }
    }

    private func applyLocked(
        _ batch: ReceiptBatch, authority: Curve25519.Signing.PublicKey, now: Timestamp, compact: Bool
    ) throws -> ReceiptOutcome {
        var outcome = ReceiptOutcome()
        try db.transaction {
            let heads = try checkTreeHeads(of: batch, authority: authority, now: now)
            outcome.forkedHeights = heads.compactMap { head, check in
                if case .fork = check { head.value.height } else { nil }
            }.sorted()
            let find = try db.cachedStatement("SELECT sequence, body FROM outbox WHERE record_id = ?")
            let delete = try db.cachedStatement("DELETE FROM outbox WHERE sequence = ?")
            let insert = try db.cachedStatement(
                "INSERT INTO receipted(sequence, record_id, body, height, leaf_index, proof, receipted_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            )
            let head = try db.cachedStatement("INSERT OR IGNORE INTO tree_heads(height, signed) VALUES (?, ?)")
            for receipt in batch.receipts {
                let idBytes = Canonical.encode(receipt.recordID)
                try find.bind(idBytes, at: 1)
                guard try find.step() else {
                    find.reset()
                    outcome.duplicates += 1
                    continue
                }
                let sequence = find.int64(at: 0)
                let body = find.bytes(at: 1) ?? []
                find.reset()
                do {
                    try Self.verify(receipt, of: body, head: heads[receipt.treeHead])
                } catch {
                    outcome.invalid += 1
                    outcome.invalidReasons.append("\(receipt.recordID): \(error)")
                    continue
                }
                if !compact {
                    try head.bind(Int64(bitPattern: receipt.treeHead.value.height), at: 1)
                    try head.bind(Canonical.encode(receipt.treeHead), at: 2)
                    try head.run()
                }
                try insert.bind(sequence, at: 1)
                try insert.bind(idBytes, at: 2)
                try insert.bind(compact ? [] : body, at: 3)
                try insert.bind(Int64(bitPattern: receipt.height), at: 4)
                try insert.bind(Int64(bitPattern: receipt.leafIndex), at: 5)
                var proofWriter = CanonicalWriter(capacity: 32 * receipt.inclusionProof.count + 8)
                proofWriter.write(receipt.inclusionProof)
                try insert.bind(compact ? [] : proofWriter.bytes, at: 6)
                // Retention ages the row in the ledger's signed time (the block's), not the box's.
                try insert.bind(receipt.treeHead.value.time.milliseconds, at: 7)
                try insert.run()
                try delete.bind(sequence, at: 1)
                try delete.run()
                outcome.receipted += 1
            }
            outcome.refused = try moveRefusedRecords(batch.rejections, now: now)
        }
        return outcome
    }

    /// Checks one receipt: its tree head (as ``checkTreeHeads(of:authority:now:)`` found it) and
    /// the inclusion proof of the stored record `body` under it.
    private static func verify(_ receipt: Receipt, of body: [UInt8], head: HeadCheck?) throws {
        switch head {
        case .badSignature(let error): throw error
        case .fork: throw TreeHeadForkError(height: receipt.treeHead.value.height)
        case .valid, nil: break
        }
        let record = try Canonical.decode(Record.self, from: body)
        let leaf = LogEntry.record(record).canonicalBytes
        try MerkleTree.verifyInclusion(
            leafHash: MerkleTree.leafHash(leaf), index: receipt.leafIndex, treeSize: receipt.treeHead.value.logSize,
            proof: receipt.inclusionProof, root: receipt.treeHead.value.logRoot)
    }

    /// Moves the records the aggregator refused from the outbox to `refused`; returns how many moved.
    private func moveRefusedRecords(_ rejections: [Rejection], now: Timestamp) throws -> Int {
        let refuse = try db.cachedStatement(
            "INSERT OR IGNORE INTO refused(sequence, record_id, body, code, reason, refused_at) SELECT sequence, record_id, body, ?, ?, ? FROM outbox WHERE record_id = ?"
        )
        let deleteByID = try db.cachedStatement("DELETE FROM outbox WHERE record_id = ?")
        var moved = 0
        for rejection in rejections {
            guard let id = rejection.recordID else { continue }
            let idBytes = Canonical.encode(id)
            try refuse.bind(rejection.code.rawValue, at: 1)
            try refuse.bind(rejection.reason, at: 2)
            try refuse.bind(now.milliseconds, at: 3)
            try refuse.bind(idBytes, at: 4)
            try refuse.run()
            if db.changes > 0 {
                try deleteByID.bind(idBytes, at: 1)
                try deleteByID.run()
                moved += 1
            }
        }
        return moved
    }

    // MARK: Queries

    /// Counts for metrics.
    public func statistics(now: Timestamp = .now()) throws -> StoreStatistics {
        lock.lock()
        defer { lock.unlock() }
        func scalar(_ sql: String) throws -> Int64? {
            let statement = try db.cachedStatement(sql)
            defer { statement.reset() }
            guard try statement.step(), !statement.isNull(at: 0) else { return nil }
            return statement.int64(at: 0)
        }
        let oldest = try scalar("SELECT accepted_at FROM outbox ORDER BY sequence LIMIT 1")
        return StoreStatistics(
            outboxDepth: try scalar("SELECT count(*) FROM outbox") ?? 0,
            oldestUnreceiptedMillis: oldest.map { max(0, now.milliseconds - $0) },
            receipted: try scalar("SELECT count(*) FROM receipted") ?? 0,
            rejects: try scalar("SELECT count(*) FROM rejects") ?? 0,
            refused: try scalar("SELECT count(*) FROM refused") ?? 0,
            usedBytes: try usedBytesLocked(),
            nextSequence: nextSequenceValue)
    }

    /// Rejected lines, newest last.
    public func rejects(limit: Int = 1000) throws -> [RejectedLine] {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.prepare(
            "SELECT id, at, source, line, kind, field, stage, reason, fix FROM (SELECT * FROM rejects ORDER BY id DESC LIMIT ?) ORDER BY id"
        )
        return try select.all([.int(limit)]) { row in
            RejectedLine(
                id: row.int64(at: 0), at: Timestamp(milliseconds: row.int64(at: 1)).iso8601,
                source: row.string(at: 2) ?? "",
                line: row.int64(at: 3), kind: try Self.rejectKind(row.string(at: 4), id: row.int64(at: 0)),
                field: row.string(at: 5),
                stage: row.string(at: 6),
                reason: row.string(at: 7) ?? "", fix: row.string(at: 8) ?? "")
        }
    }

    /// The `kind` column of the rejects row `id` as its enum; a spelling no agent writes is a
    /// corrupt store.
    static func rejectKind(_ text: String?, id: Int64) throws -> ReadingError.Kind {
        guard let text, let kind = ReadingError.Kind(rawValue: text) else {
            throw StoreError.corrupt("rejects row \(id) has the unknown kind '\(text ?? "NULL")'")
        }
        return kind
    }

    /// Records the aggregator refused.
    public func refusedRecords(limit: Int = 1000) throws -> [RefusedRecord] {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.prepare(
            "SELECT record_id, sequence, code, reason, refused_at FROM refused ORDER BY sequence LIMIT ?")
        return try select.all([.int(limit)]) { row in
            RefusedRecord(
                recordID: (try? Canonical.decode(RecordID.self, from: row.bytes(at: 0) ?? []))?.hex ?? "?",
                sequence: UInt64(bitPattern: row.int64(at: 1)), code: RejectionCode(rawValue: row.string(at: 2) ?? ""),
                reason: row.string(at: 3) ?? "", at: Timestamp(milliseconds: row.int64(at: 4)).iso8601)
        }
    }

    /// The record ids that have a verified receipt, in sequence order.
    public func receiptedIDs() throws -> [RecordID] {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.prepare("SELECT record_id FROM receipted ORDER BY sequence")
        var ids: [RecordID] = []
        while try select.step() { ids.append(try Canonical.decode(RecordID.self, from: select.bytes(at: 0) ?? [])) }
        return ids
    }

    /// The stored receipt of a record, rebuilt from the tables, to prove inclusion later (nil
    /// when not receipted, or receipted in compact form at the disk budget).
    public func receipt(for id: RecordID) throws -> (record: Record, receipt: Receipt)? {
        lock.lock()
        defer { lock.unlock() }
        let select = try db.prepare(
            "SELECT r.body, r.height, r.leaf_index, r.proof, h.signed FROM receipted r JOIN tree_heads h ON h.height = r.height WHERE r.record_id = ?"
        )
        try select.bind([.blob(Canonical.encode(id))])
        guard try select.step() else { return nil }
        // Receipted at the disk budget: the record and proof were not kept (see `apply`).
        let body = select.bytes(at: 0) ?? []
        guard !body.isEmpty else { return nil }
        let record = try Canonical.decode(Record.self, from: body)
        var proofReader = CanonicalReader(select.bytes(at: 3) ?? [])
        let proof = try proofReader.readArray(Digest32.self, "proof")
        let head = try Canonical.decode(Signed<BlockHeader>.self, from: select.bytes(at: 4) ?? [])
        return (
            record,
            Receipt(
                recordID: id, height: UInt64(bitPattern: select.int64(at: 1)),
                leafIndex: UInt64(bitPattern: select.int64(at: 2)),
                inclusionProof: proof, treeHead: head)
        )
    }

    /// The private values of a record from the vault, decrypted.
    public func privateFields(of id: RecordID) throws -> [PrivateFields] {
        lock.lock()
        defer { lock.unlock() }
        let idBytes = Canonical.encode(id)
        let find = try db.prepare(
            "SELECT sequence FROM outbox WHERE record_id = ?1 UNION ALL SELECT sequence FROM receipted WHERE record_id = ?1 UNION ALL SELECT sequence FROM refused WHERE record_id = ?1 LIMIT 1"
        )
        guard let sequence = try find.first([.blob(idBytes)], { $0.int64(at: 0) }) else { return [] }
        let select = try db.prepare("SELECT level, sealed FROM vault WHERE sequence = ? ORDER BY level DESC")
        return try select.all([.integer(sequence)]) { row in
            let plain = try cipher.open(row.bytes(at: 1) ?? [], context: idBytes + [UInt8(row.int64(at: 0))])
            return try Canonical.decode(PrivateFields.self, from: plain)
        }
    }

    /// Deletes receipted records, their receipts and vault entries older than `days`.
    /// Records still in the outbox are never deleted.
    ///
    /// Age is counted in the ledger's signed time, never the box's clock alone: a receipted
    /// record's time is the block time of its receipt's signed tree head, and "now" is at most
    /// the newest block time receipted (the chaos run stepped a box's clock years ahead and
    /// retention deleted hundreds of receipted records and their private values at once). A
    /// record refused by the aggregator ages from its refusal. Rows receipted before this rule
    /// carry the box's time of receipt.
    /// - Returns: the number of receipted records deleted.
    @discardableResult
    public func applyRetention(days: Int, now: Timestamp = .now()) throws -> Int {
        guard days > 0 else { return 0 }
        return try applyRetention(keepingMilliseconds: Int64(days) * 86_400_000, now: now)
    }

    /// ``applyRetention(days:now:)`` with the period in milliseconds (tests use short ones).
    @discardableResult
    public func applyRetention(keepingMilliseconds kept: Int64, now: Timestamp = .now()) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        let newestReceipt = try db.prepare("SELECT max(receipted_at) FROM receipted")
        guard try newestReceipt.step(), !newestReceipt.isNull(at: 0) else { return 0 }
        let newest = newestReceipt.int64(at: 0)
        let cutoff = min(now.milliseconds, newest) - kept
        return try db.transaction {
            let vault = try db.prepare(
                """
                DELETE FROM vault WHERE sequence IN (SELECT sequence FROM receipted WHERE receipted_at < ?1)
                   OR sequence IN (SELECT sequence FROM refused WHERE refused_at < ?1)
                """)
            try vault.run([.integer(cutoff)])
            let receipts = try db.prepare("DELETE FROM receipted WHERE receipted_at < ?")
            try receipts.run([.integer(cutoff)])
            let deleted = db.changes
            try db.execute("DELETE FROM tree_heads WHERE height NOT IN (SELECT DISTINCT height FROM receipted)")
            return deleted
        }
    }

    /// `PRAGMA integrity_check` result (`ok` when sound).
    public func integrityCheck() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let check = try db.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try check.step() { lines.append(check.string(at: 0) ?? "") }
        return lines.joined(separator: "\n")
    }

    /// Checkpoints the WAL (on clean shutdown).
    public func checkpoint() {
        lock.lock()
        defer { lock.unlock() }
        try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
