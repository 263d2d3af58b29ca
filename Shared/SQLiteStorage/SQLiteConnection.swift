import CSQLite

/// One open SQLite database connection.
///
/// Thread safety: a connection and its statements are **not** `Sendable`. Use each
/// connection from one thread or one actor at a time (GRDB's rule: one writer
/// connection, plus as many read-only connections as you need, each owned by one
/// actor). The compiler enforces this in Swift 6 mode. WAL mode lets readers on other
/// connections run while the writer commits.
///
/// ```swift
/// let db = try SQLiteConnection(path: "ledger.sqlite")
/// try db.migrate(["CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB NOT NULL)"])
/// let insert = try db.cachedStatement("INSERT INTO t(body) VALUES (?)")
/// try db.transaction {
///     for body in bodies {
///         try insert.bind(body, at: 1)
///         try insert.run()
///     }
/// }
/// ```
public final class SQLiteConnection {
    /// How the database is opened and tuned.
    public struct Options: Sendable {
        /// The journal mode set at open (`PRAGMA journal_mode`). Not changed on read-only connections.
        public enum JournalMode: String, Sendable {
            /// Write-ahead log: readers do not block the writer. The default.
            case wal = "WAL"
            /// The rollback journal (SQLite's own default).
            case delete = "DELETE"
        }

        /// When SQLite waits for the disk (`PRAGMA synchronous`).
        public enum Synchronous: String, Sendable {
            /// No fsync: fast, loses data on power cut. Tests only.
            case off = "OFF"
            /// With WAL: durable against application crashes; a power cut may lose the
            /// last commits but never corrupts the database. The default.
            case normal = "NORMAL"
            /// fsync on every commit: durable against power cuts.
            case full = "FULL"
        }

        /// Open read-only (`SQLITE_OPEN_READONLY`): every write fails with ``SQLiteError/isReadOnly``.
        public var readOnly: Bool
        /// Create the file if it does not exist (ignored when `readOnly`).
        public var create: Bool
        /// The journal mode. Default `.wal`.
        public var journalMode: JournalMode
        /// The synchronous level. Default `.normal`.
        public var synchronous: Synchronous
        /// How long a statement waits for a lock held by another connection before
        /// failing with `SQLITE_BUSY`, in milliseconds. Default 5000.
        public var busyTimeoutMilliseconds: Int32
        /// Enforce foreign keys (`PRAGMA foreign_keys = ON`). Default `true`.
        public var foreignKeys: Bool

        /// Creates options; every parameter has the default documented on its property.
        public init(
            readOnly: Bool = false,
            create: Bool = true,
            journalMode: JournalMode = .wal,
            synchronous: Synchronous = .normal,
            busyTimeoutMilliseconds: Int32 = 5000,
            foreignKeys: Bool = true
        ) {
            self.readOnly = readOnly
            self.create = create
            self.journalMode = journalMode
            self.synchronous = synchronous
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.foreignKeys = foreignKeys
        }
    }

    /// The raw `sqlite3*` handle, for calls this wrapper does not cover. Do not close it.
    public let handle: OpaquePointer
    /// The path the connection was opened with.
    public let path: String
    private var statementCache: [String: Statement] = [:]
    private var savepointDepth = 0

    /// Opens (and by default creates) the database at `path`, then applies `options`.
    /// - Throws: ``SQLiteError`` if the file cannot be opened or a pragma fails.
    public init(path: String, options: Options = Options()) throws {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if options.readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if options.create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError.from(rc, db: db)
            sqlite3_close_v2(db)
            throw error
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, options.busyTimeoutMilliseconds)
        if !options.readOnly {
            // Changing the journal mode needs an exclusive lock that SQLite does not wait for
            // (the busy handler is not called): a second process opening the same new file at
            // the same moment (`serve` and a CLI command) got SQLITE_BUSY at once. Retry
            // within the busy timeout.
            let deadline = ContinuousClock.now + .milliseconds(Int(options.busyTimeoutMilliseconds))
            while true {
                do {
                    try execute("PRAGMA journal_mode = \(options.journalMode.rawValue)")
                    break
                } catch let error as SQLiteError where error.isBusy && ContinuousClock.now < deadline {
                    sqlite3_sleep(5)
                }
            }
        }
        try execute("PRAGMA synchronous = \(options.synchronous.rawValue)")
        try execute("PRAGMA foreign_keys = \(options.foreignKeys ? "ON" : "OFF")")
    }

    /// Opens the database at `path` with the default options except `readOnly` and `create`.
    public convenience init(path: String, readOnly: Bool, create: Bool = true) throws {
        try self.init(path: path, options: Options(readOnly: readOnly, create: create))
    }

    deinit {
        statementCache.removeAll()
        // close_v2 defers the real close until every outstanding statement is finalized.
        sqlite3_close_v2(handle)
    }

    // MARK: Running SQL

    /// Runs one or more `;`-separated SQL statements that take no parameters
    /// (schema scripts, pragmas). Rows they return are ignored.
    /// - Throws: ``SQLiteError`` from the first statement that fails.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            let extended = sqlite3_extended_errcode(handle)
            throw SQLiteError(
                extendedResultCode: (extended & 0xFF) == (rc & 0xFF) ? extended : rc,
                message: message, sql: sql)
        }
    }

    /// Compiles one SQL statement. The statement is finalized when released.
    /// Prefer ``cachedStatement(_:)`` for statements run repeatedly.
    public func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK else { throw SQLiteError.from(rc, db: handle, sql: sql) }
        guard let stmt else {
            throw SQLiteError(extendedResultCode: SQLITE_MISUSE, message: "empty SQL statement", sql: sql)
        }
        return Statement(handle: stmt, db: handle, sql: sql)
    }

    /// Returns a prepared statement for `sql`, compiling it on first use and reusing it
    /// afterwards. The statement comes back reset with its bindings cleared.
    ///
    /// Do not use the same cached statement in two places at once (for example, step it
    /// inside a loop over itself): ask for a separate ``prepare(_:)`` statement instead.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql] {
            statement.reset()
            return statement
        }
        let statement = try prepare(sql)
        statementCache[sql] = statement
        return statement
    }

    /// The rowid of the most recent successful `INSERT` on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Rows changed by the most recent `INSERT`, `UPDATE` or `DELETE` on this connection.
    public var changes: Int { Int(sqlite3_changes64(handle)) }
    /// Rows changed since the connection opened.
    public var totalChanges: Int { Int(sqlite3_total_changes64(handle)) }
    /// `true` when no transaction is open.
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    // MARK: Transactions

    /// How a top-level transaction takes its locks.
    public enum TransactionKind: String, Sendable {
        /// `BEGIN DEFERRED`: locks on first read/write.
        case deferred = "DEFERRED"
        /// `BEGIN IMMEDIATE`: takes the write lock now, so the body never fails with
        /// `SQLITE_BUSY` halfway through. The default.
        case immediate = "IMMEDIATE"
        /// `BEGIN EXCLUSIVE`.
        case exclusive = "EXCLUSIVE"
    }

    /// Runs `body` in a transaction: commits if it returns, rolls back if it throws
    /// (and rethrows). Nested calls use savepoints, so an inner failure rolls back only
    /// the inner work when the outer body catches it.
    /// - Returns: what `body` returns.
    /// - Throws: the body's error, or ``SQLiteError`` from `BEGIN` / `COMMIT`.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if !isAutocommit {
            return try savepoint(body)
        }
        try execute("BEGIN \(kind.rawValue) TRANSACTION")
        let result: T
        do {
            result = try body()
        } catch {
            rollbackIgnoringErrors("ROLLBACK TRANSACTION")
            throw error
        }
        do {
            try execute("COMMIT TRANSACTION")
        } catch {
            rollbackIgnoringErrors("ROLLBACK TRANSACTION")
            throw error
        }
        return result
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "agritrace_sp\(savepointDepth)"
        try execute("SAVEPOINT \(name)")
        do {
            let result = try body()
            try execute("RELEASE SAVEPOINT \(name)")
            return result
        } catch {
            rollbackIgnoringErrors("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
            throw error
        }
    }

    /// SQLite may already have rolled back by itself (for example on `SQLITE_FULL`);
    /// a second ROLLBACK then fails with "no transaction is active", which is fine.
    private func rollbackIgnoringErrors(_ sql: String) {
        if isAutocommit { return }
        _ = sqlite3_exec(handle, sql, nil, nil, nil)
    }

    // MARK: Migrations

    /// The schema version stored in the file (`PRAGMA user_version`).
    public func userVersion() throws -> Int {
        let statement = try prepare("PRAGMA user_version")
        guard try statement.step() else { return 0 }
        return Int(statement.int64(at: 0))
    }

    /// Brings the schema up to date. `steps[i]` migrates from version `i` to `i + 1`;
    /// each pending step runs in its own transaction together with the
    /// `PRAGMA user_version` bump, so a failed step leaves the previous version intact.
    /// Steps already applied are skipped, so calling this on every open is safe.
    ///
    /// Never edit or reorder a step that has shipped: append new ones.
    /// - Returns: the number of steps applied now (0 when already up to date).
    /// - Throws: ``SQLiteError`` if a step fails, or if the file's version is newer than
    ///   `steps.count` (a newer program wrote it).
    @discardableResult
    public func migrate(_ steps: [String]) throws -> Int {
        let current = try userVersion()
        guard current <= steps.count else {
            throw SQLiteError(
                extendedResultCode: SQLITE_ERROR,
                message: "database schema version \(current) is newer than this program's \(steps.count)")
        }
        var applied = 0
        // Up to date (every open but the first): no write transaction, no write lock.
        guard current < steps.count else { return 0 }
        // The version is read again inside each write transaction: another connection (a
        // second process opening the same new file) may have applied the step meanwhile.
        while try transaction(
            .immediate,
            { () throws -> Bool in
                let version = try userVersion()
                guard version < steps.count else { return false }
                try execute(steps[version])
                try execute("PRAGMA user_version = \(version + 1)")
                return true
            })
        {
            applied += 1
        }
        return applied
    }
}
