import CSQLite

/// An error reported by SQLite, with its result codes and message.
///
/// `resultCode` is the primary code (`SQLITE_FULL`, `SQLITE_CONSTRAINT`, ...);
/// `extendedResultCode` refines it (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_IOERR_WRITE`, ...).
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The primary SQLite result code (the low 8 bits of ``extendedResultCode``).
    public let resultCode: Int32
    /// The extended SQLite result code.
    public let extendedResultCode: Int32
    /// SQLite's message (`sqlite3_errmsg`), or this module's own text for misuse it detects.
    public let message: String
    /// The SQL being run when the error happened, if known. Never contains bound values.
    public let sql: String?

    /// Creates an error from an extended result code.
    public init(extendedResultCode: Int32, message: String, sql: String? = nil) {
        self.extendedResultCode = extendedResultCode
        self.resultCode = extendedResultCode & 0xFF
        self.message = message
        self.sql = sql
    }

    /// The database or disk is full (`SQLITE_FULL`): the write was not applied.
    /// The database stays intact and usable; retry after freeing space.
    public var isDiskFull: Bool { resultCode == SQLITE_FULL }
    /// A `UNIQUE`, `NOT NULL`, `CHECK`, `FOREIGN KEY` or `PRIMARY KEY` constraint failed (`SQLITE_CONSTRAINT`).
    public var isConstraintViolation: Bool { resultCode == SQLITE_CONSTRAINT }
    /// Another connection holds the lock longer than the busy timeout (`SQLITE_BUSY`).
    public var isBusy: Bool { resultCode == SQLITE_BUSY }
    /// A write was attempted on a read-only connection or file (`SQLITE_READONLY`).
    public var isReadOnly: Bool { resultCode == SQLITE_READONLY }

    public var description: String {
        let name = String(cString: sqlite3_errstr(extendedResultCode))
        var text = "SQLite error \(extendedResultCode) (\(name)): \(message)"
        if let sql { text += " [sql: \(sql)]" }
        return text
    }

    /// Builds the error for `code` from the connection's last error message.
    static func from(_ code: Int32, db: OpaquePointer?, sql: String? = nil) -> SQLiteError {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? code
        // sqlite3_extended_errcode can lag behind when the code came from elsewhere; trust `code`'s primary part.
        let useExtended = (extended & 0xFF) == (code & 0xFF) ? extended : code
        let message =
            db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        return SQLiteError(extendedResultCode: useExtended, message: message, sql: sql)
    }
}
